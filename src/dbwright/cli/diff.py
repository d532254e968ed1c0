"""`dbwright diff DATABASE --to schema.sql`: the migration from a live schema to a desired one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dbwright import api
from dbwright.cli.common import (
    DatabaseArg,
    DbOpt,
    TextOrJsonOpt,
    check_output_path,
    emit_json,
    one_database,
    write_file,
)


def register(app: typer.Typer) -> None:
    app.command("diff")(diff_command)


def diff_command(
    database: DatabaseArg = None,
    db: DbOpt = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATABASE",
            show_default=False,
            hidden=True,
            help="DATABASE, given as an option.",
        ),
    ] = None,
    desired: Annotated[Path, typer.Option("--to", help="The desired schema, as a SQL file.")] = Path(
        "schema.sql"
    ),
    allow_destructive: Annotated[
        bool,
        typer.Option(
            "--allow-destructive",
            help="Include drops of schemas, tables, columns, sequences, types and enum values, "
            "and narrowing type changes.",
        ),
    ] = False,
    rename_column: Annotated[
        list[str] | None,
        typer.Option("--rename-column", help="A column rename, e.g. shop.users.mail=email (repeatable)."),
    ] = None,
    rename_table: Annotated[
        list[str] | None,
        typer.Option("--rename-table", help="A table rename, e.g. shop.users=customers (repeatable)."),
    ] = None,
    scratch_server: Annotated[
        str | None,
        typer.Option(
            "--scratch-server",
            help="Where to load schema.sql: a server URL, or 'embedded' for dbwright's embedded "
            "PostgreSQL. Default: DATABASE's server, or the embedded one when DATABASE's role lacks CREATEDB.",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Fail (exit 25) when the schemas differ in something the diff cannot generate, "
            "instead of listing it as NOT HANDLED.",
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the migration file here (e.g. migrations/V2__diff.sql)."),
    ] = None,
    format: TextOrJsonOpt = "text",
) -> None:
    """Compare a live database with schema.sql and write the migration, up and down, safe rewrites applied."""
    check_output_path(output)
    plan = api.diff(
        one_database(one_database(database, db), source, "--from"),
        desired,
        allow_destructive=allow_destructive,
        rename_tables=rename_table or (),
        rename_columns=rename_column or (),
        scratch_server=scratch_server,
        strict=strict,
    )
    migration = plan.migration()
    if output is not None:
        write_file(output, migration)
    if format == "json":
        emit_json(plan.to_dict() | {"migration": migration})
        return
    sys.stdout.write(api.diff_summary(plan, output))
    if output is None and not plan.empty:
        sys.stdout.write("\n" + migration + "\n")
