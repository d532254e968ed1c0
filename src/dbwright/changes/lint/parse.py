"""Split migration SQL into statements with pglast, PostgreSQL's own parser.

Each statement keeps its exact text, its 1-based line in the file and the inline
``-- dbwright:ignore CODE reason: …`` comments written before it or on its line.
Comments are found with PostgreSQL's own scanner, so a ``--`` inside a string is not one.
psql's meta-commands (``\\set``, ``\\ir``, ``\\restrict`` …) are taken out first (``psql.py``):
``parse_statements`` leaves them out, ``parse_script`` keeps them in order among the statements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pglast import parse_sql
from pglast.parser import ParseError, scan

from dbwright.changes.lint.psql import PsqlCommand, split_script
from dbwright.errors import SqlParseError

_MIGRATION_MARK = re.compile(r"^\s*--\s*Running (?:upgrade|downgrade)\b", re.MULTILINE)
_IGNORE = re.compile(
    r"dbwright:ignore\s+(?P<codes>DW\d+(?:\s*,\s*DW\d+)*)(?P<rest>.*)", re.IGNORECASE | re.DOTALL
)
_REASON = re.compile(
    r"^\s*(?:[-:—]\s*)?(?:reason\s*[:=]\s*)?(?P<reason>.*?)\s*(?:\*/)?\s*$", re.IGNORECASE | re.DOTALL
)


@dataclass(frozen=True)
class Ignore:
    """An inline ignore comment; ``reason`` is empty when the author gave none."""

    codes: tuple[str, ...]
    reason: str
    line: int


@dataclass(frozen=True)
class ParsedStatement:
    node: object  # the pglast AST node (RawStmt.stmt)
    sql: str
    line: int
    ignores: tuple[Ignore, ...] = ()
    #: Alembic's offline SQL marks each revision ("-- Running upgrade a -> b"): a new migration starts here.
    starts_migration: bool = False
    #: The file the statement was read from (an included file for statements an ``\\ir`` brought in).
    file: str | None = None

    @property
    def is_psql_command(self) -> bool:
        return isinstance(self.node, PsqlCommand)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def parse_statements(sql: str, filename: str | None = None) -> list[ParsedStatement]:
    """SQL statements of ``sql`` in order, psql meta-commands left out; malformed SQL raises
    SqlParseError naming file and line."""
    return [statement for statement in parse_script(sql, filename) if not statement.is_psql_command]


def parse_script(sql: str, filename: str | None = None) -> list[ParsedStatement]:
    """Statements and psql meta-commands (``node`` a ``PsqlCommand``) of a psql script, in order."""
    script = split_script(sql)
    statements = _parse_sql(script.sql, filename)
    commands = [
        ParsedStatement(command, command.text, line, file=filename) for _, line, command in script.commands
    ]
    offsets = [offset for offset, _, _ in script.commands]
    merged: list[ParsedStatement] = []
    position = 0
    for offset, statement in statements:
        while position < len(commands) and offsets[position] <= offset:
            merged.append(commands[position])
            position += 1
        merged.append(statement)
    return merged + commands[position:]


def _parse_sql(sql: str, filename: str | None) -> list[tuple[int, ParsedStatement]]:
    where = filename or "<sql>"
    try:
        raw = parse_sql(sql)
    except ParseError as error:
        message, *rest = error.args
        offset = rest[0] if rest and isinstance(rest[0], int) else len(sql.rstrip())
        raise SqlParseError(f"{where}:{line_of(sql, offset)}: {message}") from None
    comments = _comments(sql)
    statements: list[tuple[int, ParsedStatement]] = []
    previous_end = 0
    for item in raw:
        start = item.stmt_location
        end = item.stmt_location + item.stmt_len if item.stmt_len else len(sql)
        text = sql[start:end].strip()
        # The first token's position: skip leading whitespace and comments of the region.
        body_start = _first_token(sql, start, end)
        line = line_of(sql, body_start)
        end_line = line_of(sql, end)
        tail = [
            (pos, ig)
            for (pos, ig) in comments
            if ig.line == end_line and pos >= end and _same_line_tail(sql, end, pos)
        ]
        ignores = tuple(ig for (pos, ig) in comments if previous_end <= pos < end) + tuple(
            ig for _, ig in tail
        )
        marked = bool(_MIGRATION_MARK.search(sql, previous_end, body_start))
        parsed = ParsedStatement(item.stmt, _strip_comments(text), line, ignores, marked, filename)
        statements.append((body_start, parsed))
        previous_end = max([end, *(pos + 1 for pos, _ in tail)])
    return statements


def _comments(sql: str) -> list[tuple[int, Ignore]]:
    found = []
    for token in scan(sql):
        if token.name not in ("SQL_COMMENT", "C_COMMENT"):
            continue
        start = token.start
        text = sql[start : token.end + 1]
        match = _IGNORE.search(text)
        if not match:
            continue
        codes = tuple(code.strip().upper() for code in match["codes"].split(","))
        reason = _REASON.match(match["rest"])["reason"].strip()
        found.append((start, Ignore(codes, reason, line_of(sql, start))))
    return found


def _first_token(sql: str, start: int, end: int) -> int:
    position = start
    while position < end:
        if sql[position].isspace():
            position += 1
        elif sql.startswith("--", position):
            newline = sql.find("\n", position)
            position = end if newline < 0 else newline + 1
        elif sql.startswith("/*", position):
            close = sql.find("*/", position)
            position = end if close < 0 else close + 2
        else:
            break
    return min(position, end)


def _same_line_tail(sql: str, end: int, pos: int) -> bool:
    """A comment right after the statement's semicolon, on the same line, belongs to it."""
    between = sql[end:pos]
    return "\n" not in between and between.strip() in ("", ";")


def _strip_comments(text: str) -> str:
    """The statement text without leading comment lines (kept readable for reports)."""
    lines = text.splitlines()
    while lines and (lines[0].strip().startswith("--") or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines).strip()
