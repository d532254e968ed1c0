"""Is a statement safe to *run* (EXPLAIN ANALYZE, verification)? Decided on pglast's parse tree.

Text-based read-only filters have all been bypassed (a second statement after ``COMMIT;``, a
writing function in FROM, backslash quoting). So: PostgreSQL's own parser, exactly one
statement, a SELECT with no data-modifying CTE, no FOR UPDATE/SHARE, no SELECT INTO, and no
call anywhere in the tree (target list, FROM, WHERE, subqueries) to a function the catalog
marks VOLATILE, unless it is on a short allow-list of volatile functions that write nothing.
(Only volatile functions can write: PostgreSQL refuses writes in STABLE and IMMUTABLE ones.)
The statement then runs in a READ ONLY transaction that is rolled back, sent by the extended
protocol so the server itself refuses a second statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pglast
import psycopg
from pglast import ast

from dbwright.errors import RefusedError, SqlParseError

#: Volatile functions that write nothing and change no session state: fine to run.
VOLATILE_ALLOWED = frozenset({"random", "random_normal", "clock_timestamp", "timeofday", "gen_random_uuid",
                              "uuid_generate_v4", "txid_current_if_assigned"})
#: Statements EXPLAIN (without ANALYZE) may plan: it never runs them.
EXPLAINABLE = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)


@dataclass(frozen=True)
class ParsedStatement:
    sql: str  # without a trailing semicolon
    statement: Any  # the pglast node
    parameters: int  # highest $n

    @property
    def kind(self) -> str:
        return type(self.statement).__name__.removesuffix("Stmt").upper()


def parse_one(sql: str) -> ParsedStatement:
    """Exactly one explainable statement, else SqlParseError (a one-line message)."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise SqlParseError("no SQL given")
    try:
        statements = pglast.parse_sql(text)
    except pglast.parser.ParseError as error:
        raise SqlParseError(f"cannot parse the statement: {error}") from None
    if len(statements) != 1:
        raise SqlParseError(f"expected exactly one statement, got {len(statements)}")
    node = statements[0].stmt
    if isinstance(node, ast.ExplainStmt):
        raise SqlParseError("give the statement without EXPLAIN; dbwright adds it (use --analyze to run it)")
    if not isinstance(node, EXPLAINABLE):
        raise SqlParseError(f"{type(node).__name__.removesuffix('Stmt')} has no plan to explain; give a "
                            "SELECT, INSERT, UPDATE, DELETE or MERGE")
    parameters = max((n.number for n in walk(node) if isinstance(n, ast.ParamRef)), default=0)
    return ParsedStatement(text, node, parameters)


def why_not_read_only(parsed: ParsedStatement, conn: psycopg.Connection) -> str | None:
    """None when the statement may be run; else why not (one line)."""
    node = parsed.statement
    if not isinstance(node, ast.SelectStmt):
        return f"{parsed.kind} writes; only a SELECT may be run"
    calls: set[tuple[str | None, str]] = set()
    for item in walk(node):
        if isinstance(item, _WRITES):
            return f"it contains a data-modifying {type(item).__name__.removesuffix('Stmt').upper()}"
        if isinstance(item, ast.SelectStmt):
            if item.intoClause is not None:
                return "SELECT INTO creates a table"
            if item.lockingClause:
                return "FOR UPDATE/SHARE locks rows (it writes their row lock)"
        if isinstance(item, ast.FuncCall):
            names = [getattr(part, "sval", "") for part in item.funcname]
            schema = names[-2] if len(names) > 1 else None
            calls.add((schema, names[-1]))
    volatile = _volatile(conn, calls)
    if volatile:
        return f"it calls volatile function(s) {', '.join(sorted(volatile))}, which may write"
    return None


def check_read_only(sql: str, conn: psycopg.Connection) -> ParsedStatement:
    """The parsed statement when it may be run; RefusedError when it may write."""
    parsed = parse_one(sql)
    reason = why_not_read_only(parsed, conn)
    if reason:
        raise RefusedError(f"refusing to run this statement: {reason}")
    return parsed


def _volatile(conn: psycopg.Connection, calls: set[tuple[str | None, str]]) -> set[str]:
    """Called functions with a VOLATILE overload (any overload: the parse tree has no argument types)."""
    wanted = {(s, n) for s, n in calls if n.lower() not in VOLATILE_ALLOWED}
    if not wanted:
        return set()
    rows = conn.execute(
        "SELECT DISTINCT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.provolatile = 'v' AND p.proname = ANY(%s)", ([n for _, n in wanted],)).fetchall()
    found = set()
    for schema, name in rows:
        for want_schema, want_name in wanted:
            if want_name == name and want_schema in (None, schema):
                found.add(f"{want_schema}.{name}" if want_schema else name)
    return found


def walk(node: Any) -> Iterator[Any]:
    """Every pglast node below ``node`` (inclusive), in order."""
    if isinstance(node, tuple | list):
        for item in node:
            yield from walk(item)
        return
    if not isinstance(node, ast.Node):
        return
    yield node
    for name in node:
        yield from walk(getattr(node, name))
