"""Small pieces the command modules share (no ``register``: commands/__init__.py skips this module)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

#: The positional database argument of commands that need a real server (no embedded demo).
DatabaseArg = Annotated[
    str | None,
    typer.Argument(
        help="postgresql:// URL, conninfo or database name. Default: DATABASE_URL or the PG* variables."
    ),
]


def check_format(format: str, formats: Sequence[str] = ("text", "json")) -> None:
    """A usage error (exit 2) naming the choices when ``--format`` is not one of ``formats``."""
    if format not in formats:
        choices = " or ".join(formats) if len(formats) == 2 else "one of " + ", ".join(formats)
        raise typer.BadParameter(f"unknown format {format!r}; use {choices}", param_hint="--format")


def echo_packages_plan(plan: Any, format: str, render_text: Callable[[Any], str], out: Path | None) -> None:
    """Print a plan of change packages (text or JSON); with ``out``, also write them as one migration file."""
    from rich.console import Console

    from dbwright.changes.migration_file import render_migration

    typer.echo(json.dumps(plan.to_dict(), indent=2) if format == "json" else render_text(plan))
    if out is not None:
        out.write_text(render_migration(list(plan.packages)))
        Console(stderr=True).print(f"wrote {out}")
