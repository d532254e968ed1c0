"""Size estimates against real built indexes of different shapes on a 100k-row table."""

from __future__ import annotations

from dbwright.advisors.indexes.sizes import estimate_bytes
from dbwright.advisors.indexes.spec import IndexSpec

SHAPES = [
    IndexSpec("public.s", ("id",)),  # unique bigint
    IndexSpec("public.s", ("a",)),  # 100 distinct values: deduplicated posting lists
    IndexSpec("public.s", ("a", "b")),  # int + md5 text
    IndexSpec("public.s", ("status", "c")),  # low-cardinality text + timestamptz
    IndexSpec("public.s", ("a",), include=("b", "c")),  # covering: no deduplication
    IndexSpec("public.s", ("(lower(email))",)),  # expression
    IndexSpec("public.s", ("n",)),  # numeric: never deduplicated
    IndexSpec("public.s", ("c",), method="brin"),
]


def test_estimates_within_20_percent_of_real_sizes(pg):
    pg.execute("CREATE TABLE s(id bigint PRIMARY KEY, a int, b text, c timestamptz, email text, status text, "
               "n numeric)")
    pg.execute("INSERT INTO s SELECT g, g % 100, md5(g::text), '2024-01-01'::timestamptz + g * interval '1 min', "
               "'user' || g || '@Example.com', (ARRAY['open','closed','paid','void','new'])[1 + g % 5], "
               "(g % 1000) / 7.0 FROM generate_series(1, 100000) g")
    pg.analyze()
    snap = pg.snapshot()
    report = []
    for number, spec in enumerate(SHAPES):
        name = f"size_probe_{number}"
        pg.execute(spec.definition(name))
        real = pg.value("SELECT pg_relation_size(%s::regclass)", (name,))
        estimate = estimate_bytes(spec, snap)
        report.append((spec.label, real, estimate))
    off = [(label, real, est) for label, real, est in report if abs(est - real) > 0.2 * real]
    assert not off, report


def test_partial_index_scales_with_the_matching_share(pg):
    pg.execute("CREATE TABLE p(id int, status text, c timestamptz)")
    pg.execute("INSERT INTO p SELECT g, CASE WHEN g % 10 = 0 THEN 'open' ELSE 'done' END, now() "
               "FROM generate_series(1, 20000) g")
    pg.analyze()
    spec = IndexSpec("public.p", ("c",), where="status = 'open'")
    pg.execute(spec.definition("p_open"))
    real = pg.value("SELECT pg_relation_size('p_open')")
    estimate = estimate_bytes(spec, pg.snapshot(), fraction=0.1)
    assert abs(estimate - real) <= 0.2 * real, (estimate, real)
