"""`dbwright lint FILE…`: lint migration SQL for unsafe locks, rewrites and scans."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dbwright import api
from dbwright.cli.common import MinSeverityOpt, OutputOpt, check_output_path, format_option, write_file
from dbwright.output import render


def register(app: typer.Typer) -> None:
    app.command("lint")(lint_command)


def lint_command(
    paths: Annotated[
        list[Path], typer.Argument(help="SQL files or directories of migrations ('-' reads stdin).")
    ],
    format: Annotated[str, format_option("lint")] = "text",
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a finding (not ignored) is at or above this severity: info, low, medium, "
            "high (the default), critical; none never fails on findings.",
        ),
    ] = "high",
    server_version: Annotated[
        str, typer.Option("--server-version", help="Target PostgreSQL version: 15, 12, 11 or 150004.")
    ] = "15",
    unapplied: Annotated[
        bool,
        typer.Option(
            "--unapplied", help="The files deploy together: tables created by an earlier file are still new."
        ),
    ] = False,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="The database the migration will run on (URL, name or snapshot .json): its column "
            "types, the tables behind indexes, free names, and the statistics a backfill is judged by.",
        ),
    ] = None,
    atomic: Annotated[
        bool,
        typer.Option(
            "--atomic",
            help="The runner wraps each file in one transaction (Django, Rails and Alembic migrations).",
        ),
    ] = False,
    output: OutputOpt = None,
    min_severity: MinSeverityOpt = None,
) -> None:
    """Lint migration SQL: every unsafe statement with the lock it takes and its safe rewrite."""
    threshold = None if fail_on.strip().lower() == "none" else api.parse_severity(fail_on)
    version = api.parse_server_version(server_version)
    listed_from = api.parse_severity(min_severity) if min_severity else None
    check_output_path(output)
    if [str(p) for p in paths] == ["-"]:
        report = api.lint_report(
            sys.stdin.read(),
            server_version=version,
            filename="<stdin>",
            unapplied=unapplied,
            database=database,
            atomic=atomic,
        )
    else:
        report = api.lint_report(
            paths, server_version=version, unapplied=unapplied, database=database, atomic=atomic
        )
    text = render(report.listing_at_or_above(listed_from), format)
    if output is None:
        sys.stdout.write(text)
    else:
        write_file(output, text)
    if threshold is not None and api.at_or_above(report.findings, threshold):
        raise typer.Exit(1)
