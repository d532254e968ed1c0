"""`dbwright checks`, `exit-codes` and `version`: what dbwright knows about itself."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from dbwright import __version__, api
from dbwright.cli.common import format_option, make_console
from dbwright.errors import EXIT_CODES


def register(app: typer.Typer) -> None:
    app.command("checks")(list_checks)
    app.command("exit-codes")(exit_codes)
    app.command("version")(version)


def list_checks(
    # a list of checks, not findings: no SARIF, no report
    format: Annotated[str, format_option(("text", "json"), help="Output format: text or json.")] = "text",
) -> None:
    """List every check: code, area, severity and title."""
    rows = [
        {
            "code": check.code,
            "category": check.category,
            "severity": check.severity.label,
            "title": check.title,
            "requires": list(check.requires),
        }
        for check in api.checks()
    ]
    if format == "json":
        print(json.dumps(rows, indent=2))
        return
    table = Table("code", "area", "severity", "title")
    for row in rows:
        table.add_row(row["code"], row["category"], row["severity"], row["title"])
    make_console().print(table)


def exit_codes() -> None:
    """Print the exit codes dbwright uses."""
    for code, meaning in sorted(EXIT_CODES.items()):
        print(f"{code:>3}  {meaning}")


def version() -> None:
    """Print dbwright's version."""
    print(f"dbwright {__version__}")
