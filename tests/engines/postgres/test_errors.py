"""Connection and query failures on a real server, told apart by SQLSTATE and driver facts.

psycopg gives no SQLSTATE for a failed connect (see engines/postgres/errors.py): the engine reads
the server's code through libpq's verbose error mode (test_refusal_codes.py). These tests check
that each failure becomes its own one-line error and exit code, and that the English fallback
patterns (used only without ctypes access to libpq) name the code the backend documents.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from dbwright.engines.postgres.engine import PostgresEngine
from dbwright.engines.postgres.errors import classify_error, sqlstate_of
from dbwright.errors import (
    AuthenticationError,
    BadTargetError,
    ConnectionLostError,
    DatabaseMissingError,
    LockTimeoutError,
    PrivilegeError,
    QueryTimeoutError,
    ServerError,
    UnreachableError,
)
from tests.pgcluster import APP_PASSWORD, free_port

ENGINE = PostgresEngine()


def tcp_url(pg, user: str, password: str | None = None, dbname: str | None = None) -> str:
    return pg.cluster.url(dbname or pg.name, user=user, password=password, tcp=True)


def driver_error(conninfo: str) -> psycopg.Error:
    """What psycopg itself raises for ``conninfo``, before dbwright looks at it."""
    with pytest.raises(psycopg.Error) as raised:
        psycopg.connect(conninfo, connect_timeout=5).close()
    return raised.value


def connect_failure(conninfo: str) -> Exception:
    with pytest.raises(Exception) as raised:
        ENGINE.connect(conninfo).close()
    return raised.value


@contextmanager
def hba_rule_first(pg, rule: str) -> Iterator[None]:
    """``rule`` ahead of every other pg_hba.conf line, for one test; the file is restored after."""
    path = pg.cluster.hba_path
    original = path.read_text()
    try:
        path.write_text(f"{rule}\n{original}")
        pg.execute("SELECT pg_reload_conf()")
        time.sleep(0.2)
        yield
    finally:
        path.write_text(original)
        pg.execute("SELECT pg_reload_conf()")
        time.sleep(0.2)


# --- connection failures ----------------------------------------------------------------------


def test_psycopg_gives_no_sqlstate_for_a_failed_connect(pg):
    # Why errors.py infers the code: if psycopg ever carries it, sqlstate_of reads it directly.
    error = driver_error(pg.cluster.url("no_such_database"))
    assert isinstance(error, psycopg.OperationalError)
    assert error.sqlstate is None and error.diag.sqlstate is None
    assert sqlstate_of(error) == "3D000"


def test_wrong_password(pg):
    pg.role("app_user", f"LOGIN PASSWORD '{APP_PASSWORD}'")
    url = tcp_url(pg, "app_user", "wrong-password")
    assert sqlstate_of(driver_error(url)) == "28P01"
    failure = connect_failure(url)
    assert isinstance(failure, AuthenticationError) and failure.exit_code == 12
    assert failure.message.startswith(f"authentication failed for {pg.name} on 127.0.0.1:{pg.cluster.port}: ")
    assert 'password authentication failed for user "app_user"' in failure.message
    assert "wrong-password" not in failure.message


def test_no_password_supplied(pg):
    pg.role("app_user", f"LOGIN PASSWORD '{APP_PASSWORD}'")
    url = tcp_url(pg, "app_user")
    error = driver_error(url)
    assert error.pgconn.needs_password  # libpq's own fact: the server asked, nobody answered
    failure = connect_failure(url)
    assert isinstance(failure, AuthenticationError)
    assert failure.message.endswith("no password supplied")


def test_unknown_role(pg):
    url = pg.cluster.url(pg.name, user="nobody_here")  # the socket trusts: the role check speaks
    assert sqlstate_of(driver_error(url)) == "28000"
    failure = connect_failure(url)
    assert isinstance(failure, AuthenticationError)
    assert 'role "nobody_here" does not exist' in failure.message


def test_pg_hba_rejects(pg):
    pg.role("turned_away", f"LOGIN PASSWORD '{APP_PASSWORD}'")
    url = tcp_url(pg, "turned_away", APP_PASSWORD)
    with hba_rule_first(pg, "host all turned_away 127.0.0.1/32 reject"):
        assert sqlstate_of(driver_error(url)) == "28000"
        failure = connect_failure(url)
    assert isinstance(failure, AuthenticationError) and failure.exit_code == 12
    assert "pg_hba.conf rejects connection" in failure.message


def test_missing_database(cluster):
    failure = connect_failure(cluster.url("no_such_database"))
    assert isinstance(failure, DatabaseMissingError) and failure.exit_code == 13
    assert (
        failure.message == f"database does not exist: no_such_database on {cluster.socket_dir}:{cluster.port}"
    )


def test_role_not_permitted_to_log_in(pg):
    pg.role("group_only", "NOLOGIN")
    url = pg.cluster.url(pg.name, user="group_only")
    assert sqlstate_of(driver_error(url)) == "28000"
    failure = connect_failure(url)
    assert isinstance(failure, PrivilegeError) and failure.exit_code == 15
    assert failure.message.startswith(f"not allowed to connect to {pg.name} on ")
    assert 'role "group_only" is not permitted to log in' in failure.message


def test_connect_privilege_revoked(pg):
    pg.role("outsider")
    pg.execute(f'REVOKE CONNECT ON DATABASE "{pg.name}" FROM PUBLIC')
    url = pg.cluster.url(pg.name, user="outsider")
    assert sqlstate_of(driver_error(url)) == "42501"
    failure = connect_failure(url)
    assert isinstance(failure, PrivilegeError) and failure.exit_code == 15
    assert f'permission denied for database "{pg.name}"' in failure.message


def test_nothing_listens_on_the_port():
    url = f"postgresql://someone@127.0.0.1:{free_port()}/db"
    assert sqlstate_of(driver_error(url)) is None
    failure = connect_failure(url)
    assert isinstance(failure, UnreachableError) and failure.exit_code == 11
    assert failure.message.startswith("cannot reach the server for db on 127.0.0.1:")
    assert "Connection refused" in failure.message


def test_no_socket_there():
    failure = connect_failure("host=/nonexistent/dir port=5999 dbname=db")
    assert isinstance(failure, UnreachableError)
    assert "No such file or directory" in failure.message


def test_host_name_that_does_not_resolve():
    error = driver_error("postgresql://someone@no-such-host.invalid/db")
    assert error.pgconn is None  # psycopg resolves names itself, before libpq starts
    failure = connect_failure("postgresql://someone@no-such-host.invalid/db")
    assert isinstance(failure, UnreachableError)
    assert "no-such-host.invalid" in failure.message


@pytest.mark.parametrize(
    ("conninfo", "phrase"),
    [
        ("host=localhost bogus=1", 'invalid connection option "bogus"'),
        ("postgresql://[::1/db", "IPv6 host address"),
        ("postgresql://someone@localhost:notaport/db", "invalid port"),
        ("host=/nonexistent/dir sslmode=maybe", 'invalid sslmode value: "maybe"'),
    ],
)
def test_malformed_targets(conninfo, phrase):
    failure = connect_failure(conninfo)
    assert isinstance(failure, BadTargetError) and failure.exit_code == 10
    assert failure.message.startswith("malformed connection target: ")
    assert phrase in failure.message


# --- query-time failures ----------------------------------------------------------------------


def test_statement_timeout(pg):
    with ENGINE.connect(pg.url) as conn:
        conn.execute("SET statement_timeout = '50ms'")
        with pytest.raises(ENGINE.driver_error) as raised:
            conn.execute("SELECT pg_sleep(2)")
    assert raised.value.sqlstate == "57014"
    error = ENGINE.classify_error(raised.value, "reading t")
    assert isinstance(error, QueryTimeoutError) and error.exit_code == 20
    assert (
        error.message
        == "reading t: the statement was cancelled or timed out: canceling statement due to statement timeout"
    )


def test_lock_timeout(pg):
    pg.execute("CREATE TABLE busy (id int)")
    holder = pg.connect()
    holder.execute("BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
    with ENGINE.connect(pg.url) as conn:
        conn.execute("SET lock_timeout = '50ms'")
        with pytest.raises(ENGINE.driver_error) as raised:
            conn.execute("SELECT count(*) FROM busy")
    holder.rollback()
    assert raised.value.sqlstate == "55P03"
    error = ENGINE.classify_error(raised.value, "counting busy")
    assert isinstance(error, LockTimeoutError)
    assert error.message.startswith(
        "counting busy: waited too long for a lock: canceling statement due to lock timeout"
    )


def test_insufficient_privilege(pg):
    pg.execute("CREATE TABLE secrets (id int)")
    pg.role("snoop")
    with (
        ENGINE.connect(pg.cluster.url(pg.name, user="snoop")) as conn,
        pytest.raises(ENGINE.driver_error) as raised,
    ):
        conn.execute("SELECT * FROM secrets")
    assert raised.value.sqlstate == "42501"
    error = ENGINE.classify_error(raised.value, "sampling secrets")
    assert isinstance(error, PrivilegeError) and error.exit_code == 15
    assert error.message == "sampling secrets: permission denied for table secrets"


def test_connection_lost(pg):
    conn = ENGINE.connect(pg.url)
    pid = conn.info.backend_pid
    pg.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(ENGINE.driver_error) as raised:
        conn.execute("SELECT 1")
    assert raised.value.sqlstate == "57P01"
    terminated = ENGINE.classify_error(raised.value, "reading the catalog")
    assert isinstance(terminated, ConnectionLostError) and terminated.exit_code == 20
    assert terminated.message.startswith(
        "reading the catalog: lost the connection to the server: terminating"
    )
    with pytest.raises(ENGINE.driver_error) as raised:
        conn.execute("SELECT 1")  # the session is gone now: psycopg says so without a code
    assert raised.value.sqlstate is None
    assert isinstance(ENGINE.classify_error(raised.value, "reading"), ConnectionLostError)
    conn.close()


def test_any_other_server_error_keeps_its_class_name(pg):
    with ENGINE.connect(pg.url) as conn, pytest.raises(ENGINE.driver_error) as raised:
        conn.execute("SELECT 1/0")
    error = classify_error(raised.value, "computing")
    assert type(error) is ServerError
    assert error.message == "computing: DivisionByZero: division by zero"
