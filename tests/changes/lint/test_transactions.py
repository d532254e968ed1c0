"""Locks accumulate through a transaction: explicit BEGIN … COMMIT, implicit one-statement transactions,
ROLLBACK, and runners that wrap each file in one transaction (atomic migrations)."""

from __future__ import annotations

from dbwright.changes.lint import LintState, describe, lint

ADD_THEN_BACKFILL = (
    "ALTER TABLE orders ADD COLUMN region text;\nUPDATE orders SET region = 'eu' WHERE region IS NULL;\n"
)


def test_a_statement_reports_the_strongest_lock_its_transaction_holds():
    infos = describe(
        "BEGIN;\n" + ADD_THEN_BACKFILL + "COMMIT;\nUPDATE orders SET region = 'us' WHERE id = 1;"
    )
    update, after_commit = infos[2], infos[4]
    assert dict(update.table_locks) == {"orders": "ROW EXCLUSIVE"}  # what the UPDATE itself asks for
    assert dict(update.held_locks) == {"orders": "ACCESS EXCLUSIVE"}  # what is held while it runs
    assert dict(after_commit.held_locks) == {"orders": "ROW EXCLUSIVE"}  # COMMIT released it


def test_the_finding_names_the_lock_held_and_where_it_was_taken():
    [held] = [f for f in lint("BEGIN;\n" + ADD_THEN_BACKFILL + "COMMIT;") if f.code == "DW744"]
    assert held.line == 3 and held.lock == "ACCESS EXCLUSIVE" and "taken at line 2" in held.message
    assert "until COMMIT" in held.message


def test_outside_a_transaction_each_statement_releases_its_locks():
    assert "DW744" not in {f.code for f in lint(ADD_THEN_BACKFILL)}
    [update] = describe(ADD_THEN_BACKFILL)[1:]
    assert dict(update.held_locks) == {"orders": "ROW EXCLUSIVE"}


def test_rollback_releases_the_locks():
    sql = "BEGIN;\nALTER TABLE orders ADD COLUMN region text;\nROLLBACK;\nBEGIN;\n"
    sql += "UPDATE orders SET region = 'eu' WHERE region IS NULL;\nCOMMIT;"
    assert "DW744" not in {f.code for f in lint(sql)}


def test_an_atomic_runner_makes_each_file_one_transaction():
    state = LintState(atomic_files=True)
    codes = {f.code for f in lint(ADD_THEN_BACKFILL, filename="0002.sql", state=state)}
    assert "DW744" in codes
    codes = {
        f.code
        for f in lint("CREATE INDEX CONCURRENTLY i ON orders (region);", filename="0003.sql", state=state)
    }
    assert "DW703" in codes  # Django's atomic migration cannot build an index CONCURRENTLY
    # the next file is a new transaction: nothing is held from the one before
    [info] = describe("UPDATE orders SET region = 'x' WHERE id = 1;", filename="0004.sql", state=state)
    assert dict(info.held_locks) == {"orders": "ROW EXCLUSIVE"}


def test_not_valid_then_validate_in_separate_transactions_is_the_safe_pattern():
    separate = (
        "BEGIN;\nALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES customers (id) NOT VALID;\n"
        "COMMIT;\nBEGIN;\nALTER TABLE orders VALIDATE CONSTRAINT fk;\nCOMMIT;"
    )
    assert "DW745" not in {f.code for f in lint(separate)}
    together = separate.replace("COMMIT;\nBEGIN;\n", "")
    [finding] = [f for f in lint(together) if f.code == "DW745"]
    assert "NOT VALID gains nothing here" in finding.message and finding.lock == "SHARE ROW EXCLUSIVE"


def test_set_constraints_is_understood():
    findings = lint('SET CONSTRAINTS "orders_customer_fk" IMMEDIATE;\nSET CONSTRAINTS ALL DEFERRED;')
    assert not [f for f in findings if f.code == "DW739"]


def test_psql_autocommit_off_opens_a_transaction_before_the_first_statement():
    script = (
        "\\set AUTOCOMMIT off\n" + ADD_THEN_BACKFILL + "CREATE INDEX CONCURRENTLY i ON orders (region);\n"
    )
    codes = {f.code for f in lint(script)}
    assert {"DW744", "DW703"} <= codes  # the ALTER's lock is held; CONCURRENTLY fails in the open transaction
    assert "DW744" not in {f.code for f in lint("\\set AUTOCOMMIT on\n" + ADD_THEN_BACKFILL)}
