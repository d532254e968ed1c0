"""Is a statement safe to *run*? One guard, on PostgreSQL's own parse tree, for every caller that runs SQL it
was given (the MCP query tools, ``explain --analyze``, the index advisor's verification).

Text-based read-only filters have all been bypassed (a second statement after ``COMMIT;``, a writing
function in FROM, backslash quoting). So: pglast must find exactly one statement; a walk over the whole
tree (CTEs, subqueries, functions in FROM, nested lists) refuses writes, SELECT INTO, FOR UPDATE/SHARE,
temporary tables, utility statements and a deny-list of functions that read files, take locks or control
the server; and the catalog refuses every function with a VOLATILE overload unless it is one of a few
compute-only ones in ``pg_catalog``. (Only volatile functions can write: PostgreSQL refuses writes in
STABLE and IMMUTABLE ones.) Callers still run what passes in a READ ONLY transaction that is rolled back,
by the extended protocol, so the server itself refuses a second statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pglast
from pglast import ast

from dbwright.engines.base import Connection
from dbwright.engines.postgres import readonly_sql
from dbwright.errors import DbwrightError, SqlParseError

#: Functions refused by name wherever they appear (lower-cased, schema ignored).
DENIED_FUNCTIONS = frozenset(
    {
        "pg_read_file",
        "pg_read_binary_file",
        "pg_stat_file",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "set_config",
        "pg_import_system_collations",
        "query_to_xml",
        "query_to_xmlschema",
        "query_to_xml_and_xmlschema",
        "cursor_to_xml",
        "cursor_to_xmlschema",
        "ts_stat",
        "loread",
        "lowrite",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_switch_wal",
        "pg_promote",
        "pg_sleep",
        "pg_sleep_for",
        "pg_sleep_until",
        "pg_notify",
        "pg_export_snapshot",
        "txid_current",
        "pg_current_xact_id",
        "pg_log_backend_memory_contexts",
        "pg_current_logfile",
        "pg_backup_start",
        "pg_backup_stop",
        "pg_stat_statements_reset",
    }
)
#: Families refused by prefix: files, large objects, dblink, advisory locks, replication, resets.
DENIED_PREFIXES = (
    "pg_ls_",
    "lo_",
    "dblink",
    "pg_file_",
    "pg_stat_reset",
    "pg_replication_",
    "pg_create_",
    "pg_drop_",
    "pg_logical_",
    "pg_advisory",
    "pg_try_advisory",
    "pg_xact_",
    "pg_wal_",
)
#: Volatile functions that only compute (their volatility is about repeatability, not side effects);
#: allowed only as the built-in ``pg_catalog`` function, never a look-alike elsewhere.
ALLOWED_VOLATILE = frozenset({"random", "clock_timestamp", "timeofday", "gen_random_uuid", "random_normal"})

#: Statements that write; EXPLAIN without ANALYZE may plan them, nothing may run them.
WRITE_STATEMENTS = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
_UTILITY = (
    ast.CopyStmt,
    ast.CreateStmt,
    ast.CreateTableAsStmt,
    ast.VariableSetStmt,
    ast.TransactionStmt,
    ast.DoStmt,
    ast.CallStmt,
    ast.LockStmt,
    ast.ExecuteStmt,
    ast.PrepareStmt,
    ast.DeclareCursorStmt,
    ast.DiscardStmt,
)


def parse_one(sql: str, *, more_than_one: type[DbwrightError] = SqlParseError) -> ast.Node:
    """Exactly one statement's node; SqlParseError for no or unparseable SQL, ``more_than_one`` for several."""
    if not sql or not sql.strip():
        raise SqlParseError("no SQL given: give exactly one statement")
    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError as error:
        raise SqlParseError(f"SQL does not parse: {error}") from None
    if len(statements) != 1:
        raise more_than_one(f"exactly one statement is allowed, got {len(statements)}")
    return statements[0].stmt


def walk(node: Any) -> Iterator[ast.Node]:
    """Every pglast node below ``node`` (inclusive), in order; iterative, so a deep tree cannot overflow."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, ast.Node):
            yield item
            stack.extend(getattr(item, name) for name in reversed(item.__slots__))


def function_name(call: ast.FuncCall) -> str:
    """The name as written, schema-qualified when it was (``pg_catalog.nextval``)."""
    return ".".join(part.sval for part in call.funcname if isinstance(part, ast.String))


def called_functions(node: ast.Node) -> tuple[str, ...]:
    """Every function called anywhere in the tree, as written, first occurrence first."""
    return tuple(dict.fromkeys(function_name(n) for n in walk(node) if isinstance(n, ast.FuncCall)))


def denied_function(name: str) -> str | None:
    """Why a function name is refused, or None."""
    lower = name.lower()
    if lower in DENIED_FUNCTIONS:
        return f"function {name}() is not allowed"
    if lower.startswith(DENIED_PREFIXES) or "advisory" in lower:
        return f"function {name}() is not allowed (file, large object, dblink, lock or server-control family)"
    return None


def first_refusal(top: ast.Node, *, allow_write: bool = False) -> str | None:
    """Why the tree may not run (the first thing found, in statement order), or None.

    ``allow_write`` admits INSERT/UPDATE/DELETE/MERGE and writable CTEs, for a plain EXPLAIN, which plans
    them without running them.
    """
    for node in walk(top):
        reason = _refused_node(node, allow_write)
        if reason:
            return reason
    return None


def _refused_node(node: ast.Node, allow_write: bool) -> str | None:
    if isinstance(node, ast.SelectStmt):
        if node.intoClause is not None:
            return "SELECT … INTO is not allowed (it creates a table)"
        if node.lockingClause:
            return "FOR UPDATE / FOR SHARE is not allowed (it locks rows)"
    elif isinstance(node, ast.CommonTableExpr):
        if isinstance(node.ctequery, WRITE_STATEMENTS) and not allow_write:
            return f"a writable CTE ({type(node.ctequery).__name__} in WITH {node.ctename}) is not allowed"
    elif isinstance(node, WRITE_STATEMENTS):
        if not allow_write:
            return f"{type(node).__name__} is not allowed"
    elif isinstance(node, ast.RangeVar):
        if node.relpersistence == "t" or (node.schemaname or "").lower().startswith("pg_temp"):
            return "temporary tables are not allowed"
    elif isinstance(node, ast.FuncCall):
        return denied_function(function_name(node).rsplit(".", 1)[-1])
    elif isinstance(node, _UTILITY):
        return f"{type(node).__name__} is not allowed"
    return None


def volatile_functions(conn: Connection, functions: tuple[str, ...] | list[str]) -> list[str]:
    """The called names with a VOLATILE overload anywhere (the parse tree has no argument types), sorted.

    Allow-listed names count only for the built-in (pg_catalog) function (the catalog query is
    ``dbwright.engines.postgres.readonly_sql.volatile_functions``).
    """
    return readonly_sql.volatile_functions(conn, functions, ALLOWED_VOLATILE)
