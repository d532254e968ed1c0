"""``advise_indexes``: the one API behind ``dbwright advise indexes``, the demo and the MCP server.

Read the catalog and a workload, plan each statement, generate candidates from the parse
trees and plans, price index sets with the what-if evaluator, choose the set that lowers the
workload's cost most within the budget, and say which existing indexes to drop. The session
is read-only; HypoPG's hypothetical indexes live only in this backend's memory. Without
HypoPG nothing is built unless the caller asks for it by name (``allow_real_indexes``, the CLI's
``--allow-real-indexes``: real builds in transactions that are always rolled back, which hold
SHARE locks). Otherwise the advice needs no what-if: candidates from the workload's statements
and plans, labelled unverified, with what to do to price them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pglast
from pglast import ast

from dbwright.advisors.indexes import candidates as cand
from dbwright.advisors.indexes import existing
from dbwright.advisors.indexes import workload as wl
from dbwright.advisors.indexes.plans import PlanSummary, changed_node
from dbwright.advisors.indexes.querytree import QueryShape, analyze, resolve_table
from dbwright.advisors.indexes.select import OBJECTIVES, Selector, Weighted
from dbwright.advisors.indexes.sizes import SampledDistinct
from dbwright.advisors.indexes.spec import IndexSpec
from dbwright.advisors.indexes.whatif import PlannableQuery, WhatIf, what_if_of
from dbwright.engines.base import Connection, Engine
from dbwright.engines.registry import default_engine, engine_for_target
from dbwright.errors import InputFileError, InvalidArgumentError, RefusedError
from dbwright.model import Snapshot
from dbwright.model.operations import qident
from dbwright.model.package import ChangePackage

ADVICE_FORMAT = 1
#: Without a budget: 10% of the database, but at least 64 MB (small databases still get their indexes).
DEFAULT_BUDGET_SHARE = 0.10
DEFAULT_BUDGET_FLOOR = 64 * 1024**2
#: For one statement, an index that saves less than this (planner cost units, about ten page reads)
#: is left out as noise: e.g. a covering index for a primary-key lookup costing 8. explain uses it too.
MIN_SAVING = 10.0
#: Planner cost units charged per index entry written (insert, or update that is not HOT, or the
#: delete's later cleanup). About what a B-tree descent and a dirtied leaf cost next to
#: cpu_tuple_cost = 0.01 per row a scan reads.
INDEX_WRITE_COST = 0.5
#: Real (rolled-back) builds are slow: the search keeps each table's best candidates by gain per byte.
REAL_POOL = 4
#: The label of advice no what-if priced.
UNVERIFIED = "unverified: no what-if"

Progress = Callable[[str], None]


# --- results -------------------------------------------------------------------------------------


@dataclass
class QueryEffect:
    key: str
    sql: str
    calls: int
    cost_before: float
    cost_after: float
    weight: float
    plan_change: str = ""
    estimated: bool = True  # False: no what-if planned it with the new indexes (cost_after is cost_before)

    @property
    def improvement(self) -> float:
        return 1 - self.cost_after / self.cost_before if self.cost_before > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "sql": self.sql,
            "calls": self.calls,
            "cost_before": round(self.cost_before, 2),
            "cost_after": round(self.cost_after, 2) if self.estimated else None,
            "improvement": round(self.improvement, 4) if self.estimated else None,
            "plan_change": self.plan_change,
        }


@dataclass
class Recommendation:
    spec: IndexSpec
    package: ChangePackage
    estimated_bytes: int
    build_seconds: float
    write_overhead: float  # objective units per workload window
    rows_written: float
    gain: float  # objective units lost if this index alone were left out of the set
    origin: str
    helps: list[QueryEffect] = field(default_factory=list)
    verified: bool = True  # False: a candidate from the workload, never priced by a what-if

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.spec.to_dict(),
            "origin": self.origin,
            "verified": self.verified,
            "estimated_bytes": self.estimated_bytes,
            "build_seconds": round(self.build_seconds, 2),
            "write_overhead": round(self.write_overhead, 3),
            "rows_written": self.rows_written,
            "gain": round(self.gain, 3) if self.verified else None,
            "helps": [h.to_dict() for h in self.helps],
            "package": self.package.to_dict(),
        }


@dataclass
class IndexAdvice:
    database: str
    server_version: int
    backend: str  # "hypopg", "real indexes, rolled back" or "none" (unverified advice)
    unit: str  # "ms" when the workload has timings, else "cost"
    budget_bytes: int
    used_bytes: int
    total_before: float
    total_after: float
    write_overhead: float
    recommendations: list[Recommendation]
    drops: list[existing.DropProposal]
    queries: list[QueryEffect]
    skipped: list[wl.SkippedQuery]
    unsupported: dict[str, str]
    notes: list[str]
    planner_calls: int
    cache_hits: int
    candidates: int
    leftovers: dict[str, int]
    elapsed_s: float
    sources: tuple[str, ...] = ()
    moves: list[str] = field(default_factory=list)
    #: Without a what-if: what to do to price the advice (install HypoPG, or --allow-real-indexes).
    hint: str = ""
    #: HypoPG's versions: installed in this database, and offered by the server's packages (None: absent).
    hypopg_installed: str | None = None
    hypopg_on_server: str | None = None

    @property
    def verified(self) -> bool:
        """True when a what-if (HypoPG or rolled-back builds) priced the recommendations."""
        return self.backend != "none"

    @property
    def improvement(self) -> float:
        return 1 - self.total_after / self.total_before if self.total_before > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": ADVICE_FORMAT,
            "database": self.database,
            "server_version": self.server_version,
            "what_if": self.backend,
            "verified": self.verified,
            "hint": self.hint,
            "hypopg": {"installed": self.hypopg_installed, "on_server": self.hypopg_on_server},
            "unit": self.unit,
            "sources": list(self.sources),
            "budget_bytes": self.budget_bytes,
            "used_bytes": self.used_bytes,
            "total_before": round(self.total_before, 3),
            "total_after": round(self.total_after, 3) if self.verified else None,
            "improvement": round(self.improvement, 4) if self.verified else None,
            "write_overhead": round(self.write_overhead, 3),
            "recommendations": [r.to_dict() for r in self.recommendations],
            "drops": [d.to_dict() for d in self.drops],
            "queries": [q.to_dict() for q in self.queries],
            "skipped": [s.to_dict() for s in self.skipped],
            "unsupported": self.unsupported,
            "notes": self.notes,
            "planner_calls": self.planner_calls,
            "cache_hits": self.cache_hits,
            "candidates": self.candidates,
            "leftovers": self.leftovers,
            "elapsed_s": round(self.elapsed_s, 3),
            "search": self.moves,
        }


# --- the API -------------------------------------------------------------------------------------


def advise_indexes(
    target: str | Connection | None,
    *,
    budget: str | int | None = None,
    workload: wl.Workload | None = None,
    workload_files: Sequence[Path] = (),
    log_files: Sequence[Path] = (),
    query: str | None = None,
    min_calls: int = 0,
    min_time_ms: float = 0.0,
    weight_by: str = "total_time",
    allow_real_indexes: bool = False,
    real_index_limit: int | None = None,
    what_if: str = "auto",
    objective: str = "auto",
    snapshot: Snapshot | None = None,
    progress: Progress | None = None,
    engine: Engine | None = None,
    min_observed_days: float = existing.MIN_OBSERVED_DAYS,
) -> IndexAdvice:
    """Recommend indexes for a workload within ``budget`` (bytes, "500MB" or "10%" of the database;
    default 10% of the database but at least 64 MB).

    ``target`` is a connection target (URL, conninfo, database name) or an open
    connection, which is used as is and left open. The workload is ``workload``, else the
    files, logs and query given, else pg_stat_statements. ``what_if`` is "auto" (HypoPG when
    installed, else rolled-back real builds when ``allow_real_indexes``, else none), "hypopg",
    "real" (needs ``allow_real_indexes``) or "none". Without a what-if nothing is built: the
    advice is the workload's candidates, unverified, with a hint saying how to price them.
    ``real_index_limit`` (bytes) refuses real builds on larger tables. ``objective`` is "total" (the
    workload's summed cost or time), "per-query" (the geometric mean of each statement's cost
    ratio) or "auto": total when the workload has timings, per-query when it has none. ``engine``
    is the server's engine: by default the target's, or the default engine for an open connection;
    one without what-if indexes is refused before connecting. ``min_observed_days`` is the
    observation window an unused index needs before it is proposed for a drop (DW203's, default 7).
    """
    from dbwright.engines.postgres.introspect import snapshot as take

    started = time.perf_counter()
    step = progress or (lambda _text: None)
    if weight_by not in wl.WEIGHTINGS:
        raise InvalidArgumentError(f"unknown weighting {weight_by!r}; use one of {', '.join(wl.WEIGHTINGS)}")
    if objective not in ("auto", *OBJECTIVES):
        raise InvalidArgumentError(f"unknown objective {objective!r}; use auto, {', '.join(OBJECTIVES)}")
    if min_observed_days < 0:
        raise InvalidArgumentError(f"min_observed_days must be 0 or more, not {min_observed_days:g}")
    owned = target is None or isinstance(target, str)
    engine = engine or (engine_for_target(target) if owned else default_engine())
    machinery = what_if_of(engine)
    conn = engine.connect(target) if owned else target
    try:
        step("reading the catalog")
        snap = snapshot or take(conn)
        load = _workload(snap, workload, workload_files, log_files, query).filtered(
            min_calls=min_calls, min_time_ms=min_time_ms
        )
        installed, on_server = machinery.hypopg_status(conn)
        backend = _backend(installed, on_server, what_if, allow_real_indexes)
        whatif = WhatIf(
            conn,
            snap,
            backend=backend,
            allow_real_indexes=allow_real_indexes,
            real_index_limit=real_index_limit,
            engine=engine,
        )
        try:
            advisor = _Advisor(snap, load, whatif, _budget_bytes(budget, snap), weight_by, step, objective)
            advisor.min_observed_days = min_observed_days
            advice = advisor.run()
        finally:
            whatif.close()
        advice.hypopg_installed, advice.hypopg_on_server = installed, on_server
        if backend == "none":
            advice.hint = what_to_do(on_server)
        advice.leftovers = whatif.leftovers()
        advice.elapsed_s = time.perf_counter() - started
        return advice
    finally:
        if owned:
            conn.close()


def _workload(
    snap: Snapshot, given: wl.Workload | None, files: Sequence[Path], logs: Sequence[Path], query: str | None
) -> wl.Workload:
    parts = [given] if given is not None else []
    parts += [wl.from_sql_file(Path(f)) for f in files]
    parts += [wl.from_log_file(Path(f)) for f in logs]
    if query:
        parts.append(wl.from_query(query))
    if not parts:
        reason = snap.skipped_reason("statements")
        if reason:
            raise InputFileError(f"no workload: {reason}; give --workload-file, --log-file or --query")
        parts.append(wl.from_statements(snap.workload_statements()))
    return wl.merge(parts)


def _backend(installed: str | None, on_server: str | None, what_if: str, allow_real_indexes: bool) -> str:
    """The what-if to use: HypoPG when installed; real builds only when allowed by name; else none."""
    if what_if not in ("auto", "hypopg", "real", "none"):
        raise InvalidArgumentError(f"unknown what-if mode {what_if!r}; use auto, hypopg, real or none")
    if what_if == "hypopg" and installed is None:
        raise RefusedError(f"HypoPG is not installed in this database: {what_to_do(on_server)}")
    if what_if == "real" and not allow_real_indexes:
        raise RefusedError(
            "the real what-if builds indexes (rolled back, under SHARE locks that make writers wait): "
            "it needs --allow-real-indexes (allow_real_indexes=True)"
        )
    if what_if in ("hypopg", "real", "none"):
        return what_if
    if installed is not None:
        return "hypopg"
    return "real" if allow_real_indexes else "none"


def what_to_do(on_server: str | None) -> str:
    """How to get verified advice without HypoPG in the database (one line)."""
    install = (
        f"the hypopg package ({on_server}) is on the server: run CREATE EXTENSION hypopg in this database"
        if on_server
        else "the hypopg package is not on the server: install it (e.g. postgresql-NN-hypopg, NN the "
        "server's major version), then run CREATE EXTENSION hypopg in this database"
    )
    return (
        f"{install} to price candidates with hypothetical indexes (nothing is built); or pass "
        "--allow-real-indexes to price them with real CREATE INDEX builds in transactions that are "
        "rolled back (each holds a SHARE lock: writes to its table wait while it builds)"
    )


def _plain_width(spec: IndexSpec) -> tuple[bool, int]:
    """Plain B-trees (no INCLUDE, no predicate) first, then the most keys: the unverified pick."""
    return (not spec.include and not spec.where and spec.method == "btree", len(spec.keys))


def parse_budget(text: str | int | None, database_bytes: int | None) -> int:
    """Bytes from 500MB, 1.5GB, 10% (of the database's size) or a plain byte count."""
    if text is None:
        return max(int(DEFAULT_BUDGET_SHARE * (database_bytes or 0)), DEFAULT_BUDGET_FLOOR)
    if isinstance(text, int):
        return text
    value = text.strip().upper().replace(" ", "")
    try:
        if value.endswith("%"):
            if not database_bytes:
                raise InvalidArgumentError(
                    "a budget in % needs the database size, which this role cannot read"
                )
            return int(float(value[:-1]) / 100 * database_bytes)
        units = {"TB": 1024**4, "GB": 1024**3, "MB": 1024**2, "KB": 1024, "B": 1}
        for unit, factor in units.items():
            if value.endswith(unit):
                return int(float(value[: -len(unit)]) * factor)
        return int(float(value))
    except ValueError:
        raise InvalidArgumentError(f"cannot read budget {text!r}; use e.g. 500MB, 2GB or 10%") from None


def _budget_bytes(budget: str | int | None, snap: Snapshot) -> int:
    database = snap.server.current_database
    return parse_budget(budget, database.size_bytes if database else None)


# --- the advisor -----------------------------------------------------------------------------------

_OBJECTIVE_NOTES = {
    "total": "objective: the workload's total cost (each statement weighted by its time or calls)",
    "per-query": "objective: the geometric mean of each statement's cost ratio (the workload has no timings, "
    "so every statement's own speed-up counts, not only the dearest statement's)",
}


def _columns(shape: QueryShape) -> dict[str, frozenset[str]]:
    """Per table, every column the statement references (an index on none of them cannot serve it)."""
    found = {}
    for table, use in shape.tables.items():
        names = set(use.referenced) | set(use.equal) | set(use.ranges) | set(use.joins) | set(use.group)
        names |= {c for c, _ in use.sort} | set(use.gin) | set(use.trigram)
        for columns in use.expression_columns.values():
            names |= set(columns)
        for columns in use.constants.values():
            names |= set(columns)
        found[table] = frozenset(names)
    return found


@dataclass
class _Statement:
    query: wl.Query
    shape: QueryShape
    plannable: PlannableQuery
    base: PlanSummary


class _Advisor:
    def __init__(
        self,
        snap: Snapshot,
        load: wl.Workload,
        whatif: WhatIf,
        budget: int,
        weight_by: str,
        step: Progress,
        objective: str = "auto",
    ) -> None:
        self.snap = snap
        self.load = load
        self.whatif = whatif
        self.budget = budget
        self.weight_by = weight_by
        self.objective = objective
        self.step = step
        self.min_observed_days = existing.MIN_OBSERVED_DAYS
        self.skipped = list(load.skipped)
        self.notes: list[str] = []
        self._fractions: dict[tuple[str, str], float | None] = {}
        self._sizes: dict[IndexSpec, int] = {}
        self._smallest: dict[IndexSpec, int] = {}  # lower bounds, for specs not sized exactly yet
        self.sampled = SampledDistinct(whatif.conn, snap, self.notes)

    def run(self) -> IndexAdvice:
        if self.whatif.backend == "none":
            return self.run_unverified()
        self.step("planning the workload")
        statements = self.plan_workload()
        weights, unit, to_objective = self.weights(statements)
        rows_written = self.rows_written(statements)
        self.rows = rows_written
        self.step("generating candidates")
        origins = self.candidates(statements)
        widen = self.widen_columns(statements)

        def write_cost(spec: IndexSpec) -> float:
            return rows_written.get(spec.table, 0.0) * INDEX_WRITE_COST * to_objective

        self.step(f"choosing among {len(origins)} candidates")
        weighted = [
            Weighted(
                s.plannable,
                weights[s.query.key],
                s.base.cost,
                float(max(s.query.calls, 1)),
                _columns(s.shape),
            )
            for s in statements
        ]
        objective = (
            self.objective if self.objective != "auto" else ("per-query" if unit == "cost" else "total")
        )
        self.notes.append(_OBJECTIVE_NOTES[objective])
        selector = Selector(
            self.whatif,
            weighted,
            size=self.size,
            smallest_size=self.smallest_size,
            write_cost=write_cost,
            budget=self.budget,
            widen_with=widen,
            max_pool=None if self.whatif.backend == "hypopg" else REAL_POOL,
            thorough=self.whatif.backend == "hypopg",
            objective=objective,
        )
        selection = selector.run(sorted(origins))
        chosen = selection.chosen
        self.step("measuring the result")
        after = self.plans_with(statements, chosen)
        noise = self.noise(statements, chosen, after) if len(statements) == 1 else {}
        if noise:
            # One statement (advise --query, explain): an index that saves a few page reads is noise,
            # e.g. a covering index for a primary-key lookup. Both commands leave it out alike.
            for spec, gain in sorted(noise.items(), key=lambda item: item[0].sort_key):
                self.notes.append(f"left out {spec.label}: it saves only {gain:.1f} cost units")
            chosen = [spec for spec in chosen if spec not in noise]
            after = self.plans_with(statements, chosen)
        recommendations = [
            self.recommendation(
                spec, chosen, statements, weights, after, selector, write_cost, origins.get(spec, "widened")
            )
            for spec in chosen
        ]
        effects = [self.effect(s, weights, after[s.query.key]) for s in statements]
        recommendations.sort(key=lambda r: (-r.gain, r.spec.sort_key))
        drops = self.drops(chosen, statements, weights, after)
        self.lock_notes()
        total_before = sum(e.weight * e.cost_before for e in effects)
        total_after = sum(e.weight * e.cost_after for e in effects)
        return IndexAdvice(
            database=self.snap.server.database,
            server_version=self.snap.server.version_num,
            backend="hypopg" if self.whatif.backend == "hypopg" else "real indexes, rolled back",
            unit=unit,
            budget_bytes=self.budget,
            used_bytes=sum(self.size(s) for s in chosen),
            total_before=total_before,
            total_after=total_after,
            write_overhead=sum(write_cost(spec) for spec in chosen),
            recommendations=recommendations,
            drops=drops,
            queries=effects,
            skipped=self.skipped,
            unsupported={s.label: why for s, why in sorted(self.whatif.stats.unsupported.items())},
            notes=self.notes,
            planner_calls=self.whatif.planner_calls,
            cache_hits=self.whatif.stats.cache_hits,
            candidates=len(origins),
            leftovers={},
            elapsed_s=0.0,
            sources=self.load.sources,
            moves=selection.moves,
        )

    def plans_with(
        self, statements: list[_Statement], chosen: list[IndexSpec]
    ) -> dict[str, PlanSummary | None]:
        """Each statement's plan with ``chosen`` in place, by query key."""
        plans = self.whatif.plans([s.plannable for s in statements], chosen)
        return dict(zip([s.query.key for s in statements], plans, strict=True))

    def noise(
        self, statements: list[_Statement], chosen: list[IndexSpec], after: dict[str, PlanSummary | None]
    ) -> dict[IndexSpec, float]:
        """For one statement: each chosen index whose own saving, in planner cost units (the plan's cost
        without it minus with all of them), is under MIN_SAVING."""
        [statement] = statements
        with_all = after[statement.query.key]
        cost_with_all = with_all.cost if with_all else statement.base.cost
        found = {}
        for spec in chosen:
            [without] = self.whatif.plans([statement.plannable], [s for s in chosen if s != spec])
            saving = (without.cost if without else statement.base.cost) - cost_with_all
            if saving < MIN_SAVING:
                found[spec] = saving
        return found

    def run_unverified(self) -> IndexAdvice:
        """Advice that needs no what-if: per table a statement scans at a real cost, its widest plain
        B-tree candidate (equality, then range or sort keys), dearest statements first, within the
        budget. Nothing is priced: labelled unverified."""
        self.step("planning the workload (no what-if)")
        statements = self.plan_workload()
        weights, unit, to_objective = self.weights(statements)
        self.rows = self.rows_written(statements)
        self.step("generating candidates")
        recurring = cand.recurring_predicates((s.shape, s.query.calls) for s in statements)
        trigram = any(e.name == "pg_trgm" and e.installed_version for e in self.snap.server.extensions)
        chosen: dict[IndexSpec, tuple[str, list[_Statement]]] = {}
        used = candidates = 0
        for s in sorted(statements, key=lambda s: (-weights[s.query.key] * s.base.cost, s.query.key)):
            found = cand.for_query(
                s.shape,
                self.snap,
                plan=s.base,
                recurring=recurring,
                fraction=self.fraction,
                trigram=trigram,
                size=self.smallest_size,
            )
            candidates += len(found)
            leading: dict[str, cand.Candidate] = {}
            for c in found:  # per table: the plain B-tree serving most of the statement (most keys)
                best = leading.get(c.spec.table)
                if best is None or _plain_width(c.spec) > _plain_width(best.spec):
                    leading[c.spec.table] = c
            for c in leading.values():
                if c.spec in chosen:
                    chosen[c.spec][1].append(s)
                elif used + self.size(c.spec) <= self.budget:
                    used += self.size(c.spec)
                    chosen[c.spec] = (f"{c.origin}; {UNVERIFIED}", [s])
        effects = {s.query.key: self.effect(s, weights, None) for s in statements}
        for effect in effects.values():
            effect.estimated = False
        recommendations = []
        for spec, (origin, users) in chosen.items():
            table = self.snap.table(spec.table)
            operation = spec.operation(table.heap_bytes if table else 0)
            package = ChangePackage.of(
                f"Create index {spec.name}",
                [operation],
                f"A candidate for {len(users)} workload statement(s) that scan {spec.table} at a real cost "
                f"({UNVERIFIED}: not priced); estimated size {self.size(spec) / 1024**2:.1f} MB.",
            )
            recommendations.append(
                Recommendation(
                    spec,
                    package,
                    self.size(spec),
                    operation.estimated_seconds(),
                    self.rows.get(spec.table, 0.0) * INDEX_WRITE_COST * to_objective,
                    self.rows.get(spec.table, 0.0),
                    0.0,
                    origin,
                    [effects[u.query.key] for u in users],
                    verified=False,
                )
            )
        drops = existing.propose(
            self.snap, list(chosen), {s.query.key: s.base for s in statements}, self.min_observed_days
        )
        if note := existing.observation_note(self.snap, self.min_observed_days):
            self.notes.append(note)
        for proposal in drops:
            if not proposal.used_by:
                proposal.cost_increase, proposal.simulated = 0.0, True
                continue
            proposal.cost_increase = None
            proposal.note += (
                f"; {len(proposal.used_by)} workload statement(s) use it: not priced ({UNVERIFIED})"
            )
        self.notes.insert(
            0,
            f"{UNVERIFIED}: HypoPG is not installed and real builds were not allowed, so nothing was built "
            "and no candidate was priced; each is the leading candidate of a costly statement's scan",
        )
        total = sum(e.weight * e.cost_before for e in effects.values())
        return IndexAdvice(
            database=self.snap.server.database,
            server_version=self.snap.server.version_num,
            backend="none",
            unit=unit,
            budget_bytes=self.budget,
            used_bytes=used,
            total_before=total,
            total_after=total,
            write_overhead=sum(r.write_overhead for r in recommendations),
            recommendations=recommendations,
            drops=drops,
            queries=list(effects.values()),
            skipped=self.skipped,
            unsupported={},
            notes=self.notes,
            planner_calls=self.whatif.planner_calls,
            cache_hits=self.whatif.stats.cache_hits,
            candidates=candidates,
            leftovers={},
            elapsed_s=0.0,
            sources=self.load.sources,
        )

    # --- workload ----------------------------------------------------------------------------
    def plan_workload(self) -> list[_Statement]:
        statements = []
        for query in self.load.queries:
            shape = analyze(query.sql, self.snap)
            if not shape.tables:
                self.skipped.append(
                    wl.SkippedQuery(query.sql, "reads no table of this database", query.source)
                )
                continue
            plannable = self._plannable(query, shape, frozenset(shape.tables))
            base = self.whatif.plan(plannable)
            if base is None:
                self.skipped.append(
                    wl.SkippedQuery(
                        query.sql, f"the server could not plan it: {self.whatif.last_error}", query.source
                    )
                )
                continue
            tables = frozenset(shape.tables) | self._plan_tables(base)
            if tables != plannable.tables:
                plannable = self._plannable(query, shape, tables)
            statements.append(_Statement(query, shape, plannable, base))
        if not statements:
            raise InputFileError(
                f"no workload statement could be planned against this database ({len(self.skipped)} skipped)"
            )
        return statements

    def _plannable(self, query: wl.Query, shape: QueryShape, tables: frozenset[str]) -> PlannableQuery:
        columns = tuple((n, t, c) for n, (t, c) in sorted(shape.parameter_columns.items()))
        return PlannableQuery(query.key, query.sql, shape.parameters, tables, columns)

    def _plan_tables(self, plan: PlanSummary) -> frozenset[str]:
        found = set()
        for name in plan.relations:
            found.update(t.qname for t in self.snap.tables if t.name == name)
        return frozenset(found)

    def weights(self, statements: list[_Statement]) -> tuple[dict[str, float], str, float]:
        """Objective units per planner cost unit of each statement, the unit's name, and cost→unit."""
        timed = [(s, s.query.weight(self.weight_by)) for s in statements]
        timed = [(s, ms) for s, ms in timed if ms is not None and s.base.cost > 0]
        if self.weight_by == "cost" or not timed:
            return {s.query.key: float(s.query.calls) for s in statements}, "cost", 1.0
        ms_per_cost = sum(ms for _, ms in timed) / sum(s.query.calls * s.base.cost for s, _ in timed)
        weights = {s.query.key: s.query.calls * ms_per_cost for s in statements}
        for s, ms in timed:
            weights[s.query.key] = ms / s.base.cost
        return weights, "ms", ms_per_cost

    def rows_written(self, statements: list[_Statement]) -> dict[str, float]:
        """Index entries each table's writes create: table statistics for pg_stat_statements, else the workload's DML."""
        rows: dict[str, float] = {}
        if "pg_stat_statements" in self.load.sources:
            for table in self.snap.user_tables():
                rows[table.qname] = float(
                    (table.n_tup_ins or 0) + (table.n_tup_upd or 0) + (table.n_tup_del or 0)
                )
            return rows
        for s in statements:
            stmt = pglast.parse_sql(s.query.sql)[0].stmt
            if isinstance(stmt, ast.UpdateStmt | ast.DeleteStmt | ast.InsertStmt):
                target = resolve_table(self.snap, stmt.relation.relname, stmt.relation.schemaname)
                if target:
                    scanned = s.base.nodes[0].rows  # the plan of the rows it finds (its read part)
                    rows[target] = rows.get(target, 0.0) + scanned * s.query.calls
        for skipped in self.skipped:
            try:
                stmt = pglast.parse_sql(skipped.sql)[0].stmt
            except pglast.parser.ParseError:
                continue
            if (
                isinstance(stmt, ast.InsertStmt)
                and stmt.selectStmt is not None
                and stmt.selectStmt.valuesLists
            ):
                target = resolve_table(self.snap, stmt.relation.relname, stmt.relation.schemaname)
                if target:
                    rows[target] = rows.get(target, 0.0) + len(stmt.selectStmt.valuesLists)
        return rows

    # --- candidates --------------------------------------------------------------------------
    def candidates(self, statements: list[_Statement]) -> dict[IndexSpec, str]:
        recurring = cand.recurring_predicates((s.shape, s.query.calls) for s in statements)
        trigram = any(e.name == "pg_trgm" and e.installed_version for e in self.snap.server.extensions)
        origins: dict[IndexSpec, str] = {}
        for s in statements:
            for found in cand.for_query(
                s.shape,
                self.snap,
                plan=s.base,
                recurring=recurring,
                fraction=self.fraction,
                trigram=trigram,
                size=self.smallest_size,
            ):
                origins.setdefault(found.spec, found.origin)
        return origins

    def widen_columns(self, statements: list[_Statement]) -> dict[str, list[str]]:
        columns: dict[str, dict[str, None]] = {}
        for s in statements:
            for use in s.shape.tables.values():
                found = columns.setdefault(use.table, {})
                for name in (*use.equal, *use.ranges, *(c for c, _ in use.sort), *use.joins, *use.group):
                    found[name] = None
        return {table: sorted(names) for table, names in columns.items()}

    def fraction(self, table: str, predicate: str) -> float | None:
        """Share of the table's rows matching ``predicate``, as the planner estimates it."""
        key = (table, predicate)
        if key not in self._fractions:
            info = self.snap.table(table)
            rows = info.row_estimate if info else 0
            share = None
            if rows > 0:
                sql = f"SELECT 1 FROM {qident(table)} WHERE {predicate}"
                probe = PlannableQuery(
                    f"fraction {sql}", sql, 0, frozenset({table})
                )  # the key names the plan cached
                plan = self.whatif.plan(probe)
                share = min(1.0, plan.nodes[0].rows / rows) if plan else None
            self._fractions[key] = share
        return self._fractions[key]

    def size(self, spec: IndexSpec) -> int:
        if spec not in self._sizes:
            self._sizes[spec] = self.sampled.estimate(spec, self._row_share(spec))
        return self._sizes[spec]

    def smallest_size(self, spec: IndexSpec) -> int:
        """A lower bound on ``size`` that reads no sample (see ``SampledDistinct.smallest``)."""
        if spec in self._sizes:
            return self._sizes[spec]
        if spec not in self._smallest:
            self._smallest[spec] = self.sampled.smallest(spec, self._row_share(spec))
        return self._smallest[spec]

    def _row_share(self, spec: IndexSpec) -> float:
        """The share of the table's rows the index holds: its predicate's, 1 for a full index (or unknown)."""
        share = self.fraction(spec.table, spec.where) if spec.where else 1.0
        return share if share is not None else 1.0

    # --- results -----------------------------------------------------------------------------
    def effect(
        self, s: _Statement, weights: dict[str, float], after: PlanSummary | None, plan_change: str = ""
    ) -> QueryEffect:
        return QueryEffect(
            s.query.key,
            s.query.sql,
            s.query.calls,
            s.base.cost,
            after.cost if after else s.base.cost,
            weights[s.query.key],
            plan_change,
        )

    def recommendation(
        self,
        spec: IndexSpec,
        chosen: list[IndexSpec],
        statements: list[_Statement],
        weights: dict[str, float],
        after: dict[str, PlanSummary | None],
        selector: Selector,
        write_cost: Callable[[IndexSpec], float],
        origin: str,
    ) -> Recommendation:
        config = frozenset(chosen)
        gain = selector.marginal_gain(config, spec)
        names = {
            n: self.whatif.index_label(n) for s in statements for n in (after[s.query.key] or s.base).indexes
        }
        helps = []
        for s in statements:
            plan = after[s.query.key]
            used = [n for n in (plan.indexes if plan else ()) if self.whatif.spec_of(n) == spec]
            if plan and used:
                helps.append(self.effect(s, weights, plan, changed_node(s.base, plan, used[0], names)))
        helps.sort(key=lambda e: (-(e.cost_before - e.cost_after) * e.weight, e.key))
        table = self.snap.table(spec.table)
        operation = spec.operation(table.heap_bytes if table else 0)
        size = self.size(spec)
        package = ChangePackage.of(
            f"Create index {spec.name}",
            [operation],
            f"Lowers the cost of {len(helps)} workload statement(s); estimated size {size / 1024**2:.1f} MB.",
            performance_notes=(
                f"every write to {spec.table} also updates this index "
                f"({self.rows.get(spec.table, 0):,.0f} rows written in the workload window)",
            ),
        )
        return Recommendation(
            spec,
            package,
            size,
            operation.estimated_seconds(),
            write_cost(spec),
            self.rows.get(spec.table, 0.0),
            max(gain, 0.0),
            origin,
            helps,
        )

    def drops(
        self,
        chosen: list[IndexSpec],
        statements: list[_Statement],
        weights: dict[str, float],
        after: dict[str, PlanSummary | None],
    ) -> list[existing.DropProposal]:
        proposals = existing.propose(self.snap, chosen, after, self.min_observed_days)
        if note := existing.observation_note(self.snap, self.min_observed_days):
            self.notes.append(note)
        by_key = {s.query.key: s for s in statements}
        for proposal in proposals:
            users = [by_key[k] for k in proposal.used_by]
            if not users:
                proposal.cost_increase, proposal.simulated = 0.0, True
                continue
            if not self.whatif.allow_real_indexes:
                proposal.cost_increase = None
                proposal.note += (
                    f"; {len(users)} workload statement(s) use it: pass --allow-real-indexes to "
                    "price the drop (DROP INDEX in a rolled-back transaction)"
                )
                continue
            plans = self.whatif.plan_without([u.plannable for u in users], proposal.index.qname, chosen)
            increase = 0.0
            for user, plan in zip(users, plans, strict=True):
                now = after[user.query.key].cost if after[user.query.key] else user.base.cost
                increase += weights[user.query.key] * ((plan.cost if plan else now) - now)
            proposal.cost_increase, proposal.simulated = increase, True
        return proposals

    def lock_notes(self) -> None:
        if self.whatif.backend != "real":
            return
        self.notes.append(
            "HypoPG is not installed: candidate indexes were built for real inside transactions "
            "that were rolled back (--allow-real-indexes)"
        )
        for cost in sorted(self.whatif.stats.lock_costs.values(), key=lambda c: c.table):
            self.notes.append(cost.describe())
