"""The `dbwright` command: a thin shell over ``dbwright.api``.

One module per command group registers its commands on ``app``; ``cli/common.py`` holds what
they share (the DATABASE argument, ``--output``, ``--format``, the demo, the error handler).
Errors are one line on stderr with a documented exit code (docs/exit-codes.md); a traceback is a bug.
"""

from __future__ import annotations

import sys

import typer

from dbwright.cli import (
    about,
    access,
    advise,
    audit,
    audit_logging,
    backfill,
    config,
    demo,
    design,
    diff,
    docs,
    explain,
    lint,
    mcp,
    migrate,
    pii,
    review,
    roles,
)
from dbwright.cli.common import run_app
from dbwright.cli.config import ConfigOpt, apply_config

app = typer.Typer(
    name="dbwright",
    help="A senior database engineer as software: review, fix and change PostgreSQL safely.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(ctx: typer.Context, config_file: ConfigOpt = None) -> None:
    """A senior database engineer as software: review, fix and change PostgreSQL safely."""
    apply_config(ctx, config_file)  # dbwright.toml: every command's defaults (docs/configuration.md)


#: In the order ``dbwright --help`` lists them.
COMMAND_MODULES = (
    review,
    demo,
    about,
    access,
    audit,
    backfill,
    design,
    diff,
    docs,
    explain,
    lint,
    mcp,
    pii,
    advise,
    audit_logging,
    migrate,
    roles,
    config,
)
for module in COMMAND_MODULES:
    module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default: the process's); its exit code."""
    return run_app(app, argv)


def run() -> None:
    """The ``dbwright`` console script."""
    sys.exit(main())


__all__ = ["app", "main", "run"]
