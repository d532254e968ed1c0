"""What every advisor in the benchmark shares: the workload as plannable queries, the columns a
query can use an index on, the what-if cost of a configuration and dbwright's size estimate.

Dexter and Extend are priced with dbwright's own evaluator (HypoPG, cached per query and
per-table index set) and sized with dbwright's calibrated estimate, so the comparison is
between search procedures, not between cost or size models.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from dbwright.advisors.indexes.querytree import QueryShape, analyze
from dbwright.advisors.indexes.sizes import SampledDistinct
from dbwright.advisors.indexes.spec import IndexSpec
from dbwright.advisors.indexes.whatif import PlannableQuery, WhatIf
from dbwright.model import Snapshot
from dbwright.model.operations import qident


@dataclass(frozen=True)
class BenchQuery:
    number: int
    sql: str
    shape: QueryShape
    plannable: PlannableQuery


def bench_queries(numbered: Iterable[tuple[int, str]], snap: Snapshot) -> list[BenchQuery]:
    found = []
    for number, sql in numbered:
        shape = analyze(sql, snap)
        found.append(
            BenchQuery(number, sql, shape, PlannableQuery(f"q{number:02d}", sql, 0, frozenset(shape.tables)))
        )
    return found


def indexable_columns(query: BenchQuery) -> dict[str, list[str]]:
    """Per table, the columns a query filters, joins, sorts or groups on (first-seen order)."""
    columns: dict[str, list[str]] = {}
    for table, use in query.shape.tables.items():
        names: dict[str, None] = {}
        for name in (*use.equal, *use.ranges, *use.joins, *(c for c, _ in use.sort), *use.group):
            names[name] = None
        if names:
            columns[table] = list(names)
    return columns


def existing_keys(snap: Snapshot) -> set[tuple[str, tuple[str | None, ...]]]:
    """(table, key columns) of the indexes already there (the primary keys): not worth proposing again."""
    return {(i.table_qname, i.columns) for i in snap.indexes if not i.predicate}


class Sizes:
    """dbwright's calibrated B-tree size estimate, cached, with the same block-sampled distinct
    counts (sorted columns, multi-column keys) as the advisor's; a partial index holds the share of
    rows the planner estimates for its predicate, as in the advisor."""

    def __init__(self, snap: Snapshot, conn: psycopg.Connection) -> None:
        self.snap = snap
        self.conn = conn
        self.sampled = SampledDistinct(conn, snap)
        self._cache: dict[IndexSpec, int] = {}

    def __call__(self, spec: IndexSpec) -> int:
        if spec not in self._cache:
            self._cache[spec] = self.sampled.estimate(spec, self._share(spec))
        return self._cache[spec]

    def _share(self, spec: IndexSpec) -> float:
        table = self.snap.table(spec.table)
        if not spec.where or table is None or table.row_estimate <= 0:
            return 1.0
        plan = self.conn.execute(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {qident(spec.table)} WHERE {spec.where}"
        ).fetchone()[0][0]["Plan"]
        return min(1.0, plan["Plan Rows"] / table.row_estimate)


def costs(whatif: WhatIf, queries: list[BenchQuery], config: Iterable[IndexSpec]) -> list[float]:
    plans = whatif.plans([q.plannable for q in queries], frozenset(config))
    return [p.cost if p else math.nan for p in plans]


def relative(before: list[float], after: list[float]) -> tuple[float, float]:
    """(ratio of summed costs, geometric mean of per-query ratios)."""
    pairs = [(b, a) for b, a in zip(before, after, strict=True) if b > 0 and not math.isnan(a)]
    total = sum(a for _, a in pairs) / sum(b for b, _ in pairs)
    geo = math.exp(sum(math.log(a / b) for b, a in pairs) / len(pairs))
    return total, geo
