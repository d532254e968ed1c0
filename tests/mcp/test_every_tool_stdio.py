"""The official SDK client (mcp.ClientSession over stdio, the way an agent's host runs dbwright) drives every
tool of an apply-mode server against a real PostgreSQL 15, and checks each answer against the tool's
outputSchema; the server's identity, prompts and docs resources come through the same session."""

from __future__ import annotations

import os
import sys
from typing import Any

import anyio
import jsonschema
import psycopg
import pytest
from mcp.client.stdio import stdio_client
from mcp.types import TextResourceContents

from dbwright import __version__
from dbwright.mcp.server import APPLY_TOOLS, PLAN_TOOLS, READ_ONLY_TOOLS
from mcp import ClientSession, StdioServerParameters

APP = """
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS hypopg;
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id int PRIMARY KEY, email text NOT NULL, name text);
CREATE TABLE shop.orders (id int PRIMARY KEY, customer_id int REFERENCES shop.customers, total numeric(10,2),
                          status text NOT NULL DEFAULT 'new');
INSERT INTO shop.customers SELECT g, 'c' || g || '@example.com', 'Name ' || g FROM generate_series(1, 500) g;
INSERT INTO shop.orders SELECT g, 1 + g % 500, g % 97, CASE WHEN g % 10 = 0 THEN 'open' ELSE 'done' END
FROM generate_series(1, 20000) g;
CREATE VIEW shop.open_orders AS SELECT * FROM shop.orders WHERE status = 'open';
CREATE MATERIALIZED VIEW shop.order_totals AS SELECT customer_id, sum(total) FROM shop.orders GROUP BY 1;
CREATE FUNCTION shop.order_count(int) RETURNS bigint LANGUAGE sql STABLE
    AS 'SELECT count(*) FROM shop.orders WHERE customer_id = $1';
CREATE SEQUENCE shop.invoice_seq;
CREATE TABLE public.elsewhere (id int);
GRANT USAGE ON SCHEMA shop TO agent_reader;
GRANT SELECT ON shop.orders TO agent_reader;
ANALYZE;
"""

SLOW = "SELECT * FROM shop.orders WHERE customer_id = 42"

#: One valid call of every tool, in the order an agent would make them (plan before apply before status).
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("snapshot_summary", {}),
    ("list_objects", {"schema": "shop"}),
    ("describe_table", {"table": "shop.orders"}),
    ("review", {"severity": "medium", "limit": 5}),
    ("explain", {"sql": SLOW}),
    ("explain_with_indexes", {"sql": SLOW, "indexes": ["CREATE INDEX ON shop.orders (customer_id)"]}),
    ("top_queries", {"limit": 3, "order_by": "calls"}),
    ("advise_indexes", {"query": SLOW}),
    ("lint_migration", {"sql": "CREATE INDEX orders_status_idx ON shop.orders (status);"}),
    ("check_docs", {"code": "DW101"}),
    ("query", {"sql": "SELECT count(*) AS n FROM shop.orders"}),
    ("audit", {"severity": "high", "limit": 3}),
    ("access", {"role": "agent_reader"}),
    ("pii_scan", {"schema": "shop", "sample_rows": 50}),
    (
        "diff_plan",
        {"desired_sql": "CREATE SCHEMA shop; CREATE TABLE shop.notes (id int PRIMARY KEY, body text);"},
    ),
    ("replication_status", {}),
    ("plan_migrations", {}),
    (
        "plan_change",
        {
            "sql": "CREATE TABLE shop.audit_trail (id bigint PRIMARY KEY, note text);",
            "down_sql": "DROP TABLE shop.audit_trail;",
            "name": "audit trail",
        },
    ),
    ("apply_plan", {}),  # arguments filled from plan_change's answer
    ("migration_status", {}),
]


@pytest.fixture
def app(pg):
    pg.role("agent_reader", "NOLOGIN")  # dropped, like the database, when the test ends
    pg.execute(APP)
    pg.execute(SLOW)  # one tracked statement for top_queries
    pg.execute("SELECT pg_create_physical_replication_slot('dbwright_agent_test', true)")
    try:
        yield pg
    finally:
        pg.execute("SELECT pg_drop_replication_slot('dbwright_agent_test')")  # slots are cluster-wide


def run_session(url: str, migrations: str) -> dict[str, Any]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "dbwright", "mcp", url, "--mode", "apply", "--migrations", migrations],
        env=dict(os.environ),
    )

    async def session() -> dict[str, Any]:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
            init = await client.initialize()
            tools = {t.name: t for t in (await client.list_tools()).tools}
            results = {}
            for name, arguments in CALLS:
                if name == "apply_plan":
                    planned = results["plan_change"].structuredContent
                    arguments = {"plan_token": planned["plan_token"], **planned["apply_with"]["arguments"]}
                # ClientSession.call_tool itself checks structuredContent against the outputSchema
                results[name] = await client.call_tool(name, arguments)
            prompts = (await client.list_prompts()).prompts
            slow = await client.get_prompt("why_is_this_query_slow", {"sql": SLOW})
            docs = await client.read_resource("dbwright://docs/mcp")
            check = await client.read_resource("dbwright://checks/DW101")
            return {
                "init": init,
                "tools": tools,
                "results": results,
                "prompts": prompts,
                "slow": slow,
                "docs": docs,
                "check": check,
            }

    return anyio.run(session)


def test_every_tool_over_stdio(app, tmp_path):
    seen = run_session(app.url, str(tmp_path))
    tools, results = seen["tools"], seen["results"]

    assert seen["init"].serverInfo.name == "dbwright"
    assert seen["init"].serverInfo.version == __version__
    assert set(tools) == set(READ_ONLY_TOOLS) | set(PLAN_TOOLS) | set(APPLY_TOOLS)
    assert {name for name, _ in CALLS} == set(tools), "every tool is called"

    for name, result in results.items():
        text = "\n".join(getattr(c, "text", "") for c in result.content)
        assert not result.isError, f"{name}: {text}"
        assert text.strip(), name
        jsonschema.validate(result.structuredContent, tools[name].outputSchema)

    data = {name: result.structuredContent for name, result in results.items()}
    assert data["list_objects"]["counts"] == {
        "tables": 2,
        "views": 1,
        "materialized_views": 1,
        "functions": 1,
        "sequences": 1,
        "extensions": 0,  # pg_stat_statements and hypopg live in public
    }
    assert data["explain_with_indexes"]["indexes_used"] and data["explain_with_indexes"]["built"] is False
    assert data["explain_with_indexes"]["cost_after"] < data["explain_with_indexes"]["cost_before"]
    assert data["query"]["rows"] == [[20000]]
    assert any(e["object"] == "shop.orders" and e["level"] == "read" for e in data["access"]["entries"])
    assert "CREATE TABLE shop.notes" in data["diff_plan"]["migration"]
    assert [s["slot_name"] for s in data["replication_status"]["slots"]] == ["dbwright_agent_test"]
    assert data["replication_status"]["role"] == "primary"
    assert [row["name"] for row in data["migration_status"]["history"]] == ["audit_trail"]
    assert data["migration_status"]["pending"] == []
    assert app.value("SELECT to_regclass('shop.audit_trail') IS NOT NULL")  # apply_plan ran the plan

    assert {p.name for p in seen["prompts"]} == {
        "review_database",
        "plan_safe_migration",
        "why_is_this_query_slow",
    }
    assert SLOW in seen["slow"].messages[0].content.text
    (page,) = seen["docs"].contents
    assert isinstance(page, TextResourceContents) and page.text.startswith("# dbwright mcp")
    assert "DW101" in seen["check"].contents[0].text


def test_nothing_is_built_by_the_what_if_tool(app):
    """explain_with_indexes leaves no index, real or hypothetical, behind."""
    from dbwright.mcp import build_server
    from tests.mcp.conftest import call

    before = app.value("SELECT count(*) FROM pg_index")
    result = call(
        build_server(app.url),
        "explain_with_indexes",
        {"sql": SLOW, "indexes": ["CREATE INDEX ON shop.orders (customer_id, status)"]},
    )
    assert not result.isError
    assert app.value("SELECT count(*) FROM pg_index") == before
    with psycopg.connect(app.url) as conn:
        assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone()[0] == 0
