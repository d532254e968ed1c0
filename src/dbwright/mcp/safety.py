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
from dbwright.errors import InvalidArgumentError, RefusedError, SqlParseError
from dbwright.sqlguard import (
    WRITE_STATEMENTS,
    called_functions,
    denied_function,
    first_refusal,
    function_name,
    parse_one,
    volatile_functions,
    walk,
)

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


# --- hypothetical indexes and desired schemas ------------------------------------------------------


def check_index_statement(sql: str) -> str:
    """One ``CREATE INDEX`` for HypoPG: parsed, nothing else in it, no denied function in its expressions."""
    top = parse_one(sql, more_than_one=RefusedError)
    if not isinstance(top, ast.IndexStmt):
        raise RefusedError(f"{type(top).__name__} is not an index: give CREATE INDEX … statements")
    reason = first_refusal(top)
    if reason:
        raise RefusedError(reason)
    return sql.strip().rstrip(";")


def guarded_explain_with_indexes(
    target: str | None, sql: str, indexes: list[str], limits: Limits, hypopg: Any
) -> dict[str, Any]:
    """EXPLAIN without and with hypothetical indexes (HypoPG only); nothing is ever built.

    ``hypopg(conn) -> (available, why)`` says whether HypoPG is installed in the database; without it
    the call is refused, never priced with real indexes.
    """
    checked = check_statement(sql, allow_write_statements=True)
    definitions = [check_index_statement(index) for index in indexes]
    with open_guarded(target, limits) as conn:
        available, why = hypopg(conn)
        if not available:
            raise RefusedError(
                f"explain_with_indexes needs HypoPG ({why}); a DBA can run CREATE EXTENSION hypopg "
                "(Debian/Ubuntu package postgresql-NN-hypopg). This server never builds real indexes "
                "to answer it"
            )
        check_volatility(conn, checked)
        with ReadOnlyTransaction(conn):
            result = readonly_sql.explain_with_hypothetical_indexes(conn, checked.sql, definitions)
    result["statement_kind"] = checked.kind
    return result


#: Statements a desired schema may hold: definitions of objects in one database. They are loaded into an
#: empty scratch database, so nothing in them may read files, run programs, change the server or evaluate a
#: query (CREATE TABLE AS, populated materialized views).
SCHEMA_STATEMENTS = (
    ast.CreateSchemaStmt,
    ast.CreateStmt,
    ast.AlterTableStmt,
    ast.IndexStmt,
    ast.CreateSeqStmt,
    ast.AlterSeqStmt,
    ast.ViewStmt,
    ast.CreateTableAsStmt,
    ast.CommentStmt,
    ast.CreateEnumStmt,
    ast.AlterEnumStmt,
    ast.CompositeTypeStmt,
    ast.CreateDomainStmt,
    ast.CreateFunctionStmt,
    ast.CreateTrigStmt,
    ast.CreatePolicyStmt,
    ast.CreateExtensionStmt,
    ast.RenameStmt,
    ast.GrantStmt,
    ast.VariableSetStmt,
)
#: Objects that GRANT, COMMENT ON and RENAME may name: the database's own, never shared ones (databases, roles,
#: tablespaces) that the scratch database would change for the whole server.
_OWN_OBJECTS = {
    "OBJECT_TABLE",
    "OBJECT_SEQUENCE",
    "OBJECT_VIEW",
    "OBJECT_MATVIEW",
    "OBJECT_FOREIGN_TABLE",
    "OBJECT_INDEX",
    "OBJECT_COLUMN",
    "OBJECT_FUNCTION",
    "OBJECT_PROCEDURE",
    "OBJECT_ROUTINE",
    "OBJECT_AGGREGATE",
    "OBJECT_SCHEMA",
    "OBJECT_TYPE",
    "OBJECT_DOMAIN",
    "OBJECT_TABCONSTRAINT",
    "OBJECT_DOMCONSTRAINT",
    "OBJECT_TRIGGER",
    "OBJECT_POLICY",
    "OBJECT_EXTENSION",
    "OBJECT_ATTRIBUTE",
}
_SAFE_SETTINGS = {"search_path", "check_function_bodies", "client_encoding", "standard_conforming_strings"}


def check_schema_sql(sql: str) -> int:
    """Refuse a desired schema that holds anything but object definitions; the number of statements."""
    import pglast

    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError as error:
        raise SqlParseError(f"the desired schema does not parse: {error}") from None
    if not statements:
        raise InvalidArgumentError("the desired schema is empty: give CREATE TABLE … statements")
    for number, raw in enumerate(statements, start=1):
        top = raw.stmt
        where = f"statement {number}"
        if not isinstance(top, SCHEMA_STATEMENTS):
            raise RefusedError(f"{where}: {type(top).__name__} is not a schema definition")
        if isinstance(top, ast.CreateTableAsStmt) and not (top.into and top.into.skipData):
            raise RefusedError(f"{where}: CREATE … AS runs its query; add WITH NO DATA")
        kind = getattr(top, "renameType" if isinstance(top, ast.RenameStmt) else "objtype", None)
        if isinstance(top, (ast.GrantStmt, ast.RenameStmt, ast.CommentStmt)) and getattr(
            kind, "name", ""
        ) not in (_OWN_OBJECTS):
            raise RefusedError(
                f"{where}: {type(top).__name__} on {getattr(kind, 'name', kind)} is not allowed"
            )
        if isinstance(top, ast.VariableSetStmt) and (top.name or "").lower() not in _SAFE_SETTINGS:
            raise RefusedError(f"{where}: SET {top.name} is not allowed in a desired schema")
        if isinstance(top, ast.CreateFunctionStmt):
            language = next(
                (o.arg.sval for o in top.options or () if o.defname == "language" and hasattr(o.arg, "sval")),
                "sql",
            )
            if language.lower() not in ("sql", "plpgsql"):
                raise RefusedError(
                    f"{where}: functions in language {language} are not allowed (sql, plpgsql)"
                )
        for node in walk(top):
            if isinstance(node, ast.FuncCall):
                reason = denied_function(function_name(node).rsplit(".", 1)[-1])
                if reason:
                    raise RefusedError(f"{where}: {reason}")
    return len(statements)
