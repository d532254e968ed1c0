"""The history table, dbwright.schema_history: what ran, when, by whom, and the schema it left.

One row per migration, written in the same transaction as the migration's statements, so
the history and the schema commit together. ``chain`` links each row to the one before it
(sha256 of the previous chain and this row's version, name and checksum): editing,
reordering or deleting a row or a file breaks it from that row on. The engine stores the
rows (:mod:`dbwright.engines.postgres.migration_history`); here is what they mean.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from dbwright.changes.migrations.fingerprint import Document
from dbwright.engines.base import Connection
from dbwright.engines.postgres import migration_history as stored

GENESIS = "0" * 64


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


def ensure(conn: Connection) -> None:
    """Create the history table on first use (the caller holds the deploy lock)."""
    stored.ensure(conn)


def read(conn: Connection) -> list[HistoryRow]:
    """Every row, in the order they were applied; none when the table does not exist yet."""
    return [HistoryRow(**row) for row in stored.read_rows(conn)]


def last_chain(rows: list[HistoryRow]) -> str:
    return rows[-1].chain if rows else GENESIS


def insert(
    conn: Connection,
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
    stored.insert_row(
        conn,
        {
            "version": version,
            "name": name,
            "filename": filename,
            "kind": kind,
            "checksum": checksum,
            "chain": chain,
            "status": status,
            "steps_total": steps_total,
            "steps_done": steps_done,
            "step_running": step_running,
            "fingerprint": fingerprint,
            "fingerprint_before": fingerprint_before,
            "schema_doc": doc,
            "schema_doc_before": doc_before,
            "duration_ms": duration_ms,
        },
    )


def update(conn: Connection, version: str, **values: Any) -> None:
    stored.update_row(conn, version, values)


def delete(conn: Connection, version: str) -> None:
    stored.delete_row(conn, version)


def dumps(rows: list[HistoryRow]) -> str:
    return json.dumps([r.to_dict() for r in rows], indent=2)
