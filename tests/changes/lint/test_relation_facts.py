"""The lock model names the table behind an index and a foreign key when the migration (or a snapshot)
says which it is: DROP INDEX and REINDEX lock the index's table, VALIDATE of a foreign key the table it
references. (tests/engines/postgres/test_locks_real.py checks each against pg_locks.)"""

from __future__ import annotations

from dbwright.changes.lint import LintState, describe, lint


def _locks(sql: str, state: LintState | None = None) -> dict[str, str]:
    return dict(describe(sql, state=state)[-1].table_locks)


def test_drop_index_locks_the_table_its_migration_created_it_on():
    state = LintState()
    lint("CREATE INDEX orders_note_idx ON shop.orders (note);", filename="001.sql", state=state)
    assert _locks("DROP INDEX orders_note_idx;", state) == {
        "shop.orders": "ACCESS EXCLUSIVE",
        "orders_note_idx": "ACCESS EXCLUSIVE",
    }
    state = LintState()
    lint("CREATE INDEX orders_note_idx ON orders (note);", filename="001.sql", state=state)
    assert _locks("DROP INDEX CONCURRENTLY orders_note_idx;", state)["orders"] == "SHARE UPDATE EXCLUSIVE"


def test_an_index_of_unknown_table_says_so():
    [info] = describe("DROP INDEX orders_note_idx;")
    assert info.lock == "ACCESS EXCLUSIVE"
    assert any("table of orders_note_idx" in note for note in info.notes)


def test_reindex_index_takes_share_on_its_table():
    state = LintState()
    lint("CREATE TABLE t (a int CONSTRAINT t_a_key UNIQUE);", filename="001.sql", state=state)
    assert _locks("REINDEX INDEX t_a_key;", state) == {"t": "SHARE", "t_a_key": "ACCESS EXCLUSIVE"}
    assert _locks("REINDEX INDEX CONCURRENTLY t_a_key;", state)["t"] == "SHARE UPDATE EXCLUSIVE"


def test_validating_a_foreign_key_takes_row_share_on_the_referenced_table():
    state = LintState()
    lint(
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
        "REFERENCES customers (id) NOT VALID;",
        filename="001.sql",
        state=state,
    )
    locks = _locks("ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;", state)
    assert locks == {"orders": "SHARE UPDATE EXCLUSIVE", "customers": "ROW SHARE"}


def test_detach_concurrently_takes_access_exclusive_on_the_partition():
    locks = _locks("ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;")
    assert locks == {"events": "SHARE UPDATE EXCLUSIVE", "events_2020": "ACCESS EXCLUSIVE"}
