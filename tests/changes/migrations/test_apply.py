"""apply against a real server: history rows, one transaction per migration, steps outside
transactions, resuming after a failure, lock_timeout retries and statement_timeout."""

import threading

import pytest

from dbwright.changes.migrations import apply
from dbwright.changes.migrations.files import checksum
from dbwright.changes.migrations.runner import MigrationFailedError
from dbwright.errors import RefusedError
from tests.changes.migrations.conftest import FAST, live_schema, rows, write

ORDERS = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL);"


def test_apply_records_history_and_is_idempotent(pg, mdir):
    write(mdir, 1, "orders", ORDERS, "DROP TABLE orders;")
    write(mdir, 2, "note", "ALTER TABLE orders ADD COLUMN note text;", "ALTER TABLE orders DROP COLUMN note;")
    report = apply(pg.url, mdir, FAST)
    assert report.migrations == ["V1__orders.sql", "V2__note.sql"]
    history = rows(pg.url)
    assert [(r.version, r.name, r.status, r.applied_by) for r in history] == [
        ("1", "orders", "applied", "postgres"),
        ("2", "note", "applied", "postgres"),
    ]
    assert history[1].checksum == checksum("ALTER TABLE orders ADD COLUMN note text;")
    assert history[1].chain != history[0].chain and all(r.duration_ms >= 0 for r in history)
    assert history[-1].schema_doc == live_schema(pg.url)
    assert "table public.orders" in history[-1].schema_doc
    assert "table public.orders" not in history[0].schema_doc_before
    assert apply(pg.url, mdir, FAST).migrations == []  # nothing pending: nothing runs


def test_failing_statement_rolls_back_the_whole_migration(pg, mdir):
    write(
        mdir, 1, "broken", f"{ORDERS}\nINSERT INTO orders VALUES (1, 1);\nINSERT INTO orders VALUES (1, 2);"
    )
    with pytest.raises(MigrationFailedError, match=r"V1__broken.sql:5: .*duplicate key.*rolled back"):
        apply(pg.url, mdir, FAST)
    assert pg.value("SELECT to_regclass('public.orders')") is None
    assert rows(pg.url) == []


def test_concurrently_runs_outside_the_transaction_as_its_own_step(pg, mdir):
    write(mdir, 1, "orders", ORDERS)
    write(
        mdir,
        2,
        "index",
        "ALTER TABLE orders ADD COLUMN status text;\n"
        "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\n"
        "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';",
    )
    report = apply(pg.url, mdir, FAST)
    assert [(s.version, s.step, s.transactional) for s in report.steps] == [
        ("1", 1, True),
        ("2", 1, True),
        ("2", 2, False),
        ("2", 3, True),
    ]
    row = rows(pg.url)[-1]
    assert (row.status, row.steps_done, row.steps_total, row.step_running) == ("applied", 3, 3, None)
    outside = next(s for s in report.steps if not s.transactional)
    assert row.duration_ms >= int(outside.seconds * 1000 * 0.5)  # the outside-transaction step is counted
    assert pg.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_customer_idx'::regclass")


def test_rerun_after_failed_concurrent_build_drops_invalid_index_and_resumes(pg, mdir):
    """A unique build that fails leaves an INVALID index, as a crash would; the rerun cleans it up."""
    write(mdir, 1, "orders", ORDERS + "\nINSERT INTO orders VALUES (1, 7), (2, 7);")
    write(
        mdir,
        2,
        "unique",
        "ALTER TABLE orders ADD COLUMN status text;\n"
        "CREATE UNIQUE INDEX CONCURRENTLY orders_customer_key ON orders (customer_id);\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_unique "
        "UNIQUE USING INDEX orders_customer_key;",
    )
    with pytest.raises(
        MigrationFailedError, match=r"V2__unique.sql:4: .*could not create unique index.*rerun"
    ):
        apply(pg.url, mdir, FAST)
    row = rows(pg.url)[-1]
    assert (row.status, row.steps_done, row.step_running) == ("partial", 1, 2)
    assert (
        pg.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_customer_key'::regclass")
        is False
    )
    assert (
        pg.value(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'status'"
        )
        == 1
    )

    pg.execute("DELETE FROM orders WHERE id = 2")  # the operator fixes the data, then reruns
    report = apply(pg.url, mdir, FAST)
    assert [s.step for s in report.steps] == [2, 3]
    assert any("dropped INVALID index public.orders_customer_key" in n for n in report.steps[0].notes)
    row = rows(pg.url)[-1]
    assert (row.status, row.steps_done, row.step_running) == ("applied", 3, None)
    assert (
        pg.value("SELECT conname FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'u'")
        == "orders_customer_unique"
    )
    assert row.schema_doc == live_schema(pg.url)


def test_lock_timeout_retries_with_backoff_then_gives_up(pg, mdir):
    pg.execute(ORDERS)
    blocker = pg.connect()
    blocker.execute("LOCK TABLE orders IN ACCESS SHARE MODE")  # a long reader, like a report query
    write(mdir, 1, "note", "ALTER TABLE orders ADD COLUMN note text;")
    options = FAST.__class__(
        **{**FAST.__dict__, "lock_timeout": "100ms", "retries": 2, "backoff_s": 0.05, "allow_drift": True}
    )
    with pytest.raises(MigrationFailedError, match=r"V1__note.sql:3: lock_timeout 100ms reached 3 times"):
        apply(pg.url, mdir, options)
    assert rows(pg.url) == []

    threading.Timer(0.3, blocker.rollback).start()  # the reader finishes while dbwright backs off
    options = options.__class__(**{**options.__dict__, "retries": 5})
    report = apply(pg.url, mdir, options)
    assert report.steps[0].retries >= 1
    assert (
        pg.value(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'"
        )
        == 1
    )


def test_statement_timeout_is_set(pg, mdir):
    write(mdir, 1, "slow", "CREATE TABLE a (id int);\nSELECT pg_sleep(5);")
    options = FAST.__class__(**{**FAST.__dict__, "statement_timeout": "200ms"})
    with pytest.raises(MigrationFailedError, match="statement_timeout 200ms reached"):
        apply(pg.url, mdir, options)
    assert pg.value("SELECT to_regclass('public.a')") is None


def test_begin_commit_are_left_to_dbwright_rollback_is_refused(pg, mdir):
    write(mdir, 1, "wrapped", f"BEGIN;\n{ORDERS}\nCOMMIT;")
    apply(pg.url, mdir, FAST)
    assert rows(pg.url)[0].status == "applied"
    write(mdir, 2, "rollback", "ALTER TABLE orders ADD COLUMN x int;\nROLLBACK;")
    with pytest.raises(RefusedError, match="V2__rollback.sql:4: ROLLBACK in a migration"):
        apply(pg.url, mdir, FAST)


def test_unnamed_concurrent_index_refused_before_anything_runs(pg, mdir):
    write(mdir, 1, "orders", ORDERS)
    write(mdir, 2, "index", "CREATE INDEX CONCURRENTLY ON orders (customer_id);")
    with pytest.raises(
        RefusedError, match="V2__index.sql:3: CREATE INDEX CONCURRENTLY without an index name"
    ):
        apply(pg.url, mdir, FAST)
    assert rows(pg.url) == []


def test_out_of_order_file_refused_unless_allowed(pg, mdir):
    write(mdir, 2, "two", ORDERS)
    apply(pg.url, mdir, FAST)
    write(mdir, 1, "one", "CREATE TABLE early (id int);")
    with pytest.raises(
        RefusedError, match="V1__one.sql is pending but older than the newest applied migration V2__two.sql"
    ):
        apply(pg.url, mdir, FAST)
    allowed = FAST.__class__(**{**FAST.__dict__, "allow_out_of_order": True})
    assert apply(pg.url, mdir, allowed).migrations == ["V1__one.sql"]


def test_hand_made_change_refused_as_drift_unless_allowed(pg, mdir):
    write(mdir, 1, "orders", ORDERS)
    apply(pg.url, mdir, FAST)
    pg.execute("CREATE INDEX by_hand ON orders (customer_id)")
    write(mdir, 2, "note", "ALTER TABLE orders ADD COLUMN note text;")
    with pytest.raises(RefusedError, match="live schema differs .* index public.by_hand: not in the history"):
        apply(pg.url, mdir, FAST)
    allowed = FAST.__class__(**{**FAST.__dict__, "allow_drift": True})
    assert apply(pg.url, mdir, allowed).migrations == ["V2__note.sql"]


def test_apply_to_version_stops_there(pg, mdir):
    write(mdir, 1, "a", "CREATE TABLE a (id int);")
    write(mdir, 2, "b", "CREATE TABLE b (id int);")
    options = FAST.__class__(**{**FAST.__dict__, "to_version": "1"})
    assert apply(pg.url, mdir, options).migrations == ["V1__a.sql"]
