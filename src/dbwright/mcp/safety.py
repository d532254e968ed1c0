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

Layers 3 and 4 are the engine's (``dbwright.engines.postgres.readonly_sql``); this module
decides what may reach them and holds the limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pglast import ast

from dbwright.engines.base import Connection
from dbwright.engines.postgres import readonly_sql
from dbwright.engines.postgres.readonly_sql import QueryResult, ReadOnlyTransaction
from dbwright.errors import RefusedError
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


def check_volatility(conn: Connection, checked: CheckedStatement) -> None:
    """Refuse functions the catalog marks volatile (any overload) unless allow-listed in pg_catalog."""
    volatile = volatile_functions(conn, checked.functions)
    if volatile:
        raise RefusedError(
            f"function {volatile[0]}() is volatile (it may change state) and is not on the allow-list"
        )


# --- sessions --------------------------------------------------------------------------------------


def open_guarded(target: str | None, limits: Limits) -> Connection:
    """A read-only session (default_transaction_read_only) with all three server-side timeouts."""
    return readonly_sql.open_read_only(
        target,
        statement_timeout_ms=limits.statement_timeout_ms,
        lock_timeout_ms=limits.lock_timeout_ms,
        idle_in_transaction_ms=limits.idle_in_transaction_ms,
        application_name=APPLICATION_NAME,
    )


def check_target(target: str | None, limits: Limits) -> None:
    """Fail now, with BadTargetError, on a target the guarded sessions could not use."""
    readonly_sql.guarded_conninfo(target, limits.idle_in_transaction_ms)


def guarded_query(target: str | None, sql: str, limits: Limits) -> QueryResult:
    """The whole guarded path for the `query` tool."""
    checked = check_statement(sql)
    with open_guarded(target, limits) as conn:
        check_volatility(conn, checked)
        with ReadOnlyTransaction(conn):
            return readonly_sql.run_statement(
                conn, checked.sql, max_rows=limits.max_rows, max_bytes=limits.max_bytes
            )


def guarded_explain(target: str | None, sql: str, limits: Limits, *, analyze: bool = False) -> dict[str, Any]:
    """EXPLAIN (FORMAT JSON); ANALYZE only for statements that pass the read-only check."""
    checked = check_statement(sql, allow_write_statements=not analyze)
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    with open_guarded(target, limits) as conn:
        check_volatility(conn, checked)
        with ReadOnlyTransaction(conn):
            plan = readonly_sql.explain(conn, checked.sql, options)
    return {
        "statement_kind": checked.kind,
        "analyze": analyze,
        "plan": plan,
        "transaction": "read-only, rolled back",
    }
