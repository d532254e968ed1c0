"""`dbwright lint FILE…`: lint migration SQL for unsafe locks, rewrites and scans."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dbwright.commands._common import check_format
from dbwright.output import formats_for


def register(app: typer.Typer) -> None:
    app.command("lint")(lint_command)


def lint_command(
    paths: Annotated[
        list[Path], typer.Argument(help="SQL files or directories of migrations ('-' reads stdin).")
    ],
    format: Annotated[
        str, typer.Option("--format", "-f", help=f"Output format: {', '.join(formats_for('lint'))}.")
    ] = "text",
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a finding (not ignored) is at or above this severity: info, low, medium, "
            "high, critical.",
        ),
    ] = None,
    server_version: Annotated[
        str, typer.Option("--server-version", help="Target PostgreSQL version: 15, 12, 11 or 150004.")
    ] = "15",
    unapplied: Annotated[
        bool,
        typer.Option(
            "--unapplied", help="The files deploy together: tables created by an earlier file are still new."
        ),
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
) -> None:
    """Lint migration SQL: every unsafe statement with the lock it takes and its safe rewrite."""
    from dbwright.changes.lint import LintReport, LintState, lint, lint_files, migration_files
    from dbwright.model.findings import Severity
    from dbwright.output import render

    check_format(format, formats_for("lint"))
    try:
        threshold = Severity.parse(fail_on) if fail_on else None
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--fail-on") from None
    version = parse_server_version(server_version)
    state = LintState(server_version=version, earlier_files_unapplied=unapplied)
    if [str(p) for p in paths] == ["-"]:
        files = ["<stdin>"]
        findings = lint(sys.stdin.read(), server_version=version, filename="<stdin>", state=state)
    else:
        files = [str(p) for p in migration_files(paths)]
        findings = lint_files(paths, server_version=version, state=state)
    text = render(LintReport(tuple(findings), tuple(files)), format)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
    if threshold is not None and any(f.severity >= threshold and not f.ignored for f in findings):
        raise typer.Exit(1)


def parse_server_version(text: str) -> int:
    """'15' -> 150000, '9.6' -> 90600, '150004' as is."""
    raw = text.strip()
    try:
        if "." in raw:
            major, minor = raw.split(".", 1)
            return (
                int(major) * 10000 + int(minor) * 100 if int(major) < 10 else int(major) * 10000 + int(minor)
            )
        number = int(raw)
    except ValueError:
        raise typer.BadParameter(
            f"cannot read server version {text!r}; use e.g. 15 or 150004", param_hint="--server-version"
        ) from None
    return number * 10000 if number < 100 else number
