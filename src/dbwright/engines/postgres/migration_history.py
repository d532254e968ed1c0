"""The migration history table, dbwright.schema_history, as PostgreSQL stores it.

What a row means (the chain, the statuses) is :mod:`dbwright.changes.migrations.history`;
this module only creates the table and reads and writes its rows, as plain dicts.
"""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from dbwright.engines.base import Connection

#: dbwright's own schema: the history and the backfill progress live here, and fingerprints skip it.
SCHEMA = "dbwright"
TABLE = f"{SCHEMA}.schema_history"

CREATE = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {TABLE} (
    rank integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version text NOT NULL UNIQUE,
    name text NOT NULL,
    filename text NOT NULL,
    kind text NOT NULL DEFAULT 'migration' CHECK (kind IN ('migration', 'baseline')),
    checksum text NOT NULL,
    chain text NOT NULL,
    applied_by text NOT NULL DEFAULT current_user,
    applied_at timestamptz NOT NULL DEFAULT now(),
    duration_ms bigint NOT NULL DEFAULT 0,
    status text NOT NULL CHECK (status IN ('applied', 'partial', 'rolling back')),
    steps_total integer NOT NULL,
    steps_done integer NOT NULL DEFAULT 0,
    step_running integer,
    fingerprint text NOT NULL,
    fingerprint_before text NOT NULL,
    schema_doc jsonb NOT NULL,
    schema_doc_before jsonb NOT NULL
)"""

_COLUMNS = (
    "rank, version, name, filename, kind, checksum, chain, applied_by, duration_ms, status, steps_total,"
    " steps_done, step_running, fingerprint, fingerprint_before, schema_doc, schema_doc_before"
)
_INSERTED = (
    "version",
    "name",
    "filename",
    "kind",
    "checksum",
    "chain",
    "status",
    "steps_total",
    "steps_done",
    "step_running",
    "fingerprint",
    "fingerprint_before",
    "schema_doc",
    "schema_doc_before",
    "duration_ms",
)
_JSON_COLUMNS = ("schema_doc", "schema_doc_before")


def exists(conn: Connection) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()[0]


def ensure(conn: Connection) -> None:
    """Create the history table on first use (the caller holds the deploy lock)."""
    if not exists(conn):
        with conn.transaction():
            for statement in CREATE.split(";"):
                conn.execute(statement)


def read_rows(conn: Connection) -> list[dict[str, Any]]:
    """Every row in the order they were applied, ``applied_at`` as UTC ISO text; none without the table."""
    if not exists(conn):
        return []
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {_COLUMNS}, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            f" AS applied_at FROM {TABLE} ORDER BY rank"
        )
        return cur.fetchall()


def insert_row(conn: Connection, values: dict[str, Any]) -> None:
    """One new row; ``values`` names every column a migration sets (``kind`` and ``duration_ms`` too)."""
    conn.execute(
        f"INSERT INTO {TABLE} ({', '.join(_INSERTED)}) VALUES ({', '.join(['%s'] * len(_INSERTED))})",
        tuple(_adapted(column, values[column]) for column in _INSERTED),
    )


def update_row(conn: Connection, version: str, values: dict[str, Any]) -> None:
    columns = ", ".join(f"{column} = %s" for column in values)
    params = [_adapted(column, value) for column, value in values.items()]
    conn.execute(f"UPDATE {TABLE} SET {columns} WHERE version = %s", (*params, version))


def delete_row(conn: Connection, version: str) -> None:
    conn.execute(f"DELETE FROM {TABLE} WHERE version = %s", (version,))


def _adapted(column: str, value: Any) -> Any:
    return Jsonb(value) if column in _JSON_COLUMNS else value
