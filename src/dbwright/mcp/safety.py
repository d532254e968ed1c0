"""The guarded read-only query path: every SQL text an agent sends goes through here.

Layers, each enough on its own for the attacks it names, none trusted alone:

1. PostgreSQL's own parser (pglast) must find exactly one statement, of an allowed kind.
2. A deny-list walks the whole parse tree (CTEs, subqueries, functions in FROM, nested lists)
   and rejects dangerous functions, SELECT INTO, FOR UPDATE/SHARE, writable CTEs and every
   function the catalog marks volatile unless it is on a short allow-list (dbwright.sqlguard,
   shared with ``explain --analyze``).
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
from dataclasses import dataclass, field
from typing import Any

import psycopg
from pglast import ast
from psycopg import conninfo as _conninfo

from dbwright.engines.postgres.connect import SessionOptions, open_session, resolve_target
from dbwright.errors import BadTargetError, RefusedError, ServerError
from dbwright.redact import redact
from dbwright.sqlguard import WRITE_STATEMENTS, called_functions, first_refusal, parse_one, volatile_functions

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
        return {
            "statement_timeout_ms": self.statement_timeout_ms,
            "lock_timeout_ms": self.lock_timeout_ms,
            "idle_in_transaction_session_timeout_ms": self.idle_in_transaction_ms,
            "max_rows": self.max_rows,
            "max_bytes": self.max_bytes,
        }


# --- the parse check (dbwright.sqlguard) ----------------------------------------------------------

#: Statements allowed at the top of a query, and (without ANALYZE) of an EXPLAIN.
QUERY_STATEMENTS = (ast.SelectStmt, ast.VariableShowStmt)
EXPLAIN_ONLY_STATEMENTS = WRITE_STATEMENTS


@dataclass(frozen=True)
class CheckedStatement:
    """One statement that passed the parse and the deny-list walk."""

    sql: str
    kind: str
    functions: tuple[str, ...] = ()


def check_statement(sql: str, *, allow_write_statements: bool = False) -> CheckedStatement:
    """Parse ``sql`` and walk its whole tree; RefusedError names the first thing not allowed.

    ``allow_write_statements`` admits INSERT/UPDATE/DELETE/MERGE (and writable CTEs) for a plain
    EXPLAIN, which plans them without running them.
    """
    top = parse_one(sql, more_than_one=RefusedError)
    allowed = QUERY_STATEMENTS + (EXPLAIN_ONLY_STATEMENTS if allow_write_statements else ())
    if not isinstance(top, allowed):
        raise RefusedError(
            f"{type(top).__name__} is not allowed: only a read-only SELECT"
            + (" (or, for EXPLAIN without ANALYZE, INSERT/UPDATE/DELETE)" if allow_write_statements else "")
        )
    reason = first_refusal(top, allow_write=allow_write_statements)
    if reason:
        raise RefusedError(reason)
    return CheckedStatement(sql=sql, kind=type(top).__name__, functions=called_functions(top))


def check_volatility(conn: psycopg.Connection, checked: CheckedStatement) -> None:
    """Refuse functions the catalog marks volatile (any overload) unless allow-listed in pg_catalog."""
    volatile = volatile_functions(conn, checked.functions)
    if volatile:
        raise RefusedError(
            f"function {volatile[0]}() is volatile (it may change state) and is not on the allow-list"
        )


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
    options = SessionOptions(
        read_only=True,
        statement_timeout=f"{limits.statement_timeout_ms}ms",
        lock_timeout=f"{limits.lock_timeout_ms}ms",
        application_name=APPLICATION_NAME,
    )
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
        return {
            "columns": self.columns,
            "rows": self.rows,
            "row_count": len(self.rows),
            "truncated": self.truncated,
            "truncated_reason": self.truncated_reason,
            "bytes": self.bytes,
            "elapsed_ms": self.elapsed_ms,
            "transaction": "read-only, rolled back",
        }


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
    return {
        "statement_kind": checked.kind,
        "analyze": analyze,
        "plan": plan,
        "transaction": "read-only, rolled back",
    }
