"""The MCP server: dbwright's library as tools for an AI agent, safe by construction.

``build_server(target, mode=...)`` returns a FastMCP server (official ``mcp`` SDK). Which tools
exist depends on the mode: in read-only mode no tool that writes is even registered; plan
mode adds the dry-run planners (their packages carry plan tokens); apply mode adds one tool,
``apply_plan``, which runs exactly a planned set of statements. There is no free-form write
tool in any mode. Every call is audited, and every failure is one redacted line.
"""

from __future__ import annotations

import inspect
import ipaddress
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.tools import Tool
from mcp.server.fastmcp.utilities.func_metadata import FuncMetadata
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field, PrivateAttr, ValidationError

from dbwright import __version__, bundled_docs
from dbwright.engines.postgres.readonly_sql import as_server_error
from dbwright.errors import BadTargetError, DbwrightError, InvalidArgumentError, RefusedError
from dbwright.mcp import schemas, tools
from dbwright.mcp.auditlog import AuditLog
from dbwright.mcp.safety import Limits, check_target
from dbwright.redact import redact

if TYPE_CHECKING:
    from dbwright.config import Config

READ_ONLY = ToolAnnotations(
    readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False
)
WRITES = ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=False, openWorldHint=False)

READ_ONLY_TOOLS = (
    "list_objects",
    "describe_table",
    "snapshot_summary",
    "review",
    "explain",
    "explain_with_indexes",
    "top_queries",
    "advise_indexes",
    "lint_migration",
    "check_docs",
    "query",
    "audit",
    "access",
    "pii_scan",
    "migration_status",
    "diff_plan",
    "replication_status",
)
PLAN_TOOLS = ("plan_change", "plan_migrations")
APPLY_TOOLS = ("apply_plan",)

INSTRUCTIONS = """dbwright: a senior database engineer's tools for one PostgreSQL database.
Start with snapshot_summary, list_objects and review. explain and query are read-only and bounded (one
statement, read-only transaction always rolled back, timeouts, row and byte caps). Test an index before
proposing it with explain_with_indexes (hypothetical indexes, HypoPG; nothing is built); advise_indexes
prices candidates the same way. migration_status, diff_plan, access, audit and replication_status only read.
In plan mode, plan_change returns a dry run with a plan_token; in apply mode apply_plan runs exactly the
planned statements when given that token. There is no other way to write. The prompts review_database,
plan_safe_migration and why_is_this_query_slow show the usual sequences."""


def tools_for(mode: str) -> tuple[str, ...]:
    if mode not in tools.MODES:
        raise InvalidArgumentError(f"unknown mode {mode!r}; use one of {', '.join(tools.MODES)}")
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

    def refuse(self, name: str, arguments: dict[str, Any], error: DbwrightError) -> CallToolResult:
        """A call stopped before it ran (its arguments did not validate), audited like any failure."""
        return self._failed(
            name, arguments, time.perf_counter(), type(error).__name__, error.label, error.message
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
            structuredContent={
                "error": schemas.ToolError(kind=kind, label=label, message=message).model_dump()
            },
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
    config: Config | None = None,
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
    ctx = tools.Context(
        target=target, mode=mode, limits=limits or Limits(), migrations_dir=migrations_dir, config=config
    )
    dispatch = Dispatcher(ctx, audit or AuditLog())
    server = FastMCP(
        "dbwright",
        instructions=INSTRUCTIONS,
        host=host,
        port=port,
        log_level="WARNING",
        tools=_tools(dispatch, names),
    )
    server.dbwright_audit = dispatch.audit  # type: ignore[attr-defined]
    server.dbwright_context = ctx  # type: ignore[attr-defined]
    server._mcp_server.version = __version__  # serverInfo.version: dbwright's, not the SDK's
    _register_prompts(server)
    _register_resources(server)
    return server


def _tool(fn: Any, call: Dispatcher, annotations: ToolAnnotations) -> Tool:
    """A FastMCP tool whose output schema is its return annotation's model, with dbwright's errors.

    FastMCP would check a failed call's ``{"error": …}`` against the success schema, and report an
    argument outside its enum as a pydantic dump; ``DbwrightToolMetadata`` returns both as dbwright
    errors instead (kind, label, one line), audited like every other failure.
    """
    tool = Tool.from_function(
        fn,
        name=fn.__name__,
        description=inspect.cleandoc(fn.__doc__ or ""),
        annotations=annotations,
        structured_output=True,
    )
    metadata = DbwrightToolMetadata.model_construct(**dict(tool.fn_metadata))
    metadata._dispatch = call
    metadata._tool_name = fn.__name__
    tool.fn_metadata = metadata
    return tool


def argument_problem(error: ValidationError) -> str:
    """The first problem with a tool's arguments, in one line: "unknown objective 'x'; use one of …"."""
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "arguments"
    given = problem.get("input")
    if problem["type"] == "literal_error":
        expected = problem.get("ctx", {}).get("expected", "")
        choices = expected.replace(" or ", ", ")
        if len(problem["loc"]) > 1:  # one item of a list argument
            return f"{problem['loc'][0]}: unknown value {given!r}; use one of {choices}"
        return f"unknown {where.replace('_', ' ')} {given!r}; use one of {choices}"
    if problem["type"] == "missing":
        return f"{where}: a value is required"
    return f"{where}: {problem['msg']} (got {given!r})"


class DbwrightToolMetadata(FuncMetadata):
    """FastMCP's argument handling, with bad arguments as ``invalid argument`` and errors left as they are."""

    _dispatch: Any = PrivateAttr(default=None)
    _tool_name: str = PrivateAttr(default="")

    async def call_fn_with_arg_validation(
        self,
        fn: Any,
        fn_is_async: bool,
        arguments_to_validate: dict[str, Any],
        arguments_to_pass_directly: dict[str, Any] | None,
    ) -> Any:
        try:
            self.arg_model.model_validate(self.pre_parse_json(arguments_to_validate))
        except ValidationError as error:
            message = argument_problem(error)
            return self._dispatch.refuse(
                self._tool_name, arguments_to_validate, InvalidArgumentError(message)
            )
        return await super().call_fn_with_arg_validation(
            fn, fn_is_async, arguments_to_validate, arguments_to_pass_directly
        )

    def convert_result(self, result: Any) -> Any:
        if isinstance(result, CallToolResult) and result.isError:
            return result  # {"error": …}: the shape every failure has, not the tool's output schema
        return super().convert_result(result)


def _tools(call: Dispatcher, names: tuple[str, ...]) -> list[Tool]:
    """The tools ``names`` allows, each calling its function in tools.py through ``call``."""
    chosen: list[Tool] = []

    def add(fn: Any, annotations: ToolAnnotations = READ_ONLY) -> None:
        if fn.__name__ in names:
            chosen.append(_tool(fn, call, annotations))

    async def list_objects(
        schema: Annotated[
            str | None, Field(description="Only this schema (default: every user schema).")
        ] = None,
        kinds: Annotated[
            list[schemas.ObjectKind] | None, Field(description="Only these kinds of object (default: all).")
        ] = None,
    ) -> Annotated[CallToolResult, schemas.ListObjectsOutput]:
        """Tables, views, materialized views, functions, sequences and installed extensions, per schema,
        with row estimates and sizes. Counts cover only what is listed (the schema asked for)."""
        return await call("list_objects", tools.list_objects, {"schema": schema, "kinds": kinds})

    async def describe_table(
        table: Annotated[str, Field(description="'schema.table', or a table name found in one schema only.")],
    ) -> Annotated[CallToolResult, schemas.DescribeTableOutput]:
        """One table: columns with types and statistics, indexes, constraints, triggers, policies."""
        return await call("describe_table", tools.describe_table, {"table": table})

    async def snapshot_summary(
        refresh: Annotated[bool, Field(description="Read the catalog again (else reused for 30 s).")] = False,
    ) -> Annotated[CallToolResult, schemas.SnapshotSummaryOutput]:
        """Server version, role, object counts and skipped sections of a read-only catalog snapshot."""
        return await call("snapshot_summary", tools.snapshot_summary, {"refresh": refresh})

    async def review(
        category: Annotated[schemas.Category | None, Field(description="Only this review area.")] = None,
        severity: Annotated[schemas.Severity | None, Field(description="Minimum severity to return.")] = None,
        object: Annotated[
            str | None, Field(description="Only findings whose object contains this text.")
        ] = None,
        code: Annotated[str | None, Field(description="Only this check code, e.g. DW101.")] = None,
        limit: Annotated[int, Field(ge=0, le=500, description="At most this many findings.")] = 50,
    ) -> Annotated[CallToolResult, schemas.FindingsOutput]:
        """Run dbwright's checks over the database: findings with evidence, each fix a change package
        (forward and rollback SQL, the lock each statement takes, an estimated duration)."""
        return await call(
            "review",
            tools.review,
            {"category": category, "severity": severity, "object": object, "code": code, "limit": limit},
        )

    async def explain(
        sql: Annotated[str, Field(description="Exactly one statement.")],
        analyze: Annotated[
            bool, Field(description="Run it (EXPLAIN ANALYZE, BUFFERS): read-only SELECTs only.")
        ] = False,
    ) -> Annotated[CallToolResult, schemas.ExplainOutput]:
        """EXPLAIN (FORMAT JSON) one statement in a read-only transaction that is rolled back. ANALYZE runs the
        statement, so it is allowed only for statements that pass the read-only check."""
        return await call("explain", tools.explain, {"sql": sql, "analyze": analyze})

    async def explain_with_indexes(
        sql: Annotated[str, Field(description="Exactly one statement to plan (it is not run).")],
        indexes: Annotated[
            list[str],
            Field(
                min_length=1,
                max_length=tools.MAX_HYPOTHETICAL_INDEXES,
                description="CREATE INDEX statements to try, e.g. 'CREATE INDEX ON shop.orders (customer_id)'.",
            ),
        ],
    ) -> Annotated[CallToolResult, schemas.HypotheticalExplainOutput]:
        """Test indexes before proposing them: the statement's plan and cost without and with hypothetical
        indexes (HypoPG), and which of them the planner uses. Nothing is built, ever: without HypoPG in the
        database the call is refused with what to install."""
        return await call(
            "explain_with_indexes", tools.explain_with_indexes, {"sql": sql, "indexes": indexes}
        )

    async def top_queries(
        limit: Annotated[int, Field(ge=0, le=200, description="How many statements.")] = 10,
        order_by: Annotated[
            schemas.OrderBy, Field(description="The pg_stat_statements column to rank by.")
        ] = ("total_ms"),
    ) -> Annotated[CallToolResult, schemas.TopQueriesOutput]:
        """The heaviest statements from pg_stat_statements (dbwright's own statements left out)."""
        return await call("top_queries", tools.top_queries, {"limit": limit, "order_by": order_by})

    async def advise_indexes(
        budget: Annotated[
            str | None, Field(description="Storage budget: '500MB', '2GB' or '10%' of the database.")
        ] = None,
        query: Annotated[
            str | None, Field(description="Advise for this one statement instead of pg_stat_statements.")
        ] = None,
        min_calls: Annotated[int, Field(ge=0, description="Ignore statements called fewer times.")] = 0,
        objective: Annotated[
            schemas.Objective,
            Field(
                description="total: summed time or cost; per-query: geometric mean of each statement's "
                "speed-up; auto: total with timings."
            ),
        ] = "auto",
    ) -> Annotated[CallToolResult, schemas.IndexAdviceOutput]:
        """Index advice for the workload (or one query) within a storage budget, priced with hypothetical
        indexes (HypoPG) only: nothing is built. Without HypoPG the advice is unverified candidates, with a
        hint saying how to price them."""
        return await call(
            "advise_indexes",
            tools.advise_indexes,
            {"budget": budget, "query": query, "min_calls": min_calls, "objective": objective},
        )

    async def lint_migration(
        sql: Annotated[str, Field(description="The migration's SQL (one or more statements).")],
        server_version: Annotated[
            int | None,
            Field(description="Lint for this version (15 or 150004); default: the connected server."),
        ] = None,
    ) -> Annotated[CallToolResult, schemas.LintOutput]:
        """Lint migration SQL: each unsafe statement with the lock it takes and its safe rewrite."""
        return await call(
            "lint_migration", tools.lint_migration, {"sql": sql, "server_version": server_version}
        )

    async def check_docs(
        code: Annotated[str, Field(description="A check (DW1xx-DW6xx, DWAxxx) or lint rule (DW7xx) code.")],
    ) -> Annotated[CallToolResult, schemas.CheckDocsOutput]:
        """The documentation of a check or lint rule: why it matters and how to fix it."""
        return await call("check_docs", tools.check_docs, {"code": code})

    async def query(
        sql: Annotated[str, Field(description="Exactly one read-only SELECT (or SHOW).")],
        max_rows: Annotated[
            int | None,
            Field(ge=0, description="Return at most this many rows (capped by the server's limit)."),
        ] = None,
    ) -> Annotated[CallToolResult, schemas.QueryOutput]:
        """Run ONE read-only SELECT: read-only transaction always rolled back, dangerous functions refused,
        server-side timeouts, capped rows and bytes (a cut result says so)."""
        return await call("query", tools.query, {"sql": sql, "max_rows": max_rows})

    async def audit(
        category: Annotated[schemas.AuditCategory | None, Field(description="Only this audit area.")] = None,
        severity: Annotated[schemas.Severity | None, Field(description="Minimum severity to return.")] = None,
        code: Annotated[str | None, Field(description="Only this check code, e.g. DWA001.")] = None,
        limit: Annotated[int, Field(ge=0, le=500, description="At most this many findings.")] = 50,
    ) -> Annotated[CallToolResult, schemas.AuditOutput]:
        """Security audit mapped to the CIS PostgreSQL benchmark: roles, authentication (pg_hba), TLS,
        logging, privileges, RLS, encryption. Checks the role cannot verify are listed as skipped, never
        passed."""
        return await call(
            "audit", tools.audit, {"category": category, "severity": severity, "code": code, "limit": limit}
        )

    async def access(
        role: Annotated[str, Field(description="The role (user or group) to examine.")],
    ) -> Annotated[CallToolResult, schemas.AccessOutput]:
        """What one role can read, write, own and execute in the database, through role inheritance, as the
        server's own privilege checks answer (has_table_privilege, …), with row-level security noted."""
        return await call("access", tools.access, {"role": role})

    async def pii_scan(
        schema: Annotated[str | None, Field(description="Only this schema.")] = None,
        sample_rows: Annotated[int, Field(ge=1, le=1000, description="Rows sampled per table.")] = 200,
    ) -> Annotated[CallToolResult, schemas.PiiOutput]:
        """Find columns holding personal data from names, types and a bounded sample of values (read-only,
        at most 1000 rows per table). Values are reported masked only."""
        return await call("pii_scan", tools.pii_scan, {"schema": schema, "sample_rows": sample_rows})

    async def migration_status() -> Annotated[CallToolResult, schemas.MigrationStatusOutput]:
        """The migrations applied (dbwright.schema_history: who, when, how long, a partly applied one) and,
        when the server was started with --migrations DIR, the files still pending or out of order."""
        return await call("migration_status", tools.migration_status, {})

    async def diff_plan(
        desired_sql: Annotated[
            str, Field(description="The whole desired schema: CREATE TABLE/INDEX/VIEW/… statements.")
        ],
        allow_destructive: Annotated[
            bool, Field(description="Include drops and other destructive changes (else listed as refused).")
        ] = False,
        rename_tables: Annotated[
            list[str] | None, Field(description="Rename hints like 'shop.users=customers'.")
        ] = None,
        rename_columns: Annotated[
            list[str] | None, Field(description="Rename hints like 'shop.users.mail=email'.")
        ] = None,
        scratch: Annotated[
            schemas.ScratchServer,
            Field(
                description="Where the desired schema is loaded: a scratch database on the target's server "
                "(needs CREATEDB) or the embedded PostgreSQL."
            ),
        ] = "target",
    ) -> Annotated[CallToolResult, schemas.DiffPlanOutput]:
        """Plan the migration from the live schema to a desired one: change packages with their locks and
        durations, and the migration file. The target database is only read; the desired schema (object
        definitions only) is loaded into a scratch database that is dropped afterwards."""
        return await call(
            "diff_plan",
            tools.diff_plan,
            {
                "desired_sql": desired_sql,
                "allow_destructive": allow_destructive,
                "rename_tables": rename_tables,
                "rename_columns": rename_columns,
                "scratch": scratch,
            },
        )

    async def replication_status() -> Annotated[CallToolResult, schemas.ReplicationOutput]:
        """Primary or standby; the standbys streaming from it with their lag (pg_stat_replication); its
        replication slots and the WAL each holds back; its WAL receiver on a standby."""
        return await call("replication_status", tools.replication_status, {})

    async def plan_change(
        sql: Annotated[str, Field(description="The change's forward SQL.")],
        down_sql: Annotated[str, Field(description="Its rollback SQL.")] = "",
        name: Annotated[str, Field(description="The migration's name.")] = "change",
    ) -> Annotated[CallToolResult, schemas.PlanOutput]:
        """Dry-run SQL as the next migration: each statement's lock, rewrite, scan and duration, the lint, and a
        plan_token bound to these exact statements. Nothing is run."""
        return await call("plan_change", tools.plan_change, {"sql": sql, "down_sql": down_sql, "name": name})

    async def plan_migrations() -> Annotated[CallToolResult, schemas.PlanOutput]:
        """Dry-run the pending files of the configured migrations directory, with a plan_token."""
        return await call("plan_migrations", tools.plan_migrations, {})

    async def apply_plan(
        plan_token: Annotated[str, Field(description="The token plan_change or plan_migrations returned.")],
        sql: Annotated[
            str | None,
            Field(description="The same sql as given to plan_change; omit for pending migrations."),
        ] = None,
        down_sql: Annotated[str, Field(description="The same down_sql as given to plan_change.")] = "",
        name: Annotated[str, Field(description="The same name as given to plan_change.")] = "change",
    ) -> Annotated[CallToolResult, schemas.ApplyOutput]:
        """Apply exactly a planned change (give the same sql/down_sql/name as to plan_change) or, without sql,
        the planned pending migrations, through the migration runner: deploy advisory lock, lock_timeout,
        retries, history. Refused unless plan_token matches these exact statements."""
        return await call(
            "apply_plan",
            tools.apply_plan,
            {"plan_token": plan_token, "sql": sql, "down_sql": down_sql, "name": name},
        )

    for fn in (
        list_objects,
        describe_table,
        snapshot_summary,
        review,
        explain,
        explain_with_indexes,
        top_queries,
        advise_indexes,
        lint_migration,
        check_docs,
        query,
        audit,
        access,
        pii_scan,
        migration_status,
        diff_plan,
        replication_status,
        plan_change,
        plan_migrations,
    ):
        add(fn)
    add(apply_plan, WRITES)
    return chosen


def _register_prompts(server: FastMCP) -> None:
    @server.prompt(name="review_database", title="Review my database")
    def review_database(
        focus: Annotated[schemas.Category | None, Field(description="One area to focus on.")] = None,
    ) -> str:
        """A DBA's review of the connected database: the worst findings first, each with its safe fix."""
        area = f" Focus on the {focus} area (review category={focus!r})." if focus else ""
        return (
            "Review this PostgreSQL database as a senior DBA would, with the dbwright tools."
            f"{area}\n"
            "1. Call snapshot_summary to see the server, the role and what could not be read.\n"
            "2. Call review with severity='high' (then 'medium'); read check_docs for any code you explain.\n"
            "3. For workload problems, call top_queries, then advise_indexes; test any index you propose "
            "with explain_with_indexes before recommending it.\n"
            "4. Call audit with severity='high' for security.\n"
            "Report the findings worst first: what is wrong, the evidence, the fix package's forward SQL, "
            "the lock it takes and how long it is estimated to run. Say what was skipped and why. Do not "
            "run any change."
        )

    @server.prompt(name="plan_safe_migration", title="Plan a safe migration for this change")
    def plan_safe_migration(
        change: Annotated[str, Field(description="The change, in words or as SQL.")],
    ) -> str:
        """Turn a schema change into a migration that does not block the application, and dry-run it."""
        return (
            f"Plan a safe migration for this change:\n\n{change}\n\n"
            "1. Call describe_table for every table involved, and snapshot_summary for the server version.\n"
            "2. Write the migration SQL (and its rollback). If the change is a whole desired schema, call "
            "diff_plan with it instead.\n"
            "3. Call lint_migration on the SQL; rewrite every statement it flags with its safe_rewrite "
            "(CREATE INDEX CONCURRENTLY, NOT VALID then VALIDATE, lock_timeout, batched backfills).\n"
            "4. Call migration_status to see what is pending, then plan_change (when available) for the "
            "locks, rewrites and estimated durations, and its plan_token.\n"
            "Answer with the final up and down SQL, each statement's lock and what it blocks, the estimated "
            "duration, and the steps that must run outside a transaction. Do not apply anything."
        )

    @server.prompt(name="why_is_this_query_slow", title="Why is this query slow")
    def why_is_this_query_slow(
        sql: Annotated[str, Field(description="The slow statement.")],
    ) -> str:
        """Find out why a statement is slow and what would make it fast, proven with hypothetical indexes."""
        return (
            f"Find out why this statement is slow:\n\n{sql}\n\n"
            "1. Call explain with the statement (analyze=true if it is a read-only SELECT) and read the "
            "plan: the most expensive node, row misestimates, sequential scans of large tables, sorts and "
            "hashes that spill.\n"
            "2. Call describe_table for the tables it reads: existing indexes, column statistics, when "
            "they were last analyzed.\n"
            "3. Propose indexes (or a rewrite), and prove each index with explain_with_indexes: report "
            "the cost before and after and whether the planner uses it. advise_indexes with query=<the "
            "statement> gives a second opinion within a storage budget.\n"
            "Explain the cause in plain words, then the fix with its CREATE INDEX CONCURRENTLY statement."
        )


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
        return json.dumps(bundled_docs.page_names())

    @server.resource(
        "dbwright://docs/{page}",
        name="docs page",
        mime_type="text/markdown",
        description="A dbwright documentation page (see dbwright://docs for the list).",
    )
    def docs_page(page: str) -> str:
        text = bundled_docs.read_page(page)
        if text is None:
            raise InvalidArgumentError(f"no docs page {page!r} (dbwright://docs lists them)")
        return text


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


def is_disconnect(error: BaseException | None) -> bool:
    """Whether an exception only says the client went away (a closed stream or socket), in a group or not."""
    if isinstance(error, BaseExceptionGroup):
        return all(is_disconnect(inner) for inner in error.exceptions)
    return isinstance(
        error, (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, ConnectionError)
    )


class ClientDisconnects(logging.Filter):
    """Drops the SDK's and uvicorn's tracebacks for a client that disconnected: that is not a server error,
    and the next client is served as usual."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and is_disconnect(record.exc_info[1]))


#: Loggers that report a vanished client with a traceback (the SDK's streamable HTTP transport, uvicorn).
DISCONNECT_LOGGERS = (
    "mcp.server.streamable_http",
    "mcp.server.streamable_http_manager",
    "mcp.server.lowlevel.server",
    "uvicorn.error",
)


def quiet_disconnects() -> None:
    """Install ``ClientDisconnects`` on the loggers above and on the root handlers FastMCP configured."""
    quiet = ClientDisconnects()
    for name in DISCONNECT_LOGGERS:
        logging.getLogger(name).addFilter(quiet)
    for handler in logging.getLogger().handlers:
        handler.addFilter(quiet)


def serve_http(server: FastMCP, host: str, port: int, token: str | None) -> None:
    import uvicorn

    check_bind(host, token)
    quiet_disconnects()
    app = http_app(server, token)
    # FastMCP's own app runs its session manager in the Starlette lifespan; uvicorn drives it.
    uvicorn.run(app, host=host, port=port, log_level="warning")
