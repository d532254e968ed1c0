"""The history table's rows round-trip through the engine, and the structure read sees a step's own work."""

from __future__ import annotations

from dbwright.engines.postgres import migration_history as stored
from dbwright.engines.postgres.schema_structure import structure

ROW = {
    "version": "20240101000000",
    "name": "first",
    "filename": "V20240101000000__first.sql",
    "kind": "migration",
    "checksum": "c",
    "chain": "h",
    "status": "partial",
    "steps_total": 2,
    "steps_done": 1,
    "step_running": None,
    "fingerprint": "f",
    "fingerprint_before": "f0",
    "schema_doc": {"table public.t": {"columns": [{"name": "id"}]}},
    "schema_doc_before": {},
    "duration_ms": 12,
}


def test_rows_are_written_updated_read_and_deleted(pg):
    assert stored.read_rows(pg.conn) == []  # no table yet: no history
    stored.ensure(pg.conn)
    stored.ensure(pg.conn)  # idempotent
    stored.insert_row(pg.conn, ROW)
    stored.update_row(pg.conn, ROW["version"], {"steps_done": 2, "status": "applied", "schema_doc": {}})
    (row,) = stored.read_rows(pg.conn)
    assert row["rank"] == 1 and row["applied_at"].endswith("Z")
    assert row["applied_by"] == pg.value("SELECT current_user")
    assert {k: row[k] for k in ROW} == {**ROW, "steps_done": 2, "status": "applied", "schema_doc": {}}
    stored.delete_row(pg.conn, ROW["version"])
    assert stored.read_rows(pg.conn) == []


def test_structure_reads_a_table_locked_by_its_own_transaction(pg):
    conn = pg.connect()
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")  # ACCESS EXCLUSIVE, not yet committed
    snap = structure(conn)
    assert [t.qname for t in snap.tables] == ["public.t"]
    assert [c.name for c in snap.columns_of("public.t")] == ["id", "note"]
    assert [i.name for i in snap.indexes] == ["t_pkey"]
    conn.rollback()
