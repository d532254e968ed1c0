"""Running migration steps on PostgreSQL: the writable session, statements, and why one failed.

The runner (:mod:`dbwright.changes.migrations.runner`) decides what runs, in which order,
and how it is recorded and retried; this module is where its statements meet the server.
A driver error leaves here as a :class:`StatementFailed`, classified by SQLSTATE, so the
runner can retry a lock timeout or resume after a lost connection without knowing psycopg.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum

import psycopg
from psycopg import sql

from dbwright.engines.base import Connection
from dbwright.engines.postgres.connect import SessionOptions, open_session
from dbwright.errors import MigrationFailedError
from dbwright.redact import redact


class Failure(Enum):
    """Why a statement failed, as far as the runner's choices go."""

    LOCK_TIMEOUT = "lock timeout"  # lock_timeout reached: retry later
    STATEMENT_TIMEOUT = "statement timeout"  # statement_timeout reached (or the statement was cancelled)
    ALREADY_EXISTS = "already exists"  # the object was there already (an enum value added by a killed run)
    CONNECTION_LOST = "connection lost"  # the session is gone: what committed is in the history
    REFUSED = "refused"  # any other error the server reported


_BY_SQLSTATE = {
    "55P03": Failure.LOCK_TIMEOUT,  # lock_not_available
    "57014": Failure.STATEMENT_TIMEOUT,  # query_canceled
    "42710": Failure.ALREADY_EXISTS,  # duplicate_object
}


class StatementFailed(MigrationFailedError):
    """A statement (or a history read or write) the server failed; the message is its first line."""

    def __init__(self, message: str, failure: Failure, sqlstate: str | None, where: str | None) -> None:
        super().__init__(message)
        self.failure = failure
        self.sqlstate = sqlstate
        self.where = where


def _failed(error: psycopg.Error, conn: Connection | None, where: str | None = None) -> StatementFailed:
    lines = str(error).strip().splitlines()
    message = redact(lines[0] if lines else type(error).__name__)
    failure = _BY_SQLSTATE.get(error.sqlstate or "", Failure.REFUSED)
    if failure is Failure.REFUSED and conn is not None and conn.closed:
        failure = Failure.CONNECTION_LOST
    return StatementFailed(message, failure, error.sqlstate, where)


@contextmanager
def failures(conn: Connection | None = None) -> Iterator[None]:
    """Driver errors raised in the block leave it as :class:`StatementFailed`; given ``conn``, a lost
    session is told apart from a statement the server refused."""
    try:
        yield
    except psycopg.Error as error:
        raise _failed(error, conn) from None


def migration_session(target: str | None, *, statement_timeout: str, lock_timeout: str) -> Connection:
    """The explicit apply path: a writable session, with both timeouts set."""
    conn = open_session(
        target,
        SessionOptions(
            read_only=False,
            statement_timeout=statement_timeout,
            lock_timeout=lock_timeout,
            application_name="dbwright migrate",
        ),
    )
    if conn.info.server_version >= 140000:
        # If this process dies mid-statement, the server notices within 250 ms and rolls back,
        # instead of finishing a long statement for nobody while holding the deploy lock.
        conn.execute("SET client_connection_check_interval = '250ms'")
    return conn


def server_version(conn: Connection) -> int:
    """The server's version number (150004 for 15.4): which statements may run in a transaction."""
    return conn.info.server_version


def search_path(conn: Connection) -> list[str]:
    """The schemas an unqualified name in a migration resolves to, in order."""
    return list(conn.execute("SELECT current_schemas(false)").fetchone()[0])


def set_timeouts(conn: Connection, *, lock_timeout: str, statement_timeout: str, local: bool) -> None:
    """Both timeouts, for the current transaction only (``local``) or for the session."""
    conn.execute(
        "SELECT set_config('lock_timeout', %s, %s), set_config('statement_timeout', %s, %s)",
        (lock_timeout, local, statement_timeout, local),
    )


def execute(conn: Connection, statement: str, where: str) -> None:
    """Run one statement of a migration file as written; a failure names ``where`` (file:line)."""
    try:
        conn.execute(statement.encode(), prepare=False)
    except psycopg.Error as error:
        raise _failed(error, conn, where) from None


def index_state(conn: Connection, schema: str | None, table: str, index: str) -> tuple[str, bool] | None:
    """(qualified name, valid) of index ``index`` in ``table``'s schema, if it exists."""
    table_name = sql.Identifier(*(p for p in (schema, table) if p)).as_string(conn)
    row = conn.execute(
        "SELECT format('%%I.%%I', n.nspname, ic.relname), i.indisvalid FROM pg_class t"
        " JOIN pg_namespace n ON n.oid = t.relnamespace"
        " JOIN pg_class ic ON ic.relnamespace = n.oid AND ic.relname = %s AND ic.relkind IN ('i', 'I')"
        " JOIN pg_index i ON i.indexrelid = ic.oid"
        " WHERE t.oid = to_regclass(%s)",
        (index, table_name),
    ).fetchone()
    return (row[0], row[1]) if row else None


def drop_index_concurrently(conn: Connection, qualified_name: str) -> None:
    """Drop an index left INVALID by an interrupted CONCURRENTLY build; ``qualified_name`` is quoted already."""
    conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.SQL(qualified_name)))


def relation_exists(conn: Connection, name: str) -> bool:
    """Does the relation called ``name`` (as written in SQL, optionally qualified) exist?"""
    return conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0] is not None
