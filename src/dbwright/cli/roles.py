"""`dbwright roles plan`: least-privilege group roles, login users and PUBLIC revokes as change packages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dbwright import api
from dbwright.cli.common import DatabaseArg, TextOrJsonOpt, emit_plan

roles_app = typer.Typer(
    name="roles", help="Least privilege: group roles and grants as change packages.", no_args_is_help=True
)


@roles_app.command("plan")
def plan(
    database: DatabaseArg = None,
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
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Also write the packages as one migration file (up and down) for dbwright migrate."
        ),
    ] = None,
) -> None:
    """Plan NOLOGIN groups (readonly, readwrite, migrator), members, default privileges and PUBLIC revokes."""
    result = api.plan_roles(database, schemas=schema or (), app_users=app_user or (), prefix=prefix)
    emit_plan(result, format, api.roles_plan_text, out)


def register(app: typer.Typer) -> None:
    app.add_typer(roles_app, name="roles")
