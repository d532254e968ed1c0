"""Every tool through the SDK's in-memory client against a real PostgreSQL 15: structured JSON, a
short text summary, the right annotations, and exactly the tools each mode allows."""

from __future__ import annotations

import json

import anyio
import psycopg
import pytest
from mcp.shared.memory import create_connected_server_and_client_session

from dbwright.mcp import build_server
from dbwright.mcp.server import APPLY_TOOLS, PLAN_TOOLS, READ_ONLY_TOOLS
from tests.mcp.conftest import call, call_many, text_of, tool_list

SHOP = """
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, total numeric(10,2),
                     status text NOT NULL DEFAULT 'new');
INSERT INTO customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 500) g;
INSERT INTO orders SELECT g, 1 + g % 500, g % 97, CASE WHEN g % 10 = 0 THEN 'open' ELSE 'done' END
FROM generate_series(1, 5000) g;
ANALYZE;
"""


@pytest.fixture
def shop(pg):
    pg.execute(SHOP)
    return pg


def test_read_only_mode_registers_no_writing_tool(pg):
    tools = {t.name: t for t in tool_list(build_server(pg.url))}
    assert set(tools) == set(READ_ONLY_TOOLS)
    for tool in tools.values():
        assert tool.annotations.readOnlyHint is True
        assert tool.annotations.destructiveHint is False
        assert tool.description


def test_plan_mode_adds_only_dry_run_planners(pg):
    tools = {t.name: t for t in tool_list(build_server(pg.url, mode="plan"))}
    assert set(tools) == set(READ_ONLY_TOOLS) | set(PLAN_TOOLS)
    assert all(t.annotations.readOnlyHint for t in tools.values())


def test_apply_mode_adds_one_destructive_tool(pg, tmp_path):
    tools = {t.name: t for t in tool_list(build_server(pg.url, mode="apply", migrations_dir=tmp_path))}
    assert set(tools) == set(READ_ONLY_TOOLS) | set(PLAN_TOOLS) | set(APPLY_TOOLS)
    writers = {name for name, t in tools.items() if not t.annotations.readOnlyHint}
    assert writers == {"apply_plan"}
    assert tools["apply_plan"].annotations.destructiveHint is True
    assert "plan_token" in tools["apply_plan"].inputSchema["required"]


def test_unknown_mode_refused(pg):
    from dbwright.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="unknown mode"):
        build_server(pg.url, mode="yolo")


def test_catalog_tools(shop):
    server = build_server(shop.url)
    listed, described, summary = call_many(
        server,
        [
            ("list_objects", {"schema": "public"}),
            ("describe_table", {"table": "orders"}),
            ("snapshot_summary", {}),
        ],
    )
    assert not listed.isError
    assert {t["name"] for t in listed.structuredContent["tables"]} == {"public.customers", "public.orders"}
    assert "2 tables" in text_of(listed)
    cols = [c["name"] for c in described.structuredContent["columns"]]
    assert cols == ["id", "customer_id", "total", "status"]
    assert any(c["type"] == "f" for c in described.structuredContent["constraints"])
    assert text_of(described).startswith("public.orders: 4 columns, 1 indexes")
    assert summary.structuredContent["server_version"] >= 150000
    assert summary.structuredContent["counts"]["tables"] == 2


def test_review_filters(shop):
    server = build_server(shop.url)
    everything, design, fk, high = call_many(
        server,
        [
            ("review", {}),
            ("review", {"category": "design"}),
            ("review", {"code": "DW102"}),
            ("review", {"severity": "critical"}),
        ],
    )
    codes = {f["code"] for f in everything.structuredContent["findings"]}
    assert "DW102" in codes
    assert {f["category"] for f in design.structuredContent["findings"]} == {"design"}
    [finding] = fk.structuredContent["findings"]
    assert finding["object"].startswith("public.orders")
    assert "CREATE INDEX CONCURRENTLY" in finding["fix"]["forward_sql"]
    assert "plan_token" not in finding["fix"]  # read-only mode issues no tokens
    assert all(f["severity"] == "critical" for f in high.structuredContent["findings"])
    assert "findings match" in text_of(everything)


def test_review_in_plan_mode_gives_packages_plan_tokens(shop):
    result = call(build_server(shop.url, mode="plan"), "review", {"code": "DW102"})
    fix = result.structuredContent["findings"][0]["fix"]
    assert fix["plan_token"].startswith("dwp1-")


def test_explain_and_analyze(shop):
    server = build_server(shop.url)
    plain, analyzed, dml = call_many(
        server,
        [
            ("explain", {"sql": "SELECT * FROM orders WHERE customer_id = 5"}),
            ("explain", {"sql": "SELECT count(*) FROM orders", "analyze": True}),
            ("explain", {"sql": "DELETE FROM orders WHERE id = 1"}),
        ],
    )
    assert plain.structuredContent["plan"][0]["Plan"]["Node Type"] == "Seq Scan"
    assert "Execution Time" in analyzed.structuredContent["plan"][0]
    assert "actual" in text_of(analyzed)
    # A write is planned as its read part (planning the DELETE itself would take ROW EXCLUSIVE), never run.
    assert "Planned As" in dml.structuredContent["plan"][0]
    assert dml.structuredContent["plan"][0]["Plan"]["Node Type"] != "ModifyTable"
    assert shop.value("SELECT count(*) FROM orders") == 5000


def test_query_tool_and_row_cap(shop):
    server = build_server(shop.url)
    result = call(server, "query", {"sql": "SELECT id, email FROM customers ORDER BY id", "max_rows": 3})
    data = result.structuredContent
    assert data["rows"] == [[1, "c1@example.com"], [2, "c2@example.com"], [3, "c3@example.com"]]
    assert data["truncated"] is True and "row cap of 3" in data["truncated_reason"]
    assert "cut: row cap of 3 reached" in text_of(result)


def test_byte_cap(pg):
    from dbwright.mcp.safety import Limits

    server = build_server(pg.url, limits=Limits(max_bytes=2000))
    data = call(
        server, "query", {"sql": "SELECT repeat('x', 300) FROM generate_series(1, 100)"}
    ).structuredContent
    assert data["truncated"] and "byte cap of 2000" in data["truncated_reason"]
    assert 0 < len(data["rows"]) < 100 and data["bytes"] <= 2000


def test_top_queries(shop):
    shop.execute("SELECT pg_stat_statements_reset()")
    for _ in range(3):
        shop.execute("SELECT count(*) FROM orders WHERE status = 'open'")
    data = call(build_server(shop.url), "top_queries", {"limit": 5, "order_by": "calls"}).structuredContent
    assert any("orders" in s["query"] and s["calls"] >= 3 for s in data["statements"])


def test_advise_indexes_hypothetical_only(shop):
    shop.execute("CREATE EXTENSION hypopg")
    result = call(
        build_server(shop.url), "advise_indexes", {"query": "SELECT * FROM orders WHERE customer_id = 42"}
    )
    assert not result.isError, text_of(result)
    data = result.structuredContent
    assert data["what_if"] == "hypopg"
    assert data["leftovers"] == {"hypothetical_indexes": 0, "real_indexes": 0}
    assert any(r["index"]["keys"][0] == "customer_id" for r in data["recommendations"])
    assert shop.value("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'") == 1
    assert any("geometric mean" in note for note in data["notes"])  # one query, no timings: per-query


def test_advise_indexes_objective_is_passed_through(shop):
    shop.execute("CREATE EXTENSION hypopg")
    result = call(
        build_server(shop.url),
        "advise_indexes",
        {"query": "SELECT * FROM orders WHERE customer_id = 42", "objective": "total"},
    )
    assert not result.isError, text_of(result)
    assert any("total cost" in note for note in result.structuredContent["notes"])
    bad = call(build_server(shop.url), "advise_indexes", {"query": "SELECT 1", "objective": "fastest"})
    assert bad.isError and "unknown objective" in text_of(bad)


@pytest.mark.parametrize("mode", ["read-only", "plan"])
def test_advise_indexes_without_hypopg_builds_nothing_and_says_unverified(shop, mode):
    result = call(
        build_server(shop.url, mode=mode),
        "advise_indexes",
        {"query": "SELECT * FROM orders WHERE customer_id = 42"},
    )
    assert not result.isError, text_of(result)
    data = result.structuredContent
    assert data["what_if"] == "none" and data["verified"] is False
    assert "CREATE EXTENSION hypopg" in data["hint"] and "unverified" in text_of(result)
    assert data["leftovers"] == {"hypothetical_indexes": 0, "real_indexes": 0}
    assert data["recommendations"] and "unverified" in data["recommendations"][0]["origin"]
    if mode == "plan":
        assert data["recommendations"][0]["package"]["plan_token"].startswith("dwp1-")
    assert shop.value("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'") == 1


def test_advise_query_goes_through_the_guard(fresh_canary):
    result = call(build_server(fresh_canary.url), "advise_indexes", {"query": "SELECT 1; DELETE FROM canary"})
    assert result.isError and "exactly one statement" in text_of(result)
    fresh_canary.assert_intact()


def test_lint_and_docs(pg):
    server = build_server(pg.url)
    lint, doc, lint_doc, missing = call_many(
        server,
        [
            ("lint_migration", {"sql": "CREATE INDEX orders_c ON orders (customer_id);"}),
            ("check_docs", {"code": "dw112"}),
            ("check_docs", {"code": "DW701"}),
            ("check_docs", {"code": "DW999"}),
        ],
    )
    assert any(f["lock"] == "SHARE" for f in lint.structuredContent["findings"])
    # the connected server's version, not a fixed 15.0
    assert lint.structuredContent["server_version"] == int(pg.value("SHOW server_version_num"))
    assert doc.structuredContent["code"] == "DW112" and "Fix" in doc.structuredContent["doc"]
    assert lint_doc.structuredContent["category"] == "migration lint"
    assert missing.isError


def test_resources(pg):
    async def run():
        async with create_connected_server_and_client_session(build_server(pg.url)) as client:
            listed = await client.list_resources()
            templates = await client.list_resource_templates()
            catalog = await client.read_resource("dbwright://checks")
            page = await client.read_resource("dbwright://checks/DW112")
            return listed, templates, catalog, page

    listed, templates, catalog, page = anyio.run(run)
    assert {str(r.uri) for r in listed.resources} >= {"dbwright://checks", "dbwright://docs"}
    assert {t.uriTemplate for t in templates.resourceTemplates} >= {
        "dbwright://checks/{code}",
        "dbwright://docs/{page}",
    }
    items = json.loads(catalog.contents[0].text)
    assert {"DW112", "DW701"} <= {i["code"] for i in items}
    assert page.contents[0].text.startswith("# DW112:")


def test_audit_tool(pg):
    result = call(build_server(pg.url), "audit", {"severity": "low"})
    assert not result.isError, text_of(result)
    data = result.structuredContent
    assert data["summary"]["checks"] > 0
    assert (
        data["summary"]["checks"]
        == data["summary"]["passed"] + data["summary"]["failed"] + data["summary"]["skipped"]
    )
    assert all(f["severity"] != "info" for f in data["findings"])
    assert "audit checks" in text_of(result)


def test_pii_scan_reports_masked_values_only(fresh_canary):
    with psycopg.connect(fresh_canary.url, autocommit=True) as conn:
        conn.execute(
            "CREATE SCHEMA people; CREATE TABLE people.contacts (id int, email text, note text); "
            "INSERT INTO people.contacts SELECT g, 'person' || g || '@example.org', 'n' "
            "FROM generate_series(1, 50) g"
        )
    result = call(build_server(fresh_canary.url), "pii_scan", {"schema": "people", "sample_rows": 20})
    assert not result.isError, text_of(result)
    findings = result.structuredContent["findings"]
    assert any(f["column"] == "email" for f in findings)
    assert "person1@example.org" not in json.dumps(result.structuredContent) + text_of(result)
    assert fresh_canary.read_rows() == fresh_canary.rows
