"""`dbwright diff --from DATABASE --to schema.sql`: the migration from a live schema to a desired one."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from dbwright.commands._common import check_format


def register(app: typer.Typer) -> None:
    app.command("diff")(diff_command)


def diff_command(
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="The live database: postgresql:// URL, conninfo or name. Default: DATABASE_URL, else PG*.",
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
            "PostgreSQL. Default: the --from server.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the migration file here (e.g. migrations/V2__diff.sql)."),
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="Summary format: text or json.")] = "text",
) -> None:
    """Compare a live database with schema.sql and write the migration, up and down, safe rewrites applied."""
    from dbwright.changes.diff import diff, parse_hint
    from dbwright.changes.diff.summary import text_summary

    check_format(format)
    renames = [parse_hint("table", h) for h in rename_table or []]
    renames += [parse_hint("column", h) for h in rename_column or []]
    plan = diff(
        source, desired, allow_destructive=allow_destructive, renames=renames, scratch_server=scratch_server
    )
    migration = plan.migration()
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(migration)
    if format == "json":
        data = plan.to_dict()
        data["migration"] = migration
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    sys.stdout.write(text_summary(plan, output))
    if output is None and not plan.empty:
        sys.stdout.write("\n" + migration + "\n")
