"""Replayed statements send every int as bigint, so pg_stat_statements sees one statement, not one per size."""

from __future__ import annotations

from dbwright.engines.postgres.replay import replay


def test_ints_are_sent_as_bigint_and_results_are_read(pg):
    pg.execute("CREATE TABLE seen (type text)")
    replay(pg.conn, "INSERT INTO seen SELECT pg_typeof(%s)::text", [(1,), (2**40,)])
    replay(pg.conn, "SELECT count(*) FROM seen", [(), ()])
    assert pg.execute("SELECT type FROM seen") == [("bigint",), ("bigint",)]
