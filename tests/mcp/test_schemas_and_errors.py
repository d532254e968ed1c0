"""What an agent reads before calling: described parameters, enums, an outputSchema per tool; and errors
labelled by their real kind, in one shape, with advice in MCP terms rather than CLI flags."""

from __future__ import annotations

import pytest

from dbwright.mcp import build_server
from dbwright.mcp.safety import check_schema_sql
from tests.mcp.conftest import call, call_many, text_of, tool_list

ENUMS = {
    ("review", "category"): {
        "design",
        "integrity",
        "indexes",
        "maintenance",
        "workload",
        "security",
        "compliance",
        "configuration",
    },
    ("review", "severity"): {"info", "low", "medium", "high", "critical"},
    ("audit", "severity"): {"info", "low", "medium", "high", "critical"},
    ("top_queries", "order_by"): {
        "total_ms",
        "mean_ms",
        "calls",
        "rows",
        "shared_blks_read",
        "temp_blks_written",
    },
    ("advise_indexes", "objective"): {"auto", "total", "per-query"},
}


def enum_of(schema: dict) -> set[str]:
    """The enum values of a parameter, through Optional's anyOf."""
    for option in [schema, *schema.get("anyOf", [])]:
        if "enum" in option:
            return set(option["enum"])
    return set()


def test_every_tool_describes_each_parameter_and_its_output(pg, tmp_path):
    tools = {t.name: t for t in tool_list(build_server(pg.url, mode="apply", migrations_dir=tmp_path))}
    for tool in tools.values():
        assert tool.outputSchema and tool.outputSchema["type"] == "object", tool.name
        assert tool.outputSchema["properties"], tool.name
        for name, parameter in tool.inputSchema.get("properties", {}).items():
            assert parameter.get("description"), f"{tool.name}.{name} has no description"
    for (tool, parameter), values in ENUMS.items():
        assert enum_of(tools[tool].inputSchema["properties"][parameter]) == values


@pytest.mark.parametrize(
    ("tool", "arguments", "phrase"),
    [
        ("review", {"category": "speed"}, "unknown category 'speed'"),
        ("review", {"severity": "urgent"}, "unknown severity 'urgent'"),
        ("top_queries", {"order_by": "fun"}, "unknown order by 'fun'"),
        ("advise_indexes", {"objective": "fastest"}, "unknown objective 'fastest'"),
        ("list_objects", {"kinds": ["tables", "rules"]}, "kinds: unknown value 'rules'"),
        ("list_objects", {"schema": "nowhere"}, "no schema named 'nowhere'"),
        ("describe_table", {}, "table: a value is required"),
        ("review", {"limit": "many"}, "limit:"),
        ("explain_with_indexes", {"sql": "SELECT 1", "indexes": []}, "indexes:"),
    ],
)
def test_bad_arguments_are_invalid_arguments(pg, tool, arguments, phrase):
    result = call(build_server(pg.url), tool, arguments)
    assert result.isError
    assert result.structuredContent["error"]["kind"] == "InvalidArgumentError"
    assert result.structuredContent["error"]["label"] == "invalid argument"
    assert text_of(result).startswith("invalid argument: ") and phrase in text_of(result)
    assert "\n" not in text_of(result) and "pydantic" not in text_of(result)


def test_bad_arguments_are_audited(pg):
    server = build_server(pg.url)
    call(server, "review", {"category": "speed"})
    (entry,) = server.dbwright_audit.records
    assert entry["tool"] == "review" and entry["outcome"] == "error" and "speed" in entry["error"]


def test_list_objects_counts_only_the_schema_asked_for(pg):
    pg.execute(
        """CREATE SCHEMA a; CREATE SCHEMA b;
        CREATE TABLE a.t (id int); CREATE VIEW a.v AS SELECT 1 AS x; CREATE SEQUENCE a.s;
        CREATE TABLE b.t1 (id int); CREATE TABLE b.t2 (id int);
        CREATE MATERIALIZED VIEW b.m AS SELECT 1 AS x; CREATE FUNCTION b.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
        CREATE EXTENSION hypopg SCHEMA b;"""
    )
    server = build_server(pg.url)
    only_a, only_b, views = call_many(
        server,
        [
            ("list_objects", {"schema": "a"}),
            ("list_objects", {"schema": "b"}),
            ("list_objects", {"kinds": ["views", "materialized_views"]}),
        ],
    )
    assert only_a.structuredContent["counts"] == {
        "tables": 1,
        "views": 1,
        "materialized_views": 0,
        "functions": 0,
        "sequences": 1,
        "extensions": 0,
    }
    assert [s["name"] for s in only_a.structuredContent["schemas"]] == ["a"]
    assert text_of(only_a).endswith("in schema a of " + pg.name)
    assert only_b.structuredContent["counts"]["tables"] == 2
    assert only_b.structuredContent["counts"]["materialized_views"] == 1
    assert [e["name"] for e in only_b.structuredContent["extensions"]] == ["hypopg"]
    assert {v["name"] for v in views.structuredContent["views"]} == {"a.v"}
    assert {v["name"] for v in views.structuredContent["materialized_views"]} == {"b.m"}
    assert views.structuredContent["tables"] == []


def test_explain_with_indexes_without_hypopg_is_refused_and_says_what_to_install(pg):
    pg.execute("CREATE TABLE t (id int, v int); INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g")
    before = pg.value("SELECT count(*) FROM pg_index")
    result = call(
        build_server(pg.url),
        "explain_with_indexes",
        {"sql": "SELECT * FROM t WHERE v = 3", "indexes": ["CREATE INDEX ON t (v)"]},
    )
    assert result.isError and result.structuredContent["error"]["kind"] == "RefusedError"
    assert "CREATE EXTENSION hypopg" in text_of(result) and "never builds real indexes" in text_of(result)
    assert pg.value("SELECT count(*) FROM pg_index") == before


@pytest.mark.parametrize(
    ("indexes", "kind", "phrase"),
    [
        (["DROP TABLE t"], "RefusedError", "is not an index"),
        (["CREATE INDEX ON t (v); DROP TABLE t"], "RefusedError", "exactly one statement"),
        (["CREATE INDEX ON t ((pg_read_file('/etc/passwd')))"], "RefusedError", "pg_read_file"),
        (["CREATE INDEX ON t (no_such_column)"], "InvalidArgumentError", "HypoPG refused index 1"),
    ],
)
def test_explain_with_indexes_checks_each_index(pg, indexes, kind, phrase):
    pg.execute("CREATE EXTENSION hypopg; CREATE TABLE t (id int, v int)")
    result = call(
        build_server(pg.url), "explain_with_indexes", {"sql": "SELECT * FROM t", "indexes": indexes}
    )
    assert result.isError and result.structuredContent["error"]["kind"] == kind
    assert phrase in text_of(result)
    assert pg.value("SELECT to_regclass('t') IS NOT NULL")


def test_missing_pg_stat_statements_gives_the_mcp_arguments(pg):
    server = build_server(pg.url)  # pg_stat_statements is preloaded but not created in this database
    top, advise = call_many(server, [("top_queries", {}), ("advise_indexes", {})])
    assert not top.isError
    assert "`query` argument" in top.structuredContent["skipped"]
    assert "explain_with_indexes" in top.structuredContent["skipped"]
    assert advise.isError and advise.structuredContent["error"]["kind"] == "InvalidArgumentError"
    for text in (top.structuredContent["skipped"], text_of(advise)):
        assert "--" not in text  # no CLI flags


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT 1) TO PROGRAM 'id'",
        "ALTER SYSTEM SET work_mem = '1GB'",
        "CREATE ROLE intruder SUPERUSER",
        "GRANT pg_read_server_files TO public",
        "GRANT CONNECT ON DATABASE postgres TO public",
        "COMMENT ON DATABASE postgres IS 'owned'",
        "ALTER DATABASE postgres RENAME TO gone",
        "DROP DATABASE postgres",
        "DO $$ BEGIN PERFORM 1; END $$",
        "CREATE TABLE t AS SELECT pg_sleep(1)",
        "CREATE VIEW v AS SELECT pg_read_file('/etc/passwd')",
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS 'return 1'",
        "SET ROLE postgres",
    ],
)
def test_diff_plan_loads_only_schema_definitions(pg, sql):
    result = call(build_server(pg.url), "diff_plan", {"desired_sql": f"CREATE TABLE ok (id int); {sql};"})
    assert result.isError and result.structuredContent["error"]["kind"] == "RefusedError", text_of(result)
    assert "statement 2" in text_of(result)
    assert pg.value("SELECT count(*) FROM pg_database WHERE datname LIKE 'dbwright_scratch_%'") == 0


def test_diff_plan_accepts_an_ordinary_schema():
    sql = """
    SET search_path = shop, public;
    CREATE SCHEMA shop;
    CREATE TYPE shop.status AS ENUM ('new', 'done');
    CREATE DOMAIN shop.money AS numeric(12, 2) CHECK (VALUE >= 0);
    CREATE SEQUENCE shop.order_seq;
    CREATE TABLE shop.orders (id bigint PRIMARY KEY DEFAULT nextval('shop.order_seq'), status shop.status,
                              total shop.money);
    CREATE INDEX orders_status_idx ON shop.orders (status);
    CREATE VIEW shop.open_orders AS SELECT * FROM shop.orders WHERE status = 'new';
    CREATE MATERIALIZED VIEW shop.totals AS SELECT status, sum(total) FROM shop.orders GROUP BY 1 WITH NO DATA;
    CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    CREATE TRIGGER orders_touch BEFORE UPDATE ON shop.orders FOR EACH ROW EXECUTE FUNCTION shop.touch();
    ALTER TABLE shop.orders ENABLE ROW LEVEL SECURITY;
    CREATE POLICY mine ON shop.orders USING (true);
    COMMENT ON TABLE shop.orders IS 'one row per order';
    GRANT SELECT ON shop.orders TO public;
    """
    assert check_schema_sql(sql) == 15


def test_advice_without_hypopg_names_no_cli_flag(pg):
    pg.execute(
        "CREATE TABLE t (id int, v int); INSERT INTO t SELECT g, g FROM generate_series(1, 20000) g; ANALYZE t"
    )
    before = pg.value("SELECT count(*) FROM pg_index")
    result = call(build_server(pg.url), "advise_indexes", {"query": "SELECT * FROM t WHERE v = 5"})
    assert not result.isError, text_of(result)
    data = result.structuredContent
    assert data["verified"] is False and data["what_if"] == "none"
    assert "CREATE EXTENSION hypopg" in data["hint"] and "never builds real indexes" in data["hint"]
    assert "--" not in data["hint"] and "--" not in text_of(result)
    assert pg.value("SELECT count(*) FROM pg_index") == before
