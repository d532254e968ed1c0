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
from typing import TYPE_CHECKING, Any

from dbwright import api
from dbwright.errors import InvalidArgumentError, RefusedError
from dbwright.mcp.safety import Limits, guarded_explain, guarded_query
from dbwright.mcp.tokens import PlanTokens
from dbwright.model import Snapshot

if TYPE_CHECKING:
    from dbwright.config import Config

MODES = ("read-only", "plan", "apply")
OBJECT_KINDS = ("tables", "views", "materialized_views", "functions", "sequences", "extensions")
TABLE_KINDS = {"r": "table", "p": "partitioned table", "f": "foreign table"}
FUNCTION_KINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window function"}
VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}
MAX_HYPOTHETICAL_INDEXES = 20
#: What an agent can do without pg_stat_statements: the MCP arguments, not the CLI's flags.
NO_WORKLOAD_ADVICE = (
    "pass the statement to analyze as advise_indexes' `query` argument, or test an index with "
    "explain_with_indexes {sql, indexes}; for workload statistics a DBA adds pg_stat_statements to "
    "shared_preload_libraries and runs CREATE EXTENSION pg_stat_statements"
)
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
    #: The project's configuration (dbwright.toml): review and audit honour its ignores, severities
    #: and turned-off checks, as the CLI does.
    config: Config | None = None
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


def list_objects(ctx: Context, schema: str | None = None, kinds: list[str] | None = None) -> ToolOutput:
    """The user objects of the database, per kind, optionally of one schema; counts cover what is listed."""
    snap = ctx.snapshot()
    if schema is not None and schema not in {s.name for s in snap.schemas}:
        names = ", ".join(sorted(s.name for s in snap.schemas))
        raise InvalidArgumentError(f"no schema named {schema!r}; the database has: {names}")
    wanted = set(kinds or OBJECT_KINDS)

    def keep(kind: str, object_schema: str | None) -> bool:
        return kind in wanted and (schema is None or object_schema == schema)

    sizes = {t.qname: t for t in snap.tables}
    data: dict[str, Any] = {
        "database": snap.server.database,
        "schema_filter": schema,
        "schemas": [{"name": s.name, "owner": s.owner} for s in snap.schemas if schema in (None, s.name)],
        "tables": [
            {
                "name": t.qname,
                "kind": TABLE_KINDS.get(t.kind, t.kind),
                "rows_estimate": t.row_estimate,
                "total_bytes": t.total_bytes,
            }
            for t in snap.tables
            if t.kind != "m" and keep("tables", t.schema)
        ],
        "views": [
            {"name": v.qname, "owner": v.owner}
            for v in snap.views
            if not v.materialized and keep("views", v.schema)
        ],
        "materialized_views": [
            {
                "name": v.qname,
                "owner": v.owner,
                "populated": v.populated,
                "rows_estimate": sizes[v.qname].row_estimate if v.qname in sizes else None,
                "total_bytes": sizes[v.qname].total_bytes if v.qname in sizes else None,
            }
            for v in snap.views
            if v.materialized and keep("materialized_views", v.schema)
        ],
        "functions": [
            {
                "name": f"{f.schema}.{f.name}({f.arguments})",
                "kind": FUNCTION_KINDS.get(f.kind, f.kind),
                "language": f.language,
                "volatility": VOLATILITY.get(f.volatility, f.volatility),
                "security_definer": f.security_definer,
            }
            for f in snap.functions
            if keep("functions", f.schema)
        ],
        "sequences": [
            {
                "name": f"{q.schema}.{q.name}",
                "data_type": q.data_type,
                "last_value": q.last_value,
                "max_value": q.max_value,
                "owned_by": q.owned_by,
            }
            for q in snap.sequences
            if keep("sequences", q.schema)
        ],
        "extensions": [
            {"name": e.name, "version": e.installed_version, "schema": e.schema}
            for e in snap.server.extensions
            if e.installed_version and keep("extensions", e.schema)
        ],
    }
    data["counts"] = {kind: len(data[kind]) for kind in OBJECT_KINDS}
    listed = ", ".join(
        f"{n} {kind.replace('_', ' ')}" for kind, n in data["counts"].items() if kind in wanted
    )
    where = f"schema {schema}" if schema else f"{len(data['schemas'])} schemas"
    return ToolOutput(f"{listed} in {where} of {snap.server.database}", data)


def resolve_table(snap: Snapshot, name: str) -> str:
    """'schema.table' or a bare name found in exactly one schema. Looked up, never interpolated."""
    if snap.table(name):
        return name
    matches = [t.qname for t in snap.tables if t.name == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InvalidArgumentError(f"table name {name!r} is ambiguous: {', '.join(sorted(matches))}")
    raise InvalidArgumentError(f"no table named {name!r} (list_objects shows the names)")


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
        ctx.snapshot(),
        categories=[category] if category else None,
        codes=[code] if code else None,
        config=ctx.config,
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
        advice = f"{reason}; {NO_WORKLOAD_ADVICE}"
        return ToolOutput(f"no workload statistics: {advice}", {"statements": [], "skipped": advice})
    statements = snap.workload_statements()  # dbwright's own statements are not the workload
    ranked = sorted(statements, key=lambda s: getattr(s, order_by), reverse=True)[: max(limit, 0)]
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
    total = sum(s.total_ms for s in statements) or 1.0
    share = sum(r["total_ms"] for r in rows) / total
    return ToolOutput(
        f"top {len(rows)} of {len(statements)} statements by {order_by}; they take "
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
    elif (reason := ctx.snapshot().skipped_reason("statements")) is not None:
        raise InvalidArgumentError(f"no workload to advise on: {reason}; {NO_WORKLOAD_ADVICE}")
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
        why = "" if advice.verified else api.what_if_available(ctx.target, conn)[1]
    data = advice.to_dict()
    if not advice.verified:  # the library's hint names a CLI flag; this server never builds real indexes
        advice.hint = data["hint"] = (
            f"{why}; until a DBA installs HypoPG the candidates stay unverified: this server never builds "
            "real indexes to price them (explain_with_indexes needs HypoPG too)"
        )
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
    result = api.audit(ctx.target, codes=[code] if code else None, config=ctx.config)
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


# --- what-if, migrations, diff, access, replication -------------------------------------------------


def _plan_cost(plan: list[dict[str, Any]]) -> float:
    return float(plan[0]["Plan"].get("Total Cost", 0.0)) if plan else 0.0


def _index_names(node: Any) -> set[str]:
    """Every "Index Name" anywhere in an EXPLAIN (FORMAT JSON) document."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "Index Name" in item:
                found.add(str(item["Index Name"]))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def explain_with_indexes(ctx: Context, sql: str, indexes: list[str]) -> ToolOutput:
    """EXPLAIN one statement without and with hypothetical indexes (HypoPG); nothing is built."""
    from dbwright.mcp.safety import guarded_explain_with_indexes

    if not indexes:
        raise InvalidArgumentError("give at least one CREATE INDEX statement in `indexes`")
    if len(indexes) > MAX_HYPOTHETICAL_INDEXES:
        raise InvalidArgumentError(f"at most {MAX_HYPOTHETICAL_INDEXES} hypothetical indexes per call")
    data = guarded_explain_with_indexes(
        ctx.target, sql, indexes, ctx.limits, lambda conn: api.what_if_available(ctx.target, conn)
    )
    before, after = _plan_cost(data["plan_before"]), _plan_cost(data["plan_after"])
    used = _index_names(data["plan_after"]) & {i["name"] for i in data["hypothetical_indexes"]}
    data.update(
        cost_before=before,
        cost_after=after,
        improvement=round(1 - after / before, 4) if before > 0 else 0.0,
        indexes_used=sorted(used),
        built=False,
        transaction="read-only, rolled back; hypothetical indexes reset",
    )
    verdict = f"the plan uses {', '.join(sorted(used))}" if used else "the plan uses none of them"
    return ToolOutput(
        f"cost {before:.2f} -> {after:.2f} ({data['improvement']:.0%} lower) with {len(indexes)} "
        f"hypothetical index(es); {verdict}",
        data,
    )


def migration_status(ctx: Context) -> ToolOutput:
    """The migration history in the database and, with a migrations directory, what is pending."""
    history = api.migrate_history(ctx.target)
    data: dict[str, Any] = {
        "history": [row.to_dict() for row in history],
        "migrations_dir": ctx.migrations_dir is not None,
        "pending": None,
        "out_of_order": None,
        "partial": next((r.to_dict() for r in history if r.status != "applied"), None),
        "baseline": next((r.version for r in reversed(history) if r.kind == "baseline"), None),
    }
    if ctx.migrations_dir is not None:
        data.update(api.migrate_status(ctx.target, ctx.migrations_dir).to_dict())
        data["history"] = data.pop("applied")
    last = history[-1] if history else None
    summary = f"{len(history)} migration(s) applied" + (
        f", the last {last.filename} at {last.applied_at}" if last else ""
    )
    if data["pending"] is not None:
        summary += f"; {len(data['pending'])} pending, {len(data['out_of_order'])} out of order"
    else:
        summary += "; pending files unknown (start the server with --migrations DIR to compare)"
    if data["partial"]:
        summary += f"; {data['partial']['filename']} is partly applied"
    return ToolOutput(summary, data)


def diff_plan(
    ctx: Context,
    desired_sql: str,
    allow_destructive: bool = False,
    rename_tables: list[str] | None = None,
    rename_columns: list[str] | None = None,
    scratch: str = "target",
) -> ToolOutput:
    """The migration from the live schema to ``desired_sql``: the target is only read; the desired schema
    is loaded into a scratch database (created and dropped) on the target's server or the embedded one."""
    from dbwright.mcp.safety import check_schema_sql

    statements = check_schema_sql(desired_sql)
    with tempfile.TemporaryDirectory(prefix="dbwright-mcp-diff-") as folder:
        desired = Path(folder) / "desired.sql"
        desired.write_text(desired_sql, encoding="utf-8")
        plan = api.diff(
            ctx.target,
            desired,
            allow_destructive=allow_destructive,
            rename_tables=rename_tables or (),
            rename_columns=rename_columns or (),
            scratch_server="embedded" if scratch == "embedded" else None,
        )
        summary = api.diff_summary(plan)
    data = plan.to_dict()
    data["migration"] = plan.migration()
    data["desired_statements"] = statements
    data["packages"] = [with_plan_token(ctx, {"fix": p})["fix"] for p in data["packages"]]
    if ctx.mode != "read-only" and plan.packages:
        data["apply_with"] = {"tool": "plan_change", "sql": "the migration's up part"}
    data["summary"] = summary
    return ToolOutput(
        f"{len(plan.differences)} difference(s): {len(plan.packages)} change package(s), "
        f"{len(plan.refused)} destructive change(s) refused"
        + (" (allow_destructive=true includes them)" if plan.refused else "")
        + f", ~{data['estimated_seconds']:.1f}s",
        data,
    )


def access(ctx: Context, role: str) -> ToolOutput:
    """What one role can read, write, own and execute, through inheritance (the server's own checks)."""
    matrix = api.role_access(ctx.target, role)
    data = {"role": role, **matrix.to_dict()}
    counts: dict[str, int] = {}
    for entry in data["entries"]:
        counts[entry.get("level", "?")] = counts.get(entry.get("level", "?"), 0) + 1
    spread = ", ".join(f"{n} object(s) at {level}" for level, n in sorted(counts.items()))
    if role in data["superusers"]:
        spread = "superuser: every privilege on every object"
    return ToolOutput(f"{role} in {data['database']}: {spread}", data)


def replication_status(ctx: Context) -> ToolOutput:
    """Primary or standby, its standbys and their lag, replication slots and the WAL they hold."""
    status = api.replication_status(ctx.target)
    data = status.to_dict()
    held = sum(s.get("retained_wal_bytes") or 0 for s in status.slots)
    summary = (
        f"{status.role}: {len(status.standbys)} standby(s) streaming, {len(status.slots)} slot(s)"
        + (f" holding {held} bytes of WAL" if status.slots else "")
        + (f"; WAL receiver {status.wal_receiver.get('status')}" if status.wal_receiver else "")
    )
    return ToolOutput(summary, data)
