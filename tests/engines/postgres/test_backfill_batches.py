"""A backfill's statements on a real server: the primary key it walks, its progress row, one batch."""

from __future__ import annotations

import pytest

from dbwright.engines.postgres import backfill as engine
from dbwright.engines.postgres.failures import Failure, StatementFailed
from dbwright.errors import RefusedError


def test_the_table_is_resolved_with_its_primary_key_in_key_order(pg):
    pg.execute("CREATE TABLE t (b text, a int, n int, PRIMARY KEY (a, b))")
    table = engine.resolve_table(pg.conn, "t")
    assert (table.qualified, table.key) == ("public.t", (("a", "integer"), ("b", "text")))
    pg.execute("CREATE TABLE nokey (a int); CREATE VIEW v AS SELECT 1 AS a")
    with pytest.raises(RefusedError, match="has no primary key"):
        engine.resolve_table(pg.conn, "nokey")
    with pytest.raises(RefusedError, match="is not a table$"):
        engine.resolve_table(pg.conn, "v")
    with pytest.raises(RefusedError, match="does not exist"):
        engine.resolve_table(pg.conn, "missing")
    with pytest.raises(RefusedError, match="is not a table name"):
        engine.resolve_table(pg.conn, '"t')


def test_batches_walk_the_keys_and_record_their_progress(pg):
    pg.execute(
        "CREATE TABLE t (id int PRIMARY KEY, n int); INSERT INTO t SELECT g, 0 FROM generate_series(1, 5) g"
    )
    table = engine.resolve_table(pg.conn, "t")
    statements = engine.BatchStatements(table, "n = n + 1", "id <> 2")
    engine.ensure_progress_table(pg.conn)
    assert engine.progress_of(pg.conn, "job") is None
    engine.start_job(pg.conn, "job", table, "n = n + 1", "id <> 2")
    assert engine.count_keys(pg.conn, statements, None) == 5
    assert engine.run_batch(pg.conn, "job", statements, None, 3) == (("3",), 3, 2)
    assert engine.count_keys(pg.conn, statements, ("3",)) == 2
    assert engine.run_batch(pg.conn, "job", statements, ("3",), 3) == (("5",), 2, 2)
    assert engine.run_batch(pg.conn, "job", statements, ("5",), 3) is None
    engine.finish_job(pg.conn, "job")
    assert engine.progress_of(pg.conn, "job") == engine.Progress(("5",), 2, 5, 4, True)
    assert pg.execute("SELECT id FROM t WHERE n = 1 ORDER BY id") == [(1,), (3,), (4,), (5,)]


def test_a_failed_batch_is_rolled_back_whole(pg):
    pg.execute(
        "CREATE TABLE t (id int PRIMARY KEY, n int CHECK (n < 1)); INSERT INTO t VALUES (1, 0), (2, 0)"
    )
    table = engine.resolve_table(pg.conn, "t")
    engine.ensure_progress_table(pg.conn)
    engine.start_job(pg.conn, "job", table, "n = id - 1", None)
    with pytest.raises(StatementFailed) as raised:
        engine.run_batch(pg.conn, "job", engine.BatchStatements(table, "n = id - 1", None), None, 10)
    assert (raised.value.failure, raised.value.sqlstate) == (Failure.REFUSED, "23514")
    assert engine.progress_of(pg.conn, "job").batches == 0
    assert pg.execute("SELECT n FROM t ORDER BY id") == [(0,), (0,)]
