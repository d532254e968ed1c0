"""`dbwright access ROLE [DATABASE]`: what one role can actually do, resolved through role inheritance."""

from __future__ import annotations

from typing import Annotated

import typer

from dbwright import api
from dbwright.cli.common import (
    DbOpt,
    DemoDatabaseArg,
    OutputOpt,
    check_output_path,
    emit,
    format_option,
    live_target,
    one_database,
)
from dbwright.errors import ServerError
from dbwright.output import render


def register(app: typer.Typer) -> None:
    app.command("access")(access_command)


def access_command(
    role: Annotated[str, typer.Argument(metavar="ROLE", help="The role to examine.")],
    database: DemoDatabaseArg = None,
    db: DbOpt = None,
    format: Annotated[str, format_option("role-access")] = "text",
    output: OutputOpt = None,
) -> None:
    """Show what ROLE can read, write, own and execute in a database, as the server decides it."""
    check_output_path(output)
    target = live_target(one_database(database, db))
    try:
        matrix = api.role_access(target, role)
    except ServerError as error:  # the engine names the driver's error: "UndefinedTable: …"
        raise ServerError(f"reading privileges failed: {error}") from None
    emit(render(matrix, format), output)
