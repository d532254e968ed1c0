"""`dbwright roles plan`: least-privilege group roles, login users and PUBLIC revokes as change packages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dbwright import api
from dbwright.cli.common import (
    DatabaseArg,
    DbOpt,
    OutAliasOpt,
    TextOrJsonOpt,
    check_output_path,
    emit_plan,
    one_database,
    one_output,
)

roles_app = typer.Typer(
    name="roles", help="Least privilege: group roles and grants as change packages.", no_args_is_help=True
)


@roles_app.command("plan")
def plan(
    database: DatabaseArg = None,
    db: DbOpt = None,
    schema: Annotated[
        list[str] | None,
        typer.Option(
            "--schema", help="Schema to cover (repeatable). Default: every non-system schema with objects."
        ),
    ] = None,
    app_user: Annotated[
        list[str] | None,
        typer.Option(
            "--app-user",
            help="Login user to create or enrol: NAME or NAME:readonly|readwrite|migrator "
            "(repeatable; default group readwrite).",
        ),
    ] = None,
    prefix: Annotated[str, typer.Option("--prefix", help="Prefix for the group role names.")] = "",
    format: TextOrJsonOpt = "text",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Also write the packages as one migration file (up and down) for dbwright migrate.",
        ),
    ] = None,
    out: OutAliasOpt = None,
) -> None:
    """Plan NOLOGIN groups (readonly, readwrite, migrator), members, default privileges and PUBLIC revokes."""
    path = check_output_path(one_output(output, out))
    result = api.plan_roles(
        one_database(database, db), schemas=schema or (), app_users=app_user or (), prefix=prefix
    )
    emit_plan(result, format, api.roles_plan_text, path)


def register(app: typer.Typer) -> None:
    app.add_typer(roles_app, name="roles")
