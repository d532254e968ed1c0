"""The desired schema, loaded into a scratch database so both sides are read by the same snapshot code.

Comparing a live catalog with SQL text would need a second model of PostgreSQL; loading the
SQL into an empty database lets the server itself resolve defaults, names and definitions.
The scratch database lives on the target's own server (``CREATE DATABASE dbwright_scratch_…``),
or on any server given as ``scratch_server`` (the embedded one of ``dbwright demo`` with
``"embedded"``), and it is dropped afterwards, whatever happened.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import conninfo as _conninfo
from psycopg import sql as _sql

from dbwright.changes.lint.parse import ParsedStatement, parse_statements
from dbwright.engines.postgres.connect import SessionOptions, open_session, resolve_target
from dbwright.errors import InputFileError, PrivilegeError, ServerError
from dbwright.model import Snapshot

SCRATCH_PREFIX = "dbwright_scratch_"
EMBEDDED = "embedded"
#: Loading the schema creates objects only; nothing in it should run for long.
LOAD_OPTIONS = SessionOptions(
    read_only=False, statement_timeout="60s", lock_timeout="5s", application_name="dbwright-diff"
)


def scratch_name() -> str:
    return f"{SCRATCH_PREFIX}{secrets.token_hex(4)}"


def embedded_server_url() -> str:
    """The admin URL of the embedded server behind ``dbwright demo`` (started if needed)."""
    from dbwright.demo import data_dir, server
    from dbwright.errors import EmbeddedServerError

    try:
        server.start(data_dir())
        return server.url(data_dir(), "postgres")
    except Exception as error:  # the wheel raises its own and OS errors
        raise EmbeddedServerError(
            f"could not start the embedded server: {str(error).splitlines()[0]}"
        ) from None


def with_database(target: str | None, dbname: str) -> str:
    """The conninfo of ``target`` pointing at another database on the same server."""
    params = _conninfo.conninfo_to_dict(resolve_target(target))
    params["dbname"] = dbname
    return _conninfo.make_conninfo(**params)


@contextmanager
def scratch_database(server_target: str | None) -> Iterator[str]:
    """An empty database on ``server_target``'s server for the block; dropped on the way out."""
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


def drop_database(admin: psycopg.Connection, name: str) -> None:
    admin.execute(_sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_sql.Identifier(name)))


def load_schema(target: str, statements: list[ParsedStatement], filename: str) -> None:
    """Run the schema file statement by statement, so CONCURRENTLY and ADD VALUE work as in psql.

    A statement the server rejects is a one-line error naming the file and line.
    """
    with open_session(target, LOAD_OPTIONS) as conn:
        for statement in statements:
            try:
                conn.execute(statement.sql)
            except psycopg.Error as error:
                message = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise InputFileError(f"{filename}:{statement.line}: {message}") from None


def desired_snapshot(schema_path: Path, *, target: str | None, scratch_server: str | None = None) -> Snapshot:
    """Load ``schema_path`` into a scratch database and snapshot it with the live side's code."""
    from dbwright.review import take_snapshot

    try:
        sql = schema_path.read_text()
    except OSError as error:
        raise InputFileError(f"cannot read {schema_path}: {error.strerror or error}") from None
    # Parsed first: a malformed file fails before anything is created (SqlParseError with file:line).
    statements = parse_statements(sql, str(schema_path))
    server = embedded_server_url() if scratch_server == EMBEDDED else (scratch_server or target)
    try:
        with scratch_database(server) as scratch:
            load_schema(scratch, statements, str(schema_path))
            return take_snapshot(scratch)
    except psycopg.Error as error:
        raise ServerError(f"scratch database: {type(error).__name__}: {str(error).splitlines()[0]}") from None
