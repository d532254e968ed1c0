"""The two objectives: the workload's total cost, or the geometric mean of each statement's ratio.

One expensive statement on a wide table and three cheap ones on narrow tables; the budget fits
either the wide table's index or the three narrow ones. Summed cost favours the one expensive
statement; the geometric mean favours three statements made many times faster over one.
"""

from __future__ import annotations

from dbwright.advisors.indexes import advise_indexes
from dbwright.advisors.indexes.workload import Query, Workload

SMALL = ("small_a", "small_b", "small_c")


def _schema(pg) -> Workload:
    pg.execute("CREATE EXTENSION hypopg")
    pg.execute("CREATE TABLE wide(id int, ref int, pad text)")
    pg.execute("INSERT INTO wide SELECT g, g, repeat('w', 200) FROM generate_series(1, 60000) g")
    for name in SMALL:
        pg.execute(f"CREATE TABLE {name}(id int, ref int, pad text)")
        pg.execute(f"INSERT INTO {name} SELECT g, g, repeat('s', 20) FROM generate_series(1, 10000) g")
    pg.analyze()
    queries = [Query(f"SELECT pad FROM {t} WHERE ref = $1", fingerprint=t * 3) for t in ("wide", *SMALL)]
    return Workload(tuple(queries))


def _tables(advice) -> set[str]:
    return {r.spec.table.removeprefix("public.") for r in advice.recommendations}


def test_total_takes_the_dearest_statement_and_per_query_takes_the_most_statements(pg):
    workload = _schema(pg)
    roomy = advise_indexes(pg.url, workload=workload, budget="100MB", objective="total")
    size = {r.spec.table.removeprefix("public."): r.estimated_bytes for r in roomy.recommendations}
    assert set(size) == {"wide", *SMALL}
    assert sum(size[t] for t in SMALL) < size["wide"]  # the three narrow ones fit where the wide one does
    budget = size["wide"] + min(size[t] for t in SMALL) // 2

    total = advise_indexes(pg.url, workload=workload, budget=budget, objective="total")
    per_query = advise_indexes(pg.url, workload=workload, budget=budget, objective="per-query")
    assert _tables(total) == {"wide"}
    assert _tables(per_query) == set(SMALL)
    assert total.total_after < per_query.total_after  # summed cost: total wins
    helped = [q for q in per_query.queries if q.cost_after < q.cost_before / 5]
    assert len(helped) == 3  # three statements over five times cheaper, against one
    assert any("geometric mean" in note for note in per_query.notes)


def test_auto_is_per_query_without_timings_and_total_with_them(pg):
    workload = _schema(pg)
    roomy = advise_indexes(pg.url, workload=workload, budget="100MB")
    size = {r.spec.table.removeprefix("public."): r.estimated_bytes for r in roomy.recommendations}
    budget = size["wide"] + min(size[t] for t in SMALL) // 2

    untimed = advise_indexes(pg.url, workload=workload, budget=budget)
    assert untimed.unit == "cost"
    assert _tables(untimed) == set(SMALL)

    timed = Workload(
        tuple(
            Query(q.sql, calls=10, total_ms=50.0 if "wide" in q.sql else 5.0, fingerprint=q.fingerprint)
            for q in workload.queries
        )
    )
    advice = advise_indexes(pg.url, workload=timed, budget=budget)
    assert advice.unit == "ms"
    assert _tables(advice) == {"wide"}
    assert any("total cost" in note for note in advice.notes)
