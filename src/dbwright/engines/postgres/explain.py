"""EXPLAIN of one statement on PostgreSQL, in a READ ONLY transaction that is always rolled back.

Statements with ``$n`` parameters get a generic plan on PostgreSQL 15: the statement is
PREPAREd with ``plan_cache_mode = force_generic_plan``; each parameter gets a typed
representative value from ``pg_stats`` for the column it is compared with (the most common
value, else the median histogram bound), or NULL. The index advisor's own Planner binds them,
so ``explain`` and ``advise indexes --verify`` bind exactly what the advisor priced.
The caller (``dbwright.advisors.explain.run``) decides what may be run; this module sends it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import psycopg

from dbwright.engines.base import PlanError
from dbwright.engines.postgres.generic_plans import Planner, planned_part
from dbwright.engines.postgres.query_errors import message_line
from dbwright.errors import RefusedError, ServerError, SqlParseError

PREPARED_NAME = "dbwright_explain"


def explain_document(
    conn: psycopg.Connection,
    sql: str,
    parameters: int,
    parameter_columns: Mapping[int, tuple[str, str]],
    *,
    analyze: bool,
    verbose: bool,
    buffers: bool,
    timing: bool,
) -> tuple[dict[str, Any], list[str]]:
    """The EXPLAIN document (the JSON list's only item) and the SQL literals bound to $1, $2 ….

    ``parameter_columns`` names the (table, column) each ``$n`` is compared with, for its value.
    Without ``analyze`` a write is planned as its read part (``read_part``: planning an UPDATE
    itself takes ROW EXCLUSIVE on its target); the document then says so under "Planned As".
    A write with no read part is refused.
    """
    planned_as = None
    if not analyze:
        try:
            part = planned_part(sql)
        except PlanError as error:
            raise RefusedError(f"not explained: {error}") from None
        if part.rewritten:
            planned_as, sql, parameters = part.sql, part.sql, len(part.numbers)
            parameter_columns = part.columns(dict(parameter_columns))
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
        if parameters:
            conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            arguments = prepare(conn, sql, parameters, parameter_columns)
            text = f"EXPLAIN ({', '.join(options)}) EXECUTE {PREPARED_NAME}({', '.join(arguments)})"
        else:
            text = f"EXPLAIN ({', '.join(options)}) {sql}"
        document = _fetch(conn, text)
        if planned_as is not None:
            document["Planned As"] = planned_as
    except psycopg.errors.SyntaxError as error:
        raise SqlParseError(f"the server cannot parse the statement: {message_line(error)}") from None
    except psycopg.Error as error:
        raise ServerError(f"EXPLAIN failed: {message_line(error)}") from None
    finally:
        if not conn.closed:
            conn.execute("ROLLBACK")
            if parameters:
                deallocate(conn)  # PREPARE is not undone by ROLLBACK
    return document, arguments


def prepare(
    conn: psycopg.Connection, sql: str, parameters: int, columns: Mapping[int, tuple[str, str]]
) -> list[str]:
    """PREPARE ``sql`` as PREPARED_NAME (extended protocol: one statement) and return SQL literals for EXECUTE."""
    conn.execute(f"PREPARE {PREPARED_NAME} AS {sql}", prepare=True)
    types = conn.execute(
        "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = %s", (PREPARED_NAME,)
    ).fetchone()[0]
    planner = Planner(conn)
    values = [
        planner._argument(n, types[n - 1], columns.get(n))  # noqa: SLF001 - the advisor's binding
        for n in range(1, parameters + 1)
    ]
    if any(not v.startswith("NULL::") for v in values) and not planner._castable(values):  # noqa: SLF001
        values = [f"NULL::{t}" for t in types]
    return values


def deallocate(conn: psycopg.Connection) -> None:
    """Drop the prepared statement if it exists (call outside a failed transaction)."""
    if conn.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", (PREPARED_NAME,)).fetchone():
        conn.execute(f"DEALLOCATE {PREPARED_NAME}")


def _fetch(conn: psycopg.Connection, text: str) -> dict[str, Any]:
    with conn.cursor() as cur:
        cur.execute(text, prepare=True)  # the extended protocol: the server refuses a second statement
        document = cur.fetchone()[0]
    if isinstance(document, str):
        document = json.loads(document)
    return document[0]
