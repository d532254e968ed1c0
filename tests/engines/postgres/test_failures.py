"""Why a writing statement failed, told by SQLSTATE on a real server: what the runner and backfill act on."""

from __future__ import annotations

import pytest

from dbwright.engines.postgres.failures import Failure, StatementFailed, failures
from dbwright.errors import MigrationFailedError


def _failure_of(conn, sql: str) -> StatementFailed:
    with pytest.raises(StatementFailed) as raised, failures(conn):
        conn.execute(sql)
    return raised.value


def test_lock_timeout_is_retryable_and_carries_its_sqlstate(pg):
    pg.execute("CREATE TABLE t (id int)")
    holder = pg.connect()
    holder.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
    conn = pg.connect(autocommit=True)
    conn.execute("SET lock_timeout = '50ms'")
    failed = _failure_of(conn, "SELECT * FROM t")
    assert (failed.failure, failed.sqlstate) == (Failure.LOCK_TIMEOUT, "55P03")
    assert failed.message == "canceling statement due to lock timeout"
    assert isinstance(failed, MigrationFailedError)


def test_statement_timeout_and_duplicate_object(pg):
    conn = pg.connect(autocommit=True)
    conn.execute("SET statement_timeout = '50ms'")
    assert _failure_of(conn, "SELECT pg_sleep(1)").failure is Failure.STATEMENT_TIMEOUT
    conn.execute("CREATE TYPE mood AS ENUM ('ok')")
    assert _failure_of(conn, "ALTER TYPE mood ADD VALUE 'ok'").failure is Failure.ALREADY_EXISTS


def test_a_terminated_session_is_a_lost_connection_not_a_refused_statement(pg):
    conn = pg.connect(autocommit=True)
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    pg.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert _failure_of(conn, "SELECT 1").failure is Failure.CONNECTION_LOST


def test_any_other_error_is_refused_with_the_servers_first_line(pg):
    failed = _failure_of(pg.conn, "SELECT * FROM missing")
    assert (failed.failure, failed.sqlstate) == (Failure.REFUSED, "42P01")
    assert failed.message == 'relation "missing" does not exist'
