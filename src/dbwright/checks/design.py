"""Design checks: keys, types and normal forms, read from the catalog and its statistics."""

from __future__ import annotations

from collections.abc import Iterator

from dbwright.changes.operations import RawSQL, ident, qident
from dbwright.changes.package import ChangePackage
from dbwright.checks.registry import Finding, Severity, check, finding
from dbwright.model import Snapshot


@check("DW101", category="design", severity=Severity.HIGH, title="Table without a primary key")
def table_without_primary_key(snap: Snapshot) -> Iterator[Finding]:
    """A table with no primary key has no reliable way to address one row.

    Logical replication cannot replicate its UPDATEs and DELETEs, ORMs cannot map it, and
    duplicates creep in unnoticed.

    Fix: add an identity column as the primary key, or promote a unique, non-null natural
    key. On a large table, build the unique index CONCURRENTLY first and add the primary key
    ``USING INDEX``, which only takes a brief lock.

    References: https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-PRIMARY-KEYS
    """
    for table in snap.user_tables():
        if table.is_partition or snap.constraints_of(table.qname, "p"):
            continue
        column = "id" if snap.column(table.qname, "id") is None else "row_id"
        sql = (f"ALTER TABLE {qident(table.qname)} ADD COLUMN {ident(column)} bigint "
               "GENERATED ALWAYS AS IDENTITY PRIMARY KEY;")
        fix = ChangePackage.of(
            f"Add an identity primary key to {table.qname}",
            [RawSQL(sql, f"ALTER TABLE {qident(table.qname)} DROP COLUMN {ident(column)};",
                    lock_=_access_exclusive(table.qname), rewrites_=True, table_bytes=table.heap_bytes)],
            "Adds a bigint identity column and makes it the primary key. Filling the column rewrites "
            "the table under an ACCESS EXCLUSIVE lock; on a large table prefer promoting an existing "
            "unique natural key through a concurrently built unique index.",
        )
        yield finding(table.qname, f"{table.qname} has no primary key", fix=fix,
                      row_estimate=int(table.row_estimate), size_bytes=table.total_bytes)


def _access_exclusive(target: str):
    from dbwright.changes.operations import Lock

    return Lock("ACCESS EXCLUSIVE", target)
