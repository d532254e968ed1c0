"""The statements of ``advise indexes --verify``: a scratch copy of the database, and index builds.

The scratch copy is ``CREATE DATABASE … TEMPLATE target``, made and dropped from the
maintenance database; CREATE DATABASE needs no other session on the target. Driver errors
come out as dbwright errors (RefusedError, PrivilegeError, ServerError) with the server's
first line.
"""

from __future__ import annotations

import os
import secrets
import time

import psycopg
from psycopg import conninfo as _conninfo

from dbwright.engines.postgres.connect import SessionOptions, open_session
from dbwright.engines.postgres.query_errors import message_line
from dbwright.errors import PrivilegeError, RefusedError, ServerError
from dbwright.model.operations import ident, qident

SCRATCH_PREFIX = "dbwright_scratch_"
MAINTENANCE_DB = "postgres"


def build_index(conn: psycopg.Connection, sql: str, name: str, undo_sql: str | None = None) -> None:
    """Run one CREATE INDEX; if it fails, run ``undo_sql`` (a failed CONCURRENTLY build leaves an
    invalid index behind) and raise ServerError."""
    try:
        conn.execute(sql)
    except psycopg.Error as error:
        if undo_sql:
            conn.execute(undo_sql)
        raise ServerError(f"building {name} failed: {message_line(error)}") from None


def relation_bytes(conn: psycopg.Connection, qname: str) -> int:
    """The on-disk size of a table or index, by its schema-qualified name."""
    return int(conn.execute("SELECT pg_relation_size(%s::regclass)", (qident(qname),)).fetchone()[0])


# --- the scratch copy ------------------------------------------------------------------------------


def with_dbname(conninfo: str, dbname: str) -> str:
    params = _conninfo.conninfo_to_dict(conninfo)
    params["dbname"] = dbname
    return _conninfo.make_conninfo(**params)


def _admin(conninfo: str) -> psycopg.Connection:
    return open_session(
        with_dbname(conninfo, MAINTENANCE_DB), SessionOptions(read_only=False, statement_timeout="0")
    )


def _other_sessions(admin: psycopg.Connection, database: str) -> int:
    """Sessions on ``database``, after giving sessions that just closed (ours) a moment to end."""
    count = 0
    for _ in range(10):
        count = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchone()[0]
        if count == 0:
            break
        time.sleep(0.1)
    return count


def create_scratch_copy(conninfo: str, database: str) -> str:
    """Copy ``database`` to a new scratch database and return its name."""
    name = f"{SCRATCH_PREFIX}{os.getpid()}_{secrets.token_hex(3)}"
    with _admin(conninfo) as admin:
        others = _other_sessions(admin, database)
        if others:  # CREATE DATABASE itself would wait 5 s before failing
            raise RefusedError(
                f"cannot copy {database} to a scratch database: {others} other session(s) are "
                "connected to it and CREATE DATABASE … TEMPLATE needs none; close them, or verify "
                "on the target with --yes"
            )
        try:
            admin.execute(f"CREATE DATABASE {ident(name)} TEMPLATE {ident(database)}")
        except psycopg.errors.ObjectInUse:
            others = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
            ).fetchone()[0]
            raise RefusedError(
                f"cannot copy {database} to a scratch database: {others} other session(s) are "
                "connected to it and CREATE DATABASE … TEMPLATE needs none; close them, or verify "
                "on the target with --yes"
            ) from None
        except psycopg.errors.InsufficientPrivilege as error:
            raise PrivilegeError(
                f"cannot create a scratch database: {message_line(error)} (the role needs CREATEDB)"
            ) from None
        except psycopg.Error as error:
            raise ServerError(f"cannot create a scratch database: {message_line(error)}") from None
    return name


def drop_scratch_copy(conninfo: str, name: str) -> None:
    with _admin(conninfo) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {ident(name)} WITH (FORCE)")


def scratch_databases(conninfo: str) -> list[str]:
    """Scratch databases on the server (there should be none once verification is over)."""
    with _admin(conninfo) as admin:
        rows = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1",
            (SCRATCH_PREFIX.replace("_", "\\_") + "%",),
        ).fetchall()
    return [r[0] for r in rows]
