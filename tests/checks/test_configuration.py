"""Configuration checks: each has a bad-state test and a clean look-alike test on a real server.

The test cluster runs with shared_buffers 128MB, effective_cache_size 384MB, work_mem 4MB and
maintenance_work_mem 64MB. Memory checks vary the machine's memory (``server_memory_bytes``)
to put those settings in a bad or a sound relation to it: 1 GiB fits them, 64 GiB does not.
"""

from __future__ import annotations

import psycopg

from dbwright.checks.configuration import memory_baseline
from dbwright.engines.registry import take_snapshot
from dbwright.model import Server, Setting
from dbwright.model.findings import Severity
from dbwright.review import run_review

MiB = 1024**2
GiB = 1024**3
FITTING_MEMORY = 1 * GiB
LARGE_MEMORY = 64 * GiB


def apply(pg, script: str) -> None:
    """Run a package's SQL one statement at a time, as psql would (ALTER SYSTEM refuses a block)."""
    for line in script.splitlines():
        pg.execute(line)


def test_memory_baseline_formula():
    server = Server(
        16_0000,
        "PostgreSQL",
        "db",
        "postgres",
        True,
        memory_bytes=LARGE_MEMORY,
        settings=(Setting("max_connections", "100", source="configuration file"),),
    )
    assert memory_baseline(server) == {
        "shared_buffers": 16 * GiB,
        "effective_cache_size": 48 * GiB,
        "work_mem": (48 * GiB) // 300,
        "maintenance_work_mem": 2 * GiB,
    }
    assert memory_baseline(Server(16_0000, "PostgreSQL", "db", "postgres", True)) == {}


# --- DW601 -----------------------------------------------------------------------------------


def test_dw601_pg_stat_statements_not_created_flagged(pg):
    found = pg.findings("DW601")
    assert [f.object for f in found] == ["pg_stat_statements"]
    assert found[0].evidence["installed"] is False
    assert found[0].evidence["preloaded"] is True  # the cluster preloads it; the database lacks it
    assert found[0].fix.forward_sql == "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;"
    assert found[0].fix.requires_restart is False
    apply(pg, found[0].fix.forward_sql)
    assert pg.findings("DW601") == []
    apply(pg, found[0].fix.rollback_sql)
    assert pg.value("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'") == 0


def _restart(pg) -> None:
    """Restart the suite's cluster (it owns it) and reconnect the test's session."""
    pg.conn.close()
    pg.cluster.restart()
    pg.conn = psycopg.connect(pg.url, autocommit=True)


def test_dw601_library_not_preloaded_flagged(pg):
    pg.execute("CREATE EXTENSION pg_stat_statements")
    pg.execute("ALTER SYSTEM SET shared_preload_libraries = 'pgaudit'")
    try:
        _restart(pg)
        review = pg.review("DW601")
        found = review.by_code("DW601")
        assert "not loaded" in review.snapshot.skipped_reason("statements")
        assert [f.object for f in found] == ["pg_stat_statements"]
        assert (found[0].evidence["installed"], found[0].evidence["preloaded"]) == (True, False)
        fix = found[0].fix
        assert fix.requires_restart is True
        assert "CREATE EXTENSION" not in fix.forward_sql
        # one literal per library: 'pgaudit,pg_stat_statements' would name one library and stop the server
        assert (
            "ALTER SYSTEM SET shared_preload_libraries = 'pgaudit', 'pg_stat_statements';" in fix.forward_sql
        )
        assert "ALTER SYSTEM RESET shared_preload_libraries;" in fix.rollback_sql
        apply(pg, fix.forward_sql)
        _restart(pg)
        assert pg.value("SHOW shared_preload_libraries") == "pgaudit, pg_stat_statements"
        assert pg.findings("DW601") == []
    finally:
        pg.execute("ALTER SYSTEM RESET shared_preload_libraries")
        _restart(pg)
    assert pg.findings("DW601") == []


def test_dw601_pg_stat_statements_enabled_not_flagged(pg):
    pg.execute("CREATE EXTENSION pg_stat_statements")
    review = pg.review("DW601")
    assert review.by_code("DW601") == []
    assert review.snapshot.skipped_reason("statements") is None  # really readable, not just installed


# --- DW602 -----------------------------------------------------------------------------------


def test_dw602_shared_buffers_small_for_memory_flagged(pg):
    found = pg.findings("DW602", server_memory_bytes=LARGE_MEMORY)
    assert [f.object for f in found] == ["shared_buffers"]
    evidence = found[0].evidence
    assert (evidence["value"], evidence["baseline"], evidence["problem"]) == ("128MB", "16GB", "too_small")
    fix = found[0].fix
    assert fix.requires_restart is True
    assert "ALTER SYSTEM SET shared_buffers = '16GB';" in fix.forward_sql
    assert "pg_reload_conf" not in fix.forward_sql  # a postmaster setting: the restart applies it
    assert "ALTER SYSTEM RESET shared_buffers;" in fix.rollback_sql


def test_dw602_shared_buffers_large_for_memory_flagged(pg):
    found = pg.findings("DW602", server_memory_bytes=256 * MiB)
    assert found[0].evidence["problem"] == "too_large"
    assert "ALTER SYSTEM SET shared_buffers = '64MB';" in found[0].fix.forward_sql


def test_dw602_shared_buffers_fitting_memory_not_flagged(pg):
    assert pg.findings("DW602", server_memory_bytes=FITTING_MEMORY) == []
    assert pg.findings("DW602", server_memory_bytes=512 * MiB) == []


# --- DW603 -----------------------------------------------------------------------------------


def test_dw603_effective_cache_size_small_for_memory_flagged(pg):
    found = pg.findings("DW603", server_memory_bytes=LARGE_MEMORY)
    assert [f.object for f in found] == ["effective_cache_size"]
    assert found[0].evidence["problem"] == "too_small"
    fix = found[0].fix
    assert "ALTER SYSTEM SET effective_cache_size = '48GB';" in fix.forward_sql
    apply(pg, fix.forward_sql)
    try:
        assert pg.findings("DW603", server_memory_bytes=LARGE_MEMORY) == []
    finally:
        apply(pg, fix.rollback_sql)
    assert [f.object for f in pg.findings("DW603", server_memory_bytes=LARGE_MEMORY)] == [
        "effective_cache_size"
    ]


def test_dw603_effective_cache_size_fitting_memory_not_flagged(pg):
    assert pg.findings("DW603", server_memory_bytes=FITTING_MEMORY) == []
    pg.alter_system("effective_cache_size", "40GB")
    assert pg.findings("DW603", server_memory_bytes=LARGE_MEMORY) == []


# --- DW604 -----------------------------------------------------------------------------------


def test_dw604_work_mem_small_for_memory_flagged(pg):
    found = pg.findings("DW604", server_memory_bytes=LARGE_MEMORY)
    assert [f.object for f in found] == ["work_mem"]
    assert found[0].evidence["problem"] == "too_small"
    assert found[0].severity == Severity.LOW
    assert "ALTER SYSTEM SET work_mem = '163MB';" in found[0].fix.forward_sql
    assert "SELECT pg_reload_conf();" in found[0].fix.forward_sql


def test_dw604_work_mem_overcommitting_memory_flagged(pg):
    pg.alter_system("work_mem", "64MB")
    found = pg.findings("DW604", server_memory_bytes=FITTING_MEMORY)
    assert found[0].evidence["problem"] == "too_large"
    assert found[0].evidence["worst_case_bytes"] == 64 * MiB * 100
    assert found[0].severity is None  # the check's own: medium
    assert "ALTER SYSTEM SET work_mem = '4MB';" in found[0].fix.forward_sql


def test_dw604_work_mem_fitting_memory_not_flagged(pg):
    assert pg.findings("DW604", server_memory_bytes=FITTING_MEMORY) == []
    # 4MB × 100 connections exceeds 256MB of RAM, but 4MB is the floor: lowering work_mem is no fix
    assert pg.findings("DW604", server_memory_bytes=256 * MiB) == []
    pg.alter_system("work_mem", "128MB")  # 100 connections × 128MB = 12.5GB of 64GB
    assert pg.findings("DW604", server_memory_bytes=LARGE_MEMORY) == []


# --- DW605 -----------------------------------------------------------------------------------


def test_dw605_maintenance_work_mem_small_for_memory_flagged(pg):
    found = pg.findings("DW605", server_memory_bytes=LARGE_MEMORY)
    assert [f.object for f in found] == ["maintenance_work_mem"]
    assert found[0].evidence["problem"] == "too_small"
    assert "ALTER SYSTEM SET maintenance_work_mem = '2GB';" in found[0].fix.forward_sql


def test_dw605_maintenance_work_mem_overcommitting_flagged(pg):
    pg.alter_system("maintenance_work_mem", "512MB")  # × (3 autovacuum workers + 1) = 2GB of 1GB
    found = pg.findings("DW605", server_memory_bytes=FITTING_MEMORY)
    assert found[0].evidence["problem"] == "too_large"
    assert found[0].evidence["worst_case_bytes"] == 2 * GiB
    assert found[0].evidence["recommended"] == "64MB"  # the baseline; 4 × 64MB fits in half of 1GB
    assert "ALTER SYSTEM SET maintenance_work_mem = '64MB';" in found[0].fix.forward_sql


def test_dw605_maintenance_work_mem_fitting_not_flagged(pg):
    assert pg.findings("DW605", server_memory_bytes=FITTING_MEMORY) == []
    pg.alter_system("maintenance_work_mem", "1GB")
    assert pg.findings("DW605", server_memory_bytes=LARGE_MEMORY) == []


def test_memory_checks_skip_when_memory_unreadable(pg):
    pg.role("dw_reader", "LOGIN")  # no superuser, no pg_read_server_files: /proc/meminfo is hidden
    snap = take_snapshot(pg.cluster.url(pg.name, user="dw_reader"))
    review = run_review(snap, codes=["DW602", "DW603", "DW604", "DW605"])
    assert review.checks_run == 0 and review.findings == []
    assert [s.check.code for s in review.skipped] == ["DW602", "DW603", "DW604", "DW605"]
    assert "server_memory" in review.skipped[0].reasons[0]


# --- DW606 -----------------------------------------------------------------------------------


def test_dw606_random_page_cost_for_spinning_disks_flagged(pg):
    pg.alter_system("random_page_cost", "4")
    found = pg.findings("DW606")
    assert [f.object for f in found] == ["random_page_cost"]
    assert "assumes SSD" in found[0].evidence["assumption"]
    assert "ALTER SYSTEM SET random_page_cost = '1.1';" in found[0].fix.forward_sql
    assert "ALTER SYSTEM RESET random_page_cost;" in found[0].fix.rollback_sql


def test_dw606_random_page_cost_for_ssd_not_flagged(pg):
    assert pg.value("SHOW random_page_cost") == "1.1"
    assert pg.findings("DW606") == []
    pg.alter_system("random_page_cost", "3")
    pg.alter_system("seq_page_cost", "2")  # the ratio, not the number, is what the planner uses
    assert pg.findings("DW606") == []


# --- DW607 / DW608 ---------------------------------------------------------------------------


def test_dw607_default_max_wal_size_flagged(pg):
    pg.alter_system("max_wal_size", "1GB")
    found = pg.findings("DW607")
    assert [f.object for f in found] == ["max_wal_size"]
    assert found[0].evidence["value_bytes"] == 1 * GiB
    assert "ALTER SYSTEM SET max_wal_size = '4GB';" in found[0].fix.forward_sql


def test_dw607_larger_max_wal_size_not_flagged(pg):
    assert pg.value("SHOW max_wal_size") == "2GB"
    assert pg.findings("DW607") == []


def test_dw608_frequent_bursty_checkpoints_flagged(pg):
    pg.alter_system("checkpoint_timeout", "5min")
    pg.alter_system("checkpoint_completion_target", "0.5")
    found = {f.object: f for f in pg.findings("DW608")}
    assert set(found) == {"checkpoint_timeout", "checkpoint_completion_target"}
    assert found["checkpoint_timeout"].evidence["value_seconds"] == 300
    assert "ALTER SYSTEM SET checkpoint_timeout = '15min';" in found["checkpoint_timeout"].fix.forward_sql
    fix = found["checkpoint_completion_target"].fix
    assert "ALTER SYSTEM SET checkpoint_completion_target = '0.9';" in fix.forward_sql
    # ALTER SYSTEM values report source 'configuration file' too, so the rollback is a RESET
    assert "ALTER SYSTEM RESET checkpoint_completion_target;" in fix.rollback_sql


def test_dw608_spread_checkpoints_not_flagged(pg):
    assert pg.value("SHOW checkpoint_timeout") == "15min"
    assert pg.findings("DW608") == []


# --- DW609 -----------------------------------------------------------------------------------


def test_dw609_slow_statement_logging_off_flagged(pg):
    pg.alter_system("log_min_duration_statement", "-1")
    found = pg.findings("DW609")
    assert [f.object for f in found] == ["log_min_duration_statement"]
    fix = found[0].fix
    assert "ALTER SYSTEM SET log_min_duration_statement = '1s';" in fix.forward_sql
    apply(pg, fix.forward_sql)
    assert pg.findings("DW609") == []


def test_dw609_slow_statement_logging_on_not_flagged(pg):
    assert pg.value("SHOW log_min_duration_statement") == "1s"
    assert pg.findings("DW609") == []
    pg.alter_system("log_min_duration_statement", "0")  # logs everything: loud, but not "off"
    assert pg.findings("DW609") == []


# --- DW611 -----------------------------------------------------------------------------------


def test_dw611_track_io_timing_off_flagged(pg):
    assert pg.value("SHOW track_io_timing") == "off"  # the cluster keeps PostgreSQL's default
    found = pg.findings("DW611")
    assert [f.object for f in found] == ["track_io_timing"]
    assert "ALTER SYSTEM SET track_io_timing = 'on';" in found[0].fix.forward_sql
    assert "ALTER SYSTEM RESET track_io_timing;" in found[0].fix.rollback_sql


def test_dw611_track_io_timing_on_not_flagged(pg):
    pg.alter_system("track_io_timing", "on")
    assert pg.findings("DW611") == []


# --- DW612 -----------------------------------------------------------------------------------


def test_dw612_setting_pending_restart_flagged(pg):
    pg.alter_system("shared_buffers", "256MB")  # reloaded, but a postmaster setting: not applied
    found = pg.findings("DW612")
    assert [f.object for f in found] == ["shared_buffers"]
    assert found[0].evidence["running_value"] == "16384" and found[0].evidence["unit"] == "8kB"
    assert found[0].fix.requires_restart is True and found[0].fix.operations == ()


def test_dw612_reloadable_change_not_flagged(pg):
    pg.alter_system("work_mem", "8MB")  # applied by the reload itself
    assert pg.findings("DW612") == []
