"""dbwright never reviews itself: after a demo-like workload and two rounds of analysis (review, audit,
index advice with rolled-back real builds, explain), no statement of dbwright's is in any top-10 list
or the advisor's workload, and the application's heaviest query is still a finding."""

from __future__ import annotations

from dbwright import api
from dbwright.mcp.server import build_server
from dbwright.output.common import top_statements
from tests.mcp.conftest import call

SCHEMA = """
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id bigint PRIMARY KEY, region int NOT NULL);
CREATE TABLE shop.orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES shop.customers,
                          status text NOT NULL, total numeric NOT NULL);
INSERT INTO shop.customers SELECT g, g % 40 FROM generate_series(1, 20000) g;
INSERT INTO shop.orders SELECT g, 1 + g % 20000, CASE WHEN g % 7 = 0 THEN 'open' ELSE 'done' END, g % 500
FROM generate_series(1, 300000) g;
"""

HEAVY = "SELECT c.region, sum(o.total) FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id GROUP BY 1"
LIGHT = [
    "SELECT total FROM shop.orders WHERE id = %s",
    "SELECT count(*) FROM shop.orders WHERE customer_id = %s",
    "UPDATE shop.orders SET status = 'done' WHERE id = %s",
]


def _own(text: str) -> bool:
    return "dbwright" in text or text.lstrip().upper().startswith(("CREATE INDEX", "EXPLAIN", "PREPARE"))


def _run_workload(pg) -> None:
    # DW402 needs at least a second of execution in total: run the heavy query until it has that
    # (about 12 runs on a loaded machine, more on an idle one), never a fixed count
    for _ in range(300):
        pg.execute(HEAVY)
        spent = pg.value(
            "SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements WHERE query LIKE '%sum(o.total)%'"
        )
        if spent >= 1_500:
            break
    for sql in LIGHT:
        for n in range(30):
            pg.execute(sql, (1 + n * 101,))


def _analyse(pg) -> None:
    """What a user runs, including the what-if builds the demo allows by name."""
    api.review(pg.url)
    api.audit(pg.url, access=False)
    api.advise_indexes(pg.url, allow_real_indexes=True)
    api.explain(pg.url, "SELECT total FROM shop.orders WHERE customer_id = 5", allow_real_indexes=True)


def test_dbwright_statements_stay_out_of_top_lists_and_real_findings_stay(pg):
    pg.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    pg.execute(SCHEMA)
    pg.execute("ANALYZE")
    pg.execute("SELECT pg_stat_statements_reset()")
    _run_workload(pg)
    first = pg.review()
    heavy = sorted(f.evidence["query"] for f in first.by_code("DW402"))
    assert any("sum(o.total)" in query for query in heavy), heavy

    _analyse(pg)
    _analyse(pg)  # the second round sees the first one's statements in pg_stat_statements
    assert pg.value("SELECT count(*) FROM pg_stat_statements WHERE query LIKE '/* dbwright */%'") > 20

    review = pg.review()
    top = [s.query for s in top_statements(review, 10)]
    assert top and not [q for q in top if _own(q)], top
    assert sorted(f.evidence["query"] for f in review.by_code("DW402")) == heavy  # the same findings stay
    assert not [f for f in review.found if f.check.category == "workload" and _own(str(f.finding.evidence))]

    advice = api.advise_indexes(pg.url, allow_real_indexes=True)
    assert advice.queries and not [q.sql for q in advice.queries if _own(q.sql)]

    listed = call(build_server(pg.url), "top_queries", {"limit": 10}).structuredContent["statements"]
    assert listed and not [s["query"] for s in listed if _own(s["query"])], listed
