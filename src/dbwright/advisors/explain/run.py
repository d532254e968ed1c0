"""Run EXPLAIN (FORMAT JSON, VERBOSE, BUFFERS) on one statement, in a transaction that is rolled back.

Without ``analyze`` the statement is only planned, never run, so any explainable statement
is fine. With ``analyze`` it runs, so it must pass the read-only check first; it then runs in
a READ ONLY transaction that is rolled back whatever happens. Statements with ``$n``
parameters get a generic plan (``plan_cache_mode = force_generic_plan``) with the index
advisor's representative values, the plan PostgreSQL caches for them. The statements are the
engine's, reached through its ``explainer()``; an engine without one is refused in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbwright.advisors.explain.readonly import ParsedStatement, check_read_only, parse_one
from dbwright.advisors.indexes.querytree import analyze as shape_of
from dbwright.engines.base import Connection, Engine, Explainer
from dbwright.engines.registry import default_engine
from dbwright.errors import RefusedError
from dbwright.model import Snapshot


@dataclass(frozen=True)
class PlanRun:
    """One EXPLAIN document (the JSON list's only item: Plan, Planning Time, Execution Time …)."""

    parsed: ParsedStatement
    document: dict[str, Any]
    analyzed: bool
    arguments: tuple[str, ...] = ()  # SQL literals bound to $1, $2 … (generic plan)

    @property
    def plan(self) -> dict[str, Any]:
        return self.document["Plan"]

    @property
    def execution_ms(self) -> float | None:
        value = self.document.get("Execution Time")
        return float(value) if value is not None else None


def explainer_of(engine: Engine) -> Explainer:
    """The engine's EXPLAIN; RefusedError when it has none."""
    explainer = engine.explainer()
    if explainer is None:
        raise RefusedError(f"the {engine.name} engine does not support EXPLAIN: cannot explain statements")
    return explainer


def explain(
    conn: Connection,
    sql: str,
    *,
    analyze: bool = False,
    snapshot: Snapshot | None = None,
    verbose: bool = True,
    buffers: bool = True,
    timing: bool = True,
    engine: Engine | None = None,
) -> PlanRun:
    """EXPLAIN one statement; with ``analyze`` only a read-only SELECT, run and rolled back.

    ``engine`` is the session's engine (the default engine when None).
    """
    explainer = explainer_of(engine or default_engine())
    parsed = check_read_only(sql, conn) if analyze else parse_one(sql)
    columns = (
        shape_of(parsed.sql, snapshot).parameter_columns if parsed.parameters and snapshot is not None else {}
    )
    document, arguments = explainer.explain_document(
        conn,
        parsed.sql,
        parsed.parameters,
        columns,
        analyze=analyze,
        verbose=verbose,
        buffers=buffers,
        timing=timing,
    )
    return PlanRun(parsed, document, analyze, tuple(arguments))
