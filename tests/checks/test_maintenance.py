"""Maintenance checks: each has a bad-state test and a clean look-alike test on a real server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from dbwright.checks import maintenance
from dbwright.model.findings import Severity


def apply(pg, script: str) -> None:
    """Run a package's SQL one statement at a time, as psql would (VACUUM refuses a block)."""
    for line in script.splitlines():
        pg.execute(line)


def flush_stats(pg) -> None:
    """Publish this connection's table counters now, before the snapshot reads them."""
    pg.execute("SELECT pg_stat_force_next_flush()")


def burn_xids(pg, count: int) -> None:
    """Consume ``count`` transaction IDs for real, one committed transaction each (~0.5 s per 100k)."""
    pg.execute(
        "CREATE OR REPLACE PROCEDURE burn_xids(n int) LANGUAGE plpgsql AS $$ "
        "BEGIN FOR i IN 1..n LOOP PERFORM txid_current(); COMMIT; END LOOP; END $$"
    )
    if count > 0:
        pg.execute("CALL burn_xids(%s)", (count,))


def reloptions(pg, table: str) -> list[str]:
    return pg.value("SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = %s::regclass", (table,))


# --- DW301 -----------------------------------------------------------------------------------


def test_dw301_table_xid_wraparound_flagged(pg):
    pg.execute("CREATE TABLE ledger (id int) WITH (autovacuum_freeze_max_age = 100000)")
    pg.execute("INSERT INTO ledger VALUES (1)")
    burn_xids(pg, 130_000)
    found = pg.findings("DW301")
    assert [f.object for f in found] == ["public.ledger"]
    evidence = found[0].evidence
    assert evidence["freeze_max_age"] == 100_000
    assert evidence["freeze_max_age_source"] == "table reloption autovacuum_freeze_max_age"
    assert evidence["xid_age"] >= 130_000 and evidence["overdue_by_xids"] >= 30_000
    assert found[0].severity == Severity.MEDIUM  # far from the 2^31 horizon
    assert "VACUUM (FREEZE) public.ledger;" in found[0].fix.forward_sql
    assert found[0].fix.rollback_sql == ""
    apply(pg, found[0].fix.forward_sql)
    assert pg.findings("DW301") == []


def test_dw301_old_table_under_its_freeze_max_age_not_flagged(pg):
    # Just as old as the flagged table, but the server-wide 200M applies (a larger reloption is ignored).
    pg.execute("CREATE TABLE archive (id int)")
    pg.execute("CREATE TABLE journal (id int) WITH (autovacuum_freeze_max_age = 300000000)")
    pg.execute("CREATE TABLE ledger (id int) WITH (autovacuum_freeze_max_age = 100000)")
    burn_xids(pg, 130_000)
    pg.execute("VACUUM (FREEZE) ledger")  # its low limit applies, but it was just frozen
    assert pg.value("SELECT age(relfrozenxid) FROM pg_class WHERE relname = 'archive'") >= 130_000
    assert pg.findings("DW301") == []


# --- DW302 -----------------------------------------------------------------------------------


@contextmanager
def server_freeze_max_age(pg, value: int) -> Iterator[None]:
    """autovacuum_freeze_max_age needs a restart: set it, restart, and restore it afterwards.

    autovacuum_naptime is 1h on the test cluster, so the launcher schedules no worker that could
    freeze the databases while the test looks at them.
    """
    pg.execute(f"ALTER SYSTEM SET autovacuum_freeze_max_age = {value}")
    pg.cluster.restart()
    pg.conn = psycopg.connect(pg.url, autocommit=True)
    try:
        yield
    finally:
        pg.conn = psycopg.connect(pg.url, autocommit=True)
        pg.execute("ALTER SYSTEM RESET autovacuum_freeze_max_age")
        pg.cluster.restart()
        pg.conn = psycopg.connect(pg.url, autocommit=True)


def burn_until_database_age(pg, age: int) -> None:
    burn_xids(
        pg, age - pg.value("SELECT age(datfrozenxid) FROM pg_database WHERE datname = current_database()")
    )


def test_dw302_database_xid_wraparound_flagged(pg):
    with server_freeze_max_age(pg, 100_000):
        burn_until_database_age(pg, 130_000)
        found = {f.object: f for f in pg.findings("DW302")}
        assert {pg.name, "postgres"} <= set(found)
        ours = found[pg.name]
        assert ours.evidence["freeze_max_age"] == 100_000
        assert ours.evidence["xid_age"] >= 130_000 and ours.evidence["reviewed_database"] is True
        assert "VACUUM (FREEZE);" in ours.fix.forward_sql
        assert found["postgres"].fix is None  # another database: VACUUM must run there
        apply(pg, ours.fix.forward_sql)
        assert pg.name not in {f.object for f in pg.findings("DW302")}


def test_dw302_recently_frozen_database_not_flagged(pg):
    assert pg.findings("DW302") == []  # default 200M: nothing on a young cluster
    with server_freeze_max_age(pg, 100_000):
        burn_until_database_age(pg, 130_000)
        pg.execute("VACUUM (FREEZE)")
        objects = {f.object for f in pg.findings("DW302")}
        assert "postgres" in objects  # the cluster is old enough to be flagged...
        assert pg.name not in objects  # ...but this database was just frozen


# --- DW303 -----------------------------------------------------------------------------------


def test_dw303_dead_tuples_flagged(pg):
    pg.execute("CREATE TABLE orders (id int, note text)")
    pg.execute("INSERT INTO orders SELECT g, 'n' FROM generate_series(1, 5000) g")
    pg.execute("DELETE FROM orders WHERE id <= 2000")
    flush_stats(pg)
    found = pg.findings("DW303")
    assert [f.object for f in found] == ["public.orders"]
    evidence = found[0].evidence
    assert (evidence["n_dead_tup"], evidence["n_live_tup"], evidence["dead_ratio"]) == (2000, 3000, 0.4)
    assert "VACUUM (ANALYZE) public.orders;" in found[0].fix.forward_sql
    assert "autovacuum_vacuum_scale_factor" not in found[0].fix.forward_sql  # small table: no tuning
    apply(pg, found[0].fix.forward_sql)
    assert pg.findings("DW303") == []


def test_dw303_large_table_also_gets_scale_factor_flagged(pg, monkeypatch):
    monkeypatch.setattr(maintenance, "LARGE_TABLE_ROWS", 2_000)  # stands in for a million rows
    pg.execute("CREATE TABLE orders (id int)")
    pg.execute("INSERT INTO orders SELECT g FROM generate_series(1, 5000) g")
    pg.execute("DELETE FROM orders WHERE id <= 2000")
    flush_stats(pg)
    fix = pg.findings("DW303")[0].fix
    assert "ALTER TABLE public.orders SET (autovacuum_vacuum_scale_factor = 0.02);" in fix.forward_sql
    assert "ALTER TABLE public.orders RESET (autovacuum_vacuum_scale_factor);" in fix.rollback_sql
    apply(pg, fix.forward_sql)
    assert reloptions(pg, "orders") == ["autovacuum_vacuum_scale_factor=0.02"]
    apply(pg, fix.rollback_sql)
    assert reloptions(pg, "orders") == []


def test_dw303_few_or_low_share_dead_tuples_not_flagged(pg):
    pg.execute("CREATE TABLE tiny (id int)")  # 90% dead, but only 9 rows
    pg.execute("INSERT INTO tiny SELECT generate_series(1, 10)")
    pg.execute("DELETE FROM tiny WHERE id <= 9")
    pg.execute("CREATE TABLE busy (id int)")  # 1,500 dead rows, but 15% of the table
    pg.execute("INSERT INTO busy SELECT generate_series(1, 10000)")
    pg.execute("DELETE FROM busy WHERE id <= 1500")
    flush_stats(pg)
    assert pg.value("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'busy'") == 1500
    assert pg.findings("DW303") == []


# --- DW304 -----------------------------------------------------------------------------------


def test_dw304_never_analyzed_flagged(pg):
    pg.execute("CREATE TABLE readings AS SELECT g AS id FROM generate_series(1, 2000) g")
    pg.execute("CREATE TABLE events (id int) PARTITION BY RANGE (id)")
    pg.execute("CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (1000)")
    pg.execute("INSERT INTO events SELECT generate_series(1, 500)")
    flush_stats(pg)  # before ANALYZE, or the inserts are counted again after it
    pg.execute("ANALYZE events_1")  # autovacuum would analyze the partition, never the parent
    flush_stats(pg)
    found = {f.object: f for f in pg.findings("DW304")}
    assert set(found) == {"public.readings", "public.events"}
    assert found["public.readings"].evidence["rows"] == 2000
    assert found["public.readings"].severity == Severity.MEDIUM
    assert found["public.events"].evidence == {"rows": 500, "n_mod_since_analyze": 0, "partitioned": True}
    assert "ANALYZE public.events;" in found["public.events"].fix.forward_sql
    for item in found.values():
        apply(pg, item.fix.forward_sql)
    assert pg.findings("DW304") == []


def test_dw304_empty_or_analyzed_tables_not_flagged(pg):
    pg.execute("CREATE TABLE empty_table (id int)")
    pg.execute("CREATE TABLE analyzed AS SELECT g AS id FROM generate_series(1, 2000) g")
    pg.execute("ANALYZE analyzed")
    pg.execute("CREATE TABLE events (id int) PARTITION BY RANGE (id)")  # partitions with no rows
    pg.execute("CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (1000)")
    flush_stats(pg)
    assert pg.findings("DW304") == []


# --- DW305 -----------------------------------------------------------------------------------


def test_dw305_autovacuum_disabled_on_table_flagged(pg):
    pg.execute("CREATE TABLE staging (id int) WITH (autovacuum_enabled = off)")
    found = pg.findings("DW305")
    assert [f.object for f in found] == ["public.staging"]
    assert found[0].evidence["reloption"] == "autovacuum_enabled=off"
    fix = found[0].fix
    assert "ALTER TABLE public.staging RESET (autovacuum_enabled);" in fix.forward_sql
    assert "ALTER TABLE public.staging SET (autovacuum_enabled = off);" in fix.rollback_sql
    apply(pg, fix.forward_sql)
    assert reloptions(pg, "staging") == []
    apply(pg, fix.rollback_sql)
    assert reloptions(pg, "staging") == ["autovacuum_enabled=off"]


def test_dw305_tuned_autovacuum_not_flagged(pg):
    pg.execute("CREATE TABLE explicit_on (id int) WITH (autovacuum_enabled = on)")
    pg.execute(
        "CREATE TABLE tuned (id int) WITH (autovacuum_vacuum_scale_factor = 0.01, "
        "autovacuum_vacuum_cost_delay = 0)"
    )
    assert pg.findings("DW305") == []


# --- DW306 -----------------------------------------------------------------------------------


def test_dw306_stale_statistics_flagged(pg):
    pg.execute("CREATE TABLE prices AS SELECT g AS id, 0 AS amount FROM generate_series(1, 1000) g")
    flush_stats(pg)
    pg.execute("ANALYZE prices")
    for _ in range(3):
        pg.execute("UPDATE prices SET amount = amount + 1")
    flush_stats(pg)
    found = pg.findings("DW306")
    assert [f.object for f in found] == ["public.prices"]
    evidence = found[0].evidence
    assert evidence["n_mod_since_analyze"] == 3000
    assert evidence["autoanalyze_trigger"] == 150  # 50 + 0.1 x 1000 rows
    assert "ANALYZE public.prices;" in found[0].fix.forward_sql
    apply(pg, found[0].fix.forward_sql)
    assert pg.findings("DW306") == []


def test_dw306_modifications_within_autoanalyze_reach_not_flagged(pg):
    # 250 changes on 1,000 rows: past autoanalyze's trigger (150) but not twice it.
    pg.execute("CREATE TABLE prices AS SELECT g AS id, 0 AS amount FROM generate_series(1, 1000) g")
    flush_stats(pg)
    pg.execute("ANALYZE prices")
    pg.execute("UPDATE prices SET amount = 1 WHERE id <= 250")
    # 800 changes would be stale under the server defaults, but this table's own scale factor is 0.5.
    pg.execute("CREATE TABLE slow_moving (id int, amount int) WITH (autovacuum_analyze_scale_factor = 0.5)")
    pg.execute("INSERT INTO slow_moving SELECT g, 0 FROM generate_series(1, 1000) g")
    flush_stats(pg)
    pg.execute("ANALYZE slow_moving")
    pg.execute("UPDATE slow_moving SET amount = 1 WHERE id <= 800")
    flush_stats(pg)
    assert pg.findings("DW306") == []


# --- DW307 -----------------------------------------------------------------------------------


def test_dw307_autovacuum_off_flagged(pg):
    pg.alter_system("autovacuum", "off")
    found = pg.findings("DW307")
    assert [f.object for f in found] == ["autovacuum"]
    assert found[0].evidence["value"] == "off"
    fix = found[0].fix
    assert "ALTER SYSTEM SET autovacuum = 'on';" in fix.forward_sql
    assert "ALTER SYSTEM SET autovacuum = 'off';" in fix.rollback_sql
    assert fix.rollback_sql.splitlines()[-1] == "SELECT pg_reload_conf();"  # reloads after undoing
    apply(pg, fix.forward_sql)
    time.sleep(0.2)  # pg_reload_conf() only signals the postmaster
    assert pg.findings("DW307") == []
    apply(pg, fix.rollback_sql)
    time.sleep(0.2)
    assert [f.object for f in pg.findings("DW307")] == ["autovacuum"]


def test_dw307_track_counts_off_flagged(pg):
    pg.alter_system("track_counts", "off")  # autovacuum stays on, but has no counters to act on
    found = pg.findings("DW307")
    assert [f.object for f in found] == ["track_counts"]
    assert "ALTER SYSTEM SET track_counts = 'on';" in found[0].fix.forward_sql


def test_dw307_autovacuum_on_not_flagged(pg):
    pg.execute("CREATE TABLE staging (id int) WITH (autovacuum_enabled = off)")  # per table: DW305's job
    assert pg.value("SHOW autovacuum") == "on"
    assert pg.findings("DW307") == []
