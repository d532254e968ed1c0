"""Plans for normalised statements with ``$n`` parameters, as PostgreSQL itself would make them.

pg_stat_statements keeps ``WHERE email = $1``, which cannot be EXPLAINed as it is. PostgreSQL
16 has ``EXPLAIN (GENERIC_PLAN)``. On 15 the same plan comes from ``PREPARE`` with
``plan_cache_mode = force_generic_plan`` and ``EXPLAIN EXECUTE``; the values passed are
typed values drawn from ``pg_stats`` for the column each parameter is compared with, or
NULL. A generic plan does not look at them, so the plan is the one the server caches.
"""

from __future__ import annotations

from typing import Any

import pglast
import psycopg
from psycopg import sql as _sql

from dbwright.engines.base import PlanError
from dbwright.engines.postgres.query_errors import message_line
from dbwright.engines.postgres.read_part import ReadPart, read_part
from dbwright.errors import SqlParseError

STATEMENT_NAME = "dbwright_whatif"
GENERIC_PLAN_VERSION = 160000


class Planner:
    """EXPLAIN without ANALYZE: never runs the statement. Counts every planner call."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.version = conn.info.server_version
        self.calls = 0
        self._values: dict[tuple[str, str], str | None] = {}
        self._generic_mode_set = False

    def plan(
        self, sql: str, parameters: int = 0, parameter_columns: dict[int, tuple[str, str]] | None = None
    ) -> dict[str, Any]:
        """The JSON plan (the ``Plan`` node and its children) of one statement's read part: a write is
        planned as the query that finds its rows (``read_part``), so planning takes only ACCESS SHARE."""
        self.calls += 1
        part = planned_part(sql)
        if part.rewritten:
            sql, parameters = part.sql, len(part.numbers)
            parameter_columns = part.columns(parameter_columns or {})
        in_transaction = self.conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        if in_transaction:
            self.conn.execute("SAVEPOINT dbwright_plan")
        try:
            plan = self._plan(sql, parameters, parameter_columns)
        except BaseException:
            if in_transaction:
                self.conn.execute("ROLLBACK TO SAVEPOINT dbwright_plan")
            raise
        if in_transaction:
            self.conn.execute("RELEASE SAVEPOINT dbwright_plan")
        return plan

    def _plan(
        self,
        sql: str,
        parameters: int,
        parameter_columns: dict[int, tuple[str, str]] | None,
    ) -> dict[str, Any]:
        try:
            if parameters == 0:
                return self._explain(f"EXPLAIN (FORMAT JSON) {sql}")
            if self.version >= GENERIC_PLAN_VERSION:
                # $n must reach the server as text, not as protocol parameters, so this one goes by the
                # simple protocol; the statement was checked to be a single query by pglast.
                return self._explain(f"EXPLAIN (GENERIC_PLAN, FORMAT JSON) {sql}", extended=False)
            return self._prepared(sql, parameters, parameter_columns or {})
        except psycopg.errors.SyntaxError as error:
            raise SqlParseError(
                f"the server cannot parse a workload statement: {message_line(error)}"
            ) from None
        except psycopg.Error as error:
            raise PlanError(message_line(error)) from None

    def _explain(self, text: str, extended: bool = True) -> dict[str, Any]:
        with self.conn.cursor() as cur:
            if extended:
                cur.execute(text, prepare=True)  # the extended protocol: one statement, never more
            else:
                cur.execute(text)
            row = cur.fetchone()
        document = row[0]
        if isinstance(document, str):
            import json

            document = json.loads(document)
        return document[0]["Plan"]

    def _prepared(self, sql: str, parameters: int, columns: dict[int, tuple[str, str]]) -> dict[str, Any]:
        self.conn.execute("SET plan_cache_mode = force_generic_plan")
        self._generic_mode_set = True
        self.conn.execute(f"PREPARE {STATEMENT_NAME} AS {sql}", prepare=True)
        try:
            types = self.conn.execute(
                "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = %s",
                (STATEMENT_NAME,),
            ).fetchone()[0]
            values = [self._argument(n, types[n - 1], columns.get(n)) for n in range(1, parameters + 1)]
            if any(not v.startswith("NULL::") for v in values) and not self._castable(values):
                values = [f"NULL::{t}" for t in types]
            return self._explain(f"EXPLAIN (FORMAT JSON) EXECUTE {STATEMENT_NAME}({', '.join(values)})")
        finally:
            self.conn.execute(f"DEALLOCATE {STATEMENT_NAME}")

    def _castable(self, values: list[str]) -> bool:
        """True when every representative value converts to its parameter's type."""
        try:
            with self.conn.transaction():
                self.conn.execute(f"SELECT {', '.join(values)}")
            return True
        except psycopg.Error:
            return False

    def _argument(self, number: int, type_name: str, column: tuple[str, str] | None) -> str:
        value = self._representative(*column) if column else None
        if value is None:
            return f"NULL::{type_name}"
        return f"{_sql.Literal(value).as_string(self.conn)}::{type_name}"

    def _representative(self, table: str, column: str) -> str | None:
        """The most common value of the column, else the median histogram bound, from pg_stats."""
        key = (table, column)
        if key not in self._values:
            schema, name = table.split(".", 1)
            row = self.conn.execute(
                "SELECT (most_common_vals::text::text[])[1], "
                "(histogram_bounds::text::text[])[greatest(1, array_length(histogram_bounds::text::text[], 1) / 2)] "
                "FROM pg_stats WHERE schemaname = %s AND tablename = %s AND attname = %s LIMIT 1",
                (schema, name, column),
            ).fetchone()
            self._values[key] = (row[0] or row[1]) if row else None
        return self._values[key]

    def close(self) -> None:
        """Put the session back as it was (the prepared statement is already gone)."""
        if self._generic_mode_set and not self.conn.closed:
            self.conn.execute("RESET plan_cache_mode")
            self._generic_mode_set = False


def planned_part(sql: str) -> ReadPart:
    """``read_part(sql)``; PlanError when the statement has none (MERGE, INSERT … VALUES, a writing WITH)."""
    try:
        part = read_part(sql)
    except pglast.parser.ParseError as error:
        raise SqlParseError(f"cannot parse a workload statement: {error}") from None
    if part is None:
        raise PlanError(
            "it writes and reads no rows dbwright can plan without locking its target more than "
            "ACCESS SHARE (MERGE, INSERT … VALUES, a data-modifying WITH)"
        )
    return part
