"""`explain` and `advise indexes` give the same indexes for the same query (issue 14, item 5): explain's
suggestions are the advisor's recommendations for that one statement, priced the same way."""

from __future__ import annotations

import pytest

from dbwright import api

QUERIES = {
    "filter": "SELECT * FROM orders WHERE customer_id = 17 AND status = 'open'",
    "join": (
        "SELECT o.id, o.total, c.name FROM customers c JOIN orders o ON o.customer_id = c.id "
        "WHERE c.id BETWEEN 100 AND 110 ORDER BY o.id"
    ),
    "range": "SELECT count(*) FROM orders WHERE placed_at >= '2026-06-01' AND placed_at < '2026-06-02'",
}


@pytest.fixture
def shop(pg):
    pg.execute("CREATE EXTENSION hypopg")
    pg.execute("CREATE TABLE customers (id int PRIMARY KEY, name text, region text)")
    pg.execute(
        "INSERT INTO customers SELECT g, 'c' || g, (ARRAY['north','south','east','west'])[1 + g % 4] "
        "FROM generate_series(1, 20000) g"
    )
    pg.execute(
        "CREATE TABLE orders (id int PRIMARY KEY, customer_id int, status text, placed_at timestamptz, total numeric)"
    )
    pg.execute(
        "INSERT INTO orders SELECT g, 1 + g % 20000, (ARRAY['open','paid','shipped','closed'])[1 + g % 4], "
        "timestamptz '2026-01-01' + g * interval '1 minute', g FROM generate_series(1, 200000) g"
    )
    pg.analyze()
    return pg


@pytest.mark.parametrize("sql", QUERIES.values(), ids=QUERIES.keys())
def test_explain_suggests_what_advise_indexes_recommends_for_the_same_query(shop, sql):
    explained = api.explain(shop.url, sql)
    advised = api.advise_indexes(shop.url, query=sql)
    assert explained.verified and advised.verified
    suggested = sorted(s.create_sql for s in explained.suggestions)
    recommended = sorted(r.package.operations[0].sql() for r in advised.recommendations)
    assert suggested, "the planted query should get an index"
    assert suggested == recommended


def test_an_index_that_saves_a_few_page_reads_is_left_out_by_both_alike(shop):
    sql = (
        "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE c.region = 'north' ORDER BY o.placed_at DESC LIMIT 20"
    )
    explained, advised = api.explain(shop.url, sql), api.advise_indexes(shop.url, query=sql)
    assert [s.create_sql for s in explained.suggestions] == [
        r.package.operations[0].sql() for r in advised.recommendations
    ]
    left_out = sorted(n for n in advised.notes if n.startswith("left out"))
    assert left_out and left_out == sorted(n for n in explained.notes if n.startswith("left out"))
