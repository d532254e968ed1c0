"""dbwright's own catalog queries are marked in the snapshot, so the workload checks can skip them offline."""

from __future__ import annotations

import dataclasses

from dbwright.engines.postgres import queries
from dbwright.engines.postgres.own_queries import canonical, is_own_query
from dbwright.model import Snapshot


def test_canonical_form_hides_constants_and_spacing():
    assert canonical("SELECT  a,\n b FROM t WHERE x = 'it''s' AND y = 42 AND z IS NULL AND w = $3") == (
        "SELECT a, b FROM t WHERE x = ? AND y = ? AND z IS ? AND w = ?"
    )
    assert canonical("SELECT t2.c1 FROM t2") == "SELECT t2.c1 FROM t2"  # digits inside names stay


def test_introspection_queries_are_recognised_as_pg_stat_statements_records_them():
    assert is_own_query(queries.SERVER)
    assert is_own_query(queries.CAN_READ_FILES.replace("'pg_read_server_files'", "$1"))
    recorded = queries.STATEMENTS.format(schema="monitoring").replace("500", "$1")
    assert is_own_query(recorded)


def test_application_queries_are_not_own():
    assert not is_own_query("SELECT * FROM orders WHERE id = $1")
    assert not is_own_query("SELECT pg_sleep($1)")
    assert not is_own_query("UPDATE pg_settings SET setting = $1")


def test_snapshot_marks_own_statements_only(pg):
    pg.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    pg.execute("SELECT pg_stat_statements_reset()")
    pg.execute("CREATE TABLE orders AS SELECT generate_series(1, 10) AS id")
    pg.execute("SELECT count(*) FROM orders")
    pg.snapshot()
    snap = pg.snapshot()  # the second one sees the first one's introspection queries
    own = [s for s in snap.statements if s.own]
    assert len(own) >= 10
    assert all(is_own_query(s.query) for s in own)
    application = [s for s in snap.statements if "FROM orders" in s.query]
    assert application and not any(s.own for s in application)


def test_the_mark_survives_json_and_old_files_load_without_it(pg):
    pg.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    pg.snapshot()
    snap = pg.snapshot()
    assert any(s.own for s in snap.statements)
    assert Snapshot.from_json(snap.to_json()).statements == snap.statements
    old = snap.to_dict()
    for statement in old["statements"]:
        del statement["own"]  # written before the field existed
    loaded = Snapshot.from_dict(old)
    assert [dataclasses.replace(s, own=False) for s in snap.statements] == list(loaded.statements)
