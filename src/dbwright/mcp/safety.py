"""The guarded read-only query path: every SQL text an agent sends goes through here.

Layers, each enough on its own for the attacks it names, none trusted alone:

1. PostgreSQL's own parser (pglast) must find exactly one statement, of an allowed kind.
2. A deny-list walks the whole parse tree (CTEs, subqueries, functions in FROM, nested lists)
   and rejects dangerous functions, SELECT INTO, FOR UPDATE/SHARE, writable CTEs and every
   function the catalog marks volatile unless it is on a short allow-list.
3. The server runs it through the extended query protocol, which refuses a second statement
   on its own, inside ``BEGIN READ ONLY`` on a session whose default is read-only, after a
   first query has fixed the snapshot (so ``SET transaction_read_only = off`` fails), and the
   transaction is always rolled back.
4. ``statement_timeout``, ``lock_timeout`` and ``idle_in_transaction_session_timeout`` are set
   on the server; rows and bytes returned are capped, and a cut result says so.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pglast
import psycopg
from pglast import ast
from psycopg import conninfo as _conninfo

from dbwright.engines.postgres.connect import SessionOptions, open_session, resolve_target
from dbwright.errors import BadTargetError, RefusedError, ServerError, SqlParseError
from dbwright.redact import redact

APPLICATION_NAME = "dbwright-mcp"


@dataclass(frozen=True)
class Limits:
    """Server-side timeouts and client-side caps for one guarded call."""

    statement_timeout_ms: int = 5000
    lock_timeout_ms: int = 1000
    idle_in_transaction_ms: int = 10000
    max_rows: int = 500
    max_bytes: int = 256 * 1024

    def to_dict(self) -> dict[str, int]:
        return {"statement_timeout_ms": self.statement_timeout_ms, "lock_timeout_ms": self.lock_timeout_ms,
                "idle_in_transaction_session_timeout_ms": self.idle_in_transaction_ms,
                "max_rows": self.max_rows, "max_bytes": self.max_bytes}


# --- the deny-list ---------------------------------------------------------------------------------

#: Functions refused by name wherever they appear (lower-cased, schema ignored).
DENIED_FUNCTIONS = frozenset({
    "pg_read_file", "pg_read_binary_file", "pg_stat_file", "pg_terminate_backend", "pg_cancel_backend",
    "set_config", "pg_import_system_collations", "query_to_xml", "query_to_xmlschema",
    "query_to_xml_and_xmlschema", "cursor_to_xml", "cursor_to_xmlschema", "ts_stat", "loread", "lowrite",
    "pg_reload_conf", "pg_rotate_logfile", "pg_switch_wal", "pg_promote", "pg_sleep", "pg_sleep_for",
    "pg_sleep_until", "pg_notify", "pg_export_snapshot", "txid_current", "pg_current_xact_id",
    "pg_log_backend_memory_contexts", "pg_current_logfile", "pg_backup_start", "pg_backup_stop",
    "pg_stat_statements_reset",
})
#: Families refused by prefix: files, large objects, dblink, advisory locks, replication, resets.
DENIED_PREFIXES = ("pg_ls_", "lo_", "dblink", "pg_file_", "pg_stat_reset", "pg_replication_", "pg_create_",
                   "pg_drop_", "pg_logical_", "pg_advisory", "pg_try_advisory", "pg_xact_", "pg_wal_")
#: Volatile functions that only compute (their volatility is about repeatability, not side effects).
ALLOWED_VOLATILE = frozenset({"random", "clock_timestamp", "timeofday", "gen_random_uuid",
                              "random_normal"})

#: Statements allowed at the top of a query, and (without ANALYZE) of an EXPLAIN.
QUERY_STATEMENTS = (ast.SelectStmt, ast.VariableShowStmt)
EXPLAIN_ONLY_STATEMENTS = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
_WRITING = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)


@dataclass(frozen=True)
class CheckedStatement:
    """One statement that passed the parse and the deny-list walk."""

    sql: str
    kind: str
    functions: tuple[str, ...] = ()


def denied_function(name: str) -> str | None:
    """Why a function name is refused, or None."""
    lower = name.lower()
    if lower in DENIED_FUNCTIONS:
        return f"function {name}() is not allowed"
    if lower.startswith(DENIED_PREFIXES) or "advisory" in lower:
        return f"function {name}() is not allowed (file, large object, dblink, lock or server-control family)"
    return None


def parse_one(sql: str) -> ast.Node:
    """Exactly one statement, or SqlParseError (text that does not parse is rejected too)."""
    if not sql or not sql.strip():
        raise SqlParseError("empty SQL: give exactly one statement")
    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError as error:
        raise SqlParseError(f"SQL does not parse: {error}") from None
    if len(statements) != 1:
        raise RefusedError(f"exactly one statement is allowed, got {len(statements)}")
    return statements[0].stmt


def walk(node: Any) -> Iterator[ast.Node]:
    """Every node below ``node``: attributes, nested lists and tuples, depth first."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, ast.Node):
            yield item
            stack.extend(getattr(item, name) for name in item.__slots__)


def function_name(call: ast.FuncCall) -> str:
    return ".".join(part.sval for part in call.funcname if isinstance(part, ast.String))


def check_statement(sql: str, *, allow_write_statements: bool = False) -> CheckedStatement:
    """Parse ``sql`` and walk its whole tree; RefusedError names the first thing not allowed.

    ``allow_write_statements`` admits INSERT/UPDATE/DELETE/MERGE (and writable CTEs) for a plain
    EXPLAIN, which plans them without running them.
    """
    top = parse_one(sql)
    allowed = QUERY_STATEMENTS + (EXPLAIN_ONLY_STATEMENTS if allow_write_statements else ())
    if not isinstance(top, allowed):
        raise RefusedError(f"{type(top).__name__} is not allowed: only a read-only SELECT"
                           + (" (or, for EXPLAIN without ANALYZE, INSERT/UPDATE/DELETE)" if allow_write_statements
                              else ""))
    functions: list[str] = []
    for node in walk(top):
        reason = _denied_node(node, allow_write_statements)
        if reason:
            raise RefusedError(reason)
        if isinstance(node, ast.FuncCall):
            functions.append(function_name(node))
    return CheckedStatement(sql=sql, kind=type(top).__name__, functions=tuple(dict.fromkeys(functions)))


def _denied_node(node: ast.Node, allow_write: bool) -> str | None:
    if isinstance(node, ast.SelectStmt):
        if node.intoClause is not None:
            return "SELECT … INTO is not allowed (it creates a table)"
        if node.lockingClause:
            return "FOR UPDATE / FOR SHARE is not allowed (it locks rows)"
    elif isinstance(node, ast.CommonTableExpr):
        if isinstance(node.ctequery, _WRITING) and not allow_write:
            return f"a writable CTE ({type(node.ctequery).__name__} in WITH {node.ctename}) is not allowed"
    elif isinstance(node, _WRITING):
        if not allow_write:
            return f"{type(node).__name__} is not allowed"
    elif isinstance(node, ast.RangeVar):
        if node.relpersistence == "t" or (node.schemaname or "").lower().startswith("pg_temp"):
            return "temporary tables are not allowed"
    elif isinstance(node, ast.FuncCall):
        name = function_name(node)
        return denied_function(name.rsplit(".", 1)[-1])
    elif isinstance(node, (ast.CopyStmt, ast.CreateStmt, ast.CreateTableAsStmt, ast.VariableSetStmt,
                           ast.TransactionStmt, ast.DoStmt, ast.CallStmt, ast.LockStmt, ast.ExecuteStmt,
                           ast.PrepareStmt, ast.DeclareCursorStmt, ast.DiscardStmt)):
        return f"{type(node).__name__} is not allowed"
    return None


def check_volatility(conn: psycopg.Connection, checked: CheckedStatement) -> None:
    """Refuse functions the catalog marks volatile (any overload) unless allow-listed. Names are bound."""
    names = sorted({f.rsplit(".", 1)[-1] for f in checked.functions})
    if not names:
        return
    # Allow-listed names count only for the built-in (pg_catalog) function, not a look-alike elsewhere.
    rows = conn.execute(
        "SELECT p.proname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.proname = ANY(%s) AND p.provolatile = 'v' "
        "AND NOT (p.proname = ANY(%s) AND n.nspname = 'pg_catalog') GROUP BY p.proname ORDER BY p.proname",
        (names, sorted(ALLOWED_VOLATILE)), prepare=True).fetchall()
    if rows:
        raise RefusedError(f"function {rows[0][0]}() is volatile (it may change state) and is not on the "
                           "allow-list")


# --- sessions --------------------------------------------------------------------------------------

def guarded_conninfo(target: str | None, limits: Limits) -> str:
    """The target with idle_in_transaction_session_timeout added to its server options."""
    conninfo = resolve_target(target)
    try:
        params = _conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        raise BadTargetError("malformed connection target") from None
    extra = f"-c idle_in_transaction_session_timeout={limits.idle_in_transaction_ms}"
    params["options"] = " ".join(filter(None, [params.get("options", ""), extra]))
    return _conninfo.make_conninfo(**params)


def open_guarded(target: str | None, limits: Limits) -> psycopg.Connection:
    """A read-only session (default_transaction_read_only) with all three server-side timeouts."""
    options = SessionOptions(read_only=True, statement_timeout=f"{limits.statement_timeout_ms}ms",
                             lock_timeout=f"{limits.lock_timeout_ms}ms", application_name=APPLICATION_NAME)
    return open_session(guarded_conninfo(target, limits), options)


class ReadOnlyTransaction:
    """BEGIN READ ONLY, a first query to fix the snapshot, and always ROLLBACK at the end."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> psycopg.Connection:
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        # After the first query of a transaction, read-write mode can no longer be turned on.
        self.conn.execute("SELECT 1", prepare=True)
        return self.conn

    def __exit__(self, *exc: object) -> None:
        if self.conn.closed:
            return
        if self.conn.info.transaction_status == psycopg.pq.TransactionStatus.ACTIVE:
            self.conn.cancel_safe()
        try:
            self.conn.execute("ROLLBACK")
        except psycopg.Error:
            self.conn.close()


# --- results ---------------------------------------------------------------------------------------

@dataclass
class QueryResult:
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    truncated: bool = False
    truncated_reason: str | None = None
    bytes: int = 0
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "rows": self.rows, "row_count": len(self.rows),
                "truncated": self.truncated, "truncated_reason": self.truncated_reason, "bytes": self.bytes,
                "elapsed_ms": self.elapsed_ms, "transaction": "read-only, rolled back"}


def json_value(value: Any) -> Any:
    """A JSON-safe rendering of a value psycopg returned."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (decimal.Decimal, uuid.UUID, _dt.date, _dt.time, _dt.datetime, _dt.timedelta)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)


def server_failure(error: psycopg.Error, what: str) -> ServerError:
    lines = str(error).strip().splitlines()
    return ServerError(redact(f"{what}: {lines[0] if lines else type(error).__name__}"))


def run_statement(conn: psycopg.Connection, sql: str, limits: Limits) -> QueryResult:
    """Stream ``sql`` (extended protocol: the server refuses a second statement) with row/byte caps.

    The caller holds a ReadOnlyTransaction; when a cap is hit the query is cancelled on the server.
    """
    import time

    started = time.perf_counter()
    cursor = conn.cursor()
    result: QueryResult | None = None
    try:
        for row in cursor.stream(sql):
            if result is None:
                result = QueryResult(columns=[d.name for d in cursor.description or ()])
            values = [json_value(v) for v in row]
            size = len(json.dumps(values, default=str))
            if len(result.rows) >= limits.max_rows:
                result.truncated, result.truncated_reason = True, f"row cap of {limits.max_rows} reached"
                break
            if result.bytes + size > limits.max_bytes:
                result.truncated, result.truncated_reason = True, f"byte cap of {limits.max_bytes} reached"
                break
            result.rows.append(values)
            result.bytes += size
    except psycopg.Error as error:
        raise server_failure(error, "the query failed") from None
    if result is None:
        result = QueryResult(columns=[d.name for d in cursor.description or ()])
    if result.truncated:
        conn.cancel_safe()
    result.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return result


def guarded_query(target: str | None, sql: str, limits: Limits) -> QueryResult:
    """The whole guarded path for the `query` tool."""
    checked = check_statement(sql)
    with open_guarded(target, limits) as conn:
        check_volatility(conn, checked)
        with ReadOnlyTransaction(conn):
            return run_statement(conn, checked.sql, limits)


def guarded_explain(target: str | None, sql: str, limits: Limits, *, analyze: bool = False) -> dict[str, Any]:
    """EXPLAIN (FORMAT JSON); ANALYZE only for statements that pass the read-only check."""
    checked = check_statement(sql, allow_write_statements=not analyze)
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    with open_guarded(target, limits) as conn:
        check_volatility(conn, checked)
        with ReadOnlyTransaction(conn):
            try:
                row = conn.execute(f"EXPLAIN ({options})\n{checked.sql}", prepare=True).fetchone()
            except psycopg.Error as error:
                raise server_failure(error, "EXPLAIN failed") from None
    plan = row[0] if row else []
    if isinstance(plan, str):
        plan = json.loads(plan)
    return {"statement_kind": checked.kind, "analyze": analyze, "plan": plan,
            "transaction": "read-only, rolled back"}
