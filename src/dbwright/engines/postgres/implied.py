"""References the data implies but no foreign key declares, measured on a bounded sample.

Candidates come from names alone: a column ``<stem>_id`` with no foreign key, and exactly one table
named ``<stem>``/``<stem>s``/``<stem>es``/``<stem minus y>ies`` whose single-column primary key has
the same type family. Each candidate is then measured on the data: up to ``SAMPLE_ROWS`` non-null
values of the child column, how many distinct ones, and how many have no parent row. The review's
check (``checks/integrity.py``, DW119) judges the evidence; this module only reads.
"""

from __future__ import annotations

import psycopg

from dbwright.engines.postgres.query_errors import message_line
from dbwright.model import Column, ImpliedReference, Skipped, Snapshot, Table
from dbwright.model.operations import ident, qident

SAMPLE_ROWS = 1000
MAX_CANDIDATES = 200

_FAMILIES = {
    "int2": "integer",
    "int4": "integer",
    "int8": "integer",
    "numeric": "integer",
    "uuid": "uuid",
    "text": "text",
    "varchar": "text",
    "bpchar": "text",
    "citext": "text",
}

MEASURE = """
WITH child AS (SELECT {column} AS v FROM {table} WHERE {column} IS NOT NULL LIMIT %(rows)s)
SELECT count(*) AS sampled, count(DISTINCT v) AS distinct_values,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{key} = child.v)) AS orphans
FROM child
"""


def _parent_names(stem: str) -> tuple[str, ...]:
    names = [stem, f"{stem}s", f"{stem}es"]
    if stem.endswith("y"):
        names.append(f"{stem[:-1]}ies")
    return tuple(names)


def candidates(snap: Snapshot, locked: set[str]) -> list[tuple[Column, Table, Column]]:
    """(child column, parent table, parent key column) pairs named like a reference, with no FK."""
    tables = [t for t in snap.user_tables() if not t.is_partition and t.qname not in locked]
    by_name: dict[str, list[Table]] = {}
    for table in tables:
        by_name.setdefault(table.name.lower(), []).append(table)
    referenced = {(fk.table_qname, col) for fk in snap.constraints if fk.type == "f" for col in fk.columns}
    found = []
    for child in tables:
        if child.row_estimate <= 0:
            continue
        for column in snap.columns_of(child.qname):
            name = column.name.lower()
            if not name.endswith("_id") or (child.qname, column.name) in referenced:
                continue
            family = _FAMILIES.get(column.type_name)
            if family is None:
                continue
            stem = name[: -len("_id")]
            parents = [
                t
                for n in _parent_names(stem)
                for t in by_name.get(n, [])
                if t.qname != child.qname and t.row_estimate > 0
            ]
            same_schema = [t for t in parents if t.schema == child.schema]
            parents = same_schema or parents
            if len(parents) != 1:
                continue
            parent = parents[0]
            primary = snap.constraints_of(parent.qname, "p")
            if not primary or len(primary[0].columns) != 1:
                continue
            key = snap.column(parent.qname, primary[0].columns[0])
            if key is None or _FAMILIES.get(key.type_name) != family:
                continue
            found.append((column, parent, key))
    found.sort(key=lambda c: -(snap.table(c[0].table_qname).row_estimate or 0))
    return found[:MAX_CANDIDATES]


def measure(
    conn: psycopg.Connection, snap: Snapshot, locked: set[str]
) -> tuple[tuple[ImpliedReference, ...], list[Skipped]]:
    """Each candidate measured in its own savepoint: a table that cannot be read costs only itself."""
    found, skipped = [], []
    for column, parent, key in candidates(snap, locked):
        sql = MEASURE.format(
            column=ident(column.name),
            table=qident(column.table_qname),
            parent=qident(parent.qname),
            key=ident(key.name),
        )
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(sql, {"rows": SAMPLE_ROWS})
                sampled, distinct, orphans = cur.fetchone()
        except psycopg.Error as error:
            skipped.append(Skipped("implied_references", f"{column.qname}: {message_line(error)}"))
            continue
        found.append(
            ImpliedReference(
                column.schema,
                column.table,
                (column.name,),
                parent.schema,
                parent.name,
                (key.name,),
                sampled,
                distinct,
                orphans,
            )
        )
    return tuple(found), skipped
