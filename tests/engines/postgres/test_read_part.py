"""A write's read part: what EXPLAIN may plan without locking more than ACCESS SHARE (real PostgreSQL)."""

from __future__ import annotations

import pytest

from dbwright.engines.postgres.connect import open_session
from dbwright.engines.postgres.read_part import read_part


@pytest.mark.parametrize(
    ("sql", "expected", "numbers"),
    [
        (
            "UPDATE shop.orders o SET status = $1 FROM x WHERE o.customer_id = $2 AND x.id = o.id RETURNING $3",
            "SELECT o.ctid FROM shop.orders AS o, x WHERE o.customer_id = $1 AND x.id = o.id",
            {2: 1},
        ),
        (
            "DELETE FROM t USING u WHERE t.a = $1 AND u.b = t.a",
            "SELECT t.ctid FROM t, u WHERE t.a = $1 AND u.b = t.a",
            {1: 1},
        ),
        ("INSERT INTO a SELECT * FROM b WHERE c = $1", "SELECT * FROM b WHERE c = $1", {1: 1}),
        (
            "SELECT * FROM t WHERE id IN (SELECT x FROM y FOR SHARE) FOR UPDATE",
            "SELECT * FROM t WHERE id IN (SELECT x FROM y)",
            {},
        ),
    ],
)
def test_writes_become_the_query_that_finds_their_rows(sql, expected, numbers):
    part = read_part(sql)
    assert part is not None and part.rewritten
    assert (part.sql, part.numbers) == (expected, numbers)


def test_reads_are_planned_as_given_and_writes_with_nothing_to_read_have_no_read_part():
    assert read_part("SELECT * FROM t WHERE a = $1").rewritten is False
    for sql in (
        "INSERT INTO a VALUES ($1)",
        "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
        "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
    ):
        assert read_part(sql) is None, sql


def test_the_read_part_locks_only_access_share_where_the_write_locks_row_exclusive(pg):
    pg.execute("CREATE TABLE t(id int PRIMARY KEY, a int)")
    update = "UPDATE t SET a = 1 WHERE id = 1"
    with open_session(pg.url) as conn:
        held = "SELECT DISTINCT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 't'::regclass"
        for sql, mode in ((update, "RowExclusiveLock"), (read_part(update).sql, "AccessShareLock")):
            conn.execute("BEGIN")
            conn.execute(f"EXPLAIN {sql}")
            assert [row[0] for row in conn.execute(held)] == [mode]
            conn.execute("ROLLBACK")
