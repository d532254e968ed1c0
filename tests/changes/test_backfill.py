"""`dbwright backfill` on a real PostgreSQL 15: batches, throttling, resume, progress, short locks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from dbwright.changes.backfill import BackfillOptions, backfill, parse_set, parse_where
from dbwright.cli import main
from dbwright.errors import MigrationFailedError, RefusedError, SqlParseError

FAST = dict(sleep_s=0.0, lock_timeout="200ms", backoff_s=0.05)


def orders(pg, rows: int = 1000) -> None:
    pg.execute(
        "CREATE SCHEMA shop; CREATE TABLE shop.orders (id bigint PRIMARY KEY, total int NOT NULL, "
        "status text, touched int NOT NULL DEFAULT 0)"
    )
    pg.execute("INSERT INTO shop.orders (id, total) SELECT g * 3, g FROM generate_series(1, %s) g", (rows,))


def test_batches_walk_the_key_range_once(pg):
    orders(pg, 1000)
    report = backfill(
        pg.url,
        "shop.orders",
        "status = 'new', touched = touched + 1",
        None,
        BackfillOptions(batch_size=300, **FAST),
    )
    assert report.finished
    assert [b.keys for b in report.batches] == [300, 300, 300, 100]
    assert [b.last_key for b in report.batches] == [("900",), ("1800",), ("2700",), ("3000",)]
    assert report.rows_updated == 1000 and report.keys_done == report.estimated_keys == 1000
    # not idempotent: a row updated twice would show touched = 2
    assert pg.execute("SELECT status, touched, count(*) FROM shop.orders GROUP BY 1, 2") == [("new", 1, 1000)]
    progress = pg.execute(
        "SELECT batches, keys_done, rows_updated, last_key, finished_at IS NOT NULL "
        "FROM dbwright.backfill_progress"
    )
    assert progress == [(4, 1000, 1000, ["3000"], True)]


def test_where_limits_the_rows_but_not_the_walk(pg):
    orders(pg, 1000)
    pg.execute("UPDATE shop.orders SET status = 'old' WHERE id % 2 = 0")
    report = backfill(
        pg.url,
        "shop.orders",
        "status = 'new'",
        "status IS NULL OR total < 0",
        BackfillOptions(batch_size=400, **FAST),
    )
    assert len(report.batches) == 3 and report.keys_done == 1000
    assert report.rows_updated == 500
    assert dict(pg.execute("SELECT status, count(*) FROM shop.orders GROUP BY 1")) == {"new": 500, "old": 500}


def test_composite_primary_key(pg):
    pg.execute("CREATE TABLE lines (order_id int, line int, qty int, PRIMARY KEY (order_id, line))")
    pg.execute("INSERT INTO lines SELECT o, l, NULL FROM generate_series(1, 50) o, generate_series(1, 7) l")
    report = backfill(pg.url, "lines", "qty = line * 10", None, BackfillOptions(batch_size=100, **FAST))
    assert report.finished and [b.keys for b in report.batches] == [100, 100, 100, 50]
    assert report.batches[0].last_key == ("15", "2")  # the 100th key in (order_id, line) order
    assert pg.value("SELECT count(*) FROM lines WHERE qty = line * 10") == 350


def test_stopped_run_resumes_exactly_where_it_stopped(pg):
    orders(pg, 1000)
    first = backfill(
        pg.url,
        "shop.orders",
        "touched = touched + 1",
        None,
        BackfillOptions(batch_size=150, max_batches=3, **FAST),
    )
    assert not first.finished and first.last_key == ("1350",)
    assert pg.value("SELECT count(*) FROM shop.orders WHERE touched = 1") == 450
    with pytest.raises(RefusedError, match="stopped after 3 batch.*--resume"):
        backfill(
            pg.url, "shop.orders", "touched = touched + 1", None, BackfillOptions(batch_size=150, **FAST)
        )
    second = backfill(
        pg.url,
        "shop.orders",
        "touched = touched + 1",
        None,
        BackfillOptions(batch_size=150, resume=True, **FAST),
    )
    assert second.finished and second.resumed_from == ("1350",)
    assert second.batches[0].number == 4 and len(second.batches) == 4
    assert second.estimated_keys == 1000  # counted: walked before + still to walk
    assert second.rows_updated == 1000 and second.rows_this_run == 550
    assert pg.execute("SELECT touched, count(*) FROM shop.orders GROUP BY 1") == [(1, 1000)]
    again = backfill(
        pg.url, "shop.orders", "touched = touched + 1", None, BackfillOptions(resume=True, **FAST)
    )
    assert again.finished and again.batches == [] and again.rows_updated == 1000


def test_restart_forgets_the_interrupted_run(pg):
    orders(pg, 300)
    backfill(
        pg.url,
        "shop.orders",
        "touched = touched + 1",
        None,
        BackfillOptions(batch_size=100, max_batches=1, **FAST),
    )
    report = backfill(
        pg.url,
        "shop.orders",
        "touched = touched + 1",
        None,
        BackfillOptions(batch_size=100, restart=True, **FAST),
    )
    assert report.finished and report.rows_updated == 300 and report.resumed_from is None
    assert dict(pg.execute("SELECT touched, count(*) FROM shop.orders GROUP BY 1")) == {1: 200, 2: 100}


def test_killed_process_resumes_without_losing_or_repeating_a_row(pg):
    orders(pg, 2000)
    cmd = [
        sys.executable,
        "-m",
        "dbwright",
        "backfill",
        "-d",
        pg.url,
        "--table",
        "shop.orders",
        "--set",
        "touched = touched + 1",
        "--batch-size",
        "100",
        "--sleep",
        "0.05",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "120"}
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done = (
            pg.value("SELECT batches FROM dbwright.backfill_progress")
            if pg.value("SELECT to_regclass('dbwright.backfill_progress')")
            else None
        )
        if done and done >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    batches = pg.value("SELECT batches FROM dbwright.backfill_progress")
    assert 3 <= batches < 20, "the kill must land mid-run"
    rerun = subprocess.run([*cmd, "--resume", "--format", "json"], capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    result = json.loads(rerun.stdout)
    assert result["finished"] and result["batches_before"] >= batches
    assert result["rows_updated"] == 2000
    assert pg.execute("SELECT touched, count(*) FROM shop.orders GROUP BY 1") == [(1, 2000)]


def test_sleep_throttles_between_batches(pg):
    orders(pg, 500)
    started = time.monotonic()
    report = backfill(
        pg.url,
        "shop.orders",
        "status = 'x'",
        None,
        BackfillOptions(batch_size=100, sleep_s=0.2, lock_timeout="1s"),
    )
    elapsed = time.monotonic() - started
    assert len(report.batches) == 5
    assert elapsed >= 4 * 0.2  # a pause between each pair of batches
    assert sum(b.seconds for b in report.batches) < elapsed - 0.7  # the pauses are outside the transactions


def test_each_batch_is_a_short_transaction(pg):
    """A writer never waits long: the backfill's transactions (sampled in pg_stat_activity) stay short."""
    orders(pg, 3000)
    ages: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        with psycopg.connect(pg.url, autocommit=True) as conn:
            while not stop.is_set():
                row = conn.execute(
                    "SELECT max(extract(epoch FROM clock_timestamp() - xact_start)) FROM "
                    "pg_stat_activity WHERE application_name = 'dbwright backfill'"
                ).fetchone()
                if row[0] is not None:
                    ages.append(float(row[0]))
                time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        writer_waits = []
        report = None

        def run() -> None:
            nonlocal report
            report = backfill(
                pg.url,
                "shop.orders",
                "status = 'b'",
                None,
                BackfillOptions(batch_size=200, sleep_s=0.02, lock_timeout="1s"),
            )

        worker = threading.Thread(target=run)
        worker.start()
        with psycopg.connect(pg.url, autocommit=True) as writer:
            while worker.is_alive():  # the application keeps writing rows all over the table
                started = time.monotonic()
                writer.execute(
                    "UPDATE shop.orders SET total = total + 1 WHERE id = (random() * 3000)::int * 3 + 3"
                )
                writer_waits.append(time.monotonic() - started)
        worker.join()
    finally:
        stop.set()
        sampler.join()
    assert report is not None and report.finished and len(report.batches) == 15
    assert ages, "the sampler saw the backfill's transactions"
    assert max(ages) < 0.5 and max(b.seconds for b in report.batches) < 0.5
    assert max(writer_waits) < 0.5


def test_lock_timeout_retries_then_succeeds(pg):
    orders(pg, 200)
    blocker = pg.connect()
    blocker.execute("LOCK TABLE shop.orders IN SHARE MODE")  # blocks the UPDATE's ROW EXCLUSIVE
    release = threading.Timer(0.6, blocker.rollback)
    release.start()
    report = backfill(
        pg.url,
        "shop.orders",
        "status = 'r'",
        None,
        BackfillOptions(batch_size=100, sleep_s=0, lock_timeout="100ms", backoff_s=0.1, retries=6),
    )
    release.join()
    assert report.finished and report.retries >= 1 and report.batches[0].retries >= 1
    assert pg.value("SELECT count(*) FROM shop.orders WHERE status = 'r'") == 200


def test_lock_timeout_gives_up_after_retries_with_nothing_half_done(pg):
    orders(pg, 200)
    blocker = pg.connect()
    blocker.execute("LOCK TABLE shop.orders IN SHARE MODE")
    with pytest.raises(MigrationFailedError, match=r"batch 1 failed 3 times .*lock timeout.*--resume"):
        backfill(
            pg.url,
            "shop.orders",
            "status = 'r'",
            None,
            BackfillOptions(batch_size=100, lock_timeout="50ms", backoff_s=0.01, retries=2),
        )
    blocker.rollback()
    assert pg.value("SELECT count(*) FROM shop.orders WHERE status IS NOT NULL") == 0


def test_bad_input_is_refused_before_anything_runs(pg):
    orders(pg, 10)
    pg.execute("CREATE TABLE nokey (a int, b int)")
    with pytest.raises(RefusedError, match="no primary key"):
        backfill(pg.url, "nokey", "b = 1")
    with pytest.raises(RefusedError, match="does not exist"):
        backfill(pg.url, "shop.missing", "status = 'x'")
    with pytest.raises(RefusedError, match="primary key"):
        backfill(pg.url, "shop.orders", "id = id + 1")
    with pytest.raises(MigrationFailedError, match='column "nope" .*does not exist'):
        backfill(pg.url, "shop.orders", "nope = 1", None, BackfillOptions(**FAST))
    assert pg.value("SELECT count(*) FROM shop.orders WHERE status IS NOT NULL") == 0


def test_set_and_where_cannot_smuggle_sql():
    assert parse_set("status = 'new', n = n + 1") == ("status = 'new', n = n + 1", ("status", "n"))
    with pytest.raises(SqlParseError):
        parse_set("status = 'x'; DROP TABLE shop.orders")
    with pytest.raises(SqlParseError, match="only assignments"):
        parse_set("status = 'x' WHERE true")
    # one whole expression, deparsed, so it stays inside its parentheses in the batch's WHERE
    assert parse_where("status IS NULL or (total < 0)") == "status IS NULL OR total < 0"
    with pytest.raises(SqlParseError):
        parse_where("true) OR (1 = 1")
    with pytest.raises(SqlParseError):
        parse_where("1; DROP TABLE x")


def test_cli_progress_and_summary(pg, capsys):
    orders(pg, 500)
    code = main(
        [
            "backfill",
            "-d",
            pg.url,
            "--table",
            "shop.orders",
            "--set",
            "status = 'c'",
            "--batch-size",
            "200",
            "--sleep",
            "0",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "shop.orders: 500 rows updated in 3 batch(es) of up to 200 keys" in out
    assert "finished: 500 rows updated in all, key order (id)" in out
    assert "500/500" in err  # the rich progress bar, on stderr
    code = main(["backfill", "-d", pg.url, "--table", "shop.orders", "--set", "status = 'c'", "--resume"])
    assert code == 0 and "nothing to do" in capsys.readouterr().out


def test_cli_errors_are_one_line(pg, capsys):
    orders(pg, 10)
    assert main(["backfill", "-d", pg.url, "--table", "shop.orders", "--set", "status ="]) == 16
    assert (
        main(
            [
                "backfill",
                "-d",
                pg.url,
                "--table",
                "shop.orders",
                "--set",
                "status = 'x'",
                "--resume",
                "--restart",
            ]
        )
        == 17
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "Traceback" not in err


def test_max_batch_time_shrinks_slow_batches_and_grows_quick_ones():
    options = BackfillOptions(batch_size=1000, max_batch_s=0.1)
    assert options.next_size(1000, 0.5) == 500 and options.next_size(150, 0.5) == 100
    assert options.next_size(500, 0.01) == 750 and options.next_size(900, 0.01) == 1000
    assert options.next_size(500, 0.07) == 500
    assert BackfillOptions(batch_size=1000).next_size(1000, 5.0) == 1000


def test_max_batch_time_adapts_a_real_run(pg):
    orders(pg, 1000)
    pg.execute(
        "CREATE FUNCTION slow(int) RETURNS text LANGUAGE sql AS $$ SELECT pg_sleep(0.0005)::text || $1 $$"
    )
    report = backfill(
        pg.url,
        "shop.orders",
        "status = slow(total)",
        None,
        BackfillOptions(batch_size=600, max_batch_s=0.1, **FAST),
    )
    sizes = [b.size for b in report.batches]
    assert sizes[:2] == [600, 300]  # 600 rows x 0.5 ms is too slow: the batch is halved
    assert report.finished and report.rows_updated == 1000
    assert pg.value("SELECT count(*) FROM shop.orders WHERE status LIKE '%' || total") == 1000


def test_progress_total_of_a_large_table_comes_from_the_planner(pg, monkeypatch):
    monkeypatch.setattr("dbwright.changes.backfill.EXACT_COUNT_BELOW", 100)
    orders(pg, 500)
    pg.execute("ANALYZE shop.orders")
    backfill(
        pg.url, "shop.orders", "status = 'a'", None, BackfillOptions(batch_size=200, max_batches=1, **FAST)
    )
    seen = []
    report = backfill(
        pg.url,
        "shop.orders",
        "status = 'a'",
        None,
        BackfillOptions(batch_size=200, resume=True, **FAST),
        progress=lambda r, b: seen.append((r.keys_done, r.estimated_keys)),
    )
    assert seen == [(400, 500), (500, 500)]  # reltuples is the whole table, walked or not
    assert report.finished


def test_progress_table_is_not_schema_drift(pg, tmp_path):
    """The progress table lives in the dbwright schema, which `migrate verify` leaves out of the fingerprint."""
    from dbwright.changes.migrations import baseline, verify

    orders(pg, 100)
    baseline(pg.url, tmp_path, "1")
    backfill(pg.url, "shop.orders", "status = 'v'", None, BackfillOptions(**FAST))
    assert pg.value("SELECT count(*) FROM dbwright.backfill_progress") == 1
    report = verify(pg.url, tmp_path)
    assert report.ok, report.to_dict()
    pg.execute("ALTER TABLE shop.orders ADD COLUMN note text")  # while a real change is drift
    assert verify(pg.url, tmp_path).drift
