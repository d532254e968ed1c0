"""The history table, dbwright.schema_history: what ran, when, by whom, and the schema it left.

One row per migration, written in the same transaction as the migration's statements, so
the history and the schema commit together. ``chain`` links each row to the one before it
(sha256 of the previous chain and this row's version, name and checksum): editing,
reordering or deleting a row or a file breaks it from that row on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from dbwright.changes.migrations.fingerprint import HISTORY_SCHEMA, Document

TABLE = f"{HISTORY_SCHEMA}.schema_history"

CREATE = f"""
CREATE SCHEMA IF NOT EXISTS {HISTORY_SCHEMA};
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

GENESIS = "0" * 64
_COLUMNS = (
    "rank, version, name, filename, kind, checksum, chain, applied_by, duration_ms, status, steps_total,"
    " steps_done, step_running, fingerprint, fingerprint_before, schema_doc, schema_doc_before"
)


@dataclass(frozen=True)
class HistoryRow:
    rank: int
    version: str
    name: str
    filename: str
    kind: str
    checksum: str
    chain: str
    applied_by: str
    applied_at: str
    duration_ms: int
    status: str
    steps_total: int
    steps_done: int
    step_running: int | None
    fingerprint: str
    fingerprint_before: str
    schema_doc: Document = field(repr=False)
    schema_doc_before: Document = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "name": self.name,
            "filename": self.filename,
            "kind": self.kind,
            "checksum": self.checksum,
            "applied_by": self.applied_by,
            "applied_at": self.applied_at,
            "duration_ms": self.duration_ms,
            "status": self.status,
            "steps_total": self.steps_total,
            "steps_done": self.steps_done,
            "step_running": self.step_running,
            "fingerprint": self.fingerprint,
        }


def chain_of(previous: str, version: str, name: str, checksum: str) -> str:
    return hashlib.sha256(f"{previous}|{version}|{name}|{checksum}".encode()).hexdigest()


def exists(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()[0]


def ensure(conn: psycopg.Connection) -> None:
    """Create the history table on first use (the caller holds the deploy lock)."""
    if not exists(conn):
        with conn.transaction():
            for statement in CREATE.split(";"):
                conn.execute(statement)


def read(conn: psycopg.Connection) -> list[HistoryRow]:
    """Every row, in the order they were applied; none when the table does not exist yet."""
    if not exists(conn):
        return []
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {_COLUMNS}, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            f" AS applied_at FROM {TABLE} ORDER BY rank"
        )
        return [HistoryRow(**row) for row in cur.fetchall()]


def last_chain(rows: list[HistoryRow]) -> str:
    return rows[-1].chain if rows else GENESIS


def insert(
    conn: psycopg.Connection,
    *,
    version: str,
    name: str,
    filename: str,
    checksum: str,
    chain: str,
    status: str,
    steps_total: int,
    steps_done: int,
    step_running: int | None,
    fingerprint: str,
    doc: Document,
    fingerprint_before: str,
    doc_before: Document,
    kind: str = "migration",
    duration_ms: int = 0,
) -> None:
    conn.execute(
        f"INSERT INTO {TABLE} (version, name, filename, kind, checksum, chain, status, steps_total, steps_done,"
        " step_running, fingerprint, fingerprint_before, schema_doc, schema_doc_before, duration_ms)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            version,
            name,
            filename,
            kind,
            checksum,
            chain,
            status,
            steps_total,
            steps_done,
            step_running,
            fingerprint,
            fingerprint_before,
            Jsonb(doc),
            Jsonb(doc_before),
            duration_ms,
        ),
    )


def update(conn: psycopg.Connection, version: str, **values: Any) -> None:
    columns = ", ".join(f"{key} = %s" for key in values)
    params = [Jsonb(v) if key.startswith("schema_doc") else v for key, v in values.items()]
    conn.execute(f"UPDATE {TABLE} SET {columns} WHERE version = %s", (*params, version))


def delete(conn: psycopg.Connection, version: str) -> None:
    conn.execute(f"DELETE FROM {TABLE} WHERE version = %s", (version,))


def dumps(rows: list[HistoryRow]) -> str:
    return json.dumps([r.to_dict() for r in rows], indent=2)
