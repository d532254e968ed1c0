"""Index verification's statements: a failed build is undone and reported; the scratch copy comes and goes."""

from __future__ import annotations

import psycopg
import pytest

from dbwright.engines.postgres import index_verify
from dbwright.engines.postgres.connect import SessionOptions, open_session
from dbwright.errors import RefusedError, ServerError


def test_a_failed_concurrent_build_runs_its_undo_and_raises(pg):
    pg.execute("CREATE TABLE t(a int)")
    pg.execute("INSERT INTO t VALUES (1), (1)")
    with open_session(pg.url, SessionOptions(read_only=False)) as conn:
        with pytest.raises(ServerError, match="building t_a_key failed: could not create unique index"):
            index_verify.build_index(
                conn, "CREATE UNIQUE INDEX CONCURRENTLY t_a_key ON t (a)", "t_a_key", "DROP INDEX t_a_key"
            )
        assert conn.execute("SELECT to_regclass('public.t_a_key')").fetchone()[0] is None
        index_verify.build_index(conn, "CREATE INDEX t_a_idx ON t (a)", "t_a_idx")
        assert index_verify.relation_bytes(conn, "public.t_a_idx") > 0


def test_the_scratch_copy_is_made_from_the_target_and_dropped(pg):
    pg.execute("CREATE TABLE t(a int)")
    with pytest.raises(RefusedError, match=r"1 other session\(s\) are connected"):  # the fixture's own
        index_verify.create_scratch_copy(pg.url, pg.name)
    pg.conn.close()  # CREATE DATABASE … TEMPLATE needs the template to have no other sessions
    try:
        copy = index_verify.create_scratch_copy(pg.url, pg.name)
        try:
            assert index_verify.scratch_databases(pg.url) == [copy]
            with open_session(index_verify.with_dbname(pg.url, copy)) as conn:
                assert conn.execute("SELECT to_regclass('public.t')").fetchone()[0] == "t"
        finally:
            index_verify.drop_scratch_copy(pg.url, copy)
        assert index_verify.scratch_databases(pg.url) == []
    finally:
        pg.conn = psycopg.connect(pg.url, autocommit=True)
