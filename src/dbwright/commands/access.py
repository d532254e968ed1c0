"""`dbwright access ROLE`: what one role can actually do, resolved through role inheritance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("access")(access_command)


def access_command(
    role: Annotated[str, typer.Argument(help="The role to examine.")],
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="postgresql:// URL, conninfo or database name. Default: DATABASE_URL or the PG* variables.",
        ),
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text, json or markdown.")] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
) -> None:
    """Show what ROLE can read, write, own and execute in a database, as the server decides it."""
    from dbwright.audit.access import role_access
    from dbwright.cli import _default_target, emit
    from dbwright.commands._common import check_format
    from dbwright.engines.postgres.connect import open_session
    from dbwright.output import formats_for, render

    check_format(format, formats_for("role-access"))
    from dbwright.errors import ServerError

    try:
        with open_session(_default_target(db)) as conn:
            matrix = role_access(conn, role)
    except ServerError as error:  # the engine names the driver's error: "UndefinedTable: …"
        raise ServerError(f"reading privileges failed: {error}") from None
    emit(render(matrix, format), output)
