"""Extend (Schlosser, Kossmann, Boissier, ICDE 2019), as evaluated by Kossmann et al. (PVLDB 2020).

Start from no index. Each step considers two kinds of move: add a single-column index on an
indexable column, or widen an index already chosen by appending one column that a query uses
together with that index's columns. Each move is scored by its benefit per byte (drop in
workload cost / growth in index size); the best move that keeps the set within the budget and
lowers the cost by more than ``MIN_COST_IMPROVEMENT`` is taken. Widening replaces the narrower
index. Indexes identical to an existing one (the primary keys) are not candidates. Stop when no move qualifies. Cost is the what-if planner cost from dbwright's evaluator
and sizes are dbwright's calibrated estimates, as for the other advisors.
"""

from __future__ import annotations

from collections.abc import Callable

from common import BenchQuery, costs, existing_keys, indexable_columns

from dbwright.advisors.indexes.spec import IndexSpec
from dbwright.advisors.indexes.whatif import WhatIf

MAX_WIDTH = 3
#: The published implementation's default: a move must lower the cost by at least 0.3%.
MIN_COST_IMPROVEMENT = 1.003


def extend(
    whatif: WhatIf,
    queries: list[BenchQuery],
    size: Callable[[IndexSpec], int],
    budget: int,
    max_width: int = MAX_WIDTH,
) -> list[IndexSpec]:
    per_query = [indexable_columns(q) for q in queries]
    there = existing_keys(whatif.snapshot)
    singles = sorted(
        {
            IndexSpec(t, (c,))
            for cols in per_query
            for t, cs in cols.items()
            for c in cs
            if (t, (c,)) not in there
        }
    )
    chosen: list[IndexSpec] = []
    current = costs(whatif, queries, chosen)
    total = sum(current)
    used = 0
    while True:
        best: tuple[float, IndexSpec | None, IndexSpec, list[float]] | None = None
        moves: list[tuple[IndexSpec | None, IndexSpec]] = [(None, s) for s in singles if s not in chosen]
        for index in chosen:
            if len(index.keys) >= max_width:
                continue
            for extra in _companions(index, per_query):
                wider = index.widened(extra)
                if wider not in chosen and (wider.table, wider.keys) not in there:
                    moves.append((index, wider))
        for replaced, new in moves:
            grow = size(new) - (size(replaced) if replaced else 0)
            if used + grow > budget or grow <= 0:
                continue
            config = [i for i in chosen if i != replaced] + [new]
            affected = [k for k, q in enumerate(queries) if new.table in q.plannable.tables]
            after = costs(whatif, [queries[k] for k in affected], config)
            trial = list(current)
            for k, cost in zip(affected, after, strict=True):
                trial[k] = cost
            new_total = sum(trial)
            if new_total * MIN_COST_IMPROVEMENT >= total:
                continue
            ratio = (total - new_total) / grow
            if best is None or ratio > best[0]:
                best = (ratio, replaced, new, trial)
        if best is None:
            return sorted(chosen)
        _, replaced, new, current = best
        chosen = [i for i in chosen if i != replaced] + [new]
        used = sum(size(i) for i in chosen)
        total = sum(current)


def _companions(index: IndexSpec, per_query: list[dict[str, list[str]]]) -> list[str]:
    """Columns some query uses together with all of ``index``'s columns, on the same table."""
    found: dict[str, None] = {}
    for cols in per_query:
        names = cols.get(index.table, [])
        if all(k in names for k in index.keys):
            for name in names:
                if name not in index.keys:
                    found[name] = None
    return sorted(found)
