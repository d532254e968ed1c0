"""Run EXPLAIN (FORMAT JSON, VERBOSE, BUFFERS) on one statement, in a transaction that is rolled back.

Without ``analyze`` the statement is only planned, never run, so any explainable statement
is fine. With ``analyze`` it runs, so it must pass the read-only check first; it then runs in
a READ ONLY transaction that is rolled back whatever happens. Statements with ``$n``
parameters get a generic plan (``plan_cache_mode = force_generic_plan``) with the index
advisor's representative values, the plan PostgreSQL caches for them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg

from dbwright.advisors.explain import bind
from dbwright.advisors.explain.readonly import ParsedStatement, check_read_only, parse_one
from dbwright.errors import ServerError, SqlParseError
from dbwright.model import Snapshot


@dataclass(frozen=True)
class PlanRun:
    """One EXPLAIN document (the JSON list's only item: Plan, Planning Time, Execution Time …)."""

    parsed: ParsedStatement
    document: dict[str, Any]
    analyzed: bool
    arguments: tuple[str, ...] = ()  # SQL literals bound to $1, $2 … (generic plan)

    @property
    def plan(self) -> dict[str, Any]:
        return self.document["Plan"]

    @property
    def execution_ms(self) -> float | None:
        value = self.document.get("Execution Time")
        return float(value) if value is not None else None


def explain(
    conn: psycopg.Connection,
    sql: str,
    *,
    analyze: bool = False,
    snapshot: Snapshot | None = None,
    verbose: bool = True,
    buffers: bool = True,
    timing: bool = True,
) -> PlanRun:
    """EXPLAIN one statement; with ``analyze`` only a read-only SELECT, run and rolled back."""
    parsed = check_read_only(sql, conn) if analyze else parse_one(sql)
    options = ["FORMAT JSON"]
    if verbose:
        options.append("VERBOSE")
    if buffers:
        options.append("BUFFERS")
    if analyze:
        options.append("ANALYZE")
        if not timing:
            options.append("TIMING OFF")
    conn.execute("BEGIN TRANSACTION READ ONLY")
    try:
        arguments: list[str] = []
        if parsed.parameters:
            conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            arguments = bind.prepare(conn, parsed.sql, parsed.parameters, snapshot)
            text = f"EXPLAIN ({', '.join(options)}) EXECUTE {bind.PREPARED_NAME}({', '.join(arguments)})"
        else:
            text = f"EXPLAIN ({', '.join(options)}) {parsed.sql}"
        document = _fetch(conn, text)
    except psycopg.errors.SyntaxError as error:
        raise SqlParseError(f"the server cannot parse the statement: {_first_line(error)}") from None
    except psycopg.Error as error:
        raise ServerError(f"EXPLAIN failed: {_first_line(error)}") from None
    finally:
        if not conn.closed:
            conn.execute("ROLLBACK")
            if parsed.parameters:
                bind.deallocate(conn)  # PREPARE is not undone by ROLLBACK
    return PlanRun(parsed, document, analyze, tuple(arguments))


def _fetch(conn: psycopg.Connection, text: str) -> dict[str, Any]:
    with conn.cursor() as cur:
        cur.execute(text, prepare=True)  # the extended protocol: the server refuses a second statement
        document = cur.fetchone()[0]
    if isinstance(document, str):
        document = json.loads(document)
    return document[0]


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
