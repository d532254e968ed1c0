"""What would the planner do if these indexes existed? Every answer is cached.

With HypoPG the indexes are hypothetical: ``hypopg_create_index`` writes only this backend's
memory, so it works in a read-only session. Without HypoPG, and only when the caller asks for it
by name (``allow_real_indexes``, the CLI's ``--allow-real-indexes``), the indexes are built for
real inside a transaction that is always rolled back; that holds a SHARE lock on the table
(writes wait) while the index builds. Either way nothing is left behind. With neither (backend
"none") only the existing indexes are planned: the advisor then proposes unverified candidates.

A query's plan depends only on the indexes of the tables it reads, so the cache key is the
query and the part of the index set on its tables: most configurations a search tries are
answered without calling the planner. The statements themselves (HypoPG's functions, the
rolled-back builds, EXPLAIN) are the engine's, reached through its ``what_if()`` and
``planner(conn)`` (``dbwright.engines.base``); an engine without them is refused in one line.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from dbwright.advisors.indexes.plans import PlanSummary
from dbwright.advisors.indexes.spec import IndexSpec
from dbwright.engines import base
from dbwright.engines.base import Connection, Engine, IndexRefusedError, PlanError
from dbwright.engines.registry import default_engine
from dbwright.errors import RefusedError
from dbwright.model import Snapshot

#: Backends: HypoPG's hypothetical indexes, rolled-back real builds, or no what-if at all.
BACKENDS = ("hypopg", "real", "none")


def what_if_of(engine: Engine) -> base.WhatIf:
    """The engine's what-if machinery; RefusedError when it has none."""
    machinery = engine.what_if()
    if machinery is None:
        raise RefusedError(
            f"the {engine.name} engine does not support what-if indexes: cannot advise indexes"
        )
    return machinery


def planner_of(engine: Engine, conn: Connection) -> base.Planner:
    """The engine's planner on ``conn``; RefusedError when it has none."""
    planner = engine.planner(conn)
    if planner is None:
        raise RefusedError(
            f"the {engine.name} engine does not support planning statements: cannot advise indexes"
        )
    return planner


@dataclass(frozen=True)
class PlannableQuery:
    """A workload statement as the evaluator needs it."""

    key: str
    sql: str
    parameters: int
    tables: frozenset[str]
    parameter_columns: tuple[tuple[int, str, str], ...] = ()

    def columns_by_parameter(self) -> dict[int, tuple[str, str]]:
        return {n: (t, c) for n, t, c in self.parameter_columns}


@dataclass
class LockCost:
    """What rolled-back real builds cost the server: writers wait while each index builds."""

    table: str
    builds: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        return (
            f"{self.builds} rolled-back CREATE INDEX on {self.table}: its SHARE lock made writers wait "
            f"for {self.seconds:.2f} s in total"
        )


@dataclass
class Evaluations:
    planner_calls: int = 0
    cache_hits: int = 0
    hypothetical_created: int = 0
    real_built: int = 0
    unsupported: dict[IndexSpec, str] = field(default_factory=dict)
    lock_costs: dict[str, LockCost] = field(default_factory=dict)


class WhatIf:
    """Plans of queries under index sets, from HypoPG or from rolled-back real builds."""

    def __init__(
        self,
        conn: Connection,
        snapshot: Snapshot,
        *,
        backend: str,
        allow_real_indexes: bool = False,
        real_index_limit: int | None = None,
        engine: Engine | None = None,
    ) -> None:
        """``engine`` is the server's engine (the default engine when None): its what-if and planner.

        The "real" backend needs ``allow_real_indexes``; ``real_index_limit`` (bytes, None: no
        limit) then still refuses real builds on tables larger than it.
        """
        if backend not in BACKENDS:
            raise ValueError(backend)
        if backend == "real" and not allow_real_indexes:
            raise RefusedError(
                "real (rolled-back) index builds take SHARE locks: they need --allow-real-indexes"
            )
        engine = engine or default_engine()
        self.machinery = what_if_of(engine)
        self.conn = conn
        self.snapshot = snapshot
        self.backend = backend
        self.allow_real_indexes = allow_real_indexes
        self.real_index_limit = real_index_limit
        self.planner = planner_of(engine, conn)
        self.stats = Evaluations()
        self._cache: dict[tuple[str, frozenset[IndexSpec]], PlanSummary | None] = {}
        self.hypothetical = self.machinery.HypotheticalIndexes(conn)
        self._names: dict[str, IndexSpec] = {}  # raw index name in the current session -> spec
        self._by_spec_name: dict[str, IndexSpec] = {}
        self._real_serial = 0
        self.last_error = ""
        self._base: frozenset[IndexSpec] | None = None  # real indexes the open transaction holds
        self._previous: frozenset[IndexSpec] = frozenset()
        self._locked_since: dict[str, float] = {}

    # --- public ------------------------------------------------------------------------------
    def supported(self, spec: IndexSpec) -> bool:
        return spec not in self.stats.unsupported

    def spec_of(self, index_name: str) -> IndexSpec | None:
        """The candidate behind an index name in a summarised plan (names are canonical spec names)."""
        return self._by_spec_name.get(index_name)

    def index_label(self, index_name: str) -> str:
        return index_name

    def plan(self, query: PlannableQuery, config: Iterable[IndexSpec] = ()) -> PlanSummary | None:
        return self.plans([query], config)[0]

    def plans(
        self, queries: Sequence[PlannableQuery], config: Iterable[IndexSpec] = ()
    ) -> list[PlanSummary | None]:
        """Plan of each query with ``config`` added to the existing indexes; None if it cannot be planned."""
        config = frozenset(s for s in config if self.supported(s))
        keys = [(q.key, frozenset(s for s in config if s.table in q.tables)) for q in queries]
        missing = [(q, k) for q, k in zip(queries, keys, strict=True) if k not in self._cache]
        self.stats.cache_hits += len(queries) - len(missing)
        if missing:
            needed = frozenset().union(*(k[1] for _, k in missing))
            if self.backend == "hypopg":
                self._plan_hypothetical(missing, needed)
            elif self.backend == "real":
                self._plan_real(missing, needed)
            elif needed:
                raise RefusedError("no what-if backend: indexes that do not exist cannot be planned")
            else:
                for query, key in missing:
                    self._cache[key] = self._explain(query)
        return [self._cache.get(k) for k in keys]

    @property
    def planner_calls(self) -> int:
        return self.planner.calls

    def close(self) -> None:
        """Leave nothing behind: no hypothetical index, no prepared statement, settings reset."""
        if self.machinery.is_closed(self.conn):
            return
        if self.backend == "hypopg":
            self.hypothetical.reset()
        self._end_real()
        self.machinery.rollback_if_in_transaction(self.conn)
        self.planner.close()

    def leftovers(self) -> dict[str, int]:
        """What the evaluation left in the session and the catalog (both must be 0)."""
        return self.machinery.leftovers(self.conn, hypopg=self.backend == "hypopg")

    # --- HypoPG ------------------------------------------------------------------------------
    def _plan_hypothetical(self, missing: list, needed: frozenset[IndexSpec]) -> None:
        self._ensure_hypothetical(needed, frozenset().union(*(q.tables for q, _ in missing)))
        for query, key in missing:
            self._cache[key] = self._explain(query)

    def _ensure_hypothetical(
        self, wanted: frozenset[IndexSpec], tables: frozenset[str] | None = None
    ) -> None:
        """Exactly ``wanted`` among the hypothetical indexes on ``tables`` (all tables when None).

        Indexes on other tables may stay: the planner never looks at an index of a table the
        statement does not read, and keeping them spares drop-and-create churn.
        """
        created, refused = self.hypothetical.ensure(wanted, tables)
        for spec, oid, name in created:
            self._created(spec, oid, name)
        self.stats.unsupported.update(refused)

    def _created(self, spec: IndexSpec, oid: int, name: str) -> None:
        self._names = {n: s for n, s in self._names.items() if not n.startswith(f"<{oid}>")}
        self._names[name] = spec
        self.stats.hypothetical_created += 1

    # --- real indexes in rolled-back transactions ------------------------------------------------
    def refusal(self, spec: IndexSpec) -> str | None:
        """Why a real build of ``spec`` is refused, or None when it may be built and rolled back."""
        table = self.snapshot.table(spec.table)
        size = table.heap_bytes if table else 0
        if self.real_index_limit is not None and size > self.real_index_limit:
            return (
                f"no HypoPG: a real rolled-back build on {spec.table} ({size / 1024**2:.0f} MB, over the "
                f"{self.real_index_limit / 1024**2:.0f} MB limit given) would block its writes too long"
            )
        return None

    def _plan_real(self, missing: list, needed: frozenset[IndexSpec]) -> None:
        """One write transaction holds the indexes most evaluations share; the rest live in a savepoint.

        A search mostly asks for "the chosen set plus one more", so the chosen set is built
        once and each extra candidate is built and rolled back inside a savepoint. When an
        evaluation needs a set without an index the transaction holds (on a table it reads),
        the transaction is rolled back and started again.
        """
        for spec in sorted(needed):
            reason = self.refusal(spec)
            if reason:
                self.stats.unsupported[spec] = reason
        needed = frozenset(s for s in needed if self.supported(s))
        tables = frozenset().union(*(q.tables for q, _ in missing))
        if self._base is not None and any(s.table in tables and s not in needed for s in self._base):
            keep = frozenset(s for s in self._base if s in needed)
            self._end_real()
            self._begin_real()
            self._base = frozenset(self._build(keep))
        if self._base is None:
            self._begin_real()
        shared = (needed & self._previous) - self._base
        if shared:
            self._base = self._base | self._build(shared)
        self._previous = needed
        with self.machinery.rolled_back_savepoint(self.conn):
            built = self._build(needed - self._base) | {s for s in needed if s in self._base}
            for query, key in missing:
                usable = frozenset(s for s in key[1] if s in built)
                self._cache[(key[0], usable)] = self._cache[key] = self._explain(query)

    def _begin_real(self) -> None:
        self.machinery.begin_write(self.conn)
        self._base = frozenset()
        self._locked_since: dict[str, float] = {}

    def _end_real(self) -> None:
        """Roll back every real index, and book how long each table's SHARE lock was held."""
        if self._base is None:
            return
        self.machinery.rollback(self.conn)
        now = time.perf_counter()
        for table, since in self._locked_since.items():
            self.stats.lock_costs.setdefault(table, LockCost(table)).seconds += now - since
        self._base = None
        self._locked_since = {}

    def _build(self, specs: frozenset[IndexSpec]) -> set[IndexSpec]:
        built = set()
        for spec in sorted(specs):
            self._real_serial += 1
            name = f"dbwright_whatif_{self._real_serial}"
            try:
                self.machinery.build_index(self.conn, spec.definition(name))
            except IndexRefusedError as error:
                self.stats.unsupported[spec] = str(error)
                continue
            self._names[name] = spec
            built.add(spec)
            self.stats.real_built += 1
            self._locked_since.setdefault(spec.table, time.perf_counter())
            self.stats.lock_costs.setdefault(spec.table, LockCost(spec.table)).builds += 1
        return built

    def write_transaction(self) -> AbstractContextManager[Connection]:
        """BEGIN READ WRITE … ROLLBACK, always rolled back, with a short lock_timeout."""
        return self.machinery.RolledBackWrite(self.conn)

    def plan_without(
        self, queries: Sequence[PlannableQuery], index_qname: str, config: Iterable[IndexSpec] = ()
    ) -> list[PlanSummary | None]:
        """Plans with ``config`` added and an existing index dropped, inside a rolled-back transaction.

        HypoPG 1.3.1 has no hypopg_hide_index, so the drop is a real DROP INDEX: it takes an
        ACCESS EXCLUSIVE lock on the table until the rollback a few milliseconds later, and
        lock_timeout keeps it from queueing behind other sessions.
        """
        if not self.allow_real_indexes:
            raise RefusedError("simulating a DROP INDEX needs --allow-real-indexes (it is rolled back)")
        config = frozenset(s for s in config if self.supported(s))
        if self.backend == "hypopg":
            self._ensure_hypothetical(config)
        self._end_real()
        with self.write_transaction():
            if self.backend == "real":
                self._build(config)
            self.machinery.drop_index(self.conn, index_qname)
            return [self._explain(q) for q in queries]

    # --- planning ----------------------------------------------------------------------------
    def _explain(self, query: PlannableQuery) -> PlanSummary | None:
        try:
            plan = self.planner.plan(query.sql, query.parameters, query.columns_by_parameter())
        except PlanError as error:
            self.last_error = str(error)
            return None
        summary = PlanSummary.of(plan)
        return summary.renamed(self._canonical)

    def _canonical(self, raw: str) -> str:
        """HypoPG reuses OIDs, so a plan's index names are made stable at once: the spec's name."""
        spec = self._names.get(raw)
        if spec is None:
            return raw
        self._by_spec_name[spec.name] = spec
        return spec.name
