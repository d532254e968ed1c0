"""Running migration steps on PostgreSQL: the writable session, statements, and why one failed.

The runner (:mod:`dbwright.changes.migrations.runner`) decides what runs, in which order,
and how it is recorded and retried; this module is where its statements meet the server.
A failed statement leaves here as a :class:`~dbwright.engines.postgres.failures.StatementFailed`
naming the statement's place in its file.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from dbwright.engines.base import Connection
from dbwright.engines.postgres.connect import SessionOptions, open_session
from dbwright.engines.postgres.failures import statement_failed


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
        # A plain cursor: the user's statement is sent as written, without dbwright's OWN_MARK.
        with psycopg.Cursor(conn) as cursor:
            cursor.execute(statement.encode(), prepare=False)
    except psycopg.Error as error:
        raise statement_failed(error, conn, where) from None


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
