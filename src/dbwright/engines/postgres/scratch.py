"""Scratch databases: an empty database on a server, for the block, dropped on the way out whatever happened.

The declarative diff loads the desired schema into one, so the server itself resolves
defaults, names and definitions; the partitioning advisor plans queries in one.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from psycopg import conninfo as _conninfo
from psycopg import sql as _sql

from dbwright.engines.base import Connection
from dbwright.engines.postgres.connect import SessionOptions, open_session, resolve_target
from dbwright.errors import InputFileError, PrivilegeError, ServerError

SCRATCH_PREFIX = "dbwright_scratch_"
#: Loading a schema creates objects only; nothing in it should run for long.
LOAD_OPTIONS = SessionOptions(
    read_only=False, statement_timeout="60s", lock_timeout="5s", application_name="dbwright-diff"
)


def scratch_name() -> str:
    return f"{SCRATCH_PREFIX}{secrets.token_hex(4)}"


def with_database(target: str | None, dbname: str) -> str:
    """The conninfo of ``target`` pointing at another database on the same server."""
    params = _conninfo.conninfo_to_dict(resolve_target(target))
    params["dbname"] = dbname
    return _conninfo.make_conninfo(**params)


@contextmanager
def scratch_database(server_target: str | None) -> Iterator[str]:
    """An empty database on ``server_target``'s server for the block (its conninfo); dropped on the way out."""
    name = scratch_name()
    with open_session(server_target, LOAD_OPTIONS) as admin:
        try:
            admin.execute(_sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(_sql.Identifier(name)))
        except psycopg.errors.InsufficientPrivilege:
            raise PrivilegeError(
                "the diff needs CREATEDB to load the desired schema into a scratch database "
                "(or pass --scratch-server URL of a server where it may)"
            ) from None
        try:
            yield with_database(server_target, name)
        finally:
            drop_database(admin, name)


def drop_database(admin: Connection, name: str) -> None:
    admin.execute(_sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_sql.Identifier(name)))


def load_statements(
    target: str, statements: Sequence[tuple[str, int] | tuple[str, int, str]], filename: str
) -> list[str]:
    """Run ``(sql, line)`` or ``(sql, line, file)`` statements one by one, so CONCURRENTLY and ADD VALUE
    work as in psql. A statement the server rejects is a one-line error naming the file and line.

    Two things psql lets pass are let pass here too, each with a note: a ``SET`` of a parameter this
    server does not know (a newer pg_dump writes ``SET transaction_timeout = 0``, PostgreSQL 17+), and
    a transaction left open at the end, which is rolled back as psql does.
    """
    notes: list[str] = []
    with open_session(target, LOAD_OPTIONS) as conn:
        for sql, line, *where in statements:
            try:
                conn.execute(sql)
            except psycopg.errors.UndefinedObject as error:
                if not (_UNKNOWN_SETTING.match(sql) and "configuration parameter" in str(error)):
                    raise InputFileError(
                        f"{where[0] if where else filename}:{line}: {_first(error)}"
                    ) from None
                notes.append(
                    f"{where[0] if where else filename}:{line}: {_first(error)}: skipped, as psql does"
                )
            except psycopg.Error as error:
                raise InputFileError(f"{where[0] if where else filename}:{line}: {_first(error)}") from None
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
            notes.append(
                f"{filename} ends inside a transaction (BEGIN without COMMIT): psql rolls it back at the "
                "end of the script, and so did the scratch load; what it held is not part of the schema"
            )
    return notes


_UNKNOWN_SETTING = re.compile(r"^\s*(SET\s|SELECT\s+pg_catalog\.set_config\()", re.IGNORECASE)


def _first(error: psycopg.Error) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def can_create_databases(target: str | None) -> bool:
    """Whether ``target``'s role may create a scratch database on its server (CREATEDB or superuser)."""
    with open_session(target) as conn:
        row = conn.execute(
            "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    return bool(row and row[0])


@contextmanager
def server_errors(what: str) -> Iterator[None]:
    """Any other driver error in the block as one ServerError line: ``what: ErrorClass: first line``."""
    try:
        yield
    except psycopg.Error as error:
        raise ServerError(f"{what}: {type(error).__name__}: {str(error).splitlines()[0]}") from None
