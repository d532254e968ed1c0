"""The desired schema, loaded into a scratch database so both sides are read by the same snapshot code.

Comparing a live catalog with SQL text would need a second model of PostgreSQL; loading the
SQL into an empty database lets the server itself resolve defaults, names and definitions.
The file is read as psql reads it, with the lint's reader (``changes/lint/psql.py``):
``\\i``/``\\ir`` followed, pg_dump's ``\\restrict`` accepted, ``\\set`` variables substituted,
COPY data and other meta-commands skipped and reported.

The scratch database lives on ``scratch_server`` when one is given (``"embedded"``: the
PostgreSQL behind ``dbwright demo``), else on the target's own server when the target's role
may create databases, else on the embedded server; it is dropped afterwards, whatever happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dbwright.changes.lint.parse import parse_script
from dbwright.changes.lint.psql import resolve_include
from dbwright.engines.postgres.diff_catalog import diff_target
from dbwright.engines.postgres.scratch import (
    can_create_databases,
    load_statements,
    scratch_database,
    server_errors,
)
from dbwright.errors import InputFileError
from dbwright.model import Snapshot

EMBEDDED = "embedded"


@dataclass
class SchemaFile:
    """The statements of a schema file and its includes, as (sql, line, file), and what was left out."""

    statements: list[tuple[str, int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_schema_file(path: Path) -> SchemaFile:
    """Parse every statement first: a malformed file fails before anything is created."""
    schema = SchemaFile()
    _read(path, schema, ())
    return schema


#: pg_dump's own guard lines: nothing to do for a reader that runs no data.
_ACCEPTED = frozenset({"restrict", "unrestrict"})


def _read(path: Path, schema: SchemaFile, stack: tuple[Path, ...]) -> None:
    """One file's statements, its includes read in place (the lint's psql reader: changes/lint/psql.py)."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    filename = str(path)
    stack = (*stack, path.resolve())
    for statement in parse_script(text, filename):
        if statement.is_psql_command:
            command = statement.node
            where = f"{filename}:{statement.line}"
            if command.is_include:
                command = resolve_include(command, filename, stack)
                if command.problem is not None:
                    raise InputFileError(f"{where}: {command.text}: {command.problem} ({command.included})")
                _read(Path(command.included), schema, stack)
            elif command.name not in _ACCEPTED:
                schema.notes.append(f"psql meta-command skipped: {where}: {command.text}")
            continue
        if type(statement.node).__name__ == "CopyStmt" and getattr(statement.node, "is_from", False):
            continue  # its rows were data; a schema needs none
        schema.statements.append((statement.sql, statement.line, filename))


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


def scratch_server_for(target: str | None, scratch_server: str | None) -> tuple[str | None, list[str]]:
    """Where the scratch database goes, and a note when that is not the target's own server by choice."""
    if scratch_server == EMBEDDED:
        return embedded_server_url(), []
    if scratch_server:
        return scratch_server, []
    if can_create_databases(target):
        return target, []
    return embedded_server_url(), [
        "the target's role may not create databases: the desired schema was loaded on the embedded "
        "server instead (pass --scratch-server URL to choose another)"
    ]


def load_schema(target: str, schema: SchemaFile) -> None:
    """Run the schema file statement by statement; a statement the server rejects names its file:line."""
    schema.notes += load_statements(target, schema.statements, "the schema file")


@contextmanager
def loaded_scratch(schema: SchemaFile, server: str | None) -> Iterator[str]:
    """A scratch database on ``server`` with ``schema`` loaded (its conninfo); dropped on the way out."""
    with server_errors("scratch database"), scratch_database(server) as scratch:
        load_schema(scratch, schema)
        yield scratch


def desired_snapshot(schema_path: Path, *, target: str | None, scratch_server: str | None = None) -> Snapshot:
    """Load ``schema_path`` into a scratch database and snapshot it with the live side's code."""
    from dbwright.engines.registry import take_snapshot

    schema = read_schema_file(schema_path)
    server, _ = scratch_server_for(target, scratch_server)
    with loaded_scratch(schema, server) as scratch:
        return take_snapshot(diff_target(scratch))
