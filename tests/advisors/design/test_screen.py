"""Screening of dependency candidates before the full-table check (screen.py), on a real server.

A derived measure and free text determine other columns in the data, yet neither names an entity;
a left side unique in the sample has no evidence; an accidental candidate fails on a larger sample.
The planted dependency must survive every screen.
"""

from __future__ import annotations

import pytest

from dbwright.advisors.design import candidates, design_review, screen
from dbwright.advisors.design.context import table_infos
from dbwright.engines.postgres.connect import open_session
from dbwright.engines.postgres.design_sampling import read_sample
from tests.advisors.design import scenarios
from tests.advisors.design.test_discover import needs_desbordante


def _table(pg, name: str, sample_rows: int = 20_000):
    """(TableInfo, sample, profiles, rows) of public.<name>, as design_review builds them."""
    pg.analyze()
    info = next(i for i in table_infos(pg.snapshot()) if i.qname == f"public.{name}")
    with open_session(pg.url) as conn:
        sample = read_sample(
            conn,
            info.qname,
            [c.name for c in info.columns],
            info.table.row_estimate,
            sample_rows,
        )
    rows = pg.value(f"SELECT count(*) FROM {name}")
    return info, sample, candidates.profile_columns(sample), rows


class _Counting:
    """A connection that records the statements it runs."""

    def __init__(self, conn) -> None:
        self.conn, self.statements = conn, []

    def execute(self, query, *args):
        self.statements.append(query)
        return self.conn.execute(query, *args)


def test_derived_measure_and_free_text_are_not_determinants(pg):
    scenarios.order_lines(pg)
    info, sample, profiles, rows = _table(pg, "order_lines")
    # Both false determinants really do determine product_id in this data: only the screen can stop them.
    assert pg.value(
        "SELECT count(DISTINCT (extended_price, product_id)) = count(DISTINCT extended_price) "
        "AND count(DISTINCT (note, product_id)) = count(DISTINCT note) FROM order_lines"
    )
    by_lhs = {
        ("product_id",): ["product_name", "unit_price"],
        ("extended_price",): ["product_id", "qty"],
        ("note",): ["product_id"],
        ("qty", "note"): ["extended_price"],
    }
    screened = screen.determinants(info, by_lhs, rows, sample, profiles)
    assert screened.kept == {("product_id",): ["product_name", "unit_price"]}
    reasons = {(lhs, rhs): reason for lhs, rhs, reason, _ in screened.rejected}
    assert set(reasons) == {
        (("extended_price",), "product_id"),
        (("extended_price",), "qty"),
        (("note",), "product_id"),
        (("qty", "note"), "extended_price"),
    }
    assert reasons[("extended_price",), "qty"].startswith(
        "extended_price is a continuous measure (numeric, 2,500 distinct of 6,000"
    )
    assert reasons[("note",), "product_id"].startswith("note is free text (1,500 distinct of 6,000")
    assert reasons[("qty", "note"), "extended_price"].startswith("note is free text")


def test_low_cardinality_code_passes_and_thin_pairs_do_not(pg):
    pg.execute(
        "CREATE TABLE parts(id int PRIMARY KEY, brand text NOT NULL, maker text NOT NULL, "
        "size int NOT NULL, bin int NOT NULL, label text NOT NULL)"
    )
    # brand → maker (25 brands, 1,600 rows each); (size, bin) has 20,000 combinations in 40,000 rows.
    pg.execute(
        "INSERT INTO parts SELECT g, 'Brand#' || (g % 25), 'Maker#' || (g % 25) / 5, g % 50, "
        "(g / 50) % 400, 'L' || g % 7 FROM generate_series(1, 40000) g"
    )
    info, sample, profiles, rows = _table(pg, "parts", sample_rows=1000)
    assert sample.sampled
    screened = screen.determinants(
        info, {("brand",): ["maker"], ("size", "bin"): ["label"]}, rows, sample, profiles
    )
    assert screened.kept == {("brand",): ["maker"]}
    [(lhs, rhs, reason, _)] = screened.rejected
    assert (lhs, rhs) == (("size", "bin"), "label")
    assert reason.startswith("no support in the sample:") and "in 1,000 sampled rows" in reason


def test_larger_sample_recheck_drops_an_accidental_candidate_in_one_statement(pg):
    pg.execute(
        "CREATE TABLE visits(id int PRIMARY KEY, customer_id int NOT NULL, customer_city text NOT NULL, "
        "weight int NOT NULL)"
    )
    pg.execute("SELECT setseed(0.5)")
    pg.execute(
        "INSERT INTO visits SELECT g, g % 8000, 'city ' || (g % 8000) % 300, (random() * 3)::int "
        "FROM generate_series(1, 40000) g"
    )
    info, sample, profiles, rows = _table(pg, "visits", sample_rows=1000)
    kept = {("customer_id",): ["customer_city", "weight"]}
    screened = screen.Screened(dict(kept))
    with open_session(pg.url) as conn:
        counting = _Counting(conn)
        screened = screen.recheck(counting, info, screened, rows, 1000, max_error=0.01)
    assert len(counting.statements) == 1 and "TABLESAMPLE BERNOULLI" in counting.statements[0]
    assert screened.kept == {("customer_id",): ["customer_city"]}
    [(lhs, rhs, reason, evidence)] = screened.rejected
    assert (lhs, rhs) == (("customer_id",), "weight")
    assert reason.startswith("not confirmed on a larger sample (")
    assert evidence["pairs"] > 0 and evidence["disagreeing_pairs"] / evidence["pairs"] > 0.5
    assert 8_000 < screened.recheck["rows"] < 12_000  # ten times the discovery sample
    assert screened.recheck["method"].startswith("TABLESAMPLE BERNOULLI")


@pytest.mark.slow
@needs_desbordante
def test_desbordante_path_keeps_the_lines_snapshot_and_rejects_the_measure_and_the_prose(pg, monkeypatch):
    scenarios.order_lines(pg)
    pg.analyze()
    report = design_review(pg.url, use_desbordante=True)
    # product_id → product_name, unit_price holds, but a line keeps the name and price it was sold at
    assert report.of_kind("normalize") == []
    rejected = {r.what: r.reason for r in report.rejected}
    assert "snapshot" in rejected["product_id → unit_price"]
    assert "continuous measure" in rejected["extended_price → product_id"]
    assert "free text" in rejected["note → product_id"]
    # The screen is what stops them: without it, both are confirmed on the full table and proposed.
    monkeypatch.setattr(screen, "determinants", lambda info, by_lhs, *args: screen.Screened(dict(by_lhs)))
    unscreened = {p.columns[0] for p in design_review(pg.url, use_desbordante=True).of_kind("normalize")}
    assert unscreened == {"note"}  # extended_price is a snapshot of the line as well
