"""Apply a design proposal's packages on a copy, roll them back, and compare before and after."""

from __future__ import annotations

import psycopg

from dbwright.engines.registry import take_snapshot


def structure(url: str) -> dict[str, set]:
    """What must survive apply + rollback: tables, columns (not their position), constraints, indexes, views."""
    snap = take_snapshot(url)
    return {
        "tables": {(t.qname, t.kind) for t in snap.tables},
        "columns": {(c.table_qname, c.name, c.data_type, c.not_null, c.default) for c in snap.columns},
        "constraints": {(c.table_qname, c.name, c.type, c.definition, c.validated) for c in snap.constraints},
        "indexes": {(i.qname, i.definition) for i in snap.indexes},
        "views": {v.qname for v in snap.views},
    }


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    ]
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def run(conn: psycopg.Connection, operations) -> None:
    """Each operation the way the package's script runs it: in a transaction unless it cannot be."""
    for op in operations:
        if op.transactional:
            with conn.transaction():
                conn.execute(op.sql())
        else:
            conn.execute(op.sql())


def apply_and_roll_back(conn: psycopg.Connection, url: str, proposal) -> dict[str, set]:
    """Apply (then the destructive part), roll back in reverse; assert the copy is as before.

    Returns the structure seen while the packages were applied.
    """
    before, counts = structure(url), row_counts(conn)
    run(conn, proposal.package.operations)
    if proposal.destructive_package:
        run(conn, proposal.destructive_package.operations)
    applied = structure(url)
    assert applied != before, proposal.title
    if proposal.destructive_package:
        run(conn, proposal.destructive_package.rollback_operations())
    run(conn, proposal.package.rollback_operations())
    assert structure(url) == before, proposal.title
    assert row_counts(conn) == counts, proposal.title
    return applied
