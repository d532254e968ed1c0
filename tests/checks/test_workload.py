"""Workload checks: each has a bad-state test and a clean look-alike test on a real server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from dbwright.checks import workload
from dbwright.model.findings import Severity


def apply(pg, script: str) -> None:
    """Run a package's SQL one statement at a time, as psql would."""
    for line in script.splitlines():
        pg.execute(line)


@pytest.fixture
def statements(pg):
    """pg_stat_statements in the test database, with counters reset for this test."""
    pg.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    pg.execute("SELECT pg_stat_statements_reset()")
    return pg


def flush_stats(conn) -> None:
    """Publish this connection's counters now, before the snapshot reads them."""
    conn.execute("SELECT pg_stat_force_next_flush()")


# --- DW401 slow queries ----------------------------------------------------------------------


def test_dw401_slow_query_flagged(statements):
    pg = statements
    for _ in range(2):
        pg.execute("SELECT pg_sleep(0.6)")
    found = pg.findings("DW401")
    assert len(found) == 1
    evidence = found[0].evidence
    assert found[0].object == f"queryid:{evidence['queryid']}"
    assert evidence["query"] == "SELECT pg_sleep($1)"
    assert evidence["calls"] == 2 and evidence["mean_ms"] >= 600
    assert evidence["user"] == "postgres"
    assert found[0].severity is None  # the check's MEDIUM; HIGH only from 5 s


def test_dw401_fast_or_one_off_queries_not_flagged(statements):
    pg = statements
    pg.execute("CREATE TABLE t AS SELECT generate_series(1, 100) AS id")
    for _ in range(50):
        pg.execute("SELECT count(*) FROM t")
    pg.execute("SELECT pg_sleep(0.6)")  # slow, but a single ad-hoc call
    assert pg.findings("DW401") == []


# --- DW402 heavy queries ---------------------------------------------------------------------


def test_dw402_query_dominating_execution_time_flagged(statements):
    pg = statements
    pg.execute("CREATE TABLE t AS SELECT generate_series(1, 100) AS id")
    for _ in range(20):
        pg.execute("SELECT count(*) FROM t")
    for _ in range(2):
        pg.execute("SELECT pg_sleep(0.55)")
    found = pg.findings("DW402")
    assert len(found) == 1
    evidence = found[0].evidence
    assert evidence["query"] == "SELECT pg_sleep($1)"
    assert evidence["share"] > 0.5 and evidence["total_ms"] >= 1100 and evidence["calls"] == 2
    assert found[0].severity == Severity.MEDIUM


def test_dw402_evenly_spread_or_tiny_workload_not_flagged(statements, monkeypatch):
    pg = statements
    for _ in range(20):
        pg.execute("SELECT 1")  # 100% of a tiny total: below the absolute minimum
    assert pg.findings("DW402") == []
    monkeypatch.setattr(workload, "HEAVY_MIN_TOTAL_MS", 40.0)
    pg.execute("SELECT pg_stat_statements_reset()")
    # Ten different statements, each about a tenth of the time: even one slowed 2x by a loaded
    # machine stays under the 20% share.
    for extra_columns in range(10):
        pg.execute("SELECT pg_sleep(0.05)" + ", 1" * extra_columns)
    assert pg.findings("DW402") == []


# --- DW403 temp-file spills ------------------------------------------------------------------


@contextmanager
def connection_as(pg, role: str) -> Iterator[psycopg.Connection]:
    conn = psycopg.connect(pg.cluster.url(pg.name, user=role), autocommit=True)
    try:
        yield conn
    finally:
        conn.close()


def test_dw403_temp_file_spill_flagged(statements):
    pg = statements
    pg.role("reporter")
    with connection_as(pg, "reporter") as conn:
        conn.execute("SET work_mem = '64kB'")
        conn.execute("SELECT g FROM generate_series(1, 200000) g ORDER BY random()").fetchall()
    found = pg.findings("DW403")
    assert len(found) == 1
    evidence = found[0].evidence
    assert evidence["user"] == "reporter"
    assert evidence["temp_bytes_per_call"] >= 1024**2
    fix = found[0].fix
    # About 25 MB spilled per call: twice that, rounded up to a power of two.
    assert fix.forward_sql == "ALTER ROLE reporter SET work_mem = '64MB';"
    assert fix.rollback_sql == "ALTER ROLE reporter RESET work_mem;"
    apply(pg, fix.forward_sql)
    with connection_as(pg, "reporter") as conn:
        assert conn.execute("SHOW work_mem").fetchone()[0] == "64MB"
    apply(pg, fix.rollback_sql)
    with connection_as(pg, "reporter") as conn:
        assert conn.execute("SHOW work_mem").fetchone()[0] == "4MB"


def test_dw403_sort_fitting_in_work_mem_not_flagged(statements):
    pg = statements
    pg.execute("SELECT g FROM generate_series(1, 20000) g ORDER BY random()")  # fits in 4MB
    pg.execute("SET work_mem = '64kB'")
    pg.execute("SELECT g FROM generate_series(1, 3000) g ORDER BY g DESC")  # spills, but well under 1 MiB
    assert pg.value("SELECT sum(temp_blks_written) FROM pg_stat_statements") > 0
    assert pg.findings("DW403") == []


# --- DW404 cache hit ratio -------------------------------------------------------------------


def test_dw404_low_cache_hit_ratio_flagged(pg):
    # 40 MB is more than a quarter of shared_buffers (128 MB), so sequential scans go through a
    # small ring buffer and read the table from the OS every time: real blks_read.
    pg.execute("CREATE TABLE big AS SELECT g AS id, repeat('x', 20) AS pad FROM generate_series(1, 700000) g")
    for _ in range(2):
        pg.execute("SELECT count(*) FROM big")
    flush_stats(pg.conn)
    found = pg.findings("DW404", server_memory_bytes=4 * 1024**3)
    assert [f.object for f in found] == [pg.name]
    evidence = found[0].evidence
    assert evidence["blks_read"] >= 10_000 and evidence["hit_ratio"] < 0.99
    assert evidence["shared_buffers_bytes"] == 128 * 1024**2
    fix = found[0].fix
    assert fix.requires_restart
    assert "ALTER SYSTEM SET shared_buffers = '1024MB';" in fix.forward_sql
    assert "ALTER SYSTEM SET shared_buffers = '128MB';" in fix.rollback_sql  # set in postgresql.conf


def test_dw404_few_reads_not_flagged(pg):
    # A fresh database reads most of its first blocks from disk: a low ratio, but no evidence yet.
    pg.execute("CREATE TABLE small AS SELECT g AS id FROM generate_series(1, 20000) g")
    pg.execute("SELECT count(*) FROM small")
    flush_stats(pg.conn)
    stats = pg.execute("SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = current_database()")[
        0
    ]
    assert stats[1] < 10_000
    assert pg.findings("DW404") == []


# --- DW405 connections -----------------------------------------------------------------------


def open_connections(pg, count: int) -> list[psycopg.Connection]:
    return [pg.connect(autocommit=True) for _ in range(count)]


def test_dw405_connections_near_limit_flagged(pg):
    max_connections = int(pg.value("SHOW max_connections"))
    reserved = int(pg.value("SHOW superuser_reserved_connections"))
    available = max_connections - reserved
    # The suite's own connection, the snapshot's, and enough more to pass 80%.
    open_connections(pg, int(available * 0.82) - 2)
    found = pg.findings("DW405")
    assert [f.object for f in found] == ["max_connections"]
    evidence = found[0].evidence
    assert evidence["max_connections"] == max_connections
    assert evidence["usage"] >= 0.8
    assert evidence["by_state"]["idle"] >= int(available * 0.82) - 2
    assert evidence["sessions_visible"] == "all"


def test_dw405_many_background_processes_few_clients_not_flagged(pg):
    open_connections(pg, 20)
    snapshot = pg.snapshot()
    assert any(s.backend_type != "client backend" for s in snapshot.sessions)  # not counted
    assert pg.findings("DW405") == []


# --- DW406 idle in transaction ---------------------------------------------------------------


def test_dw406_idle_in_transaction_flagged(pg, monkeypatch):
    monkeypatch.setattr(workload, "IDLE_IN_TRANSACTION_S", 0.5)  # a minute in production
    idle = pg.connect(application_name="forgetful-app")
    idle.execute("SELECT 1")  # psycopg opened a transaction and leaves it open
    pid = idle.info.backend_pid
    time.sleep(0.6)
    found = pg.findings("DW406")
    assert [f.object for f in found] == [f"pid:{pid}"]
    evidence = found[0].evidence
    assert evidence["application"] == "forgetful-app" and evidence["state"] == "idle in transaction"
    assert evidence["state_age_s"] >= 0.5 and evidence["sessions_visible"] == "all"
    assert found[0].fix.forward_sql == f"SELECT pg_terminate_backend({pid});"
    assert found[0].fix.destructive
    apply(pg, found[0].fix.forward_sql)
    time.sleep(0.1)
    assert pg.findings("DW406") == []


def test_dw406_idle_outside_transaction_not_flagged(pg, monkeypatch):
    monkeypatch.setattr(workload, "IDLE_IN_TRANSACTION_S", 0.5)
    idle = pg.connect(autocommit=True)  # idle for long, but no transaction open
    idle.execute("SELECT 1")
    busy = pg.connect()
    busy.execute("SELECT 1")  # in a transaction, but only just
    time.sleep(0.6)
    busy.execute("SELECT 2")
    assert pg.findings("DW406") == []


# --- DW407 long transactions -----------------------------------------------------------------


@contextmanager
def running_in_background(conn: psycopg.Connection, sql: str) -> Iterator[None]:
    """Run ``sql`` on ``conn`` in a thread; cancel it and wait for the thread on the way out."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            conn.execute(sql)
        except psycopg.Error as error:  # cancelled, as intended
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield
    finally:
        conn.cancel()
        thread.join(timeout=10)


def test_dw407_long_transaction_flagged(pg, monkeypatch):
    monkeypatch.setattr(workload, "LONG_TRANSACTION_S", 0.5)  # five minutes in production
    report = pg.connect()
    report.execute("SELECT txid_current()")
    pid = report.info.backend_pid
    with running_in_background(report, "SELECT pg_sleep(5)"):
        time.sleep(0.6)
        found = pg.findings("DW407")
    assert [f.object for f in found] == [f"pid:{pid}"]
    evidence = found[0].evidence
    assert evidence["state"] == "active" and evidence["xact_age_s"] >= 0.5
    assert evidence["query"] == "SELECT pg_sleep(5)"


def test_dw407_old_connection_without_open_transaction_not_flagged(pg, monkeypatch):
    monkeypatch.setattr(workload, "LONG_TRANSACTION_S", 0.5)
    old = pg.connect(autocommit=True)
    old.execute("SELECT 1")  # connected long ago, last query long ago, no transaction
    quick = pg.connect(autocommit=True)
    time.sleep(0.6)
    with running_in_background(quick, "SELECT pg_sleep(5)"):  # a fresh statement outside any block
        time.sleep(0.1)
        found = pg.findings("DW407")
    assert found == []


# --- DW408 blocked queries -------------------------------------------------------------------


def test_dw408_blocked_query_flagged(pg, monkeypatch):
    monkeypatch.setattr(workload, "BLOCKED_MIN_S", 0.3)  # ten seconds in production
    pg.execute("CREATE TABLE accounts (id int)")
    holder = pg.connect()
    holder.execute("LOCK TABLE accounts IN EXCLUSIVE MODE")  # blocks writers, lets readers (and dbwright) in
    waiter = pg.connect(autocommit=True)
    try:
        with running_in_background(waiter, "INSERT INTO accounts VALUES (1)"):
            time.sleep(0.5)
            found = pg.findings("DW408")
    finally:
        holder.rollback()
    holder_pid, waiter_pid = holder.info.backend_pid, waiter.info.backend_pid
    assert [f.object for f in found] == [f"pid:{waiter_pid}"]
    evidence = found[0].evidence
    assert evidence["blocked_by"] == [holder_pid] and evidence["root_blockers"] == [holder_pid]
    assert evidence["blockers"][0]["state"] == "idle in transaction"
    assert evidence["waiting_s"] >= 0.3 and evidence["wait_event_type"] == "Lock"
    assert found[0].fix.forward_sql == f"SELECT pg_terminate_backend({holder_pid});"


def test_dw408_brief_lock_wait_not_flagged(pg, monkeypatch):
    monkeypatch.setattr(workload, "BLOCKED_MIN_S", 2.0)
    pg.execute("CREATE TABLE accounts (id int)")
    holder = pg.connect()
    holder.execute("LOCK TABLE accounts IN EXCLUSIVE MODE")
    reader = pg.connect(autocommit=True)
    reader.execute("SELECT * FROM accounts")  # readers pass
    waiter = pg.connect(autocommit=True)
    try:
        with running_in_background(waiter, "INSERT INTO accounts VALUES (1)"):
            time.sleep(0.3)  # blocked, but only just: ordinary lock traffic
            snapshot = pg.snapshot()
            found = pg.findings("DW408")
    finally:
        holder.rollback()
    assert [s.pid for s in snapshot.sessions if s.blocked_by] == [waiter.info.backend_pid]
    assert found == []


# --- DW409 sequences -------------------------------------------------------------------------


def test_dw409_sequence_near_limit_flagged(pg):
    pg.execute("CREATE TABLE tickets (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, note text)")
    pg.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), 2000000000)")
    # A bigint sequence feeding an integer column: the column is the limit.
    pg.execute("CREATE TABLE legacy (id int)")
    pg.execute("CREATE SEQUENCE legacy_id_seq OWNED BY legacy.id")
    pg.execute("SELECT setval('legacy_id_seq', 1700000000)")
    found = {f.object: f for f in pg.findings("DW409")}
    assert set(found) == {"public.tickets_id_seq", "public.legacy_id_seq"}
    tickets = found["public.tickets_id_seq"]
    assert tickets.severity == Severity.HIGH
    assert tickets.evidence["values_left"] == 2**31 - 1 - 2_000_000_000
    legacy = found["public.legacy_id_seq"]
    assert legacy.severity is None and legacy.evidence["limited_by"] == "column"
    assert legacy.evidence["data_type"] == "bigint" and legacy.evidence["limit"] == 2**31 - 1
    assert [line for line in legacy.fix.forward_sql.splitlines() if line.startswith("ALTER")] == [
        "ALTER TABLE public.legacy ALTER COLUMN id TYPE bigint;"
    ]  # the sequence is already bigint
    fix = tickets.fix
    assert "ALTER TABLE public.tickets ALTER COLUMN id TYPE bigint;" in fix.forward_sql
    assert "ALTER SEQUENCE public.tickets_id_seq AS bigint;" in fix.forward_sql
    apply(pg, fix.forward_sql)
    assert "public.tickets_id_seq" not in {f.object for f in pg.findings("DW409")}
    apply(pg, fix.rollback_sql)
    assert (
        pg.value(
            "SELECT format_type(atttypid, NULL) FROM pg_attribute "
            "WHERE attrelid = 'tickets'::regclass AND attname = 'id'"
        )
        == "integer"
    )


def test_dw409_far_from_limit_cycling_or_descending_not_flagged(pg):
    pg.execute("CREATE TABLE events (id bigint GENERATED BY DEFAULT AS IDENTITY)")
    pg.execute("SELECT setval(pg_get_serial_sequence('events', 'id'), 2000000000)")  # bigint: far away
    pg.execute("CREATE SEQUENCE ring AS smallint CYCLE")
    pg.execute("SELECT setval('ring', 32000)")  # near its end, but it wraps by design
    pg.execute("CREATE SEQUENCE countdown INCREMENT -1")  # starts at -1, its maximum: unused, not full
    pg.execute("SELECT nextval('countdown')")
    assert pg.findings("DW409") == []


def test_dw401_dbwright_own_queries_not_flagged(statements, monkeypatch):
    monkeypatch.setattr(workload, "SLOW_MEAN_MS", 0.0)  # every repeated query counts as slow
    pg = statements
    pg.snapshot()
    pg.snapshot()  # the second one would see the first one's introspection queries
    marked = "SELECT count(*) FROM pg_stat_statements WHERE calls >= 2 AND query LIKE '/* dbwright */%'"
    assert pg.value(marked) >= 10
    assert [f.evidence["query"] for f in pg.findings("DW401")] == []
