"""The catalog reads and statements behind the partition-pruning estimate of the design review.

The estimate builds the proposed partitioned structure in a scratch database and plans the
workload there; parameter values come from the *source* database's ``pg_stats``. Driver errors
are left to the caller's ``query_errors.translating()`` block (the estimate reports them as one
line), or, for ``column_bounds``, to the Planner, which turns them into a PlanError.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psycopg import sql

from dbwright.engines.base import Connection


def create_structure(conn: Connection, ddl: Iterable[str]) -> None:
    """Run the schema-only DDL of the proposed structure, statement by statement."""
    for statement in ddl:
        conn.execute(statement)


def column_bounds(conn: Connection, schema: str, table: str, column: str) -> list[str]:
    """A column's histogram bounds from ``pg_stats``, else its most common values, as text; [] without stats."""
    row = conn.execute(
        "SELECT histogram_bounds::text::text[], most_common_vals::text::text[] FROM pg_stats "
        "WHERE schemaname = %s AND tablename = %s AND attname = %s LIMIT 1",
        (schema, table, column),
    ).fetchone()
    return (row[0] or row[1] or []) if row else []


def literal(conn: Connection, value: Any) -> str:
    """``value`` as an SQL literal, quoted the way the session's server expects."""
    return sql.Literal(value).as_string(conn)  # type: ignore[arg-type]
