"""Choosing the index set for the whole workload under a storage budget.

The objective is the workload's weighted cost with the chosen set, plus the cost of keeping
each index up to date under the table's writes. The search:

1. screens every candidate alone and keeps those with a net gain;
2. grows the set greedily by gain per byte, where a move either adds a candidate or widens
   an index already chosen by one more key column (as Extend does);
3. also grows it greedily by absolute gain, and keeps whichever set is better (the classic
   fix for ratio greedy's knapsack blind spot);
4. improves the result locally: drop an index whose gain the others made redundant, swap
   one for an unchosen candidate when that lowers the objective.

Every cost comes from the what-if evaluator, with the other chosen indexes present, so
interactions between indexes are priced. Ties break on the index definition: the same
input gives the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dbwright.advisors.indexes.spec import IndexSpec
from dbwright.advisors.indexes.whatif import PlannableQuery, WhatIf

MAX_KEYS = 4
#: A move must lower the objective by at least this share of the objective *as it stands*: relative to
#: the baseline, one dominant query (TPC-H's Q20) would hide every later gain once it is fixed.
MIN_GAIN_SHARE = 1e-4
LOCAL_ROUNDS = 2


@dataclass(frozen=True)
class Weighted:
    query: PlannableQuery
    weight: float  # objective units per planner cost unit of one execution
    base_cost: float


@dataclass
class Selection:
    chosen: list[IndexSpec]
    objective_before: float
    objective_after: float
    screened: dict[IndexSpec, float] = field(default_factory=dict)  # candidate -> gain alone
    moves: list[str] = field(default_factory=list)


class Selector:
    def __init__(self, whatif: WhatIf, queries: Sequence[Weighted], *, size: Callable[[IndexSpec], int],
                 write_cost: Callable[[IndexSpec], float], budget: int,
                 widen_with: dict[str, list[str]], max_pool: int | None = None, thorough: bool = True) -> None:
        self.whatif = whatif
        self.queries = list(queries)
        self.size = size
        self.write_cost = write_cost
        self.budget = budget
        self.widen_with = widen_with
        self.max_pool = max_pool
        self.thorough = thorough
        self.baseline = sum(q.weight * q.base_cost for q in self.queries)
        self.min_gain = max(self.baseline * MIN_GAIN_SHARE * MIN_GAIN_SHARE, 1e-9)  # screening: any real gain
        self._by_table: dict[str, list[Weighted]] = {}
        for q in self.queries:
            for table in q.query.tables:
                self._by_table.setdefault(table, []).append(q)

    # --- objective ---------------------------------------------------------------------------
    def table_cost(self, table: str, config: frozenset[IndexSpec]) -> float:
        """Weighted cost of the queries that read ``table``, with ``config`` present."""
        group = self._by_table.get(table, [])
        plans = self.whatif.plans([q.query for q in group], config)
        return sum(q.weight * (p.cost if p else q.base_cost) for q, p in zip(group, plans, strict=True))

    def objective(self, config: frozenset[IndexSpec]) -> float:
        plans = self.whatif.plans([q.query for q in self.queries], config)
        reads = sum(q.weight * (p.cost if p else q.base_cost) for q, p in zip(self.queries, plans, strict=True))
        return reads + sum(self.write_cost(s) for s in config)

    def _delta(self, config: frozenset[IndexSpec], new: frozenset[IndexSpec], tables: set[str]) -> float:
        """Objective(config) - objective(new), computed on the tables the change touches."""
        before = sum(self.table_cost(t, config) for t in sorted(tables)) + sum(self.write_cost(s) for s in config)
        after = sum(self.table_cost(t, new) for t in sorted(tables)) + sum(self.write_cost(s) for s in new)
        return before - after

    def floor(self, objective: float) -> float:
        """The smallest gain worth a move, from the objective as it stands."""
        return max(objective * MIN_GAIN_SHARE, self.min_gain)

    def used_bytes(self, config: frozenset[IndexSpec]) -> int:
        return sum(self.size(s) for s in config)

    # --- search ------------------------------------------------------------------------------
    def run(self, candidates: Sequence[IndexSpec]) -> Selection:
        screened = self.screen(candidates)
        pool = sorted(s for s, gain in screened.items() if gain > self.min_gain)
        if self.max_pool is not None:
            pool = self._best_per_table(pool, screened)
        best: frozenset[IndexSpec] = frozenset()
        best_value = self.objective(best)
        moves: list[str] = []
        for by_ratio in (True, False) if self.thorough else (True,):
            config, log = self.greedy(pool, by_ratio)
            value = self.objective(config)
            if value < best_value - self.floor(best_value):
                best, best_value, moves = config, value, log
        best, more = self.improve(best, pool if self.thorough else [])
        moves += more
        return Selection(sorted(best), self.baseline, self.objective(best), screened, moves)

    def _best_per_table(self, pool: list[IndexSpec], screened: dict[IndexSpec, float]) -> list[IndexSpec]:
        """The ``max_pool`` best candidates of each table by gain per byte (for slow what-if backends)."""
        kept = []
        for table in sorted({s.table for s in pool}):
            ranked = sorted((s for s in pool if s.table == table),
                            key=lambda s: (-screened[s] / max(self.size(s), 8192), s.sort_key))
            kept.extend(ranked[: self.max_pool])
        return sorted(kept)

    def screen(self, candidates: Sequence[IndexSpec]) -> dict[IndexSpec, float]:
        """Net gain of each candidate alone (its write cost included)."""
        gains = {}
        empty: frozenset[IndexSpec] = frozenset()
        for spec in sorted(set(candidates)):
            if self.size(spec) > self.budget:
                continue
            gain = self._delta(empty, frozenset([spec]), {spec.table})
            if self.whatif.supported(spec):
                gains[spec] = gain
        return gains

    def greedy(self, pool: list[IndexSpec], by_ratio: bool) -> tuple[frozenset[IndexSpec], list[str]]:
        config: frozenset[IndexSpec] = frozenset()
        log: list[str] = []
        while True:
            room = self.budget - self.used_bytes(config)
            floor = self.floor(self.objective(config))
            best: tuple[float, tuple, frozenset[IndexSpec], str] | None = None
            for new, extra, tables, text in self._moves(config, pool):
                if extra > room:
                    continue
                gain = self._delta(config, new, tables)
                if gain <= floor:
                    continue
                score = gain / max(extra, 8192) if by_ratio else gain
                key = (score, tuple(s.sort_key for s in sorted(new)))
                if best is None or key[0] > best[0] or (key[0] == best[0] and key[1] < best[1]):
                    best = (score, key[1], new, text)
            if best is None:
                return config, log
            config = best[2]
            log.append(best[3])

    def _moves(self, config: frozenset[IndexSpec], pool: list[IndexSpec]):
        for spec in pool:
            if spec not in config:
                yield config | {spec}, self.size(spec), {spec.table}, f"add {spec.label}"
        for spec in sorted(config):
            if spec.method != "btree" or len(spec.keys) >= MAX_KEYS:
                continue
            for column in self.widen_with.get(spec.table, []):
                if column in spec.keys:
                    continue
                wider = spec.widened(column)
                if wider in config or not self.whatif.supported(wider):
                    continue
                new = (config - {spec}) | {wider}
                yield new, self.size(wider) - self.size(spec), {spec.table}, f"widen {spec.label} by {column}"

    def improve(self, config: frozenset[IndexSpec], pool: list[IndexSpec]) -> tuple[frozenset[IndexSpec], list[str]]:
        """Drop what the others made redundant; swap one chosen index for a better one from ``pool``."""
        log: list[str] = []
        for _ in range(LOCAL_ROUNDS):
            changed = False
            for spec in sorted(config):
                smaller = config - {spec}
                if self._delta(config, smaller, {spec.table}) > -self.floor(self.objective(config)):
                    config, changed = smaller, True
                    log.append(f"drop {spec.label}: the rest of the set already gives its gain")
            for spec in sorted(config):
                for other in pool:
                    if other in config:
                        continue
                    swapped = (config - {spec}) | {other}
                    if self.used_bytes(swapped) > self.budget:
                        continue
                    if self._delta(config, swapped, {spec.table, other.table}) > self.floor(self.objective(config)):
                        config, changed = swapped, True
                        log.append(f"swap {spec.label} for {other.label}")
                        break
                if changed:
                    break
            if not changed:
                break
        return config, log
