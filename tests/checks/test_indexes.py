"""Indexes checks: each has a bad-state test and a clean look-alike test on a real server."""

import threading
import time

import psycopg
import pytest

from dbwright.model.findings import Severity


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


def test_dw203_unused_index_flagged(pg):
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, a int, b int)")
    pg.execute("CREATE INDEX t_a_idx ON t (a)")
    pg.execute("INSERT INTO t SELECT g, g, g FROM generate_series(1, 1000) g")
    pg.analyze()
    flush_counters(pg)
    found = pg.findings("DW203")
    assert [f.object for f in found] == ["public.t_a_idx"]
    assert found[0].evidence["scans"] == 0
    assert found[0].evidence["bytes"] > 0
    assert found[0].evidence["table_writes"] == 1000
    fix = found[0].fix
    apply(pg, fix.forward_sql)
    assert not index_exists(pg, "public.t_a_idx")
    apply(pg, fix.rollback_sql)
    # Counters reset minutes ago say little: the finding stays, as information.
    pg.execute("SELECT pg_stat_reset()")
    found = pg.findings("DW203")
    assert [f.object for f in found] == ["public.t_a_idx"]
    assert found[0].severity == Severity.INFO
    assert found[0].evidence["days_observed"] == 0.0
    assert found[0].evidence["stats_reset"] is not None


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
