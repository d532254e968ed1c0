"""The MCP server honours the project's configuration as the CLI does: review and audit keep out what
its [[ignore]] entries accept (listed as suppressed, with the reason) and apply its severities."""

from __future__ import annotations

from dbwright import api
from dbwright.mcp import build_server
from tests.mcp.conftest import call

SHOP = """
CREATE TABLE customers (id int PRIMARY KEY);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers);
CREATE TABLE payments (id int PRIMARY KEY, order_id int REFERENCES orders);
"""
CONFIG = """
[severity]
DW102 = "high"

[[ignore]]
check = "DW102"
object = "public.orders"
reason = "orders are never deleted"

[[ignore]]
check = "DWA020"
object = "pg_hba.conf:*"
reason = "the test cluster trusts local connections"
"""


def test_review_and_audit_tools_honour_the_configuration(pg, tmp_path):
    pg.execute(SHOP)
    (tmp_path / "dbwright.toml").write_text(CONFIG)
    server = build_server(pg.url, config=api.load_config(tmp_path / "dbwright.toml"))
    review = call(server, "review", {"code": "DW102"}).structuredContent
    assert [(f["object"], f["severity"]) for f in review["findings"]] == [("public.payments", "high")]
    assert [(s["object"], s["reason"]) for s in review["suppressed"]] == [
        ("public.orders", "orders are never deleted")
    ]
    audit = call(server, "audit", {}).structuredContent
    assert "DWA020" not in {f["code"] for f in audit["findings"]}
    assert {s["code"] for s in audit["suppressed"]} == {"DWA020"}


def test_without_a_configuration_nothing_is_suppressed(pg):
    pg.execute(SHOP)
    review = call(build_server(pg.url), "review", {"code": "DW102"}).structuredContent
    assert len(review["findings"]) == 2 and review["suppressed"] == []
