"""What each MCP tool does, as plain functions over the library (no MCP types here).

Every function takes the server's ``Context`` and returns a ``ToolOutput``: the structured
JSON (the same finding, advice and change-package model the CLI prints with --format json)
plus a one-paragraph summary for people. The MCP wiring lives in server.py.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbwright import api
from dbwright.errors import InvalidArgumentError, RefusedError
from dbwright.mcp.safety import Limits, guarded_explain, guarded_query
from dbwright.mcp.tokens import PlanTokens
from dbwright.model import Snapshot

MODES = ("read-only", "plan", "apply")
SNAPSHOT_TTL_S = 30.0


@dataclass
class ToolOutput:
    summary: str
    data: dict[str, Any]


@dataclass
class Context:
    """What every tool call shares: the target (never shown), the mode, limits and plan tokens."""

    target: str | None
    mode: str = "read-only"
    limits: Limits = field(default_factory=Limits)
    migrations_dir: Path | None = None
    tokens: PlanTokens = field(default_factory=PlanTokens)
    #: The runner's protections for apply_plan: deploy lock wait, lock_timeout, retries with backoff.
    apply_options: Any = None
    _snapshot: Snapshot | None = None
    _snapshot_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self, refresh: bool = False) -> Snapshot:
        """A read-only snapshot, reused for SNAPSHOT_TTL_S seconds so a session of calls stays quick."""
        with self._lock:
            if refresh or self._snapshot is None or time.monotonic() - self._snapshot_at > SNAPSHOT_TTL_S:
                self._snapshot = api.snapshot(self.target)
                self._snapshot_at = time.monotonic()
            return self._snapshot

    @property
    def server_version(self) -> int:
        """The connected server's server_version_num (from the snapshot), for lint and statement splits."""
        return self.snapshot().server.version_num

    def forget_snapshot(self) -> None:
        with self._lock:
            self._snapshot = None


# --- catalog ---------------------------------------------------------------------------------------


def list_tables(ctx: Context, schema: str | None = None) -> ToolOutput:
    snap = ctx.snapshot()
    tables = [t for t in snap.tables if schema is None or t.schema == schema]
    data = {
        "database": snap.server.database,
        "schemas": [{"name": s.name, "owner": s.owner} for s in snap.schemas],
        "tables": [
            {"name": t.qname, "kind": t.kind, "rows_estimate": t.row_estimate, "total_bytes": t.total_bytes}
            for t in tables
        ],
    }
    return ToolOutput(f"{len(tables)} tables in {len(snap.schemas)} schemas of {snap.server.database}", data)


def resolve_table(snap: Snapshot, name: str) -> str:
    """'schema.table' or a bare name found in exactly one schema. Looked up, never interpolated."""
    if snap.table(name):
        return name
    matches = [t.qname for t in snap.tables if t.name == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InvalidArgumentError(f"table name {name!r} is ambiguous: {', '.join(sorted(matches))}")
    raise InvalidArgumentError(f"no table named {name!r} (list_tables shows the names)")


def describe_table(ctx: Context, table: str) -> ToolOutput:
    snap = ctx.snapshot()
    qname = resolve_table(snap, table)
    info = snap.table(qname)
    assert info is not None
    columns = [
        {
            "name": c.name,
            "type": c.data_type,
            "not_null": c.not_null,
            "default": c.default,
            "identity": c.identity,
            "generated": c.generated,
            "stats": dataclasses.asdict(c.stats) if c.stats else None,
        }
        for c in snap.columns_of(qname)
    ]
    data = {
        "table": dataclasses.asdict(info),
        "columns": columns,
        "indexes": [
            {"name": i.name, "definition": i.definition, "valid": i.valid, "bytes": i.bytes, "scans": i.scans}
            for i in snap.indexes_of(qname)
        ],
        "constraints": [
            {"name": c.name, "type": c.type, "definition": c.definition, "validated": c.validated}
            for c in snap.constraints_of(qname)
        ],
        "triggers": [t.name for t in snap.triggers if t.table_qname == qname],
        "policies": [p.name for p in snap.policies if p.table_qname == qname],
    }
    summary = (
        f"{qname}: {len(columns)} columns, {len(data['indexes'])} indexes, "
        f"about {int(info.row_estimate)} rows, {info.total_bytes} bytes"
    )
    return ToolOutput(summary, data)


def snapshot_summary(ctx: Context, refresh: bool = False) -> ToolOutput:
    snap = ctx.snapshot(refresh=refresh)
    counts = {
        name: len(getattr(snap, name))
        for name in (
            "schemas",
            "tables",
            "columns",
            "indexes",
            "constraints",
            "sequences",
            "views",
            "functions",
            "triggers",
            "roles",
            "statements",
            "sessions",
        )
    }
    data = {
        "database": snap.server.database,
        "server_version": snap.server.version_num,
        "server": snap.server.version.split(",")[0],
        "current_user": snap.server.current_user,
        "superuser": snap.server.is_superuser,
        "taken_at": snap.taken_at,
        "counts": counts,
        "extensions": [e.name for e in snap.server.extensions if e.installed_version],
        "skipped": [{"section": s.section, "reason": s.reason} for s in snap.skipped],
        "introspection_ms": snap.introspection_ms,
    }
    return ToolOutput(
        f"{snap.server.database} on PostgreSQL {snap.server.version_num}: {counts['tables']} tables, "
        f"{counts['indexes']} indexes, {counts['statements']} tracked statements, "
        f"{len(snap.skipped)} sections skipped",
        data,
    )


# --- review, workload, advice ----------------------------------------------------------------------


def review(
    ctx: Context,
    category: str | None = None,
    severity: str | None = None,
    object: str | None = None,
    code: str | None = None,
    limit: int = 50,
) -> ToolOutput:
    minimum = api.parse_severity(severity or "info")
    result = api.review(
        ctx.snapshot(), categories=[category] if category else None, codes=[code] if code else None
    )
    version = result.snapshot.server.version_num
    kept = [f for f in api.at_or_above(result.findings, minimum) if not object or object in f.finding.object]
    data = result.to_dict()
    data["findings"] = [with_plan_token(ctx, f.to_dict(), version) for f in kept[: max(limit, 0)]]
    data["filters"] = {"category": category, "severity": severity, "object": object, "code": code}
    data["matching_findings"] = len(kept)
    data["truncated"] = len(kept) > len(data["findings"])
    worst = ", ".join(f"{n} {s}" for s, n in data["summary"]["by_severity"].items() if n)
    return ToolOutput(
        f"{len(kept)} findings match ({result.checks_run} checks run; all findings: {worst or 'none'})"
        + (f"; showing {len(data['findings'])}" if data["truncated"] else ""),
        data,
    )


def top_queries(ctx: Context, limit: int = 10, order_by: str = "total_ms") -> ToolOutput:
    keys = ("total_ms", "mean_ms", "calls", "rows", "shared_blks_read", "temp_blks_written")
    if order_by not in keys:
        raise InvalidArgumentError(f"unknown order {order_by!r}; use one of {', '.join(keys)}")
    snap = ctx.snapshot()
    reason = snap.skipped_reason("statements")
    if reason:
        return ToolOutput(f"no workload statistics: {reason}", {"statements": [], "skipped": reason})
    ranked = sorted(snap.statements, key=lambda s: getattr(s, order_by), reverse=True)[: max(limit, 0)]
    rows = [
        {
            "queryid": s.queryid,
            "query": s.query,
            "calls": s.calls,
            "total_ms": round(s.total_ms, 2),
            "mean_ms": round(s.mean_ms, 3),
            "rows": s.rows,
            "shared_blks_hit": s.shared_blks_hit,
            "shared_blks_read": s.shared_blks_read,
            "temp_blks_written": s.temp_blks_written,
        }
        for s in ranked
    ]
    total = sum(s.total_ms for s in snap.statements) or 1.0
    share = sum(r["total_ms"] for r in rows) / total
    return ToolOutput(
        f"top {len(rows)} of {len(snap.statements)} statements by {order_by}; they take "
        f"{share:.0%} of the tracked time",
        {"order_by": order_by, "statements": rows, "statements_reset": snap.statements_reset},
    )


def advise_indexes(
    ctx: Context,
    budget: str | None = None,
    query: str | None = None,
    min_calls: int = 0,
    objective: str = "auto",
) -> ToolOutput:
    """Hypothetical indexes only (HypoPG), so nothing is built in any mode. Without HypoPG the advice
    is unverified candidates from the workload (what_if "none", verified false) with a hint saying
    how to price them; the server never builds real indexes to price advice."""
    from dbwright.mcp.safety import check_statement, open_guarded

    if query is not None:
        check_statement(query, allow_write_statements=True)  # one statement, no dangerous functions
    limits = Limits(
        statement_timeout_ms=max(ctx.limits.statement_timeout_ms, 30000),
        lock_timeout_ms=ctx.limits.lock_timeout_ms,
        idle_in_transaction_ms=ctx.limits.idle_in_transaction_ms,
    )
    with open_guarded(ctx.target, limits) as conn:
        advice = api.advise_indexes(
            conn,
            budget=budget,
            query=query,
            min_calls=min_calls,
            objective=objective,
            allow_real_indexes=False,
            snapshot=ctx.snapshot(),
        )
    data = advice.to_dict()
    for recommendation in data["recommendations"]:
        recommendation["package"] = with_plan_token(ctx, {"fix": recommendation["package"]})["fix"]
    names = ", ".join(r["index"].get("name") or r["package"]["title"] for r in data["recommendations"][:5])
    if not advice.verified:
        return ToolOutput(
            f"{len(advice.recommendations)} candidate index(es), unverified (no what-if): "
            f"{names or 'none'}; {advice.hint}",
            data,
        )
    return ToolOutput(
        f"{len(advice.recommendations)} index(es) recommended ({advice.backend}), workload "
        f"{advice.unit} {advice.total_before:.1f} -> {advice.total_after:.1f}"
        + (f": {names}" if names else "")
        + f"; {len(advice.drops)} drop(s) proposed",
        data,
    )


# --- security -------------------------------------------------------------------------------------


def audit(
    ctx: Context,
    category: str | None = None,
    severity: str | None = None,
    code: str | None = None,
    limit: int = 50,
) -> ToolOutput:
    """The security audit (CIS-mapped checks, effective privileges, encryption), read-only."""
    if category:
        api.check_category(category, audit=True)
    minimum = api.parse_severity(severity or "info")
    result = api.audit(ctx.target, codes=[code] if code else None)
    version = result.snapshot.server.version_num
    kept = [
        f for f in api.at_or_above(result.findings, minimum) if not category or f.check.category == category
    ]
    data = result.to_dict()
    data["findings"] = [with_plan_token(ctx, f.to_dict(), version) for f in kept[: max(limit, 0)]]
    data["filters"] = {"category": category, "severity": severity, "code": code}
    data["matching_findings"] = len(kept)
    data["truncated"] = len(kept) > len(data["findings"])
    summary = data["summary"]
    return ToolOutput(
        f"{summary['checks']} audit checks: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['skipped']} skipped (not verified); {len(kept)} findings match",
        data,
    )


def pii_scan(ctx: Context, schema: str | None = None, sample_rows: int = 200) -> ToolOutput:
    """PII discovery from names, types and a bounded sample read in a read-only session; values masked."""
    rows = max(1, min(sample_rows, 1000))
    report = api.discover_pii(ctx.target, schemas=[schema] if schema else (), sample_rows=rows)
    data = report.to_dict()
    data["recommendations"] = [with_plan_token(ctx, {"fix": p})["fix"] for p in data["recommendations"]]
    kinds = ", ".join(dict.fromkeys(str(f.get("kind") or f.get("category") or "") for f in data["findings"]))
    return ToolOutput(
        f"{len(report.findings)} PII column(s) in {report.tables_scanned} tables "
        f"({report.columns_examined} columns, up to {rows} sampled rows each)"
        + (f": {kinds}" if kinds.strip(", ") else ""),
        data,
    )


# --- SQL -------------------------------------------------------------------------------------------


def explain(ctx: Context, sql: str, analyze: bool = False) -> ToolOutput:
    data = guarded_explain(ctx.target, sql, ctx.limits, analyze=analyze)
    top = data["plan"][0]["Plan"] if data["plan"] else {}
    line = f"{top.get('Node Type', '?')} cost {top.get('Startup Cost')}..{top.get('Total Cost')}, rows {top.get('Plan Rows')}"
    if analyze and data["plan"]:
        line += f"; actual {data['plan'][0].get('Execution Time')} ms"
    return ToolOutput(line, data)


def query(ctx: Context, sql: str, max_rows: int | None = None) -> ToolOutput:
    limits = ctx.limits
    if max_rows is not None:
        limits = Limits(
            limits.statement_timeout_ms,
            limits.lock_timeout_ms,
            limits.idle_in_transaction_ms,
            max(0, min(max_rows, limits.max_rows)),
            limits.max_bytes,
        )
    result = guarded_query(ctx.target, sql, limits)
    data = result.to_dict()
    data["limits"] = limits.to_dict()
    cut = f" (cut: {result.truncated_reason})" if result.truncated else ""
    return ToolOutput(f"{len(result.rows)} row(s), {len(result.columns)} column(s){cut}", data)


def lint_migration(ctx: Context, sql: str, server_version: int | None = None) -> ToolOutput:
    """Lint ``sql`` for the given server version, else the connected server's."""
    version = api.parse_server_version(server_version) if server_version else ctx.server_version
    findings = api.lint(sql, server_version=version, filename="<mcp>")
    active = [f for f in findings if not f.ignored]
    data = {"server_version": version, "findings": [f.to_dict() for f in findings]}
    codes = ", ".join(dict.fromkeys(f.to_dict().get("code", "") for f in active))
    return ToolOutput(f"{len(active)} lint finding(s)" + (f": {codes}" if codes else ""), data)


def check_docs(ctx: Context, code: str) -> ToolOutput:
    try:
        item = api.find_check(code)
    except InvalidArgumentError as error:
        raise InvalidArgumentError(f"{error.message} (the dbwright://checks resource lists them)") from None
    data = {
        "code": item.code,
        "title": item.title,
        "category": getattr(item, "category", "migration lint"),
        "severity": item.severity.label,
        "doc": item.doc,
    }
    return ToolOutput(f"{item.code}: {item.title}", data)


def check_catalog() -> list[dict[str, Any]]:
    items = [
        {"code": c.code, "title": c.title, "category": c.category, "severity": c.severity.label}
        for c in api.checks()
    ]
    items += [
        {"code": r.code, "title": r.title, "category": "migration lint", "severity": r.severity.label}
        for r in api.lint_rules()
    ]
    return items


# --- plans and apply -------------------------------------------------------------------------------


def change_statements(sql: str, down_sql: str = "", *, server_version: int) -> list[list[Any]]:
    """The exact statements the runner would run on a server of ``server_version`` for an up part (and
    keep for its down part): the runner splits statements by the connected server's version too."""
    statements = api.change_statements(sql, down_sql, server_version=server_version)
    if not any(row[0] == "up" for row in statements):
        raise RefusedError("the change has no statements")
    return statements


def with_plan_token(
    ctx: Context, finding: dict[str, Any], server_version: int | None = None
) -> dict[str, Any]:
    """In plan and apply modes, a finding's fix package carries the token that applies it on a server of
    ``server_version`` (default: the connected one's, from the session's snapshot)."""
    fix = finding.get("fix")
    if (
        ctx.mode == "read-only"
        or not fix
        or fix.get("requires_restart")
        or not fix.get("forward_sql", "").strip()
    ):
        return finding
    version = server_version or ctx.server_version
    try:
        statements = change_statements(
            fix["forward_sql"], fix.get("rollback_sql") or "", server_version=version
        )
    except Exception:  # a package the runner cannot split (e.g. a settings change) gets no token
        return finding
    fix["plan_token"] = ctx.tokens.issue(statements)
    fix["apply_with"] = {"tool": "apply_plan", "sql": "forward_sql", "down_sql": "rollback_sql"}
    return finding


def _staging(ctx: Context) -> Path:
    """A private copy of the migrations directory: the plan and the apply read the same files."""
    staging = Path(tempfile.mkdtemp(prefix="dbwright-mcp-"))
    if ctx.migrations_dir is not None:
        for path in sorted(ctx.migrations_dir.glob("*.sql")):
            shutil.copy2(path, staging / path.name)
    return staging


def _plan_statements(plan: Any) -> list[list[Any]]:
    return [[s.filename, s.step, s.in_transaction, s.sql] for s in plan.statements]


def plan_change(ctx: Context, sql: str, down_sql: str = "", name: str = "change") -> ToolOutput:
    """A dry run of ``sql`` as the next migration: locks, rewrites, durations, lint, and its plan token."""
    statements = change_statements(sql, down_sql, server_version=ctx.server_version)
    staging = _staging(ctx)
    try:
        path = api.migrate_new(staging, name, up=sql, down=down_sql)
        plan = api.migrate_plan(ctx.target, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    others = sorted({s.filename for s in plan.statements} - {path.name})
    data = plan.to_dict()
    data.update(
        plan_token=ctx.tokens.issue(statements),
        migration_file=path.name,
        other_pending_migrations=others,
        apply_with={"tool": "apply_plan", "arguments": {"sql": sql, "down_sql": down_sql, "name": name}},
    )
    locks = ", ".join(dict.fromkeys(s.lock for s in plan.statements if s.filename == path.name))
    ours = [s for s in plan.statements if s.filename == path.name]
    return ToolOutput(
        f"{len(ours)} statement(s) planned, locks: {locks or 'none'}; "
        f"{len([f for f in plan.findings if not f.ignored])} lint finding(s); "
        f"~{plan.estimated_seconds:.1f}s" + (f"; {len(others)} other migration(s) pending" if others else ""),
        data,
    )


def plan_migrations(ctx: Context) -> ToolOutput:
    """A dry run of the pending files in the configured migrations directory, with their plan token."""
    if ctx.migrations_dir is None:
        raise RefusedError("no migrations directory configured (start the server with --migrations DIR)")
    staging = _staging(ctx)
    try:
        plan = api.migrate_plan(ctx.target, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    data = plan.to_dict()
    data["plan_token"] = ctx.tokens.issue(_plan_statements(plan)) if plan.statements else None
    files = sorted({s.filename for s in plan.statements})
    return ToolOutput(
        f"{len(files)} pending migration(s), {len(plan.statements)} statement(s), "
        f"~{plan.estimated_seconds:.1f}s",
        data,
    )


def apply_plan(
    ctx: Context, plan_token: str, sql: str | None = None, down_sql: str = "", name: str = "change"
) -> ToolOutput:
    """Run exactly the planned statements through the migration runner (deploy lock, lock_timeout, retries)."""
    if ctx.mode != "apply":
        raise RefusedError("apply_plan runs only in apply mode")
    if ctx.migrations_dir is None:
        raise RefusedError("apply needs the project's migrations directory (--migrations DIR)")
    if sql is not None:
        ctx.tokens.verify(plan_token, change_statements(sql, down_sql, server_version=ctx.server_version))
    staging = _staging(ctx)
    try:
        added = api.migrate_new(staging, name, up=sql, down=down_sql) if sql is not None else None
        plan = api.migrate_plan(ctx.target, staging)
        if added is not None:
            others = sorted({s.filename for s in plan.statements} - {added.name})
            if others:
                raise RefusedError(
                    f"other migrations are pending ({', '.join(others)}): plan_migrations and "
                    "apply them first; nothing was applied"
                )
        else:
            ctx.tokens.verify(plan_token, _plan_statements(plan))
        if not plan.statements:
            raise RefusedError("nothing is pending; nothing was applied")
        report = api.migrate_apply(ctx.target, staging, ctx.apply_options)
        if added is not None:
            shutil.copy2(added, ctx.migrations_dir / added.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    ctx.forget_snapshot()
    data = report.to_dict()
    data["written_to"] = str(ctx.migrations_dir / added.name) if added is not None else None
    return ToolOutput(
        f"applied {', '.join(report.migrations)}: {len(report.steps)} step(s) in {report.seconds:.2f}s", data
    )
