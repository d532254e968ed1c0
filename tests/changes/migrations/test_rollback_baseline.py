"""rollback, baseline, status and plan against the real server."""

import json

import pytest

from dbwright.changes.migrations import apply, baseline, plan, rollback, status, verify
from dbwright.changes.migrations.runner import MigrationFailedError
from dbwright.engines.postgres.migration_history import TABLE
from dbwright.errors import RefusedError
from dbwright.model.operations import REWRITE_RATE
from tests.changes.migrations.conftest import FAST, live_schema, rows, write
from tests.cli.test_cli_errors import run_cli


def _three(mdir):
    write(
        mdir,
        1,
        "orders",
        "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int);",
        "DROP TABLE orders;",
    )
    write(
        mdir,
        2,
        "index",
        "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);",
        "DROP INDEX CONCURRENTLY orders_customer_idx;",
    )
    write(mdir, 3, "note", "ALTER TABLE orders ADD COLUMN note text;", "ALTER TABLE orders DROP COLUMN note;")


def test_rollback_last_then_to_version_restores_recorded_schemas(pg, mdir):
    empty = live_schema(pg.url)
    _three(mdir)
    apply(pg.url, mdir, FAST)
    after_two = rows(pg.url)[1].schema_doc

    report = rollback(pg.url, mdir, options=FAST)
    assert report.migrations == ["V3__note.sql"] and report.drift == []
    assert [r.version for r in rows(pg.url)] == ["1", "2"]
    assert live_schema(pg.url) == after_two

    report = rollback(pg.url, mdir, "0", options=FAST)
    assert report.migrations == ["V2__index.sql", "V1__orders.sql"] and report.drift == []
    assert rows(pg.url) == [] and live_schema(pg.url) == empty
    assert verify(pg.url, mdir).ok
    assert apply(pg.url, mdir, FAST).migrations == ["V1__orders.sql", "V2__index.sql", "V3__note.sql"]


def test_rollback_whose_down_part_does_not_restore_reports_drift(pg, mdir):
    write(mdir, 1, "orders", "CREATE TABLE orders (id bigint PRIMARY KEY);")
    write(
        mdir,
        2,
        "two",
        "ALTER TABLE orders ADD COLUMN a int;\nALTER TABLE orders ADD COLUMN b int;",
        "ALTER TABLE orders DROP COLUMN a;",
    )  # forgets b
    apply(pg.url, mdir, FAST)
    result = run_cli("migrate", "rollback", "-d", pg.url, "--dir", str(mdir))
    assert result.returncode == 1, result.stderr
    assert "table public.orders: column b added" in result.stdout


def test_rollback_refusals(pg, mdir):
    with pytest.raises(RefusedError, match="nothing to roll back"):
        rollback(pg.url, mdir, options=FAST)
    write(mdir, 1, "no_down", "CREATE TABLE a (id int);")
    apply(pg.url, mdir, FAST)
    with pytest.raises(RefusedError, match="V1__no_down.sql has an empty down part"):
        rollback(pg.url, mdir, options=FAST)
    with pytest.raises(RefusedError, match="version 7 is not in the history"):
        rollback(pg.url, mdir, "7", options=FAST)
    assert pg.value("SELECT to_regclass('public.a')") is not None


def test_baseline_adopts_existing_database(pg, mdir):
    pg.execute("CREATE TABLE orders (id bigint PRIMARY KEY)")
    write(mdir, 1, "orders", "CREATE TABLE orders (id bigint PRIMARY KEY);")  # already in the database
    write(mdir, 5, "note", "ALTER TABLE orders ADD COLUMN note text;", "ALTER TABLE orders DROP COLUMN note;")
    row = baseline(pg.url, mdir, "3", FAST)
    assert (row.kind, row.version, row.status) == ("baseline", "3", "applied")
    state = status(pg.url, mdir)
    assert [m.filename for m in state.pending] == ["V5__note.sql"] and state.out_of_order == []
    assert apply(pg.url, mdir, FAST).migrations == ["V5__note.sql"]
    assert verify(pg.url, mdir).ok
    with pytest.raises(RefusedError, match="already has a migration history"):
        baseline(pg.url, mdir, "4", FAST)
    rollback(pg.url, mdir, options=FAST)
    with pytest.raises(RefusedError, match="cannot roll back past the baseline 3"):
        rollback(pg.url, mdir, options=FAST)


def test_status_lists_applied_pending_and_out_of_order(pg, mdir):
    write(mdir, 2, "two", "CREATE TABLE two (id int);")
    apply(pg.url, mdir, FAST)
    write(mdir, 1, "one", "CREATE TABLE one (id int);")
    write(mdir, 3, "three", "CREATE TABLE three (id int);")
    state = status(pg.url, mdir)
    assert [r.filename for r in state.applied] == ["V2__two.sql"]
    assert [m.filename for m in state.pending] == ["V1__one.sql", "V3__three.sql"]
    assert [m.filename for m in state.out_of_order] == ["V1__one.sql"]
    result = run_cli("migrate", "status", "-d", pg.url, "--dir", str(mdir), "--format", "json")
    assert json.loads(result.stdout)["out_of_order"] == ["V1__one.sql"]
    text = run_cli("migrate", "status", "-d", pg.url, "--dir", str(mdir)).stdout
    assert "OUT OF ORDER V1__one.sql" in text and "1 applied, 2 pending, 1 out of order" in text


def test_plan_prices_statements_with_real_table_sizes_and_writes_nothing(pg, mdir):
    pg.execute("CREATE TABLE events (id int PRIMARY KEY, payload text)")
    pg.execute("INSERT INTO events SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g")
    write(
        mdir,
        1,
        "widen",
        "ALTER TABLE events ALTER COLUMN id TYPE bigint;\n"
        "CREATE INDEX CONCURRENTLY events_payload_idx ON events (payload);\n"
        "CREATE TABLE fresh (id int);",
    )
    result = plan(pg.url, mdir)
    widen, index, fresh = result.statements
    size = pg.snapshot().table("public.events").total_bytes
    assert size > 4_000_000
    assert (widen.lock, widen.rewrites, widen.in_transaction, widen.table_bytes) == (
        "ACCESS EXCLUSIVE",
        True,
        True,
        size,
    )
    assert widen.estimated_seconds == pytest.approx(size / REWRITE_RATE)
    assert (index.lock, index.in_transaction, index.step) == ("SHARE UPDATE EXCLUSIVE", False, 2)
    assert index.estimated_seconds > 0
    assert (fresh.lock, fresh.estimated_seconds, fresh.step) == ("none", 0.0, 3)
    assert any(f.line == 3 and f.file == "V1__widen.sql" for f in result.findings)  # the lint ran on the file
    assert not any(f.code in ("DW730", "DW731") for f in result.findings)  # apply sets both timeouts itself
    assert pg.value(f"SELECT to_regclass('{TABLE}')") is None  # a dry run: no history table created
    text = run_cli("migrate", "plan", "-d", pg.url, "--dir", str(mdir))
    assert text.returncode == 0, text.stderr
    assert "lock ACCESS EXCLUSIVE (blocks reads and writes); REWRITES; in transaction" in text.stdout
    assert "OUTSIDE transaction" in text.stdout


def test_interrupted_rollback_is_recorded_and_resumed(pg, mdir):
    write(mdir, 1, "orders", "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int);")
    write(
        mdir,
        2,
        "index",
        "CREATE TABLE extra (id int);\nALTER TABLE orders ADD COLUMN note text;\n"
        "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);",
        "DROP TABLE extra;\nDROP INDEX CONCURRENTLY orders_customer_idx;\nALTER TABLE orders DROP COLUMN note;",
    )
    apply(pg.url, mdir, FAST)
    blocker = pg.connect()
    blocker.execute("SELECT * FROM orders")  # an open transaction: the concurrent drop waits for it
    quick = FAST.__class__(**{**FAST.__dict__, "lock_timeout": "100ms", "retries": 0})
    with pytest.raises(MigrationFailedError, match="V2__index.sql:.*lock_timeout 100ms"):
        rollback(pg.url, mdir, options=quick)
    row = rows(pg.url)[-1]
    assert (row.status, row.steps_done, row.step_running) == ("rolling back", 1, 2)
    with pytest.raises(RefusedError, match="V2__index.sql was being rolled back"):
        apply(pg.url, mdir, FAST)
    blocker.rollback()
    report = rollback(pg.url, mdir, options=FAST)
    assert [s.step for s in report.steps] == [2, 3] and report.drift == []
    assert [r.version for r in rows(pg.url)] == ["1"]
