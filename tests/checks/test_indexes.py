"""Indexes checks: each has a bad-state test and a clean look-alike test on a real server."""

import dataclasses
import threading
import time
from datetime import datetime, timedelta

import psycopg
import pytest

from dbwright.checks.indexes import foreign_key_keepers, search_keepers, unused_keep_reason
from dbwright.model import Snapshot
from dbwright.model.findings import Severity
from dbwright.review import run_review


def apply(pg, script: str) -> None:
    """Run a fix's SQL script statement by statement, as psql would (CONCURRENTLY needs that)."""
    for line in script.splitlines():
        pg.execute(line)


def index_exists(pg, qname: str) -> bool:
    return pg.value("SELECT to_regclass(%s) IS NOT NULL", (qname,))


def flush_counters(pg) -> None:
    """Make this session's pg_stat counters visible to the snapshot's own session."""
    pg.execute("SELECT pg_stat_force_next_flush()")
    pg.execute("SELECT 1")


def test_dw201_duplicate_index_flagged(pg):
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, email text, code text)")
    pg.execute("CREATE INDEX t_id_idx ON t (id)")
    pg.execute("CREATE INDEX t_email_plain ON t (email)")
    pg.execute("CREATE UNIQUE INDEX t_email_unique ON t (email)")
    pg.execute("CREATE TABLE u (id int PRIMARY KEY)")
    pg.execute("ALTER TABLE u ADD CONSTRAINT u_id_key UNIQUE (id)")
    found = {f.object: f for f in pg.findings("DW201")}
    assert set(found) == {"public.t_id_idx", "public.t_email_plain", "public.u_id_key"}
    assert found["public.t_id_idx"].evidence["duplicate_of"] == "public.t_pkey"
    assert found["public.t_email_plain"].evidence["duplicate_of"] == "public.t_email_unique"
    assert found["public.u_id_key"].fix is None  # two constraints: left to a person
    # On a partitioned table the duplicate is reported once, on the parent, and dropped without
    # CONCURRENTLY (not supported for partitioned indexes); the partitions' copies go with it.
    pg.execute("CREATE TABLE m (id int, at date) PARTITION BY RANGE (at)")
    pg.execute("CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')")
    pg.execute("CREATE INDEX m_at_a ON m (at)")
    pg.execute("CREATE INDEX m_at_b ON m (at)")
    parted = [f for f in pg.findings("DW201") if f.object.startswith("public.m")]
    assert [f.object for f in parted] == ["public.m_at_b"]
    apply(pg, parted[0].fix.forward_sql)
    assert "DROP INDEX IF EXISTS public.m_at_b;" in parted[0].fix.forward_sql
    assert pg.value("SELECT count(*) FROM pg_indexes WHERE tablename = 'm_2024'") == 1
    fix = found["public.t_email_plain"].fix
    assert "DROP INDEX CONCURRENTLY IF EXISTS public.t_email_plain;" in fix.forward_sql
    assert "CREATE INDEX CONCURRENTLY t_email_plain ON public.t USING btree (email);" in fix.rollback_sql
    apply(pg, fix.forward_sql)
    assert not index_exists(pg, "public.t_email_plain")
    apply(pg, fix.rollback_sql)
    assert index_exists(pg, "public.t_email_plain")


def test_dw201_similar_but_different_indexes_not_flagged(pg):
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, email text, code text)")
    pg.execute("CREATE INDEX ON t (email)")
    pg.execute("CREATE INDEX ON t (lower(email))")
    pg.execute("CREATE INDEX ON t (email) WHERE code IS NOT NULL")
    pg.execute("CREATE INDEX ON t (email) INCLUDE (code)")
    pg.execute("CREATE INDEX ON t (email text_pattern_ops)")
    pg.execute("CREATE INDEX ON t (email DESC NULLS LAST, code)")
    pg.execute("CREATE INDEX ON t (email, code)")
    pg.execute("CREATE INDEX ON t (code, email)")
    pg.execute("CREATE INDEX ON t USING hash (email)")
    assert pg.findings("DW201") == []


def test_dw202_redundant_prefix_index_flagged(pg):
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, a int, b int, c int)")
    pg.execute("CREATE INDEX t_a ON t (a)")
    pg.execute("CREATE INDEX t_ab ON t (a, b)")
    pg.execute("CREATE INDEX t_abc ON t (a, b, c)")
    pg.execute("CREATE INDEX t_b ON t (b)")
    pg.execute("CREATE INDEX t_b_inc ON t (b) INCLUDE (c)")
    found = {f.object: f for f in pg.findings("DW202")}
    assert set(found) == {"public.t_a", "public.t_ab", "public.t_b"}
    assert found["public.t_ab"].evidence["covered_by"] == "public.t_abc"
    assert found["public.t_b"].evidence["covered_by"] == "public.t_b_inc"
    fix = found["public.t_ab"].fix
    apply(pg, fix.forward_sql)
    assert not index_exists(pg, "public.t_ab")
    apply(pg, fix.rollback_sql)
    assert (
        pg.value("SELECT pg_get_indexdef('public.t_ab'::regclass)")
        == "CREATE INDEX t_ab ON public.t USING btree (a, b)"
    )


def test_dw202_unique_partial_or_differently_ordered_not_flagged(pg):
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, a int, b int, c text)")
    pg.execute("CREATE UNIQUE INDEX ON t (a)")
    pg.execute("CREATE INDEX ON t (a, b)")
    pg.execute("CREATE INDEX ON t (b) WHERE a > 0")
    pg.execute("CREATE INDEX ON t (b DESC)")
    pg.execute("CREATE INDEX ON t (b, a)")
    pg.execute("CREATE INDEX ON t (c text_pattern_ops)")
    pg.execute("CREATE INDEX ON t (c, a)")
    pg.execute("CREATE INDEX ON t (lower(c))")
    pg.execute("CREATE INDEX ON t (lower(c), a)")
    pg.execute("CREATE INDEX ON t (id, a)")  # the primary key is never redundant
    assert pg.findings("DW202") == []


def test_dw202_collation_operator_class_and_include_respected(pg):
    """Django's pair (a plain index and a ``_like`` one with varchar_pattern_ops), an index under
    another collation, and an INCLUDE column the wider index lacks: none is redundant. The same
    operator class under a wider index still is."""
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, code varchar(20), name text, x int, y int, z int)")
    pg.execute("CREATE INDEX t_code_idx ON t (code)")
    pg.execute("CREATE INDEX t_code_like ON t (code varchar_pattern_ops)")
    pg.execute("CREATE INDEX t_code_like_id ON t (code varchar_pattern_ops, id)")  # covers t_code_like
    pg.execute("CREATE INDEX t_name_idx ON t (name)")
    pg.execute('CREATE INDEX t_name_c_id ON t (name COLLATE "C", id)')
    pg.execute("CREATE INDEX t_x_inc ON t (x) INCLUDE (y)")
    pg.execute("CREATE INDEX t_x_z ON t (x, z)")
    found = {f.object: f for f in pg.findings("DW202")}
    assert set(found) == {"public.t_code_like"}
    assert found["public.t_code_like"].evidence["covered_by"] == "public.t_code_like_id"
    pg.execute('CREATE INDEX t_name_c ON t (name COLLATE "C")')
    assert pg.findings("DW201") == []  # same column, another collation: no duplicate


def aged(snap: Snapshot, days: float) -> Snapshot:
    """The snapshot as if taken ``days`` later: the usage counters then cover that much longer."""
    taken = datetime.fromisoformat(snap.taken_at) + timedelta(days=days)
    return dataclasses.replace(snap, taken_at=taken.isoformat())


def unused(snap: Snapshot, **options) -> list:
    return run_review(snap, codes=["DW203"], options=options).by_code("DW203")


def test_dw203_unused_index_flagged(pg):
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, a int, b int)")
    pg.execute("CREATE INDEX t_a_idx ON t (a)")
    pg.execute("INSERT INTO t SELECT g, g, g FROM generate_series(1, 1000) g")
    pg.analyze()
    pg.execute("SELECT count(*) FROM t WHERE b = 5")  # the table is read, never through t_a_idx
    flush_counters(pg)
    snap = pg.snapshot()
    assert snap.server.current_database.stats_reset is None  # a new database: never reset
    # Never reset: the counters run since the server started, and the evidence says so.
    found = unused(aged(snap, 30))
    assert [f.object for f in found] == ["public.t_a_idx"]
    assert found[0].severity is None  # the check's own (low)
    assert "since the server started on" in found[0].message
    assert found[0].evidence["observed_from"] == "server_start"
    assert found[0].evidence["stats_reset"] is None
    assert found[0].evidence["days_observed"] >= 30
    assert found[0].evidence["scans"] == 0
    assert found[0].evidence["bytes"] > 0
    assert found[0].evidence["table_writes"] == 1000
    fix = found[0].fix
    assert "since the server started" in fix.explanation
    apply(pg, fix.forward_sql)
    assert not index_exists(pg, "public.t_a_idx")
    apply(pg, fix.rollback_sql)
    # Minutes of counters say little: one informational finding for the database, not one per index.
    found = unused(snap)
    assert [(f.object, f.severity) for f in found] == [(pg.name, Severity.INFO)]
    assert found[0].evidence["indexes"] == ["public.t_a_idx"]
    assert found[0].evidence["min_observed_days"] == 7
    assert found[0].fix is None
    # The review option sets the window: --min-observed 0 judges them now.
    assert [f.object for f in unused(snap, min_observed_days=0)] == ["public.t_a_idx"]
    # After a reset the window runs from the reset, and the evidence names it.
    pg.execute("SELECT pg_stat_reset()")
    pg.execute("SELECT count(*) FROM t WHERE b = 5")
    flush_counters(pg)
    snap = pg.snapshot()
    found = unused(aged(snap, 10))
    assert [f.object for f in found] == ["public.t_a_idx"]
    assert found[0].evidence["observed_from"] == "stats_reset"
    assert found[0].evidence["stats_reset"] == snap.server.current_database.stats_reset
    assert "since statistics were reset on" in found[0].message
    found = unused(snap)
    assert found[0].severity == Severity.INFO and found[0].evidence["days_observed"] == 0.0
    assert "since statistics were reset on" in found[0].message


def test_dw203_unknown_window_said_once(pg):
    """Stats never reset and no server start in the snapshot (an older saved one): the window is
    unknown, said once as information."""
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, a int, b int)")
    pg.execute("CREATE INDEX t_a_idx ON t (a)")
    pg.execute("CREATE INDEX t_b_idx ON t (b)")
    pg.execute("INSERT INTO t SELECT g, g, g FROM generate_series(1, 1000) g")
    pg.analyze()
    pg.execute("SELECT * FROM t WHERE id = 5")  # the table is read (through its primary key)
    flush_counters(pg)
    snap = aged(pg.snapshot(), 365)
    snap = dataclasses.replace(snap, server=dataclasses.replace(snap.server, postmaster_start=None))
    found = unused(snap)
    assert len(found) == 1 and found[0].severity == Severity.INFO
    assert found[0].evidence["indexes"] == ["public.t_a_idx", "public.t_b_idx"]
    assert found[0].evidence["days_observed"] is None
    assert "unknown period" in found[0].message
    assert "reset on" not in found[0].message


def test_dw203_indexes_a_drop_would_hurt_not_flagged(pg):
    """A year of counters, and still: constraint-backing, foreign-key, lone search and empty or
    unread-table indexes are never called unused; their look-alikes still are."""
    pg.execute("CREATE TABLE parent (id int PRIMARY KEY)")
    pg.execute("INSERT INTO parent SELECT generate_series(1, 10)")
    pg.execute(
        "CREATE TABLE t (id int PRIMARY KEY, a int, code text UNIQUE, body text, during int4range, "
        "parent_id int REFERENCES parent, other_id int REFERENCES parent, at timestamptz, "
        "EXCLUDE USING gist (during WITH &&))"
    )
    pg.execute("CREATE INDEX t_parent_idx ON t (parent_id)")  # the foreign key's only index
    pg.execute("CREATE INDEX t_other_idx ON t (other_id)")  # kept for other_id …
    pg.execute("CREATE INDEX t_other_a_idx ON t (other_id, a)")  # … so this one may go: still flagged
    pg.execute("CREATE INDEX t_body_fts ON t USING gin (to_tsvector('english', body))")  # lone GIN
    pg.execute("CREATE INDEX t_at_brin ON t USING brin (at)")  # lone BRIN
    pg.execute("CREATE INDEX t_a_idx ON t (a)")  # plain and unused: still flagged
    pg.execute(
        "INSERT INTO t SELECT g, g, 'c' || g, 'text ' || g, int4range(g * 10, g * 10 + 5), g % 10 + 1, "
        "g % 10 + 1, now() FROM generate_series(1, 1000) g"
    )
    pg.execute("CREATE TABLE empty (id int PRIMARY KEY, a int)")
    pg.execute("CREATE INDEX empty_a_idx ON empty (a)")
    pg.execute("CREATE TABLE unread (id int PRIMARY KEY, a int)")
    pg.execute("CREATE INDEX unread_a_idx ON unread (a)")
    pg.execute("INSERT INTO unread SELECT g, g FROM generate_series(1, 1000) g")
    pg.execute("CREATE INDEX t_body_fts_copy ON t USING gin (to_tsvector('english', body))")  # flagged
    pg.analyze()
    pg.execute("SET enable_seqscan = off")
    pg.execute("SELECT * FROM empty WHERE id = 1")  # read, but empty
    pg.execute("RESET enable_seqscan")
    pg.execute("SELECT * FROM t WHERE id = 5")
    flush_counters(pg)
    snap = aged(pg.snapshot(), 365)
    found = {f.object: f for f in unused(snap)}
    assert set(found) == {"public.t_a_idx", "public.t_other_a_idx", "public.t_body_fts_copy"}
    # Each one is kept for its own reason, which the rule names.
    fk_kept = foreign_key_keepers(snap, "public.t")
    search_kept = search_keepers(snap.indexes_of("public.t"))
    reasons = {
        i.name: unused_keep_reason(snap, i, snap.table(i.table_qname), fk_kept, search_kept)
        for i in snap.indexes
    }
    assert "primary key" in reasons["t_pkey"]
    assert "t_code_key" in reasons["t_code_key"]
    assert "t_during_excl" in reasons["t_during_excl"]
    assert "t_parent_id_fkey" in reasons["t_parent_idx"]
    assert "t_other_id_fkey" in reasons["t_other_idx"]
    assert "only gin index" in reasons["t_body_fts"]
    assert "only brin index" in reasons["t_at_brin"]
    assert reasons["empty_a_idx"] == "its table is empty"
    assert "no query has read its table" in reasons["unread_a_idx"]


def test_dw203_two_idle_indexes_for_one_foreign_key_keep_one(pg):
    pg.execute("CREATE TABLE parent (id int PRIMARY KEY)")
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, a int, parent_id int REFERENCES parent)")
    pg.execute("CREATE INDEX t_parent_a_idx ON t (parent_id, a)")
    pg.execute("CREATE INDEX t_parent_idx ON t (a, parent_id)")  # leads with a: no support
    pg.execute("CREATE INDEX t_parent_partial ON t (parent_id) WHERE a > 0")  # partial: no support
    pg.execute("INSERT INTO parent SELECT generate_series(1, 10)")
    pg.execute("INSERT INTO t SELECT g, g, g % 10 + 1 FROM generate_series(1, 1000) g")
    pg.analyze()
    pg.execute("SELECT * FROM t WHERE id = 5")
    flush_counters(pg)
    found = {f.object for f in unused(aged(pg.snapshot(), 30))}
    assert found == {"public.t_parent_idx", "public.t_parent_partial"}


def test_dw203_used_enforcing_or_foreign_key_indexes_not_flagged(pg):
    pg.execute("CREATE TABLE parent (id int PRIMARY KEY)")
    pg.execute(
        "CREATE TABLE t (id int PRIMARY KEY, a int, code text UNIQUE, parent_id int REFERENCES parent)"
    )
    pg.execute("CREATE INDEX t_a_idx ON t (a)")
    pg.execute("CREATE INDEX t_parent_idx ON t (parent_id)")
    pg.execute("INSERT INTO t SELECT g, g, 'c' || g FROM generate_series(1, 1000) g")
    pg.analyze()
    pg.execute("SELECT * FROM t WHERE a = 5")
    flush_counters(pg)
    assert pg.value("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 't_a_idx'") >= 1
    assert pg.findings("DW203") == []


def test_dw204_invalid_index_flagged(pg):
    pg.execute("CREATE TABLE t (id int, a int)")
    pg.execute("INSERT INTO t VALUES (1, 1), (2, 1), (3, 2)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg.execute("CREATE UNIQUE INDEX CONCURRENTLY t_a_key ON t (a)")
    with pytest.raises(psycopg.errors.DivisionByZero):
        pg.execute("CREATE INDEX CONCURRENTLY t_ratio_idx ON t ((10 / (a - 2)))")
    found = {f.object: f for f in pg.findings("DW204")}
    assert set(found) == {"public.t_a_key", "public.t_ratio_idx"}
    assert found["public.t_a_key"].evidence["unique"] is True
    unique_fix, ratio_fix = found["public.t_a_key"].fix, found["public.t_ratio_idx"].fix
    assert [s["sql"] for s in unique_fix.steps()] == ["DROP INDEX CONCURRENTLY IF EXISTS public.t_a_key;"]
    assert "Remove the duplicate key values" in unique_fix.manual_steps[0]
    assert "CREATE INDEX CONCURRENTLY t_ratio_idx ON public.t USING btree" in ratio_fix.forward_sql
    pg.execute("DELETE FROM t WHERE id IN (2, 3)")  # the data the builds tripped over
    apply(pg, unique_fix.forward_sql)
    apply(pg, ratio_fix.forward_sql)
    assert pg.findings("DW204") == []
    assert pg.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.t_ratio_idx'::regclass")


def test_dw204_valid_concurrent_builds_not_flagged(pg):
    pg.execute("CREATE TABLE t (id int, a int)")
    pg.execute("INSERT INTO t VALUES (1, 1), (2, 3)")
    pg.execute("CREATE UNIQUE INDEX CONCURRENTLY t_a_key ON t (a)")
    pg.execute("CREATE INDEX CONCURRENTLY t_ratio_idx ON t ((10 / (a - 2)))")
    pg.execute("REINDEX INDEX CONCURRENTLY t_a_key")
    assert pg.findings("DW204") == []


def test_dw204_index_being_built_not_flagged(pg):
    pg.execute("CREATE TABLE t (id int, a int)")
    writer = pg.connect()
    writer.execute("INSERT INTO t VALUES (1, 1)")  # an open write transaction: the build waits for it
    builder = pg.connect(autocommit=True)
    build = threading.Thread(target=builder.execute, args=("CREATE INDEX CONCURRENTLY t_a_idx ON t (a)",))
    build.start()
    try:
        for _ in range(100):
            if pg.value(
                "SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('public.t_a_idx') "
                "AND NOT indisvalid"
            ):
                break
            time.sleep(0.02)
        else:
            pytest.fail("the concurrent build never registered its index")
        assert pg.findings("DW204") == []  # invalid while building, and the build is visibly running
    finally:
        writer.commit()
        build.join(timeout=10)
    assert pg.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.t_a_idx'::regclass")


def _bloat_table(pg) -> None:
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = false)")
    pg.execute("INSERT INTO t SELECT g, g FROM generate_series(1, 100000) g")
    pg.execute("CREATE INDEX t_v_idx ON t (v)")


def test_dw205_bloated_index_flagged(pg):
    _bloat_table(pg)
    pg.execute("DELETE FROM t WHERE id % 10 <> 0")
    pg.execute("VACUUM ANALYZE t")
    found = {f.object: f for f in pg.findings("DW205")}
    assert set(found) == {"public.t_pkey", "public.t_v_idx"}
    evidence = found["public.t_v_idx"].evidence
    assert evidence["rows"] == 10000
    assert evidence["bloat_ratio"] > 5
    assert evidence["wasted_bytes"] > 1024**2
    fix = found["public.t_v_idx"].fix
    assert "REINDEX INDEX CONCURRENTLY public.t_v_idx;" in fix.forward_sql
    assert fix.steps()[-1]["in_transaction"] is False
    apply(pg, fix.forward_sql)
    assert pg.value("SELECT pg_relation_size('t_v_idx')") < evidence["bytes"] / 5
    assert [f.object for f in pg.findings("DW205")] == ["public.t_pkey"]


def test_dw205_compact_or_unanalyzed_index_not_flagged(pg):
    _bloat_table(pg)  # 100k live rows: the indexes are as big as they should be
    pg.execute("CREATE TABLE shrunk (id int, note text)")
    pg.execute("INSERT INTO shrunk SELECT g, 'x' FROM generate_series(1, 100000) g")
    pg.execute("CREATE INDEX shrunk_id_idx ON shrunk (id)")
    pg.execute("DELETE FROM shrunk WHERE id > 1000")
    pg.execute("REINDEX INDEX shrunk_id_idx")  # rebuilt compact after the delete
    pg.execute("CREATE TABLE fresh (id int)")
    pg.execute("INSERT INTO fresh SELECT g FROM generate_series(1, 100000) g")
    pg.execute("CREATE INDEX fresh_id_idx ON fresh (id)")
    pg.execute("ANALYZE t; ANALYZE shrunk")  # fresh has no statistics: no estimate
    assert pg.findings("DW205") == []


def test_dw206_large_table_read_by_sequential_scans_flagged(pg):
    pg.execute("CREATE TABLE orders (id int PRIMARY KEY, customer text)")
    pg.execute("INSERT INTO orders SELECT g, 'c' || (g % 500) FROM generate_series(1, 20000) g")
    pg.analyze()
    pg.execute(
        "DO $$ BEGIN FOR i IN 1..120 LOOP "
        "PERFORM count(*) FROM orders WHERE customer = 'c' || i; END LOOP; END $$"
    )
    flush_counters(pg)
    found = pg.findings("DW206")
    assert [f.object for f in found] == ["public.orders"]
    evidence = found[0].evidence
    assert evidence["seq_scan"] >= 120
    assert evidence["avg_rows_per_seq_scan"] >= 19000
    assert evidence["idx_scan"] == 0
    assert evidence["rows"] == 20000
    assert "dbwright advise indexes" in found[0].message
    assert found[0].fix is None


def test_dw206_indexed_small_or_limited_scans_not_flagged(pg):
    pg.execute("CREATE TABLE orders (id int PRIMARY KEY, customer text)")
    pg.execute("INSERT INTO orders SELECT g, 'c' || (g % 500) FROM generate_series(1, 20000) g")
    pg.execute("CREATE TABLE lookup (id int PRIMARY KEY, name text)")
    pg.execute("INSERT INTO lookup SELECT g, 'n' || g FROM generate_series(1, 500) g")
    pg.execute("CREATE TABLE feed (id int, body text)")
    pg.execute("INSERT INTO feed SELECT g, 'b' FROM generate_series(1, 20000) g")
    pg.analyze()
    pg.execute(
        "DO $$ BEGIN FOR i IN 1..300 LOOP PERFORM * FROM orders WHERE id = i; END LOOP; "
        "FOR i IN 1..5 LOOP PERFORM count(*) FROM orders WHERE customer = 'c1'; END LOOP; "
        "FOR i IN 1..150 LOOP PERFORM count(*) FROM lookup WHERE name = 'n' || i; END LOOP; "
        "FOR i IN 1..150 LOOP PERFORM * FROM feed LIMIT 10; END LOOP; END $$"
    )
    flush_counters(pg)
    assert pg.value("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'feed'") >= 150
    assert pg.findings("DW206") == []


def test_dw207_index_on_near_constant_column_flagged(pg):
    pg.execute("CREATE TABLE jobs (id int PRIMARY KEY, done boolean NOT NULL, kind text)")
    pg.execute(
        "INSERT INTO jobs SELECT g, g % 100 <> 0, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END "
        "FROM generate_series(1, 5000) g"
    )
    pg.execute("CREATE INDEX jobs_done_idx ON jobs (done)")
    pg.execute("CREATE INDEX jobs_kind_idx ON jobs (kind)")
    pg.analyze()
    found = {f.object: f for f in pg.findings("DW207")}
    assert set(found) == {"public.jobs_done_idx", "public.jobs_kind_idx"}
    assert found["public.jobs_done_idx"].evidence["most_common_vals"][0] == "t"
    done_fix = found["public.jobs_done_idx"].fix
    assert (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_done_rare_idx ON public.jobs (done) "
        "WHERE done <> 't'::boolean;"
    ) in done_fix.forward_sql
    assert [s["operation"] for s in found["public.jobs_kind_idx"].fix.steps()] == ["drop_index"]
    apply(pg, done_fix.forward_sql)
    plan = "\n".join(r[0] for r in pg.execute("EXPLAIN SELECT id FROM jobs WHERE NOT done"))
    assert "jobs_done_rare_idx" in plan
    apply(pg, done_fix.rollback_sql)
    assert index_exists(pg, "public.jobs_done_idx") and not index_exists(pg, "public.jobs_done_rare_idx")


def test_dw207_selective_partial_or_foreign_key_indexes_not_flagged(pg):
    pg.execute("CREATE TABLE tenants (id int PRIMARY KEY)")
    pg.execute("INSERT INTO tenants VALUES (1), (2)")
    pg.execute(
        "CREATE TABLE jobs (id int PRIMARY KEY, done boolean NOT NULL, kind text, "
        "tenant_id int REFERENCES tenants)"
    )
    pg.execute(
        "INSERT INTO jobs SELECT g, g % 100 <> 0, 'k' || (g % 40), CASE WHEN g = 1 THEN 2 ELSE 1 END "
        "FROM generate_series(1, 5000) g"
    )
    pg.execute("CREATE INDEX ON jobs (done) WHERE NOT done")
    pg.execute("CREATE INDEX ON jobs (kind)")
    pg.execute("CREATE INDEX ON jobs (tenant_id)")  # the only index behind the foreign key
    pg.analyze()
    assert pg.findings("DW207") == []


def _wide_values(pg, table: str) -> None:
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, url text, slug text)")
    pg.execute(
        f"INSERT INTO {table} SELECT g, (SELECT string_agg(md5(g::text || x), '') "
        f"FROM generate_series(1, 25) x), 's' || g FROM generate_series(1, 300) g"
    )


def test_dw208_btree_on_wide_values_flagged(pg):
    _wide_values(pg, "pages")
    pg.execute("CREATE INDEX pages_url_idx ON pages (url)")
    pg.execute("CREATE UNIQUE INDEX pages_url_key ON pages (url, slug)")
    pg.analyze()
    found = {f.object: f for f in pg.findings("DW208")}
    assert set(found) == {"public.pages_url_idx", "public.pages_url_key"}
    evidence = found["public.pages_url_idx"].evidence
    assert evidence["avg_key_bytes"] >= 800
    assert evidence["max_entry_bytes"] == 2704
    assert found["public.pages_url_key"].fix is None
    fix = found["public.pages_url_idx"].fix
    assert (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS pages_url_hash_idx ON public.pages USING hash (url);"
        in fix.forward_sql
    )
    apply(pg, fix.forward_sql)
    assert index_exists(pg, "public.pages_url_hash_idx") and not index_exists(pg, "public.pages_url_idx")
    apply(pg, fix.rollback_sql)
    assert index_exists(pg, "public.pages_url_idx") and not index_exists(pg, "public.pages_url_hash_idx")


def test_dw208_narrow_or_hash_indexed_values_not_flagged(pg):
    _wide_values(pg, "pages")
    pg.execute("CREATE INDEX ON pages USING hash (url)")
    pg.execute("CREATE INDEX ON pages (slug)")
    pg.execute("CREATE INDEX ON pages (md5(url))")
    pg.analyze()
    assert pg.findings("DW208") == []


def test_dw209_random_uuid_key_flagged(pg):
    pg.execute("CREATE TABLE events (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), n int)")
    pg.execute("INSERT INTO events (n) SELECT g FROM generate_series(1, 20000) g")
    pg.analyze()
    found = pg.findings("DW209")
    assert [f.object for f in found] == ["public.events.id"]
    evidence = found[0].evidence
    assert abs(evidence["correlation"]) < 0.1
    assert evidence["default"] == "gen_random_uuid()"
    assert evidence["rows"] == 20000
    assert evidence["index_bytes"] > 0


def test_dw209_time_ordered_or_small_uuid_keys_not_flagged(pg):
    # Time-ordered UUIDs (like UUIDv7) increase with insertion order.
    pg.execute("CREATE TABLE events (id uuid PRIMARY KEY, n int)")
    pg.execute("INSERT INTO events SELECT lpad(to_hex(g), 32, '0')::uuid, g FROM generate_series(1, 20000) g")
    pg.execute("CREATE TABLE tags (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text)")
    pg.execute("INSERT INTO tags (name) SELECT 't' || g FROM generate_series(1, 500) g")
    pg.execute("CREATE TABLE seen (id bigint PRIMARY KEY, ref uuid)")  # random, but not a key
    pg.execute("INSERT INTO seen SELECT g, gen_random_uuid() FROM generate_series(1, 20000) g")
    pg.analyze()
    assert pg.findings("DW209") == []
