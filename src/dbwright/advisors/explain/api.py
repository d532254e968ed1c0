"""``explain_query``: the one API behind ``dbwright explain`` (and any other face).

Plan (or, with ``analyze``, run and roll back) one statement in a read-only session,
annotate its plan against a snapshot of the catalog, and ask the index advisor, with this
statement as its whole workload, which indexes would help it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dbwright.advisors.explain.annotate import DEFAULT_THRESHOLDS, Annotation, Thresholds, annotate, nodes
from dbwright.advisors.explain.run import PlanRun, explain, explainer_of
from dbwright.engines.base import Connection, Engine
from dbwright.engines.registry import default_engine, engine_for_target
from dbwright.errors import DbwrightError
from dbwright.model import Snapshot

EXPLANATION_FORMAT = 1


@dataclass
class Suggestion:
    """An index the advisor would build for this statement, with its estimated effect."""

    label: str
    create_sql: str
    rollback_sql: str
    estimated_bytes: int
    cost_before: float
    cost_after: float | None  # None: unverified, no what-if priced it
    plan_change: str
    table: str

    @property
    def verified(self) -> bool:
        return self.cost_after is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.label,
            "verified": self.verified,
            "create": self.create_sql,
            "rollback": self.rollback_sql,
            "estimated_bytes": self.estimated_bytes,
            "cost_before": round(self.cost_before, 2),
            "cost_after": round(self.cost_after, 2) if self.cost_after is not None else None,
            "plan_change": self.plan_change,
            "table": self.table,
        }


@dataclass
class Explanation:
    database: str
    run: PlanRun
    annotations: list[Annotation]
    suggestions: list[Suggestion] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    what_if: str = ""
    planner_calls: int = 0
    elapsed_s: float = 0.0
    verified: bool = True  # False: the suggestions are candidates no what-if priced
    hint: str = ""  # without a what-if: how to get priced suggestions

    @property
    def sql(self) -> str:
        return self.run.parsed.sql

    @property
    def analyzed(self) -> bool:
        return self.run.analyzed

    def kinds(self) -> set[str]:
        return {a.kind for a in self.annotations}

    def by_kind(self, kind: str) -> list[Annotation]:
        return [a for a in self.annotations if a.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": EXPLANATION_FORMAT,
            "database": self.database,
            "sql": self.sql,
            "analyzed": self.analyzed,
            "parameters": list(self.run.arguments),
            "planning_ms": self.run.document.get("Planning Time"),
            "execution_ms": self.run.execution_ms,
            "plan": self.run.document,
            "annotations": [a.to_dict() for a in self.annotations],
            "suggestions": [s.to_dict() for s in self.suggestions],
            "notes": self.notes,
            "what_if": self.what_if,
            "verified": self.verified,
            "hint": self.hint,
            "planner_calls": self.planner_calls,
            "elapsed_s": round(self.elapsed_s, 3),
        }


def explain_query(
    target: str | Connection | None,
    sql: str,
    *,
    analyze: bool = False,
    suggest: bool = True,
    allow_real_indexes: bool = False,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    snapshot: Snapshot | None = None,
    progress: Callable[[str], None] | None = None,
    engine: Engine | None = None,
) -> Explanation:
    """Explain ``sql`` on ``target`` (a connection target or an open connection, left open).

    ``engine`` is the server's engine: by default the target's, or the default engine for an open
    connection; one without EXPLAIN is refused before connecting. Index suggestions are priced with
    HypoPG; without it they are unverified (``verified`` False, a ``hint``), unless
    ``allow_real_indexes`` allows rolled-back real builds.
    """
    from dbwright.engines.postgres.introspect import snapshot as take

    started = time.perf_counter()
    step = progress or (lambda _text: None)
    owned = target is None or isinstance(target, str)
    engine = engine or (engine_for_target(target) if owned else default_engine())
    explainer_of(engine)
    conn = engine.connect(target) if owned else target
    try:
        step("reading the catalog")
        snap = snapshot or take(conn)
        step("running EXPLAIN ANALYZE (rolled back)" if analyze else "running EXPLAIN")
        run = explain(conn, sql, analyze=analyze, snapshot=snap, engine=engine)
        result = Explanation(snap.server.database, run, annotate(run.plan, snap, thresholds))
        if not analyze:
            result.notes.append(
                "estimates only: misestimates and spills need --analyze (runs the query, "
                "read-only, rolled back)"
            )
        if "Planned As" in run.document:
            result.notes.append(
                f"planned as its read part: {run.document['Planned As']} (planning the {run.parsed.kind} "
                "itself takes ROW EXCLUSIVE on its target; dbwright takes nothing above ACCESS SHARE)"
            )
        if run.arguments:
            result.notes.append(f"generic plan; $n bound to {', '.join(run.arguments)} (from pg_stats)")
        if suggest:
            step("searching for indexes (what-if)")
            _suggest(conn, snap, run, result, engine, allow_real_indexes)
        result.elapsed_s = time.perf_counter() - started
        return result
    finally:
        if owned:
            conn.close()


def _suggest(
    conn: Connection,
    snap: Snapshot,
    run: PlanRun,
    result: Explanation,
    engine: Engine,
    allow_real_indexes: bool = False,
) -> None:
    """The index advisor with this one statement as its workload; its indexes become annotations."""
    from dbwright.advisors.indexes import advise_indexes
    from dbwright.advisors.indexes.workload import from_query

    try:
        advice = advise_indexes(
            conn,
            workload=from_query(run.parsed.sql),
            snapshot=snap,
            engine=engine,
            allow_real_indexes=allow_real_indexes,
        )
    except DbwrightError as error:
        result.notes.append(f"no index suggestions: {error.message}")
        return
    result.what_if, result.planner_calls = advice.backend, advice.planner_calls
    result.verified, result.hint = advice.verified, advice.hint
    result.notes.extend(advice.notes)
    if not advice.verified:
        _unverified(advice, run, result)
        return
    scans: dict[str, int] = {}
    for node in sorted(nodes(run.plan), key=lambda n: ("Filter" not in n.data, n.number), reverse=True):
        if node.relation:
            scans[node.relation] = node.number  # the first filtered scan of each table wins
    several = len(advice.recommendations) > 1
    for r in advice.recommendations:
        effect = r.helps[0] if r.helps else None
        before = effect.cost_before if effect else advice.total_before
        after = effect.cost_after if effect else advice.total_after
        saving = r.gain if several else before - after  # gain: what leaving this one out would cost
        # no filter of its own: the advisor already left out what saves too little (advise.MIN_SAVING),
        # so explain and `advise indexes --query` agree on the same statement
        suggestion = Suggestion(
            r.spec.label,
            r.package.operations[0].sql(),
            r.package.rollback_operations()[0].sql(),
            r.estimated_bytes,
            before,
            after,
            effect.plan_change if effect else "",
            r.spec.table,
        )
        result.suggestions.append(suggestion)
        together = (
            (f" with all {len(advice.recommendations)} suggested indexes; this one alone saves {saving:,.1f}")
            if several
            else ""
        )
        result.annotations.append(
            Annotation(
                "index_suggestion",
                scans.get(r.spec.table),
                f"index {r.spec.label}: estimated cost {before:,.1f} → {after:,.1f}{together}"
                + (f" ({suggestion.plan_change})" if suggestion.plan_change else ""),
                suggestion.to_dict(),
            )
        )


def _unverified(advice: Any, run: PlanRun, result: Explanation) -> None:
    """Without a what-if the advisor's candidates are suggestions labelled unverified: no cost after."""
    from dbwright.advisors.indexes.advise import UNVERIFIED

    scans = {node.relation: node.number for node in reversed(nodes(run.plan)) if node.relation}
    for r in advice.recommendations:
        suggestion = Suggestion(
            r.spec.label,
            r.package.operations[0].sql(),
            r.package.rollback_operations()[0].sql(),
            r.estimated_bytes,
            advice.total_before,
            None,
            "",
            r.spec.table,
        )
        result.suggestions.append(suggestion)
        result.annotations.append(
            Annotation(
                "index_suggestion",
                scans.get(r.spec.table),
                f"index {r.spec.label}: {UNVERIFIED} (a candidate from the statement and its plan, not priced)",
                suggestion.to_dict(),
            )
        )
