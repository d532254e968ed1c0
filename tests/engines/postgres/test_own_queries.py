"""dbwright's own statements carry a mark and stay out of the snapshot; unmarked ones from older runs
are marked own in the snapshot, so the workload checks can skip them offline."""

from __future__ import annotations

import dataclasses

from dbwright.engines.postgres import queries
from dbwright.engines.postgres.connect import OWN_MARK
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


def test_statements_dbwright_sends_carry_the_mark_and_stay_out_of_the_snapshot(pg):
    pg.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    pg.execute("SELECT pg_stat_statements_reset()")
    pg.execute("CREATE TABLE orders AS SELECT generate_series(1, 10) AS id")
    pg.execute("SELECT count(*) FROM orders")
    pg.snapshot()
    snap = pg.snapshot()  # the second one would see the first one's introspection queries
    marked = pg.value(f"SELECT count(*) FROM pg_stat_statements WHERE query LIKE '{OWN_MARK}%'")
    assert marked >= 10  # pg_stat_statements keeps the mark in the text
    assert not [s for s in snap.statements if s.query.startswith(OWN_MARK.strip())]
    application = [s for s in snap.statements if "FROM orders" in s.query]
    assert application and not any(s.own for s in application)


def test_unmarked_own_statements_from_older_runs_are_still_marked_own(pg):
    pg.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    pg.execute("CREATE TABLE t(a int)")
    pg.execute(queries.SERVER)  # as a dbwright without the mark sent it
    pg.execute("BEGIN; CREATE INDEX dbwright_whatif_1 ON t (a); ROLLBACK")
    snap = pg.snapshot()
    own = [s for s in snap.statements if s.own]
    assert any("dbwright_whatif_1" in s.query for s in own)
    assert any(is_own_query(s.query) and "version()" in s.query for s in own)
    assert own and not set(own) & set(snap.workload_statements())


def test_the_mark_survives_json_and_old_files_load_without_it(pg):
    pg.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    pg.execute(queries.SERVER)  # unmarked: recognised by its text
    snap = pg.snapshot()
    assert any(s.own for s in snap.statements)
    assert Snapshot.from_json(snap.to_json()).statements == snap.statements
    old = snap.to_dict()
    for statement in old["statements"]:
        del statement["own"]  # written before the field existed
    loaded = Snapshot.from_dict(old)
    assert [dataclasses.replace(s, own=False) for s in snap.statements] == list(loaded.statements)
