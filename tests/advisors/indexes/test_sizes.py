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
    pg.execute(
        "CREATE TABLE s(id bigint PRIMARY KEY, a int, b text, c timestamptz, email text, status text, "
        "n numeric)"
    )
    pg.execute(
        "INSERT INTO s SELECT g, g % 100, md5(g::text), '2024-01-01'::timestamptz + g * interval '1 min', "
        "'user' || g || '@Example.com', (ARRAY['open','closed','paid','void','new'])[1 + g % 5], "
        "(g % 1000) / 7.0 FROM generate_series(1, 100000) g"
    )
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
    pg.execute(
        "INSERT INTO p SELECT g, CASE WHEN g % 10 = 0 THEN 'open' ELSE 'done' END, now() "
        "FROM generate_series(1, 20000) g"
    )
    pg.analyze()
    spec = IndexSpec("public.p", ("c",), where="status = 'open'")
    pg.execute(spec.definition("p_open"))
    real = pg.value("SELECT pg_relation_size('p_open')")
    estimate = estimate_bytes(spec, pg.snapshot(), fraction=0.1)
    assert abs(estimate - real) <= 0.2 * real, (estimate, real)


def _parts_and_suppliers(pg) -> None:
    """5k parts × 4 suppliers each, 200k shuffled rows: 20k (part, supplier) combinations of 10 rows each,
    shipped on 100 days at random."""
    pg.execute("CREATE TABLE lines(part int, supplier int, shipped date)")
    pg.execute(
        "INSERT INTO lines SELECT p, (p + s * 1250) % 5000, extra FROM (SELECT g, g % 5000 AS p, "
        "(g / 5000) % 4 AS s, date '2024-01-01' + abs(hashint4(g)) % 100 AS extra "
        "FROM generate_series(0, 199999) g ORDER BY random()) x"
    )
    pg.analyze()


def _sampled(pg, spec: IndexSpec, fraction: float = 1.0):
    """(the snapshot, the key's sampled distinct count, the size estimate with every sample it needs)"""
    from dbwright.advisors.indexes.sizes import SampledDistinct
    from dbwright.engines.postgres.connect import open_session
    from dbwright.engines.postgres.introspect import snapshot

    with open_session(pg.url) as conn:
        snap = snapshot(conn)
        sampled = SampledDistinct(conn, snap)
        return snap, sampled.key_distinct(spec), sampled.estimate(spec, fraction)


def test_multi_column_key_counts_its_combinations_from_a_block_sample(pg):
    """(part, supplier) deduplicates, though the product of the column counts (5k × 5k) says every row is
    distinct."""
    _parts_and_suppliers(pg)
    spec = IndexSpec("public.lines", ("part", "supplier"))
    pg.execute(spec.definition("lines_part_supplier"))
    real = pg.value("SELECT pg_relation_size('lines_part_supplier')")
    pg.execute("DROP INDEX lines_part_supplier")
    snap, combinations, estimate = _sampled(pg, spec)
    assert estimate_bytes(spec, snap) > 1.5 * real  # the product of the column counts: no deduplication
    assert combinations is not None and abs(combinations - 20_000) <= 0.2 * 20_000, combinations
    assert abs(estimate - real) <= 0.2 * real, (estimate, real)


def test_a_partial_index_keeps_a_share_of_its_key_combinations(pg):
    """The same 20k combinations of 10 rows, but a partial index holding 15% of the rows: each combination
    has 1.5 rows there on average and four in five are still present (not 15% of them), and about a third
    of those single ones make plain tuples; the rest, small posting lists."""
    from dbwright.advisors.indexes.sizes import distinct_in_share

    _parts_and_suppliers(pg)
    spec = IndexSpec("public.lines", ("part", "supplier"), where="shipped < CAST('2024-01-16' AS date)")
    pg.execute(spec.definition("lines_partial"))
    real = pg.value("SELECT pg_relation_size('lines_partial')")
    present = pg.value(f"SELECT count(DISTINCT (part, supplier)) FROM lines WHERE {spec.where}")
    share = pg.value(f"SELECT count(*) FROM lines WHERE {spec.where}") / 200_000
    assert abs(distinct_in_share(20_000, 200_000, share) - present) <= 0.05 * present
    estimate = _sampled(pg, spec, share)[2]
    # within 10%: taking 15% of the combinations and no deduplication below 2 rows per key read about 20% high
    assert abs(estimate - real) <= 0.1 * real, (estimate, real)


def test_a_prefix_expression_is_as_wide_as_its_prefix(pg):
    pg.execute("CREATE TABLE phones(id int, phone text, balance numeric)")
    pg.execute(
        "INSERT INTO phones SELECT g, (10 + g % 25) || '-' || lpad((g * 7919 % 10000000)::text, 12, '0'), "
        "(g % 100000) / 100.0 FROM generate_series(1, 100000) g"
    )
    pg.analyze()
    spec = IndexSpec("public.phones", ("(substring(phone, 1, 2))", "balance"))
    pg.execute(spec.definition("phones_prefix"))
    real = pg.value("SELECT pg_relation_size('phones_prefix')")
    estimate = estimate_bytes(spec, pg.snapshot())
    assert abs(estimate - real) <= 0.2 * real, (estimate, real)


def test_duj1_over_blocks_counts_a_key_once_per_block():
    from dbwright.advisors.indexes.sizes import duj1_over_blocks

    # the whole table read: the sample's own count
    assert (
        duj1_over_blocks(occurrences=500, seen=120, singletons=40, blocks=10, table_pages=10, rows=5000)
        == 120
    )
    # a sorted key: each value in one block, so every key is a singleton; 100 of 1,000 pages read,
    # 4,000 values seen there: 40,000 in all (the per-block count scaled by pages)
    assert abs(duj1_over_blocks(4000, 4000, 4000, 100, 1000, 160_000) - 40_000) < 1
    # no singletons: every key already seen twice or more, nothing unseen is extrapolated
    assert duj1_over_blocks(2000, 500, 0, 100, 1000, 1_000_000) == 500
    # never more than the rows
    assert duj1_over_blocks(4000, 4000, 4000, 100, 1000, 10_000) == 10_000
