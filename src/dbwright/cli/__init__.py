"""The `dbwright` command: a thin shell over ``dbwright.api``.

One module per command group registers its commands on ``app``; ``cli/common.py`` holds what
they share (the DATABASE argument, ``--output``, ``--format``, the demo, the error handler).
Errors are one line on stderr with a documented exit code (docs/exit-codes.md); a traceback is a bug.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dbwright import __version__
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
from dbwright.cli.common import plain_requested, run_app, set_verbosity
from dbwright.cli.config import ConfigOpt, apply_config

if plain_requested():  # typer's own help: no colour and no bold either (typer's documented switch)
    import typer.rich_utils

    typer.rich_utils.COLOR_SYSTEM = None

app = typer.Typer(
    name="dbwright",
    help="A senior database engineer as software: review, fix and change PostgreSQL safely.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    # -h everywhere: click hands a context's help names down to every subcommand's context
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        print(f"dbwright {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print dbwright's version and exit."
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help='No progress or "wrote" lines on stderr; errors still show.'),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Say more on stderr: the target used, and a traceback on an internal error.",
        ),
    ] = False,
    config_file: ConfigOpt = None,
) -> None:
    """A senior database engineer as software: review, fix and change PostgreSQL safely."""
    set_verbosity(quiet=quiet, verbose=verbose)
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
