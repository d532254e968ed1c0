"""Driver errors leave the engine as the dbwright errors generic code catches, on a real server."""

from __future__ import annotations

import pytest

from dbwright.engines.postgres.query_errors import translate, translating
from dbwright.errors import QueryTimeoutError, ReadDeniedError, ServerError


def test_a_statement_past_statement_timeout_is_a_query_timeout(pg):
    conn = pg.connect(autocommit=True)
    conn.execute("SET statement_timeout = '50ms'")
    with (
        pytest.raises(QueryTimeoutError, match="^canceling statement due to statement timeout$"),
        translating(),
    ):
        conn.execute("SELECT pg_sleep(1)")


def test_permission_denied_is_read_denied_with_the_servers_line(pg):
    pg.role("qe_reader", "NOLOGIN")
    pg.execute("CREATE TABLE secret (id int)")
    conn = pg.connect(autocommit=True)
    conn.execute("SET ROLE qe_reader")
    with pytest.raises(ReadDeniedError, match="^permission denied for table secret$"), translating():
        conn.execute("SELECT * FROM secret")


def test_any_other_failure_is_a_server_error_named_after_the_drivers_class(pg):
    @translate
    def read_missing(conn):
        return conn.execute("SELECT * FROM missing").fetchall()

    with pytest.raises(ServerError, match='^UndefinedTable: relation "missing" does not exist$') as raised:
        read_missing(pg.conn)
    assert type(raised.value) is ServerError
    with pytest.raises(ServerError, match='^relation "missing" does not exist$'), translating(named=False):
        pg.conn.execute("SELECT * FROM missing")
