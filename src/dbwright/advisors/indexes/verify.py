"""``verify_advice``: build the recommended indexes for real and measure what they change.

On a scratch copy (``CREATE DATABASE … TEMPLATE target``, always dropped afterwards) or, when
the user says so explicitly, on the target itself. The workload's read-only statements run
before and after the build: one warm-up run, then the median of ``runs`` runs, each an
``EXPLAIN (ANALYZE, TIMING OFF)`` in a READ ONLY transaction that is rolled back, with the
generic plan and the parameter values the advisor priced. Statements that could write are
never run (the same pglast check as ``dbwright explain --analyze``); they are listed with why.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dbwright.advisors.explain.readonly import parse_one, why_not_read_only
from dbwright.advisors.explain.run import explain
from dbwright.advisors.indexes.advise import IndexAdvice, Recommendation
from dbwright.engines.base import Connection
from dbwright.engines.postgres.index_verify import (
    build_index,
    create_scratch_copy,
    drop_scratch_copy,
    relation_bytes,
    with_dbname,
)
from dbwright.errors import DbwrightError, RefusedError
from dbwright.model import Snapshot

RUNS = 3
RUN_TIMEOUT = "5min"
Progress = Callable[[str], None]


@dataclass
class BuiltIndex:
    label: str
    sql: str
    seconds: float
    real_bytes: int
    estimated_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.label,
            "sql": self.sql,
            "seconds": round(self.seconds, 3),
            "real_bytes": self.real_bytes,
            "estimated_bytes": self.estimated_bytes,
            "size_error": round(self.estimated_bytes / self.real_bytes - 1, 3) if self.real_bytes else None,
        }


@dataclass
class Measurement:
    key: str
    sql: str
    estimated_before: float
    estimated_after: float
    runs_before_ms: list[float]
    runs_after_ms: list[float]
    real_cost_after: float
    indexes_after: list[str]

    @property
    def before_ms(self) -> float:
        return statistics.median(self.runs_before_ms)

    @property
    def after_ms(self) -> float:
        return statistics.median(self.runs_after_ms)

    @property
    def measured_speedup(self) -> float:
        return self.before_ms / self.after_ms if self.after_ms > 0 else float("inf")

    @property
    def estimated_speedup(self) -> float:
        return self.estimated_before / self.estimated_after if self.estimated_after > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "sql": self.sql,
            "estimated_cost_before": round(self.estimated_before, 2),
            "estimated_cost_after": round(self.estimated_after, 2),
            "estimated_speedup": round(self.estimated_speedup, 2),
            "median_ms_before": round(self.before_ms, 3),
            "median_ms_after": round(self.after_ms, 3),
            "measured_speedup": round(self.measured_speedup, 2),
            "runs_ms_before": [round(r, 3) for r in self.runs_before_ms],
            "runs_ms_after": [round(r, 3) for r in self.runs_after_ms],
            "real_plan_cost_after": round(self.real_cost_after, 2),
            "indexes_used_after": self.indexes_after,
        }


@dataclass
class Verification:
    database: str
    where: str  # "scratch copy <name> (dropped)" or "target"
    built: list[BuiltIndex] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    runs: int = RUNS
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "where": self.where,
            "runs": self.runs,
            "built": [b.to_dict() for b in self.built],
            "measurements": [m.to_dict() for m in self.measurements],
            "refused": self.refused,
            "notes": self.notes,
            "elapsed_s": round(self.elapsed_s, 3),
        }


def build_statements(advice: IndexAdvice, scratch: bool) -> list[str]:
    """What verification will run to build the indexes: plain CREATE INDEX on a scratch copy (nobody
    else is connected), CREATE INDEX CONCURRENTLY on the target (writes go on)."""
    return [_build_sql(r, scratch) for r in advice.recommendations]


def _build_sql(r: Recommendation, scratch: bool) -> str:
    return r.spec.definition() + ";" if scratch else r.package.operations[0].sql()


def verify_advice(
    target: str | None,
    advice: IndexAdvice,
    *,
    scratch: bool,
    confirmed: bool = False,
    runs: int = RUNS,
    snapshot: Snapshot | None = None,
    progress: Progress | None = None,
) -> Verification:
    """Build ``advice``'s indexes (on a scratch copy, or on the target when ``confirmed``) and measure.

    Without ``scratch`` the indexes are built on the target and stay there (their rollback SQL
    is in the advice); that is refused unless ``confirmed`` (the CLI's --yes).
    """
    from dbwright.engines.postgres.connect import open_session, resolve_target
    from dbwright.engines.postgres.introspect import snapshot as take

    started = time.perf_counter()
    step = progress or (lambda _text: None)
    if not scratch and not confirmed and advice.recommendations:
        raise RefusedError(
            f"verifying on the target builds {len(advice.recommendations)} index(es) there for "
            "real; pass --yes to allow it, or --scratch to use a scratch copy"
        )
    conninfo = resolve_target(target)
    with open_session(conninfo) as conn:
        snap = snapshot or take(conn)
        runnable, refused = _runnable(conn, advice)
    database = snap.server.database
    result = Verification(database, "target", refused=refused, runs=runs)
    if not advice.recommendations:
        result.notes.append("no index recommended: nothing to verify")
        return result
    if not runnable:
        raise RefusedError(
            f"no read-only statement in the workload to measure ({len(refused)} refused: "
            f"{refused[0]['reason'] if refused else 'empty'})"
        )
    scratch_name = None
    try:
        if scratch:
            step("copying the database to a scratch database")
            scratch_name = create_scratch_copy(conninfo, database)
            destination = with_dbname(conninfo, scratch_name)
            result.where = f"scratch copy {scratch_name} (dropped afterwards)"
        else:
            destination = conninfo
        step("measuring before")
        before = _measure(destination, runnable, snap, runs)
        step("building indexes")
        result.built = _build(destination, advice, scratch)
        step("measuring after")
        after = _measure(destination, runnable, snap, runs)
    finally:
        if scratch_name:
            drop_scratch_copy(conninfo, scratch_name)
    effects = {q.key: q for q in advice.queries}
    for key, sql in runnable:
        (ms_before, _, _), (ms_after, cost_after, used) = before[key], after[key]
        effect = effects[key]
        result.measurements.append(
            Measurement(
                key, sql, effect.cost_before, effect.cost_after, ms_before, ms_after, cost_after, used
            )
        )
    if not scratch:
        result.notes.append("the indexes stay on the target; each recommendation's rollback SQL drops them")
    result.elapsed_s = time.perf_counter() - started
    return result


def _runnable(conn: Connection, advice: IndexAdvice) -> tuple[list[tuple[str, str]], list[dict[str, str]]]:
    runnable, refused = [], []
    for q in advice.queries:
        try:
            reason = why_not_read_only(parse_one(q.sql), conn)
        except DbwrightError as error:
            reason = error.message
        if reason:
            refused.append({"key": q.key, "sql": q.sql, "reason": f"not run: {reason}"})
        else:
            runnable.append((q.key, q.sql))
    return runnable, refused


def _measure(
    conninfo: str, queries: list[tuple[str, str]], snap: Snapshot, runs: int
) -> dict[str, tuple[list[float], float, list[str]]]:
    """Per query: execution times of ``runs`` warm runs, the plan's total cost, the indexes it used."""
    from dbwright.engines.postgres.connect import SessionOptions, open_session

    measured = {}
    with open_session(conninfo, SessionOptions(statement_timeout=RUN_TIMEOUT)) as conn:
        for key, sql in queries:
            timings = []
            plan = None
            for number in range(runs + 1):  # the first run warms the cache and is not counted
                run = explain(
                    conn, sql, analyze=True, snapshot=snap, verbose=False, buffers=False, timing=False
                )
                if number:
                    timings.append(run.execution_ms or 0.0)
                plan = run.plan
            measured[key] = (timings, float(plan["Total Cost"]), sorted(_indexes(plan)))
    return measured


def _indexes(plan: dict[str, Any]) -> set[str]:
    found = {plan["Index Name"]} if plan.get("Index Name") else set()
    for child in plan.get("Plans", ()):
        found |= _indexes(child)
    return found


def _build(conninfo: str, advice: IndexAdvice, scratch: bool) -> list[BuiltIndex]:
    from dbwright.engines.postgres.connect import SessionOptions, open_session

    built = []
    options = SessionOptions(read_only=False, statement_timeout="0", lock_timeout="10s")
    with open_session(conninfo, options) as conn:
        for r in advice.recommendations:
            sql = _build_sql(r, scratch)
            undo = (
                None if scratch else r.package.rollback_operations()[0].sql()
            )  # CONCURRENTLY leaves it invalid
            started = time.perf_counter()
            build_index(conn, sql, r.spec.name, undo)
            seconds = time.perf_counter() - started
            size = relation_bytes(conn, f"{r.spec.table.split('.', 1)[0]}.{r.spec.name}")
            built.append(BuiltIndex(r.spec.label, sql, seconds, int(size), r.estimated_bytes))
    return built


# --- words ------------------------------------------------------------------------------------------


def _x(value: float) -> str:
    return "∞" if value == float("inf") else f"{value:,.1f}×"


def render_verification(v: Verification, format: str) -> str:
    """Verification as text or markdown (JSON goes through ``to_dict``)."""
    md = format in ("markdown", "html")
    lines = ["## Verification" if md else "Verification", ""]
    lines.append(f"on {v.where}; median of {v.runs} warm runs, generic plans, read-only and rolled back")
    lines.append("")
    for b in v.built:
        error = f"{b.estimated_bytes / b.real_bytes - 1:+.0%}" if b.real_bytes else "n/a"
        lines.append(
            f"{'- ' if md else '  '}built {b.label} in {b.seconds:.2f} s: {b.real_bytes / 1024**2:,.2f} MB "
            f"(estimated {b.estimated_bytes / 1024**2:,.2f} MB, {error})"
        )
    lines.append("")
    if md:
        lines += [
            "| query | est. cost before → after | est. speedup | ms before → after | measured speedup |",
            "|---|---:|---:|---:|---:|",
        ]
    for m in v.measurements:
        cells = (
            m.key,
            f"{m.estimated_before:,.1f} → {m.estimated_after:,.1f}",
            _x(m.estimated_speedup),
            f"{m.before_ms:,.3f} → {m.after_ms:,.3f}",
            _x(m.measured_speedup),
        )
        lines.append(
            "| " + " | ".join(f"`{c}`" if i == 0 else c for i, c in enumerate(cells)) + " |"
            if md
            else f"  {cells[0]}: estimated {cells[1]} ({cells[2]}), measured {cells[3]} ms ({cells[4]})"
        )
    for r in v.refused:
        lines.append(f"{'- ' if md else '  '}{r['key']}: {r['reason']}")
    lines += [f"{'> ' if md else '  note: '}{n}" for n in v.notes]
    return "\n".join(lines).rstrip() + "\n"


def render_with_advice(advice_text: str, advice: IndexAdvice, v: Verification, format: str) -> str:
    """The advice as ``render`` spelled it, with the verification added in the same format."""
    if format == "json":
        import json

        return json.dumps(advice.to_dict() | {"verification": v.to_dict()}, indent=2, default=str)
    if format == "html":
        import html

        section = f"<section><pre>{html.escape(render_verification(v, 'text'))}</pre></section>"
        return advice_text.replace("</body>", section + "</body>", 1)
    return advice_text.rstrip("\n") + "\n\n" + render_verification(v, format)
