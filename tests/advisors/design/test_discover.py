"""The desbordante path (optional extra ``dbwright[design]``, AGPL-3.0): runs when it is installed.

The required behaviour is covered without it in test_design.py; these tests check what full
discovery adds, and that the choice is stated in the report.
"""

from __future__ import annotations

import pytest

from dbwright.advisors.design import design, design_review, discover
from dbwright.errors import RefusedError
from tests.advisors.design import scenarios

needs_desbordante = pytest.mark.skipif(
    discover.desbordante_module() is None,
    reason="desbordante (optional extra dbwright[design]) is not installed",
)


@pytest.mark.slow
@needs_desbordante
def test_desbordante_finds_the_planted_dependencies(pg):
    scenarios.transitive(pg)
    scenarios.dirty(pg)
    pg.analyze()
    report = design_review(pg.url, use_desbordante=True)
    assert report.desbordante_used and report.engine.startswith("desbordante")
    found = {(p.table, p.columns[0]): p for p in report.of_kind("normalize")}
    assert set(found) == {("public.employees", "dept_id"), ("public.shipments", "customer_id")}
    assert found[("public.employees", "dept_id")].columns == ("dept_id", "dept_name", "dept_floor")
    assert found[("public.shipments", "customer_id")].approximate


@needs_desbordante
def test_desbordante_finds_a_two_column_determinant_the_targeted_path_cannot(pg):
    pg.execute(
        "CREATE TABLE bins(id int PRIMARY KEY, warehouse int NOT NULL, aisle int NOT NULL, "
        "zone text NOT NULL, qty int NOT NULL)"
    )
    # zone depends on (warehouse, aisle) together, on neither alone; 60 combinations, 3000 rows.
    pg.execute(
        "INSERT INTO bins SELECT g, g % 3, (g / 3) % 20, 'zone ' || (g % 3 + (g / 3) % 20) / 2, "
        "(g * 7919) % 500 FROM generate_series(1, 3000) g"
    )
    pg.analyze()
    with_engine = design_review(pg.url, use_desbordante=True).of_kind("normalize")
    assert [p.columns for p in with_engine] == [("warehouse", "aisle", "zone")]
    assert "GROUP BY" not in with_engine[0].package.forward_sql  # exact: SELECT DISTINCT
    assert not design_review(pg.url, use_desbordante=False).of_kind("normalize")


def test_asking_for_desbordante_when_missing_is_refused(pg, monkeypatch):
    monkeypatch.setattr(design.discover, "desbordante_module", lambda: None)
    with pytest.raises(RefusedError, match="dbwright\\[design\\]"):
        design_review(pg.url, use_desbordante=True)
    report = design_review(pg.url)
    assert not report.desbordante_used and "targeted SQL" in report.engine


@needs_desbordante
def test_one_split_with_several_keys_is_proposed_once(pg):
    pg.execute(
        "CREATE TABLE slots(id int PRIMARY KEY, warehouse int NOT NULL, aisle int NOT NULL, "
        "zone text NOT NULL)"
    )
    # (warehouse, aisle), (aisle, zone) and (warehouse, zone) each determine the third column.
    pg.execute(
        "INSERT INTO slots SELECT g, g % 3, (g / 3) % 20, 'zone ' || ((g % 3) * 7 + ((g / 3) % 20)) % 31 "
        "FROM generate_series(1, 3000) g"
    )
    pg.analyze()
    report = design_review(pg.url, use_desbordante=True)
    assert [p.columns for p in report.of_kind("normalize")] == [("warehouse", "aisle", "zone")]
    assert any(r.reason.startswith("another key of the split") for r in report.rejected)
