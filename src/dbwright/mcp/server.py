"""The MCP server: dbwright's library as tools for an AI agent, safe by construction.

``build_server(target, mode=...)`` returns a FastMCP server (official ``mcp`` SDK). Which tools
exist depends on the mode: in read-only mode no tool that writes is even registered; plan
mode adds the dry-run planners (their packages carry plan tokens); apply mode adds one tool,
``apply_plan``, which runs exactly a planned set of statements. There is no free-form write
tool in any mode. Every call is audited, and every failure is one redacted line.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.types import CallToolResult, TextContent, ToolAnnotations

from dbwright.engines.postgres.readonly_sql import as_server_error
from dbwright.errors import BadTargetError, DbwrightError, RefusedError
from dbwright.mcp import tools
from dbwright.mcp.auditlog import AuditLog
from dbwright.mcp.safety import Limits, check_target
from dbwright.redact import redact

READ_ONLY = ToolAnnotations(
    readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False
)
WRITES = ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=False, openWorldHint=False)

READ_ONLY_TOOLS = (
    "list_tables",
    "describe_table",
    "snapshot_summary",
    "review",
    "explain",
    "top_queries",
    "advise_indexes",
    "lint_migration",
    "check_docs",
    "query",
    "audit",
    "pii_scan",
)
PLAN_TOOLS = ("plan_change", "plan_migrations")
APPLY_TOOLS = ("apply_plan",)

INSTRUCTIONS = """dbwright: a senior database engineer's tools for one PostgreSQL database.
Start with snapshot_summary and review; explain and query are read-only and bounded (one statement,
read-only transaction always rolled back, timeouts, row and byte caps). advise_indexes uses hypothetical
indexes only. In plan mode, plan_change returns a dry run with a plan_token; in apply mode apply_plan runs
exactly the planned statements when given that token. There is no other way to write."""

DOCS_DIR = Path(__file__).resolve().parents[3] / "docs"
_PAGE = re.compile(r"[a-z0-9][a-z0-9-]{0,60}")


def tools_for(mode: str) -> tuple[str, ...]:
    if mode not in tools.MODES:
        raise BadTargetError(f"unknown mode {mode!r}; use one of {', '.join(tools.MODES)}")
    names = READ_ONLY_TOOLS
    if mode in ("plan", "apply"):
        names += PLAN_TOOLS
    if mode == "apply":
        names += APPLY_TOOLS
    return names


def redact_strings(value: Any) -> Any:
    """Every string in a JSON-like structure with passwords masked (structure kept intact)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_strings(v) for k, v in value.items()}
    return value


@dataclass
class Dispatcher:
    """Runs one tool: in a worker thread, audited, with errors as one redacted line."""

    ctx: tools.Context
    audit: AuditLog

    async def __call__(self, name: str, function: Any, arguments: dict[str, Any]) -> CallToolResult:
        started = time.perf_counter()
        try:
            output = await anyio.to_thread.run_sync(lambda: function(self.ctx, **arguments))
            data = redact_strings(json.loads(json.dumps(output.data, default=str)))
        except DbwrightError as error:
            return self._failed(name, arguments, started, type(error).__name__, error.label, error.message)
        except Exception as error:
            failure = as_server_error(error)  # a driver error no library function turned into one line
            if failure is not None:
                return self._failed(name, arguments, started, "ServerError", "server error", failure.message)
            # A bug: say so in one line, never a traceback or a secret.
            return self._failed(
                name,
                arguments,
                started,
                "InternalError",
                "internal error",
                f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
            )
        self.audit.record(
            tool=name,
            mode=self.ctx.mode,
            arguments=arguments,
            duration_ms=(time.perf_counter() - started) * 1000,
            outcome="ok",
        )
        return CallToolResult(
            content=[TextContent(type="text", text=redact(output.summary))], structuredContent=data
        )

    def _failed(
        self, name: str, arguments: dict[str, Any], started: float, kind: str, label: str, message: str
    ) -> CallToolResult:
        message = redact(message)
        outcome = "refused" if kind in ("RefusedError", "SqlParseError") else "error"
        self.audit.record(
            tool=name,
            mode=self.ctx.mode,
            arguments=arguments,
            duration_ms=(time.perf_counter() - started) * 1000,
            outcome=outcome,
            error=message,
        )
        return CallToolResult(
            isError=True,
            content=[TextContent(type="text", text=f"{label}: {message}")],
            structuredContent={"error": {"kind": kind, "label": label, "message": message}},
        )


def build_server(
    target: str | None,
    *,
    mode: str = "read-only",
    limits: Limits | None = None,
    migrations_dir: Path | None = None,
    audit: AuditLog | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> FastMCP:
    """A FastMCP server for ``target`` with exactly the tools ``mode`` allows."""
    names = tools_for(mode)
    if mode == "apply" and migrations_dir is None:
        raise RefusedError(
            "apply mode needs the project's migrations directory (--migrations DIR): applied "
            "plans are written there so the files and the migration history agree"
        )
    if migrations_dir is not None and not migrations_dir.is_dir():
        raise BadTargetError(f"migrations directory not found: {migrations_dir}")
    check_target(target, limits or Limits())  # a malformed target fails now, not at the first call
    ctx = tools.Context(target=target, mode=mode, limits=limits or Limits(), migrations_dir=migrations_dir)
    dispatch = Dispatcher(ctx, audit or AuditLog())
    server = FastMCP("dbwright", instructions=INSTRUCTIONS, host=host, port=port, log_level="WARNING")
    server.dbwright_audit = dispatch.audit  # type: ignore[attr-defined]
    server.dbwright_context = ctx  # type: ignore[attr-defined]
    _register_tools(server, dispatch, names)
    _register_resources(server)
    return server


def _register_tools(server: FastMCP, call: Dispatcher, names: tuple[str, ...]) -> None:
    def add(fn: Any, annotations: ToolAnnotations = READ_ONLY) -> None:
        if fn.__name__ in names:
            server.add_tool(
                fn, name=fn.__name__, description=(fn.__doc__ or "").strip(), annotations=annotations
            )

    async def list_tables(schema: str | None = None) -> CallToolResult:
        """Schemas and tables (kind, row estimate, size). Optionally only one schema."""
        return await call("list_tables", tools.list_tables, {"schema": schema})

    async def describe_table(table: str) -> CallToolResult:
        """One table: columns with types and statistics, indexes, constraints, triggers, policies."""
        return await call("describe_table", tools.describe_table, {"table": table})

    async def snapshot_summary(refresh: bool = False) -> CallToolResult:
        """Server version, role, object counts and skipped sections of a read-only catalog snapshot."""
        return await call("snapshot_summary", tools.snapshot_summary, {"refresh": refresh})

    async def review(
        category: str | None = None,
        severity: str | None = None,
        object: str | None = None,
        code: str | None = None,
        limit: int = 50,
    ) -> CallToolResult:
        """Run dbwright's checks. Filters: category (design, integrity, indexes, maintenance, workload,
        security, compliance, configuration), minimum severity (info..critical), object name substring, check code."""
        return await call(
            "review",
            tools.review,
            {"category": category, "severity": severity, "object": object, "code": code, "limit": limit},
        )

    async def explain(sql: str, analyze: bool = False) -> CallToolResult:
        """EXPLAIN (FORMAT JSON) one statement in a read-only transaction that is rolled back. ANALYZE runs the
        statement, so it is allowed only for statements that pass the read-only check."""
        return await call("explain", tools.explain, {"sql": sql, "analyze": analyze})

    async def top_queries(limit: int = 10, order_by: str = "total_ms") -> CallToolResult:
        """The heaviest statements from pg_stat_statements (order by total_ms, mean_ms, calls, rows, ...)."""
        return await call("top_queries", tools.top_queries, {"limit": limit, "order_by": order_by})

    async def advise_indexes(
        budget: str | None = None, query: str | None = None, min_calls: int = 0, objective: str = "auto"
    ) -> CallToolResult:
        """Index advice for the workload (or one query) within a storage budget, priced with hypothetical
        indexes (HypoPG) only: nothing is built in any mode. Without HypoPG the advice is unverified
        candidates (what_if "none", verified false) with a hint. objective: total (summed time or cost),
        per-query (geometric mean of each statement's speed-up) or auto (total with timings)."""
        return await call(
            "advise_indexes",
            tools.advise_indexes,
            {"budget": budget, "query": query, "min_calls": min_calls, "objective": objective},
        )

    async def lint_migration(sql: str, server_version: int | None = None) -> CallToolResult:
        """Lint migration SQL: each unsafe statement with the lock it takes and its safe rewrite."""
        return await call(
            "lint_migration", tools.lint_migration, {"sql": sql, "server_version": server_version}
        )

    async def check_docs(code: str) -> CallToolResult:
        """The documentation of a check (DW1xx-DW6xx) or lint rule (DW7xx) code."""
        return await call("check_docs", tools.check_docs, {"code": code})

    async def query(sql: str, max_rows: int | None = None) -> CallToolResult:
        """Run ONE read-only SELECT: read-only transaction always rolled back, dangerous functions refused,
        server-side timeouts, capped rows and bytes (a cut result says so)."""
        return await call("query", tools.query, {"sql": sql, "max_rows": max_rows})

    async def audit(
        category: str | None = None, severity: str | None = None, code: str | None = None, limit: int = 50
    ) -> CallToolResult:
        """Security audit mapped to the CIS PostgreSQL benchmark: roles, authentication (pg_hba), TLS,
        logging, privileges, RLS, encryption. Checks the role cannot verify are listed as skipped, never
        passed. Filters: category, minimum severity, check code."""
        return await call(
            "audit", tools.audit, {"category": category, "severity": severity, "code": code, "limit": limit}
        )

    async def pii_scan(schema: str | None = None, sample_rows: int = 200) -> CallToolResult:
        """Find columns holding personal data from names, types and a bounded sample of values (read-only,
        at most 1000 rows per table). Values are reported masked only."""
        return await call("pii_scan", tools.pii_scan, {"schema": schema, "sample_rows": sample_rows})

    async def plan_change(sql: str, down_sql: str = "", name: str = "change") -> CallToolResult:
        """Dry-run SQL as the next migration: each statement's lock, rewrite, scan and duration, the lint, and a
        plan_token bound to these exact statements. Nothing is run."""
        return await call("plan_change", tools.plan_change, {"sql": sql, "down_sql": down_sql, "name": name})

    async def plan_migrations() -> CallToolResult:
        """Dry-run the pending files of the configured migrations directory, with a plan_token."""
        return await call("plan_migrations", tools.plan_migrations, {})

    async def apply_plan(
        plan_token: str, sql: str | None = None, down_sql: str = "", name: str = "change"
    ) -> CallToolResult:
        """Apply exactly a planned change (give the same sql/down_sql/name as to plan_change) or, without sql,
        the planned pending migrations, through the migration runner: deploy advisory lock, lock_timeout,
        retries, history. Refused unless plan_token matches these exact statements."""
        return await call(
            "apply_plan",
            tools.apply_plan,
            {"plan_token": plan_token, "sql": sql, "down_sql": down_sql, "name": name},
        )

    for fn in (
        list_tables,
        describe_table,
        snapshot_summary,
        review,
        explain,
        top_queries,
        advise_indexes,
        lint_migration,
        check_docs,
        query,
        audit,
        pii_scan,
        plan_change,
        plan_migrations,
    ):
        add(fn)
    add(apply_plan, WRITES)


def _register_resources(server: FastMCP) -> None:
    @server.resource(
        "dbwright://checks",
        name="check catalog",
        mime_type="application/json",
        description="Every review check and migration lint rule: code, title, category, severity.",
    )
    def checks() -> str:
        return json.dumps(tools.check_catalog(), indent=1)

    @server.resource(
        "dbwright://checks/{code}",
        name="check docs",
        mime_type="text/markdown",
        description="The documentation page of one check or lint rule.",
    )
    def check_doc(code: str) -> str:
        data = tools.check_docs(None, code).data  # type: ignore[arg-type]
        return f"# {data['code']}: {data['title']}\n\n{data['doc']}\n"

    @server.resource(
        "dbwright://docs",
        name="docs index",
        mime_type="application/json",
        description="The dbwright documentation pages available as dbwright://docs/{page}.",
    )
    def docs_index() -> str:
        pages = sorted(p.stem for p in DOCS_DIR.glob("*.md")) if DOCS_DIR.is_dir() else []
        return json.dumps(pages)

    @server.resource(
        "dbwright://docs/{page}",
        name="docs page",
        mime_type="text/markdown",
        description="A dbwright documentation page (see dbwright://docs for the list).",
    )
    def docs_page(page: str) -> str:
        if not _PAGE.fullmatch(page) or not (DOCS_DIR / f"{page}.md").is_file():
            raise BadTargetError(f"no docs page {page!r}")
        return (DOCS_DIR / f"{page}.md").read_text(encoding="utf-8")


# --- HTTP ------------------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Listening beyond this machine needs a bearer token: refuse otherwise, before binding anything."""
    if not is_loopback(host) and not token:
        raise RefusedError(
            f"refusing to listen on {host}, which is not a loopback address, without a token: "
            "set one with --token-env VAR (clients send 'Authorization: Bearer <token>')"
        )


class BearerToken:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <token>``."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        import hmac

        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send(
                    {"type": "http.response.body", "body": b'{"error":"missing or wrong bearer token"}'}
                )
                return
        await self.app(scope, receive, send)


def http_app(server: FastMCP, token: str | None) -> Any:
    app = server.streamable_http_app()
    return BearerToken(app, token) if token else app


def serve_http(server: FastMCP, host: str, port: int, token: str | None) -> None:
    import uvicorn

    check_bind(host, token)
    app = http_app(server, token)
    # FastMCP's own app runs its session manager in the Starlette lifespan; uvicorn drives it.
    uvicorn.run(app, host=host, port=port, log_level="warning")
