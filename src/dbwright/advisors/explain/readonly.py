"""Is a statement safe to *run* (EXPLAIN ANALYZE, verification)? Decided by dbwright.sqlguard.

The same guard as the MCP query tools (running a statement is running it): exactly one statement,
parsed by PostgreSQL's own parser; here also a SELECT; the whole tree walked for writes, SELECT
INTO, FOR UPDATE/SHARE, temporary tables and denied functions; and no function the catalog marks
VOLATILE unless it is one of pg_catalog's compute-only ones. The statement then runs in a READ
ONLY transaction that is rolled back, sent by the extended protocol so the server itself refuses
a second statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pglast import ast

from dbwright import sqlguard
from dbwright.engines.base import Connection
from dbwright.errors import RefusedError, SqlParseError

#: Statements EXPLAIN (without ANALYZE) may plan: it never runs them.
EXPLAINABLE = (ast.SelectStmt, *sqlguard.WRITE_STATEMENTS)


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
    node = sqlguard.parse_one(text)
    if isinstance(node, ast.ExplainStmt):
        raise SqlParseError("give the statement without EXPLAIN; dbwright adds it (use --analyze to run it)")
    if not isinstance(node, EXPLAINABLE):
        raise SqlParseError(
            f"{type(node).__name__.removesuffix('Stmt')} has no plan to explain; give a "
            "SELECT, INSERT, UPDATE, DELETE or MERGE"
        )
    parameters = max((n.number for n in sqlguard.walk(node) if isinstance(n, ast.ParamRef)), default=0)
    return ParsedStatement(text, node, parameters)


def why_not_read_only(parsed: ParsedStatement, conn: Connection) -> str | None:
    """None when the statement may be run; else why not (one line)."""
    node = parsed.statement
    if not isinstance(node, ast.SelectStmt):
        return f"{parsed.kind} writes; only a SELECT may be run"
    reason = sqlguard.first_refusal(node)
    if reason:
        return reason
    volatile = sqlguard.volatile_functions(conn, sqlguard.called_functions(node))
    if volatile:
        return f"it calls volatile function(s) {', '.join(volatile)}, which may write"
    return None


def check_read_only(sql: str, conn: Connection) -> ParsedStatement:
    """The parsed statement when it may be run; RefusedError when it may write."""
    parsed = parse_one(sql)
    reason = why_not_read_only(parsed, conn)
    if reason:
        raise RefusedError(f"refusing to run this statement: {reason}")
    return parsed
