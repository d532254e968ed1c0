"""Partial indexes from one statement's own constant filter.

A report that sums a year of small-discount sales reads a tenth of a large table; an index
keyed on the date with the rest of the filter as its predicate (and the summed columns
included) holds only those rows, and answers the statement by an index-only scan. The
parse tree names the filter; the planner says how many rows it keeps; HypoPG prices it.
"""

from __future__ import annotations

from dbwright.advisors.indexes import advise_indexes
from dbwright.advisors.indexes.querytree import analyze
from dbwright.advisors.indexes.workload import from_sql_text

REPORT = (
    "SELECT sum(price * discount) FROM sales WHERE sold_on >= date '2024-01-01' "
    "AND sold_on < date '2024-04-01' AND discount BETWEEN 0.05 AND 0.07 AND quantity < 24"
)


def _sales(pg) -> None:
    pg.execute("CREATE EXTENSION hypopg")
    pg.execute("SET synchronous_commit = on")  # VACUUM then marks pages all-visible (index-only scans)
    pg.execute(
        "CREATE TABLE sales(id bigint PRIMARY KEY, sold_on date, quantity numeric(15,2), "
        "price numeric(15,2), discount numeric(15,2), shipped_on date, received_on date, note text)"
    )
    # independent columns (hashes of the row number), as the planner's row estimates assume
    pg.execute(
        "INSERT INTO sales SELECT g, date '2023-01-01' + abs(hashint4(g)) % 730, "
        "1 + abs(hashint4(g + 1000000)) % 50, abs(hashint4(g + 2000000)) % 10000000 / 100.0, "
        "(abs(hashint4(g + 3000000)) % 11) / 100.0, date '2023-01-01' + abs(hashint4(g + 4000000)) % 700, "
        "date '2023-01-01' + abs(hashint4(g + 5000000)) % 720, repeat('x', 60) "
        "FROM generate_series(1, 150000) g"
    )
    pg.execute("VACUUM ANALYZE sales")


def test_constant_filters_are_read_from_the_parse_tree(pg):
    pg.execute(
        "CREATE TABLE sales(id int, sold_on date, quantity numeric, shipped_on date, received_on date)"
    )
    pg.execute("CREATE TABLE returns(id int, sale_id int, reason text)")
    snap = pg.snapshot()
    shape = analyze(
        "SELECT s.id, r.reason FROM sales s JOIN sales s2 ON s2.id = s.id "
        "JOIN returns r ON r.sale_id = s.id AND r.reason = 'damaged' "
        "WHERE s.quantity < 24 AND s.sold_on BETWEEN date '2024-01-01' AND date '2024-02-01' "
        "AND s.shipped_on < s.received_on AND s.quantity > $1 AND s.id = s2.id + 0",
        snap,
    )
    sales = shape.tables["public.sales"]
    assert list(sales.filters) == [
        "quantity < '24'",  # quoted: HypoPG keeps its predicate unfolded (see _deparse_predicate)
        "sold_on BETWEEN CAST('2024-01-01' AS date) AND CAST('2024-02-01' AS date)",
        "shipped_on < received_on",
    ]  # not the parameter, not the comparison of two aliases of the table
    assert sales.filters["shipped_on < received_on"] == ("shipped_on", "received_on")
    assert shape.tables["public.returns"].filters == {"reason = 'damaged'": ("reason",)}
    assert "sold_on" not in sales.outside_filters and "id" in sales.outside_filters


def test_a_statements_own_filter_makes_a_small_partial_covering_index(pg):
    _sales(pg)
    advice = advise_indexes(pg.url, workload=from_sql_text(REPORT, "report.sql"), budget="20MB")
    assert advice.recommendations, advice.to_dict()
    best = advice.recommendations[0]
    assert best.spec.where, best.spec.label
    assert "quantity < '24'" in best.spec.where  # HypoPG can match only the quoted literal
    for column in ("sold_on", "discount", "quantity"):  # the filter is served by the keys or the predicate
        assert column in best.spec.keys or column in best.spec.where, best.spec.label
    assert best.origin.startswith("partial")
    helped = best.helps[0]
    assert helped.cost_after < helped.cost_before / 5
    assert "Index Only Scan" in helped.plan_change
    assert advice.leftovers == {"hypothetical_indexes": 0, "real_indexes": 0}

    # the size estimate holds the predicate's share of rows, checked against the index built for real
    pg.execute(best.spec.definition("built_partial"))
    real = pg.value("SELECT pg_relation_size('built_partial')")
    assert abs(best.estimated_bytes - real) <= 0.2 * real, (best.estimated_bytes, real)
    full_table_index = pg.value("SELECT pg_relation_size('sales_pkey')")
    assert real < full_table_index / 4


def test_each_predicate_is_sized_by_its_own_row_share(pg):
    """Two reports, two partial indexes, each sized within 20% of its real build (the row-share probes
    were once cached under one key, so every predicate got the first one's share)."""
    _sales(pg)
    other = (
        "SELECT sum(price) FROM sales WHERE received_on >= date '2023-06-01' "
        "AND received_on < date '2023-06-08' AND quantity > 45"
    )
    advice = advise_indexes(pg.url, workload=from_sql_text(f"{REPORT};\n{other}", "two.sql"), budget="20MB")
    partials = [r for r in advice.recommendations if r.spec.where]
    assert len({r.spec.where for r in partials}) == 2, [r.spec.label for r in advice.recommendations]
    for k, recommendation in enumerate(partials):
        pg.execute(recommendation.spec.definition(f"built_{k}"))
        real = pg.value(f"SELECT pg_relation_size('built_{k}')")
        assert abs(recommendation.estimated_bytes - real) <= 0.2 * real, (recommendation.spec.label, real)
