"""A partial index's literal must be a constant of the workload, not one call's key.

``WHERE customer_id = 17`` names the customer one call asked for; a partial index
``WHERE customer_id = '17'`` would serve that call only. ``WHERE status = 'active'`` on a
column of a few values is the same filter on every call, and stays a partial candidate.
"""

from __future__ import annotations

from collections import Counter

from dbwright.advisors.indexes import advise_indexes
from dbwright.advisors.indexes.candidates import for_query, is_identifier_like
from dbwright.advisors.indexes.querytree import analyze
from dbwright.advisors.indexes.workload import from_sql_text


def _orders(pg, foreign_key: bool = False) -> None:
    pg.execute("CREATE EXTENSION hypopg")
    pg.execute("CREATE TABLE customers(id int PRIMARY KEY)")
    pg.execute("INSERT INTO customers SELECT g FROM generate_series(0, 4999) g")
    reference = " REFERENCES customers" if foreign_key else ""
    pg.execute(
        f"CREATE TABLE orders(id bigint PRIMARY KEY, customer_id int{reference}, status text, "
        "region int, total numeric)"
    )
    pg.execute(
        "INSERT INTO orders SELECT g, g % 5000, CASE WHEN g % 20 = 0 THEN 'active' "
        "WHEN g % 2 = 0 THEN 'closed' ELSE 'pending' END, g % 40, g FROM generate_series(1, 50000) g"
    )
    pg.analyze()


def _partials(sql: str, snap) -> list[str]:
    """The predicates of every partial candidate for ``sql``, with every predicate keeping 5% of rows."""
    shape = analyze(sql, snap)
    found = for_query(
        shape, snap, plan=None, recurring=Counter(), fraction=lambda table, predicate: 0.05, trigram=False
    )
    return [c.spec.where for c in found if c.spec.where]


def test_an_id_literal_in_one_query_makes_no_partial_index(pg):
    _orders(pg)
    sql = "SELECT id, total FROM orders WHERE customer_id = 17 ORDER BY id LIMIT 10"
    snap = pg.snapshot()
    assert is_identifier_like(snap, "public.orders", "customer_id")  # 5,000 distinct values
    assert not any("customer_id" in where for where in _partials(sql, snap))
    advice = advise_indexes(pg.url, workload=from_sql_text(sql, "adhoc"), budget="50MB")
    labels = [r.spec.label for r in advice.recommendations]
    assert not any(r.spec.where and "customer_id" in r.spec.where for r in advice.recommendations), labels
    assert advice.leftovers == {"hypothetical_indexes": 0, "real_indexes": 0}


def test_a_foreign_key_or_primary_key_literal_is_a_key_too(pg):
    _orders(pg, foreign_key=True)
    snap = pg.snapshot()
    assert is_identifier_like(snap, "public.orders", "customer_id")
    assert is_identifier_like(snap, "public.orders", "id")
    assert not any(
        "customer_id" in where or "id =" in where
        for where in _partials("SELECT total FROM orders WHERE customer_id IN (17, 18) AND id = 5", snap)
    )


def test_a_status_literal_on_a_low_cardinality_column_still_makes_a_partial(pg):
    _orders(pg)
    snap = pg.snapshot()
    assert not is_identifier_like(snap, "public.orders", "status")
    assert not is_identifier_like(snap, "public.orders", "region")  # 40 values
    partials = _partials("SELECT id, total FROM orders WHERE status = 'active' ORDER BY id LIMIT 10", snap)
    assert "status = 'active'" in partials, partials
    # a range stays a predicate, and the key literal is left out of a mixed filter
    mixed = _partials(
        "SELECT id FROM orders WHERE status = 'active' AND customer_id = 17 AND total < 100", snap
    )
    assert mixed and not any("customer_id" in where for where in mixed), mixed
    assert any("status = 'active'" in where and "total < '100'" in where for where in mixed), mixed
