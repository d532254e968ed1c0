"""The structure of a database: its schema objects only, read inside the caller's transaction.

A migration fingerprints the schema after every step, inside the step's own transaction, so
this reads the snapshot's structure queries and nothing else (no sizes, statistics or
sessions). Unlike a full snapshot it reads definitions of relations under an ACCESS
EXCLUSIVE lock too: inside a migration's transaction those locks are this session's own,
and the definitions are the point.
"""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row

from dbwright.engines.base import Connection
from dbwright.engines.postgres import queries as q
from dbwright.model import (
    Column,
    Constraint,
    Function,
    Index,
    Schema,
    Sequence,
    Server,
    Snapshot,
    Table,
    Trigger,
    View,
)

_STATS = {
    "null_frac",
    "n_distinct",
    "correlation",
    "avg_width",
    "most_common_vals",
    "most_common_freqs",
    "histogram_bounds",
}


def structure(conn: Connection) -> Snapshot:
    """A snapshot holding only the schema objects of the database ``conn`` is connected to."""

    def rows(sql: str) -> list[dict[str, Any]]:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(q.with_locked(sql))
            return cur.fetchall()

    def tuples(row: dict[str, Any], *keys: str) -> dict[str, Any]:
        return {k: tuple(v) if k in keys and v is not None else v for k, v in row.items()}

    return Snapshot(
        server=Server(
            version_num=conn.info.server_version,
            version="",
            database=conn.info.dbname,
            current_user="",
            is_superuser=False,
        ),
        taken_at="",
        dbwright_version="",
        schemas=tuple(Schema(**tuples(r, "acl")) for r in rows(q.SCHEMAS)),
        tables=tuple(Table(**tuples(r, "reloptions", "acl")) for r in rows(q.TABLES)),
        columns=tuple(Column(**{k: v for k, v in r.items() if k not in _STATS}) for r in rows(q.COLUMNS)),
        constraints=tuple(Constraint(**tuples(r, "columns", "ref_columns")) for r in rows(q.CONSTRAINTS)),
        indexes=tuple(Index(**tuples(r, "columns", "include", "opclasses")) for r in rows(q.INDEXES)),
        sequences=tuple(Sequence(**r) for r in rows(q.SEQUENCES)),
        views=tuple(View(**r) for r in rows(q.VIEWS)),
        functions=tuple(Function(**tuples(r, "config", "acl")) for r in rows(q.FUNCTIONS)),
        triggers=tuple(Trigger(**r) for r in rows(q.TRIGGERS)),
    )
