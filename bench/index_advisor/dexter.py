"""A clean-room Dexter, from its published description (README and the author's announcement),
not from its code.

Per query: plan it as it is; plan it again with hypothetical single-column B-trees on every
column it filters, joins, sorts or groups on; then again with hypothetical two-column B-trees
on every ordered pair of those columns of one table. Take the cheaper of the two what-if plans;
if it is at least 50% cheaper than the original, suggest the hypothetical indexes that plan
uses. Indexes identical to an existing one are not
candidates. The suggestions of all queries are unioned. Dexter has no storage budget: its set is the
same at every budget (the benchmark reports where it does not fit).
"""

from __future__ import annotations

from itertools import permutations

from common import BenchQuery, existing_keys, indexable_columns

from dbwright.advisors.indexes.spec import IndexSpec
from dbwright.advisors.indexes.whatif import WhatIf

MIN_COST_SAVINGS = 0.50


def dexter(whatif: WhatIf, queries: list[BenchQuery]) -> list[IndexSpec]:
    chosen: set[IndexSpec] = set()
    there = existing_keys(whatif.snapshot)
    for query in queries:
        base = whatif.plan(query.plannable)
        if base is None or base.cost <= 0:
            continue
        columns = indexable_columns(query)
        singles = {IndexSpec(t, (c,)) for t, cs in columns.items() for c in cs if (t, (c,)) not in there}
        pairs = {
            IndexSpec(t, pair)
            for t, cs in columns.items()
            for pair in permutations(cs, 2)
            if (t, pair) not in there
        }
        best = None
        for config in (singles, pairs):
            if not config:
                continue
            plan = whatif.plan(query.plannable, config)
            if plan is not None and (best is None or plan.cost < best.cost):
                best = plan
        if best is None or best.cost > (1 - MIN_COST_SAVINGS) * base.cost:
            continue
        for name in best.indexes:
            spec = whatif.spec_of(name)
            if spec is not None:
                chosen.add(spec)
    return sorted(chosen)
