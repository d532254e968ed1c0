"""dbwright's own schema (the migration history and backfill progress) is never reviewed or audited.

A real ``dbwright migrate apply`` and ``dbwright backfill`` create ``dbwright.schema_history`` and
``dbwright.backfill_progress``; the same planted problems are then put in the dbwright schema and
in ``public``: the review and the audit report the ones in ``public`` only.
"""

from __future__ import annotations

from dbwright import api


def _plant(pg, schema: str) -> None:
    pg.execute(f"CREATE TABLE {schema}.no_key(a int, b text)")  # DW101: no primary key
    pg.execute(f"CREATE TABLE {schema}.parent(id int PRIMARY KEY)")
    pg.execute(f"CREATE TABLE {schema}.child(id int PRIMARY KEY, parent_id int REFERENCES {schema}.parent)")
    pg.execute(f"GRANT ALL ON {schema}.no_key TO PUBLIC")


def _in_own_schema(name: str) -> bool:
    return name == "dbwright" or name.startswith(("dbwright.", '"dbwright".'))


def test_review_and_audit_leave_the_dbwright_schema_out(pg, tmp_path):
    (tmp_path / "V1__things.sql").write_text(
        "-- migrate:up\nCREATE TABLE things(id bigint PRIMARY KEY, n int);\n-- migrate:down\nDROP TABLE things;\n"
    )
    api.migrate_apply(pg.url, tmp_path)
    pg.execute("INSERT INTO things SELECT g, NULL FROM generate_series(1, 100) g")
    api.backfill(pg.url, "things", "n = id * 2")
    assert pg.value("SELECT to_regclass('dbwright.schema_history') IS NOT NULL") is True
    assert pg.value("SELECT to_regclass('dbwright.backfill_progress') IS NOT NULL") is True
    _plant(pg, "dbwright")
    _plant(pg, "public")

    snap = pg.snapshot()
    assert not [t.qname for t in snap.tables if _in_own_schema(t.qname)]
    review = pg.review()
    objects = [f.finding.object for f in review.found]
    assert "public.no_key" in objects and any(o.startswith("public.child") for o in objects)
    assert not [o for o in objects if _in_own_schema(o)], objects

    audit = api.audit(pg.url, access=False)
    audited = [f.finding.object for f in audit.findings]
    assert any("public.no_key" in o for o in audited), audited
    assert not [o for o in audited if _in_own_schema(o)], audited
