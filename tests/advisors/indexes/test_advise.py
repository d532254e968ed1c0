"""The index advisor on small generated schemas where the right answer is known.

Real PostgreSQL 15 with HypoPG (``CREATE EXTENSION hypopg`` in the test database), and
without it for the rolled-back real-index fallback.
"""

from __future__ import annotations

import pytest

from dbwright.advisors.indexes import advise_indexes
from dbwright.advisors.indexes.workload import Query, Workload, from_sql_text
from dbwright.engines.postgres.connect import open_session
from dbwright.errors import RefusedError


def _hypopg(pg) -> None:
    pg.execute("CREATE EXTENSION hypopg")


def _advise(pg, sql: str, **options):
    options.setdefault("budget", "100MB")
    return advise_indexes(pg.url, workload=from_sql_text(sql, "test"), **options)


def _specs(advice, table: str):
    return [r.spec for r in advice.recommendations if r.spec.table == table]


def test_equality_columns_lead_then_range_and_sort(pg):
    _hypopg(pg)
    pg.execute(
        "CREATE TABLE events(id bigint PRIMARY KEY, tenant_id int, kind int, created_at timestamptz, "
        "payload text)"
    )
    pg.execute(
        "INSERT INTO events SELECT g, g % 200, g % 7, '2024-01-01'::timestamptz + g * interval '1 min', "
        "md5(g::text) FROM generate_series(1, 40000) g"
    )
    pg.analyze()
    advice = _advise(
        pg,
        "SELECT id, payload FROM events WHERE tenant_id = $1 AND created_at >= $2 "
        "ORDER BY created_at LIMIT 20",
    )
    specs = _specs(advice, "public.events")
    assert specs, advice.to_dict()
    assert specs[0].keys[:2] == ("tenant_id", "created_at")
    helped = advice.recommendations[0].helps[0]
    assert helped.cost_after < helped.cost_before / 10
    assert "Sort removed" in helped.plan_change or "Sort" not in helped.plan_change


def test_covering_index_removes_heap_fetches(pg):
    _hypopg(pg)
    pg.execute("SET synchronous_commit = on")  # the cluster runs with it off; VACUUM then sets no VM bits yet
    pg.execute("CREATE TABLE orders(id bigint PRIMARY KEY, customer_id int, total numeric, note text)")
    pg.execute(
        "INSERT INTO orders SELECT g, g % 100, g % 991, repeat('x', 200) FROM generate_series(1, 40000) g"
    )
    pg.execute("VACUUM ANALYZE orders")  # an index-only scan is priced by the pages the visibility map marks
    assert pg.value("SELECT relallvisible FROM pg_class WHERE relname = 'orders'") > 0
    advice = _advise(pg, "SELECT sum(total) FROM orders WHERE customer_id = $1")
    spec = _specs(advice, "public.orders")[0]
    assert {"customer_id", "total"} <= set(spec.keys) | set(spec.include)
    assert spec.keys[0] == "customer_id"
    assert "Index Only Scan" in advice.recommendations[0].helps[0].plan_change


def test_partial_index_for_recurring_constant_predicate(pg):
    _hypopg(pg)
    pg.execute(
        "CREATE TABLE tasks(id bigint PRIMARY KEY, status text, owner_id int, created_at timestamptz, "
        "title text)"
    )
    pg.execute(
        "INSERT INTO tasks SELECT g, CASE WHEN g % 50 = 0 THEN 'open' ELSE 'done' END, g % 300, "
        "'2024-01-01'::timestamptz + g * interval '1 min', md5(g::text) FROM generate_series(1, 40000) g"
    )
    pg.analyze()
    advice = _advise(
        pg,
        "SELECT id, title FROM tasks WHERE status = 'open' ORDER BY created_at LIMIT 10;"
        "SELECT count(*) FROM tasks WHERE status = 'open' AND owner_id = $1;"
        "SELECT id FROM tasks WHERE status = 'open' AND created_at > $1",
    )
    partial = [s for s in _specs(advice, "public.tasks") if s.where == "status = 'open'"]
    assert partial, [s.label for s in _specs(advice, "public.tasks")]
    assert "status" not in partial[0].keys  # the predicate fixes it; no need to key on it
    assert all(r.estimated_bytes < 200_000 for r in advice.recommendations if r.spec.where)


def test_expression_index_for_lower_email(pg):
    _hypopg(pg)
    pg.execute("CREATE TABLE users(id bigint PRIMARY KEY, email text NOT NULL, name text)")
    pg.execute(
        "INSERT INTO users SELECT g, 'User' || g || '@Example.com', 'n' || g FROM generate_series(1, 30000) g"
    )
    pg.analyze()
    advice = _advise(pg, "SELECT id, name FROM users WHERE lower(email) = $1")
    spec = _specs(advice, "public.users")[0]
    assert spec.keys[0] == "(lower(email))"
    sql = advice.recommendations[0].package.forward_sql
    assert "CREATE INDEX CONCURRENTLY" in sql and "(lower(email))" in sql
    assert "DROP INDEX CONCURRENTLY" in advice.recommendations[0].package.rollback_sql


def test_budget_forces_the_more_valuable_index(pg):
    _hypopg(pg)
    for table in ("hot", "cold"):
        pg.execute(f"CREATE TABLE {table}(id int, ref int, pad text)")
        pg.execute(f"INSERT INTO {table} SELECT g, g, repeat('p', 60) FROM generate_series(1, 30000) g")
    pg.analyze()
    queries = [
        Query("SELECT pad FROM hot WHERE ref = $1", calls=500, fingerprint="hot" * 4),
        Query("SELECT pad FROM cold WHERE ref = $1", calls=5, fingerprint="cold" * 4),
    ]
    wide_open = advise_indexes(pg.url, workload=Workload(tuple(queries)), budget="100MB")
    assert {r.spec.table for r in wide_open.recommendations} == {"public.hot", "public.cold"}
    one = max(r.estimated_bytes for r in wide_open.recommendations)
    tight = advise_indexes(pg.url, workload=Workload(tuple(queries)), budget=int(one * 1.5))
    assert [r.spec.table for r in tight.recommendations] == ["public.hot"]
    assert tight.used_bytes <= tight.budget_bytes


def test_redundant_index_proposed_for_drop_with_its_cost(pg):
    _hypopg(pg)
    pg.execute("CREATE TABLE items(id int PRIMARY KEY, a int, b int, c text)")
    pg.execute("INSERT INTO items SELECT g, g % 1000, g % 7, 'c' FROM generate_series(1, 20000) g")
    pg.execute(
        "CREATE INDEX items_a ON items(a); CREATE INDEX items_a_b ON items(a, b); "
        "CREATE UNIQUE INDEX items_b_id ON items(b, id)"
    )
    pg.analyze()
    advice = _advise(pg, "SELECT * FROM items WHERE a = $1", allow_real_indexes=True)
    drops = {d.index.name: d for d in advice.drops}
    assert drops["items_a"].reason == "redundant"
    assert drops["items_a"].evidence["covered_by"] == "public.items_a_b"
    assert drops["items_a"].simulated and drops["items_a"].cost_increase is not None
    assert drops["items_a"].cost_increase < 0.05 * advice.total_before  # (a, b) serves the lookup as well
    assert "items_a_b" not in drops and "items_b_id" not in drops  # the keeper and a unique index stay
    assert "DROP INDEX CONCURRENTLY" in drops["items_a"].package.forward_sql
    assert "CREATE INDEX CONCURRENTLY items_a" in drops["items_a"].package.rollback_sql
    assert (
        pg.value("SELECT count(*) FROM pg_indexes WHERE tablename = 'items'") == 4
    )  # the drop was rolled back


def test_nothing_left_behind_in_a_read_only_session(pg):
    _hypopg(pg)
    pg.execute("CREATE TABLE t(id int, a int, b text)")
    pg.execute("INSERT INTO t SELECT g, g % 100, md5(g::text) FROM generate_series(1, 20000) g")
    pg.analyze()
    before = pg.value("SELECT count(*) FROM pg_index")
    with open_session(pg.url) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        advice = advise_indexes(conn, workload=from_sql_text("SELECT b FROM t WHERE a = $1 AND id > $2", "t"))
        assert advice.recommendations and advice.backend == "hypopg"
        assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone()[0] == 0
        assert (
            conn.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE name = 'dbwright_whatif'"
            ).fetchone()[0]
            == 0
        )
        assert conn.execute("SHOW plan_cache_mode").fetchone()[0] == "auto"
    assert advice.leftovers == {"hypothetical_indexes": 0, "real_indexes": 0}
    assert pg.value("SELECT count(*) FROM pg_index") == before
    assert advice.planner_calls > 0 and advice.cache_hits > 0


def test_without_hypopg_nothing_is_built_and_the_advice_is_unverified(pg):
    pg.execute("CREATE TABLE t(id int, a int, b text)")
    pg.execute("INSERT INTO t SELECT g, g % 500, md5(g::text) FROM generate_series(1, 20000) g")
    pg.analyze()
    relfilenodes = pg.value("SELECT array_agg(relfilenode ORDER BY oid) FROM pg_class")
    advice = _advise(pg, "SELECT b FROM t WHERE a = $1")
    assert advice.backend == "none" and not advice.verified
    assert advice.recommendations[0].spec.keys[0] == "a" and not advice.recommendations[0].verified
    assert "unverified: no what-if" in advice.recommendations[0].origin
    assert "CREATE EXTENSION hypopg" in advice.hint and "--allow-real-indexes" in advice.hint
    assert advice.hypopg_installed is None and advice.hypopg_on_server  # the package is on this server
    data = advice.to_dict()
    assert data["what_if"] == "none" and data["verified"] is False and data["hint"] == advice.hint
    assert data["hypopg"] == {"installed": None, "on_server": advice.hypopg_on_server}
    assert data["improvement"] is None and data["queries"][0]["cost_after"] is None
    assert data["recommendations"][0]["gain"] is None
    assert advice.leftovers["real_indexes"] == 0
    assert pg.value("SELECT array_agg(relfilenode ORDER BY oid) FROM pg_class") == relfilenodes


def test_what_if_real_alone_is_refused_and_hypopg_says_what_to_do(pg):
    pg.execute("CREATE TABLE t(id int, a int)")
    with pytest.raises(RefusedError, match="--allow-real-indexes"):
        _advise(pg, "SELECT id FROM t WHERE a = $1", what_if="real")
    with pytest.raises(RefusedError, match="CREATE EXTENSION hypopg"):
        _advise(pg, "SELECT id FROM t WHERE a = $1", what_if="hypopg")


def test_fallback_without_hypopg_builds_real_indexes_when_allowed_and_rolls_back(pg):
    pg.execute("CREATE TABLE t(id int, a int, b text)")
    pg.execute("INSERT INTO t SELECT g, g % 500, md5(g::text) FROM generate_series(1, 20000) g")
    pg.analyze()
    before = pg.value("SELECT count(*) FROM pg_index")
    advice = _advise(pg, "SELECT b FROM t WHERE a = $1", allow_real_indexes=True)
    assert advice.backend.startswith("real") and advice.verified and not advice.hint
    assert advice.recommendations[0].spec.keys[0] == "a"
    assert any("SHARE lock" in note for note in advice.notes)
    assert advice.leftovers["real_indexes"] == 0 and pg.value("SELECT count(*) FROM pg_index") == before


def test_fallback_refuses_tables_over_a_size_limit_given(pg):
    pg.execute("CREATE TABLE t(id int, a int, b text)")
    pg.execute("INSERT INTO t SELECT g, g % 500, md5(g::text) FROM generate_series(1, 20000) g")
    pg.analyze()
    refused = _advise(pg, "SELECT b FROM t WHERE a = $1", real_index_limit=100_000, allow_real_indexes=True)
    assert not refused.recommendations
    assert all("limit" in why for why in refused.unsupported.values()) and refused.unsupported
    allowed = _advise(pg, "SELECT b FROM t WHERE a = $1", allow_real_indexes=True)
    assert allowed.recommendations


def test_pg_stat_statements_workload_with_generic_plans(pg):
    _hypopg(pg)
    pg.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    pg.execute("CREATE TABLE accounts(id int PRIMARY KEY, region int, balance int)")
    pg.execute("INSERT INTO accounts SELECT g, g % 400, g FROM generate_series(1, 30000) g")
    pg.analyze()
    pg.execute("SELECT pg_stat_statements_reset()")
    for region in range(5):
        pg.execute("SELECT balance FROM accounts WHERE region = %s", (region,))
    pg.execute("SELECT count(*) FROM accounts WHERE balance > 10")
    advice = advise_indexes(pg.url, min_calls=3)
    assert "pg_stat_statements" in advice.sources
    assert [q.calls for q in advice.queries] == [5]
    assert "$1" in advice.queries[0].sql and advice.unit == "ms"
    assert advice.recommendations[0].spec.keys[0] == "region"


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_renderers(pg, fmt):
    from dbwright.output import render

    _hypopg(pg)
    pg.execute("CREATE TABLE t(id int, a int, b text)")
    pg.execute("INSERT INTO t SELECT g, g % 100, md5(g::text) FROM generate_series(1, 5000) g")
    pg.analyze()
    out = render(_advise(pg, "SELECT b FROM t WHERE a = $1"), fmt)
    assert "t_a" in out
    if fmt == "html":
        assert 'class="bars"' in out and "http://" not in out and "https://" not in out  # a chart, offline


def test_a_limit_parameter_is_counted_for_the_generic_plan(pg):
    """pg_stat_statements turns LIMIT 10 into LIMIT $2: PREPARE must be given every parameter."""
    _hypopg(pg)
    pg.execute("CREATE TABLE o(id int PRIMARY KEY, customer_id int, created_at timestamptz)")
    pg.execute("INSERT INTO o SELECT g, g % 100, now() FROM generate_series(1, 20000) g")
    pg.analyze()
    advice = _advise(pg, "SELECT id FROM o WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2")
    assert not advice.skipped and advice.recommendations[0].spec.keys[0] == "customer_id"
