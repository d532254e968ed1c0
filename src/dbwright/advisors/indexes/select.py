"""Choosing the index set for the whole workload under a storage budget.

Two objectives (``objective=``):

- ``total``: the workload's weighted cost (what the server spends: cost × calls, or measured
  time), plus the cost of keeping each index up to date under the table's writes;
- ``per-query``: the call-weighted geometric mean of each statement's cost ratio, so a 10×
  speed-up of a cheap statement counts as much as a 10× speed-up of the dearest one. It is the
  default when the workload carries no timings (SQL files, one query): then the summed planner
  cost is mostly the one most expensive statement, and every other statement's gain vanishes in
  it. Index writes are charged as a share of the workload's read cost.

The search:

1. screens the candidates in a few planner calls per statement: each statement is planned with
   every candidate it could use present, the indexes its plan picks are noted and taken away,
   and it is planned again (a few rounds). A candidate no statement picks is dropped. A
   statement is then priced only with the chosen indexes it picked (the "atomic
   configuration" assumption of DB2's and Kossmann et al.'s advisors), so one more index
   re-prices only the statements it can change;
2. grows the set greedily by gain per byte, then forces in the large candidate ratio greedy left
   out (its knapsack blind spot), makes room for it and refills, keeping the better set. A move
   adds a candidate or widens a chosen B-tree by one more column that the statements using it
   read on that table (as Extend does). Moves are
   priced lazily (CELF): a move is priced again only when an upper bound on its gain could still
   beat the best priced move. The bounds cost no planner call: the move's last priced gain, and
   what its statements could still gain at best (their cost now against their cost with every
   candidate present);
3. improves the result locally: drop an index whose gain the others made redundant, swap one for
   a better unchosen candidate, and refill the freed room.

Every price comes from the what-if evaluator with the other chosen indexes present, so
interactions between indexes are priced; the final set is priced once more with every index
present. Ties break on the index definition: the same input gives the same answer.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from dbwright.advisors.indexes.spec import IndexSpec
from dbwright.advisors.indexes.whatif import PlannableQuery, WhatIf

MAX_KEYS = 4
#: Total objective: a move must lower the objective by at least this share of the objective *as it
#: stands* (relative to the baseline, one dominant query such as TPC-H's Q20 would hide every later gain).
MIN_GAIN_SHARE = 1e-4
#: Per-query objective: a move must be worth at least this speed-up (1%) of the least-called statement
#: (in log units, weighted by that statement's share of the calls); anything less is planner noise.
MIN_STATEMENT_SPEEDUP = math.log(1.01)
#: Screening: how many times each statement is planned with the candidates it has not picked yet.
SCREEN_ROUNDS = 4
#: Local improvement: swaps tried per chosen index (the unchosen candidates with the best gain per byte).
SWAP_CANDIDATES = 3
#: Knapsack fix: this many large candidates ratio greedy left out are each forced in (see ``make_room``).
SEEDS = 1
#: A seed must take at least this share of the budget (small ones are what ratio greedy takes anyway).
SEED_MIN_SHARE = 0.1
LOCAL_ROUNDS = 2
OBJECTIVES = ("total", "per-query")


@dataclass(frozen=True)
class Weighted:
    query: PlannableQuery
    weight: float  # objective units per planner cost unit of one execution
    base_cost: float
    calls: float = 1.0
    #: table -> the columns the statement references there; a table missing here: any column may matter
    columns: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def may_use(self, spec: IndexSpec) -> bool:
        """Could the planner use ``spec`` here? Only if the statement references its leading key."""
        if spec.table not in self.query.tables:
            return False
        referenced = self.columns.get(spec.table)
        if referenced is None:
            return True
        key = spec.keys[0]
        if key.startswith("("):
            return any(name in key for name in referenced)
        return key in referenced


@dataclass
class Selection:
    chosen: list[IndexSpec]
    objective_before: float
    objective_after: float
    screened: dict[IndexSpec, float] = field(default_factory=dict)  # candidate -> optimistic gain
    moves: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Move:
    added: IndexSpec
    replaced: IndexSpec | None
    text: str

    def apply(self, config: frozenset[IndexSpec]) -> frozenset[IndexSpec]:
        return (config - {self.replaced}) | {self.added} if self.replaced else config | {self.added}

    @property
    def order(self) -> tuple:
        return (self.added.sort_key, self.replaced.sort_key if self.replaced else ())


class Selector:
    def __init__(
        self,
        whatif: WhatIf,
        queries: Sequence[Weighted],
        *,
        size: Callable[[IndexSpec], int],
        smallest_size: Callable[[IndexSpec], int] | None = None,
        write_cost: Callable[[IndexSpec], float],
        budget: int,
        widen_with: dict[str, list[str]],
        max_pool: int | None = None,
        thorough: bool = True,
        objective: str = "total",
    ) -> None:
        if objective not in OBJECTIVES:
            raise ValueError(objective)
        self.whatif = whatif
        self.queries = list(queries)
        self.size = size
        self.smallest_size = smallest_size or size  # a cheap lower bound: rules out what cannot fit
        self.write_cost = write_cost
        self.budget = budget
        self.widen_with = widen_with
        self.max_pool = max_pool
        self.thorough = thorough
        self.objective_name = objective
        self.baseline_reads = sum(q.weight * q.base_cost for q in self.queries)
        self.total_calls = sum(q.calls for q in self.queries) or 1.0
        self.baseline = self.objective(frozenset())
        self.min_geomean_gain = (
            MIN_STATEMENT_SPEEDUP * min((q.calls for q in self.queries), default=1.0) / self.total_calls
        )
        #: screening keeps any real gain: a small one may matter once the dominant statements are fixed
        self.min_gain = (
            self.min_geomean_gain / 100
            if objective == "per-query"
            else max(abs(self.baseline) * MIN_GAIN_SHARE * MIN_GAIN_SHARE, 1e-9)
        )
        self._users: dict[IndexSpec, tuple[int, ...]] = {}  # spec -> statements whose plans picked it
        self._costs: dict[tuple[int, frozenset[IndexSpec]], float] = {}
        self._best_cost = [q.base_cost for q in self.queries]  # with every candidate present
        self._optimistic: dict[IndexSpec, float] = {}

    # --- objective ---------------------------------------------------------------------------
    def value(self, q: Weighted, cost: float) -> float:
        """One statement's share of the objective at ``cost``."""
        if self.objective_name == "total":
            return q.weight * cost
        return q.calls * math.log(max(cost, 1e-6) / max(q.base_cost, 1e-6)) / self.total_calls

    def writes(self, config: frozenset[IndexSpec]) -> float:
        charge = sum(self.write_cost(s) for s in config)
        if self.objective_name == "total" or charge == 0:
            return charge
        return math.log1p(charge / max(self.baseline_reads, 1e-9))

    def objective(self, config: frozenset[IndexSpec]) -> float:
        """The objective with ``config`` present, every statement planned with the whole set (exact)."""
        plans = self.whatif.plans([q.query for q in self.queries], config)
        reads = sum(
            self.value(q, p.cost if p else q.base_cost) for q, p in zip(self.queries, plans, strict=True)
        )
        return reads + self.writes(config)

    def floor(self, objective: float) -> float:
        """The smallest gain worth a move, from the objective as it stands."""
        if self.objective_name == "per-query":
            return self.min_geomean_gain
        return max(objective * MIN_GAIN_SHARE, self.min_gain)

    def used_bytes(self, config: frozenset[IndexSpec]) -> int:
        return sum(self.size(s) for s in config)

    # --- prices under the atomic-configuration assumption ---------------------------------------
    def users(self, spec: IndexSpec) -> tuple[int, ...]:
        """Statements whose plans picked ``spec`` in screening (screened on first use)."""
        if spec not in self._users:
            self._screen_more([spec], {})
        return self._users.get(spec, ())

    def cost(self, k: int, config: frozenset[IndexSpec]) -> float:
        """Cost of statement ``k`` with the indexes of ``config`` it picked in screening."""
        relevant = frozenset(s for s in config if k in self.users(s))
        key = (k, relevant)
        if key not in self._costs:
            q = self.queries[k]
            plan = self.whatif.plan(q.query, relevant) if relevant else None
            self._costs[key] = plan.cost if plan else q.base_cost
        return self._costs[key]

    def fast_value(self, config: frozenset[IndexSpec], statements: Iterable[int]) -> float:
        return sum(self.value(self.queries[k], self.cost(k, config)) for k in statements)

    def fast_objective(self, config: frozenset[IndexSpec]) -> float:
        return self.fast_value(config, range(len(self.queries))) + self.writes(config)

    def gain(self, config: frozenset[IndexSpec], move: _Move) -> float:
        touched = set(self.users(move.added))
        if move.replaced is not None:
            touched |= set(self.users(move.replaced))
        statements = sorted(touched)
        new = move.apply(config)
        before = self.fast_value(config, statements) + self.writes(config)
        after = self.fast_value(new, statements) + self.writes(new)
        return before - after

    def marginal_gain(self, config: frozenset[IndexSpec], spec: IndexSpec) -> float:
        """What the objective loses if ``spec`` alone is left out of ``config`` (priced as the search prices)."""
        return self.gain(config - {spec}, _Move(spec, None, ""))

    def headroom(self, config: frozenset[IndexSpec], move: _Move) -> float:
        """An upper bound on ``move``'s gain without a planner call: what its statements could still gain."""
        if not self.thorough:
            return math.inf  # screened one at a time: no cost with every candidate present to bound by
        bound = 0.0
        for k in self.users(move.added):
            q = self.queries[k]
            bound += max(0.0, self.value(q, self.cost(k, config)) - self.value(q, self._best_cost[k]))
        return bound

    # --- screening ---------------------------------------------------------------------------
    def screen(self, candidates: Sequence[IndexSpec]) -> dict[IndexSpec, float]:
        """An optimistic gain for each candidate that fits the budget; the rest are left out."""
        fitting = sorted(s for s in set(candidates) if self.smallest_size(s) <= self.budget)
        bounds = self._screen_more(fitting, {})
        return {s: bounds[s] - self.writes(frozenset([s])) for s in fitting if self.whatif.supported(s)}

    def screen_group(
        self, specs: Sequence[IndexSpec], widened_from: Mapping[IndexSpec, IndexSpec]
    ) -> dict[IndexSpec, float]:
        """Plan each statement with every spec it could use present, note what it picks, take that
        away and plan again, for up to ``SCREEN_ROUNDS`` rounds: each statement names its best few
        indexes per table in a handful of calls, not one call per candidate. A picked spec is
        credited with the whole gain of the plan that picked it (an upper bound)."""
        users: dict[IndexSpec, list[int]] = {s: [] for s in specs}
        bounds: dict[IndexSpec, float] = dict.fromkeys(specs, 0.0)
        for k, q in enumerate(self.queries):
            remaining = {s for s in specs if q.may_use(s) and self._may_pick(k, s, widened_from)}
            for round_number in range(SCREEN_ROUNDS):  # round 0: every spec present, the best cost
                if not remaining:
                    break
                plan = self.whatif.plan(q.query, frozenset(remaining))
                used = {s for s in remaining if plan is not None and s.name in plan.indexes}
                if not used:
                    break
                if round_number == 0:
                    self._best_cost[k] = min(self._best_cost[k], plan.cost)
                # the best plan with ``remaining`` present uses only ``used``: it is also the best with ``used`` alone
                self._costs.setdefault((k, frozenset(used)), plan.cost)
                gain = self.value(q, q.base_cost) - self.value(q, plan.cost)
                for spec in used:
                    users[spec].append(k)
                    bounds[spec] += gain
                remaining -= used
        for spec in specs:
            self._users[spec] = tuple(users[spec])
        return bounds

    def _screen_more(
        self, specs: Sequence[IndexSpec], widened_from: Mapping[IndexSpec, IndexSpec]
    ) -> dict[IndexSpec, float]:
        return self.screen_group(specs, widened_from) if self.thorough else self.screen_alone(specs)

    def screen_alone(self, specs: Sequence[IndexSpec]) -> dict[IndexSpec, float]:
        """One candidate at a time (for rolled-back real builds, where building every candidate for every
        statement again and again would cost far more than building each once)."""
        bounds: dict[IndexSpec, float] = {}
        for spec in specs:
            statements = [k for k, q in enumerate(self.queries) if q.may_use(spec)]
            plans = self.whatif.plans([self.queries[k].query for k in statements], frozenset([spec]))
            users = []
            bounds[spec] = 0.0
            for k, plan in zip(statements, plans, strict=True):
                if plan is not None and spec.name in plan.indexes:
                    users.append(k)
                    self._costs[(k, frozenset([spec]))] = plan.cost
                    q = self.queries[k]
                    bounds[spec] += self.value(q, q.base_cost) - self.value(q, plan.cost)
            self._users[spec] = tuple(users)
        return bounds

    def _may_pick(self, k: int, spec: IndexSpec, widened_from: Mapping[IndexSpec, IndexSpec]) -> bool:
        """A widened index is planned only for the statements that picked the narrower one: it is there
        to serve them better (a statement that wants both columns but not the narrower index has its own
        multi-column candidates)."""
        narrower = widened_from.get(spec)
        return narrower is None or k in self.users(narrower)

    # --- search ------------------------------------------------------------------------------
    def run(self, candidates: Sequence[IndexSpec]) -> Selection:
        screened = self._optimistic = self.screen(candidates)
        pool = sorted(s for s, gain in screened.items() if gain > self.min_gain and self.users(s))
        if self.max_pool is not None:
            pool = self._best_per_table(pool)
        best, moves = self.greedy(pool, True, frozenset())
        best_value = self.fast_objective(best)
        if self.thorough:
            for seed in self.seeds(pool, best):
                start = self.make_room(best, seed)
                config, log = self.greedy(pool, True, start | {seed})
                value = self.fast_objective(config)
                if value < best_value - self.floor(best_value):
                    best, best_value, moves = config, value, [f"make room for {seed.label}", *log]
        best, more = self.improve(best, pool if self.thorough else [])
        moves += more
        return Selection(sorted(best), self.baseline, self.objective(best), screened, moves)

    def make_room(self, config: frozenset[IndexSpec], seed: IndexSpec) -> frozenset[IndexSpec]:
        """``config`` less its members worth least per byte (each priced as the set stands) until ``seed`` fits:
        the greedy then refills from there instead of starting over (most of the set survives a seed)."""
        ranked = sorted(
            config, key=lambda s: (self.marginal_gain(config, s) / max(self.size(s), 8192), s.sort_key)
        )
        kept = set(config)
        for spec in ranked:
            if self.used_bytes(frozenset(kept)) + self.size(seed) <= self.budget:
                break
            kept.discard(spec)
        return frozenset(kept)

    def seeds(self, pool: list[IndexSpec], chosen: frozenset[IndexSpec]) -> list[IndexSpec]:
        """Large candidates with the best optimistic gain that ratio greedy left out: its blind spot is an
        index worth much in total but little per byte next to many small ones. Only indexes larger than
        any it chose: one it could have afforded was not left out for its size."""
        largest = max((self.size(s) for s in chosen), default=0)
        floor = max(largest + 1, SEED_MIN_SHARE * self.budget)
        ranked = sorted(
            (s for s in pool if s not in chosen and self.smallest_size(s) <= self.budget),
            key=lambda s: (-self._optimistic[s], s.sort_key),
        )
        found: list[IndexSpec] = []
        for spec in ranked:  # exact sizes only for the few at the top
            if len(found) == SEEDS:
                break
            if floor <= self.size(spec) <= self.budget:
                found.append(spec)
        return found

    def _best_per_table(self, pool: list[IndexSpec]) -> list[IndexSpec]:
        """The ``max_pool`` best candidates of each table by gain per byte (for slow what-if backends)."""
        kept = []
        for table in sorted({s.table for s in pool}):
            ranked = sorted(
                (s for s in pool if s.table == table),
                key=lambda s: (-self._optimistic[s] / max(self.size(s), 8192), s.sort_key),
            )
            kept.extend(ranked[: self.max_pool])
        return sorted(kept)

    def greedy(
        self, pool: list[IndexSpec], by_ratio: bool, start: frozenset[IndexSpec]
    ) -> tuple[frozenset[IndexSpec], list[str]]:
        """Lazy greedy: a move is priced again only when an upper bound on its score could still win."""
        config = start
        version = 0
        log: list[str] = []
        heap: list[tuple[float, tuple, int, _Move]] = []  # (-score bound, order, version priced at, move)

        def extra(move: _Move, exact: bool = True) -> int:
            """Bytes the move adds; not ``exact``: a lower bound that samples nothing (see ``smallest_size``)."""
            added = self.size(move.added) if exact else self.smallest_size(move.added)
            return added - (self.size(move.replaced) if move.replaced else 0)

        def score(move: _Move, gain: float, exact: bool = True) -> float:
            return gain / max(extra(move, exact), 8192) if by_ratio else gain

        def push(move: _Move, bound: float, priced_at: int = -1) -> None:
            heapq.heappush(heap, (-bound, move.order, priced_at, move))

        sized: set[_Move] = set()  # moves whose exact size is known (counted only when they would win)
        priced: dict[_Move, float] = {}  # the last priced gain of each move
        #: moves set aside for a gain under the floor: a later move can raise it again (a widening takes its
        #: narrower index away), so those touching the statements a chosen move re-priced come back
        asleep: list[_Move] = []

        room = self.budget - self.used_bytes(config)
        moves = [m for m in self._moves(config, pool) if extra(m, False) <= room]
        bounds = self._screen_more(
            [m.added for m in moves if m.added not in self._users],
            {m.added: m.replaced for m in moves if m.replaced},
        )
        for move in moves:
            push(move, score(move, bounds.get(move.added, self._optimistic.get(move.added, math.inf)), False))
        while True:
            room = self.budget - self.used_bytes(config)
            floor = self.floor(self.fast_objective(config))
            chosen: _Move | None = None
            while heap:
                bound, _, priced_at, move = heapq.heappop(heap)
                if not self._applies(config, move) or extra(move, move in sized) > room:
                    continue  # the room only shrinks: a move that does not fit never will
                if priced_at == version:
                    if move not in sized:  # it would win on its smallest size: count its exact size now
                        sized.add(move)
                        if extra(move) > room:
                            continue
                        exact = score(move, priced[move])
                        if heap and exact < -heap[0][0]:
                            push(move, exact, version)
                            continue
                    chosen = move  # priced against this very set, and no bound beats it
                    break
                cheap = min(-bound, score(move, self.headroom(config, move), move in sized))
                if heap and cheap < -heap[0][0]:
                    push(move, cheap)  # cannot win now; look again when its bound is the best
                    continue
                gain = self.gain(config, move)
                if gain <= floor:
                    asleep.append(move)
                    continue
                priced[move] = gain
                push(move, score(move, gain, move in sized), version)
            if chosen is None:
                return config, log
            config = chosen.apply(config)
            version += 1
            log.append(chosen.text)
            room = self.budget - self.used_bytes(config)
            if chosen.replaced is not None:  # only a widening takes an index away: others may gain again
                touched = set(self.users(chosen.replaced))
                awake = [m for m in asleep if touched & set(self.users(m.added))]
                asleep = [m for m in asleep if m not in awake]
                for move in awake:
                    if self._applies(config, move) and extra(move, move in sized) <= room:
                        push(move, score(move, self.headroom(config, move), move in sized))
            widenings = [m for m in self._widenings(config, chosen.added) if extra(m, False) <= room]
            bounds = self._screen_more(
                [m.added for m in widenings if m.added not in self._users],
                {m.added: m.replaced for m in widenings if m.replaced},
            )
            for move in widenings:
                push(
                    move,
                    score(move, bounds.get(move.added, self._optimistic.get(move.added, math.inf)), False),
                )

    @staticmethod
    def _applies(config: frozenset[IndexSpec], move: _Move) -> bool:
        """Is ``move`` still a move from ``config``? (its index not chosen yet, the one it widens still chosen)"""
        if move.added in config:
            return False
        return move.replaced is None or move.replaced in config

    def _moves(self, config: frozenset[IndexSpec], pool: list[IndexSpec]) -> Iterator[_Move]:
        for spec in pool:
            if spec not in config:
                yield _Move(spec, None, f"add {spec.label}")
        for spec in sorted(config):
            yield from self._widenings(config, spec)

    def _widenings(self, config: frozenset[IndexSpec], spec: IndexSpec) -> Iterator[_Move]:
        if spec.method != "btree" or len(spec.keys) >= MAX_KEYS:
            return
        wanted: set[str] = set()  # columns the statements that picked ``spec`` read there (Extend's rule)
        for k in self.users(spec):
            referenced = self.queries[k].columns.get(spec.table)
            wanted |= set(self.widen_with.get(spec.table, [])) if referenced is None else referenced
        for column in self.widen_with.get(spec.table, []):
            if column in spec.keys or column not in wanted:
                continue
            wider = spec.widened(column)
            if wider in config or not self.whatif.supported(wider):
                continue
            yield _Move(wider, spec, f"widen {spec.label} by {column}")

    def improve(
        self, config: frozenset[IndexSpec], pool: list[IndexSpec]
    ) -> tuple[frozenset[IndexSpec], list[str]]:
        """Drop what the others made redundant; swap one chosen index for a better one; refill the room."""
        log: list[str] = []
        ranked = sorted(
            pool, key=lambda s: (-self._optimistic.get(s, 0.0) / max(self.smallest_size(s), 8192), s.sort_key)
        )
        for _ in range(LOCAL_ROUNDS):
            changed = False
            for spec in sorted(config):
                if self.marginal_gain(config, spec) < self.floor(self.fast_objective(config)):
                    config, changed = config - {spec}, True
                    log.append(f"drop {spec.label}: the rest of the set already gives its gain")
            for spec in sorted(config):
                rest = config - {spec}
                room = self.budget - self.used_bytes(rest)
                tried = 0
                for other in ranked:
                    if other in config or self.smallest_size(other) > room or self.size(other) > room:
                        continue
                    tried += 1
                    if tried > SWAP_CANDIDATES:
                        break
                    swap = _Move(other, spec, "")
                    if self.gain(config, swap) > self.floor(self.fast_objective(config)):
                        config, changed = swap.apply(config), True
                        log.append(f"swap {spec.label} for {other.label}")
                        break
                if changed:
                    break
            if changed and pool:
                config, more = self.greedy(pool, True, config)
                log += more
            if not changed:
                break
        return config, log
