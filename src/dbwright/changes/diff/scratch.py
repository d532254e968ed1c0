"""The desired schema, loaded into a scratch database so both sides are read by the same snapshot code.

Comparing a live catalog with SQL text would need a second model of PostgreSQL; loading the
SQL into an empty database lets the server itself resolve defaults, names and definitions.
The scratch database lives on the target's own server (``CREATE DATABASE dbwright_scratch_…``),
or on any server given as ``scratch_server`` (the embedded one of ``dbwright demo`` with
``"embedded"``), and it is dropped afterwards, whatever happened.
"""

from __future__ import annotations

from pathlib import Path

from dbwright.changes.lint.parse import ParsedStatement, parse_statements
from dbwright.engines.postgres.scratch import load_statements, scratch_database, server_errors
from dbwright.errors import InputFileError
from dbwright.model import Snapshot

EMBEDDED = "embedded"


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


def load_schema(target: str, statements: list[ParsedStatement], filename: str) -> None:
    """Run the schema file statement by statement; a statement the server rejects names its file:line."""
    load_statements(target, [(statement.sql, statement.line) for statement in statements], filename)


def desired_snapshot(schema_path: Path, *, target: str | None, scratch_server: str | None = None) -> Snapshot:
    """Load ``schema_path`` into a scratch database and snapshot it with the live side's code."""
    from dbwright.engines.registry import take_snapshot

    try:
        sql = schema_path.read_text()
    except OSError as error:
        raise InputFileError(f"cannot read {schema_path}: {error.strerror or error}") from None
    # Parsed first: a malformed file fails before anything is created (SqlParseError with file:line).
    statements = parse_statements(sql, str(schema_path))
    server = embedded_server_url() if scratch_server == EMBEDDED else (scratch_server or target)
    with server_errors("scratch database"), scratch_database(server) as scratch:
        load_schema(scratch, statements, str(schema_path))
        return take_snapshot(scratch)
