"""What every command shares: the DATABASE argument, ``--output``, ``--format``, the demo, and one-line errors.

A command module parses its options, calls ``dbwright.api`` and renders with ``dbwright.output``;
the pieces here make every command take its database, its output file and its format the same
way. Every error leaves ``run_app`` as one line on stderr with its exit code (docs/exit-codes.md).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
from rich.console import Console

from dbwright import api
from dbwright.errors import DbwrightError, InvalidArgumentError, OutputPathError
from dbwright.model import Snapshot
from dbwright.model.package import ChangePackage
from dbwright.output import formats_for
from dbwright.redact import redact


def plain_requested() -> bool:
    """``NO_COLOR`` (https://no-color.org) is set: no colour, and no bold either."""
    return bool(os.environ.get("NO_COLOR"))


def make_console(*, stderr: bool = False) -> Console:
    """A rich console that honours ``NO_COLOR`` fully: rich itself only drops colours, while
    ``color_system=None`` drops every style (bold, dim, links). A non-terminal gets plain text
    from rich already; ``NO_COLOR`` also stops the live progress line."""
    if plain_requested():
        return Console(stderr=stderr, color_system=None, force_terminal=False)
    return Console(stderr=stderr)


def use_color() -> bool:
    """Whether stdout may carry ANSI styles: a terminal, and no ``NO_COLOR``."""
    return sys.stdout.isatty() and not plain_requested()


#: Progress lines and "wrote FILE" go to stderr, so stdout stays the result. ``--quiet`` silences it.
err = make_console(stderr=True)

#: ``--verbose`` on the root command: say more about what dbwright does (the target it uses).
VERBOSE = {"on": False}


def set_verbosity(*, quiet: bool, verbose: bool) -> None:
    """The root's ``--quiet`` (no progress, no "wrote" lines; errors still) and ``--verbose``."""
    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose contradict each other; give one")
    err.quiet = quiet
    VERBOSE["on"] = verbose


def note(text: str) -> None:
    """A line on stderr only with ``--verbose``."""
    if VERBOSE["on"]:
        err.print(f"· {text}", style="dim", markup=False, highlight=False, soft_wrap=True)


_NAMES = "postgresql:// URL, key=value conninfo (service=NAME) or database name"
_FROM_ENVIRONMENT = "Default: DATABASE_URL, else the PG* variables"

#: A live database; with none named, the server the environment names.
DatabaseArg = Annotated[
    str | None,
    typer.Argument(metavar="DATABASE", show_default=False, help=f"{_NAMES}. {_FROM_ENVIRONMENT}."),
]
#: A live database; with none named and no variable set, the embedded demo.
DemoDatabaseArg = Annotated[
    str | None,
    typer.Argument(
        metavar="DATABASE", show_default=False, help=f"{_NAMES}. {_FROM_ENVIRONMENT}, else the embedded demo."
    ),
]
#: A live database or a saved snapshot file; with none named, as DemoDatabaseArg.
SourceArg = Annotated[
    str | None,
    typer.Argument(
        metavar="DATABASE",
        show_default=False,
        help=f"{_NAMES}, or a saved snapshot .json. {_FROM_ENVIRONMENT}, else the embedded demo.",
    ),
]
#: The database as an option: the spelling commands had before DATABASE was positional (hidden alias).
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        "-d",
        metavar="DATABASE",
        show_default=False,
        hidden=True,
        help="DATABASE, given as an option.",
    ),
]
#: Where a report goes: a file, or stdout when not given.
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")]
#: ``--out``: the spelling fix, migrate plan, roles plan and audit-logging plan had (hidden alias of -o).
OutAliasOpt = Annotated[
    Path | None, typer.Option("--out", hidden=True, show_default=False, help="Old spelling of --output.")
]
#: ``--fail-on SEVERITY``: exit 1 on a finding at or above it.
FailOnOpt = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        metavar="SEVERITY",
        help="Exit 1 when a finding is at or above this severity (info, low, medium, high, critical).",
    ),
]
#: ``--min-severity SEVERITY``: list only findings at or above it (scores still count every finding).
MinSeverityOpt = Annotated[
    str | None,
    typer.Option(
        "--min-severity",
        metavar="SEVERITY",
        help="List only findings at or above this severity (info, low, medium, high, critical); "
        "scores and --fail-on still count every finding.",
    ),
]


def one_output(output: Path | None, alias: Path | None, alias_name: str = "--out") -> Path | None:
    """The file named with -o/--output or its old spelling; two different ones is a usage error."""
    if output and alias and output != alias:
        raise typer.BadParameter(
            f"two output files named, with -o and {alias_name}; name one", param_hint="-o"
        )
    return output or alias


def check_output_path(path: Path | None) -> Path | None:
    """``path`` if a file can be written there: its folder exists and it is not a folder itself.
    Checked before any work, so a typo costs no review."""
    if path is None:
        return None
    folder = path.parent
    if not folder.is_dir():
        raise OutputPathError(f"cannot write {path}: folder {folder} does not exist")
    if path.is_dir():
        raise OutputPathError(f"cannot write {path}: it is a folder; name a file")
    return path


def one_database(positional: str | None, option: str | None, option_name: str = "--db") -> str | None:
    """The database named as DATABASE or with the option; naming two different ones is a usage error,
    unless one of them is only the configuration file's ``target`` (docs/configuration.md): a database
    typed on the command line wins over it."""
    if positional and option and positional != option:
        if from_configuration("db"):
            return positional
        if from_configuration("database"):
            return option
        raise typer.BadParameter(
            f"two databases named, as DATABASE and with {option_name}; name one", param_hint="DATABASE"
        )
    return positional or option


def from_configuration(parameter: str) -> bool:
    """Whether the running command's ``parameter`` took its value from the configuration file (click's
    default map), rather than from the command line or the environment."""
    from typer._click.core import ParameterSource
    from typer._click.globals import get_current_context

    context = get_current_context(silent=True)
    return context is not None and context.get_parameter_source(parameter) is ParameterSource.DEFAULT_MAP


# --- the embedded demo, when nothing names a database ---------------------------------------------------


def stage_printer() -> api.StageProgress:
    """Print the demo's stages (and loading progress) as dim lines on stderr."""

    def show(stage: str, fraction: float | None = None) -> None:
        suffix = f" {fraction:.0%}" if fraction is not None else ""
        err.print(f"[dim]· {stage}{suffix}[/dim]")

    return show


def demo_refusal(fail_on: str | None) -> str | None:
    """Why the embedded demo must not stand in for a missing target, or None: a gate (``--fail-on``)
    or CI (``CI`` set) reviewing the demo would pass or fail on data nobody meant."""
    if fail_on:
        return "--fail-on is given"
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return "CI is set"
    return None


def start_demo(refusal: str | None = None) -> str:
    """The demo hook of target resolution: say so on stderr (even with --quiet), then start (or reuse)
    the embedded demo database; refused, with ``refusal``, as one line (exit 22)."""
    if refusal:
        raise InvalidArgumentError(
            f"no database named and {refusal}: name one (DATABASE, DATABASE_URL or the PG* variables); "
            "dbwright does not fall back to its embedded demo here"
        )
    say("dbwright: no database named: using the embedded demo database (dbwright demo)")
    return api.start_demo(progress=stage_printer())


def live_target(database: str | None, *, demo: bool = True, fail_on: str | None = None) -> str | None:
    """What to connect to: the database named, else the one the environment names, else (with
    ``demo``) the embedded demo's URL, unless ``--fail-on`` or CI refuses it. ``None`` leaves the
    environment to the engine."""
    refusal = demo_refusal(fail_on)
    target = api.resolve_target(database, demo=(lambda: start_demo(refusal)) if demo else None)
    note(f"target ({target.kind}): {redact(target.text) or 'the server the environment names'}")
    return target.text if target.kind == "demo" else database


def obtain_snapshot(
    database: str | None, server_memory: str | None = None, *, fail_on: str | None = None
) -> Snapshot:
    """The saved snapshot DATABASE names, or a fresh one of the live database (the demo when none)."""
    memory = api.parse_size(server_memory)  # a size that cannot be read fails before any connection
    if api.is_snapshot_path(database):
        note(f"offline review of the snapshot file {database}")
        return api.load_snapshot(database)  # type: ignore[arg-type]
    target = live_target(database, fail_on=fail_on)
    with err.status("reading the catalog…") as status:
        return api.snapshot(
            target,
            server_memory=memory,
            progress=lambda step: status.update(f"reading the catalog: {step}…"),
        )


# --- formats and output ------------------------------------------------------------------------------


def check_format(format: str, formats: Sequence[str] = ("text", "json")) -> str:
    """``format`` if it is one of ``formats``; otherwise a usage error (exit 2) naming the choices."""
    if format not in formats:
        choices = " or ".join(formats) if len(formats) == 2 else "one of " + ", ".join(formats)
        raise typer.BadParameter(f"unknown format {format!r}; use {choices}")
    return format


def format_option(
    kind_or_formats: str | Sequence[str], *, short: bool = True, help: str | None = None
) -> Any:
    """A ``--format`` option checked when it is parsed: the formats ``dbwright.output`` has for a kind
    of result (``"review"``), or a command's own list (``("text", "json")``)."""
    formats = formats_for(kind_or_formats) if isinstance(kind_or_formats, str) else tuple(kind_or_formats)
    names = ("--format", "-f") if short else ("--format",)
    return typer.Option(
        *names,
        help=help or f"Output format: {', '.join(formats)}.",
        callback=lambda value: check_format(value, formats),
    )


#: ``--format text|json``, for commands whose results have no other format.
TextOrJsonOpt = Annotated[str, format_option(("text", "json"))]


def emit(text: str, output: Path | None) -> None:
    """The result on stdout, or in ``output`` with a "wrote" line on stderr."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_file(output, text)


def emit_json(data: Any) -> None:
    """``data`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


class PackagesPlan(Protocol):
    """A plan of change packages (roles, audit logging): JSON through ``to_dict``."""

    packages: Sequence[ChangePackage]

    def to_dict(self) -> dict[str, Any]: ...


def emit_plan(plan: PackagesPlan, format: str, text: Callable[[Any], str], out: Path | None) -> None:
    """Print a plan of change packages (text or JSON); with ``out``, also write them as one migration file."""
    typer.echo(json.dumps(plan.to_dict(), indent=2) if format == "json" else text(plan))
    if out is not None:
        write_file(out, api.render_migration(list(plan.packages)))


def write_file(path: Path, text: str, what: str = "") -> None:
    """Write ``text`` to ``path`` and say so on stderr; a folder that is missing is one line (exit 23)."""
    check_output_path(path)
    try:
        path.write_text(text)
    except OSError as error:
        raise OutputPathError(f"cannot write {path}: {error.strerror or error}") from None
    err.print(f"wrote {path}{what}", markup=False, highlight=False, soft_wrap=True)


# --- errors: one line and an exit code -----------------------------------------------------------------


def _usage_error_types() -> tuple[type[Exception], ...]:
    """Click's usage errors: vendored inside newer typer, a separate package for older ones."""
    found = [cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException"]
    return tuple(found) or (typer.BadParameter,)


_USAGE_ERRORS = _usage_error_types()


def run_app(app: typer.Typer, argv: list[str] | None = None) -> int:
    """Run ``app``; turn every error into one line on stderr and its exit code."""
    try:
        result = app(args=argv, standalone_mode=False)
    except DbwrightError as error:
        say(f"dbwright: error: {error.message}")
        return error.exit_code
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        return 130
    except _USAGE_ERRORS as error:
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        say(f"dbwright: usage error: {message}")
        return 2
    except KeyboardInterrupt:
        say("dbwright: interrupted")
        return 130
    except Exception as error:  # a bug: still one line, never a traceback (DBWRIGHT_DEBUG=1 shows it)
        if os.environ.get("DBWRIGHT_DEBUG"):
            raise
        if VERBOSE["on"]:
            traceback.print_exc()
        message = redact(str(error).splitlines()[0] if str(error) else type(error).__name__)
        say(f"dbwright: internal error: {type(error).__name__}: {message}")
        return 70
    return result if isinstance(result, int) else 0


def say(line: str) -> None:
    """One unwrapped, unstyled, password-free line on stderr."""
    sys.stderr.write(redact(line) + "\n")
