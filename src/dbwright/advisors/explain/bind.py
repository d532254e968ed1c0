"""Values for ``$n`` parameters, the way the index advisor plans generic plans on PostgreSQL 15.

A normalised statement from pg_stat_statements (``WHERE email = $1``) is PREPAREd; each
parameter gets a typed representative value from ``pg_stats`` for the column it is compared
with (the most common value, else the median histogram bound), or NULL. Reuses the advisor's
own Planner so ``explain`` and ``advise indexes --verify`` bind exactly what the advisor priced.
"""

from __future__ import annotations

import psycopg

from dbwright.advisors.indexes.generic import Planner
from dbwright.advisors.indexes.querytree import analyze
from dbwright.model import Snapshot

PREPARED_NAME = "dbwright_explain"


def prepare(conn: psycopg.Connection, sql: str, parameters: int, snapshot: Snapshot | None) -> list[str]:
    """PREPARE ``sql`` as PREPARED_NAME (extended protocol: one statement) and return SQL literals for EXECUTE."""
    conn.execute(f"PREPARE {PREPARED_NAME} AS {sql}", prepare=True)
    types = conn.execute(
        "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = %s", (PREPARED_NAME,)
    ).fetchone()[0]
    columns = analyze(sql, snapshot).parameter_columns if snapshot is not None else {}
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
