"""The workload an index advisor optimises: statements, how often they ran, and for how long.

Sources: pg_stat_statements (from a snapshot), SQL files, server logs (stderr, csvlog and
jsonlog lines written by ``log_min_duration_statement``) and a single query. Statements are
parsed with pglast, PostgreSQL's own parser; the same statement seen twice (same
fingerprint) is one query whose calls and time add up.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pglast
from pglast import ast

from dbwright.errors import InputFileError, SqlParseError
from dbwright.model import Statement

#: Statement kinds an index can speed up; the rest (utility, DDL) are listed as skipped.
PLANNABLE = (ast.SelectStmt, ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt)
WEIGHTINGS = ("total_time", "calls_x_mean", "cost")


@dataclass(frozen=True)
class Query:
    """One distinct statement of the workload."""

    sql: str
    calls: int = 1
    total_ms: float | None = None  # None when the source has no timings (SQL files, one query)
    mean_ms: float | None = None
    source: str = "query"
    queryid: int | None = None
    fingerprint: str = ""

    @property
    def key(self) -> str:
        """A short, stable name for the query in reports and caches."""
        return f"q{self.fingerprint[:10]}"

    @property
    def has_parameters(self) -> bool:
        return _has_params(self.sql)

    def weight(self, weight_by: str) -> float | None:
        """Milliseconds the query accounts for, or None when it must be weighted by planner cost."""
        if weight_by == "total_time" and self.total_ms is not None:
            return self.total_ms
        if weight_by == "calls_x_mean" and self.mean_ms is not None:
            return self.calls * self.mean_ms
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "sql": self.sql,
            "calls": self.calls,
            "total_ms": self.total_ms,
            "mean_ms": self.mean_ms,
            "source": self.source,
            "queryid": self.queryid,
        }


@dataclass(frozen=True)
class SkippedQuery:
    sql: str
    reason: str
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"sql": self.sql[:500], "reason": self.reason, "source": self.source}


@dataclass(frozen=True)
class Workload:
    queries: tuple[Query, ...] = ()
    skipped: tuple[SkippedQuery, ...] = ()
    sources: tuple[str, ...] = field(default=())

    @property
    def timed(self) -> bool:
        return any(q.total_ms is not None for q in self.queries)

    def filtered(self, *, min_calls: int = 0, min_time_ms: float = 0.0) -> Workload:
        """Drop queries called fewer than ``min_calls`` times or taking less than ``min_time_ms`` in total."""
        kept, dropped = [], list(self.skipped)
        for query in self.queries:
            if query.calls < min_calls:
                dropped.append(
                    SkippedQuery(query.sql, f"{query.calls} call(s) < --min-calls {min_calls}", query.source)
                )
            elif min_time_ms and query.total_ms is not None and query.total_ms < min_time_ms:
                dropped.append(
                    SkippedQuery(
                        query.sql, f"{query.total_ms:.1f} ms < --min-time {min_time_ms}", query.source
                    )
                )
            else:
                kept.append(query)
        return Workload(tuple(kept), tuple(dropped), self.sources)

    def __add__(self, other: Workload) -> Workload:
        return merge([self, other])


def merge(workloads: Iterable[Workload]) -> Workload:
    """One workload from several: the same statement from two sources adds its calls and time."""
    by_print: dict[str, Query] = {}
    skipped: list[SkippedQuery] = []
    sources: list[str] = []
    for workload in workloads:
        skipped.extend(workload.skipped)
        sources.extend(workload.sources)
        for query in workload.queries:
            seen = by_print.get(query.fingerprint)
            by_print[query.fingerprint] = query if seen is None else _combine(seen, query)
    return Workload(tuple(by_print.values()), tuple(skipped), tuple(dict.fromkeys(sources)))


def _combine(a: Query, b: Query) -> Query:
    total = None if a.total_ms is None and b.total_ms is None else (a.total_ms or 0) + (b.total_ms or 0)
    calls = a.calls + b.calls
    return replace(a, calls=calls, total_ms=total, mean_ms=(total / calls) if total is not None else None)


# --- statements: parse, check, fingerprint ------------------------------------------------------


def classify(sql: str) -> tuple[str | None, str | None]:
    """(fingerprint, None) for a plannable single statement, else (None, reason it is skipped)."""
    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError as error:
        return None, f"does not parse: {error}"
    if len(statements) != 1:
        return None, f"{len(statements)} statements in one entry"
    stmt = statements[0].stmt
    if not isinstance(stmt, PLANNABLE):
        return None, f"{type(stmt).__name__} is not a query an index can speed up"
    if (
        isinstance(stmt, ast.InsertStmt)
        and stmt.selectStmt is not None
        and getattr(stmt.selectStmt, "valuesLists", None)
    ):
        return None, "INSERT … VALUES reads no table; it is charged as write cost"
    return pglast.fingerprint(sql), None


def _query(sql: str, source: str, **fields: Any) -> Query | SkippedQuery:
    text = sql.strip().rstrip(";").strip()
    printed, reason = classify(text)
    if printed is None:
        return SkippedQuery(text, reason or "skipped", source)
    return Query(text, source=source, fingerprint=printed, **fields)


def _collect(items: Iterable[Query | SkippedQuery], source: str) -> Workload:
    queries = [i for i in items if isinstance(i, Query)]
    skipped = tuple(i for i in items if isinstance(i, SkippedQuery))
    return (
        merge([Workload(tuple(queries), skipped, (source,))]) if queries else Workload((), skipped, (source,))
    )


# --- sources ------------------------------------------------------------------------------------


def from_statements(statements: Sequence[Statement]) -> Workload:
    """pg_stat_statements rows: normalised texts with $n parameters, with their calls and time."""
    items: list[Query | SkippedQuery] = []
    for s in statements:
        items.append(
            _query(
                s.query,
                "pg_stat_statements",
                calls=max(1, s.calls),
                total_ms=s.total_ms,
                mean_ms=s.mean_ms,
                queryid=s.queryid,
            )
        )
    return _collect(items, "pg_stat_statements")


def from_query(sql: str) -> Workload:
    """One query typed by the user; it must parse."""
    item = _query(sql, "query")
    if isinstance(item, SkippedQuery):
        raise SqlParseError(f"cannot advise on this query: {item.reason}")
    return Workload((item,), (), ("query",))


def from_sql_text(text: str, source: str) -> Workload:
    """Statements of a SQL script, each one call (repeat a statement to weigh it more)."""
    try:
        parts = list(pglast.split(text, with_parser=False))
    except pglast.parser.ParseError as error:
        raise SqlParseError(f"{source}: {error}") from None
    items = [_query(part, source) for part in parts if part.strip()]
    return _collect(items, source)


def from_sql_file(path: Path) -> Workload:
    return from_sql_text(_read(path), f"file:{path.name}")


# Server logs. The regexes below read the *log line format* (durations and the statement's
# position in the line); the statements themselves are parsed by pglast.
_DURATION = re.compile(
    r"duration: (?P<ms>\d+(?:\.\d+)?) ms\s+(?:statement|execute [^:]*|bind [^:]*|parse [^:]*): (?P<sql>.*)",
    re.S,
)
_STDERR_START = re.compile(r"^\S.*?(?:LOG|STATEMENT|DETAIL|ERROR|WARNING|HINT|CONTEXT|FATAL|NOTICE):  ")
CSV_MESSAGE_COLUMN = 13


def from_log_file(path: Path, format: str = "auto") -> Workload:
    return from_log_text(_read(path), f"log:{path.name}", format)


def from_log_text(text: str, source: str = "log", format: str = "auto") -> Workload:
    """Statements with durations from a server log (stderr, csvlog or jsonlog; auto-detected)."""
    if format == "auto":
        format = _detect_log_format(text)
    if format == "jsonlog":
        messages = _jsonlog_messages(text, source)
    elif format == "csvlog":
        messages = _csvlog_messages(text)
    elif format == "stderr":
        messages = _stderr_messages(text)
    else:
        raise InputFileError(f"unknown log format {format!r}; use stderr, csvlog or jsonlog")
    items: list[Query | SkippedQuery] = []
    for message in messages:
        match = _DURATION.match(message.strip())
        if match is None:
            continue
        ms = float(match["ms"])
        items.append(_query(match["sql"], source, calls=1, total_ms=ms, mean_ms=ms))
    return _collect(items, source)


def _detect_log_format(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    if first.lstrip().startswith("{"):
        return "jsonlog"
    if re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \w+,", first):
        return "csvlog"
    return "stderr"


def _jsonlog_messages(text: str, source: str) -> list[str]:
    messages = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise InputFileError(f"{source} line {number} is not JSON; is it a jsonlog file?") from None
        messages.append(str(entry.get("message", "")))
    return messages


def _csvlog_messages(text: str) -> list[str]:
    return [row[CSV_MESSAGE_COLUMN] for row in csv.reader(io.StringIO(text)) if len(row) > CSV_MESSAGE_COLUMN]


def _stderr_messages(text: str) -> list[str]:
    """Log entries with their continuation lines (a multi-line statement continues with a tab)."""
    messages: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if _STDERR_START.match(line):
            if current is not None:
                messages.append("\n".join(current))
            current = [line.split(":  ", 1)[1]] if "LOG:  " in line else None
        elif current is not None and line.startswith(("\t", " ")):
            current.append(line[1:])
    if current is not None:
        messages.append("\n".join(current))
    return messages


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        raise InputFileError(f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(f"cannot read {path}: {error}") from None


def _has_params(sql: str) -> bool:
    from dbwright.advisors.indexes.querytree import _walk

    return any(isinstance(node, ast.ParamRef) for node in _walk(pglast.parse_sql(sql)))
