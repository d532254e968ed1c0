"""The `dbwright` command: a thin shell over the library.

Every command calls the same functions the MCP server and reports use. Errors are one
line on stderr with a documented exit code (docs/exit-codes.md); a traceback is a bug.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dbwright import __version__
from dbwright.checks.registry import CATEGORIES, all_checks
from dbwright.errors import EXIT_CODES, DbwrightError, InputFileError
from dbwright.model import Snapshot
from dbwright.model.findings import Severity
from dbwright.output import formats_for
from dbwright.redact import redact
from dbwright.review import Review, load_snapshot, run_review, take_snapshot

app = typer.Typer(
    name="dbwright",
    help="A senior database engineer as software: review, fix and change PostgreSQL safely.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True)
FORMATS = formats_for("review")
_PG_ENV = ("DATABASE_URL", "PGHOST", "PGDATABASE", "PGSERVICE", "PGPORT", "PGUSER")

TargetArg = Annotated[
    str | None,
    typer.Argument(
        help="postgresql:// URL, key=value conninfo (service=NAME), database name, or a saved snapshot .json. "
        "Default: DATABASE_URL, else the PG* variables, else the embedded demo."
    ),
]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help=f"Output format: {', '.join(FORMATS)}.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")]
MemoryOpt = Annotated[
    str | None,
    typer.Option(
        "--server-memory",
        help="The server's RAM (e.g. 16GB), for memory settings; read from the server "
        "when dbwright may, otherwise those checks are skipped.",
    ),
]


def _usage_error_types() -> tuple[type[Exception], ...]:
    """Click's usage errors: vendored inside newer typer, a separate package for older ones."""
    base = typer.BadParameter.__mro__
    found = [cls for cls in base if cls.__name__ == "ClickException"]
    return tuple(found) or (typer.BadParameter,)


_USAGE_ERRORS = _usage_error_types()


def parse_size(text: str | None) -> int | None:
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*", text, re.I)
    if not match:
        raise typer.BadParameter(f"cannot read size {text!r}; use e.g. 512MB or 16GB")
    unit = (match[2] or "b").lower().rstrip("b").rstrip("i")
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}[unit]
    return int(float(match[1]) * factor)


def _is_snapshot_file(target: str | None) -> bool:
    return bool(target) and target.endswith(".json") and "://" not in target and "=" not in target


def _default_target(target: str | None) -> str | None:
    """With nothing named and no PG environment, review the embedded demo database."""
    if target or any(os.environ.get(name) for name in _PG_ENV):
        return target
    from dbwright import demo

    err.print("[dim]no database named: using the embedded demo database (dbwright demo)[/dim]")
    return demo.prepare(progress=_stage_printer())


def _stage_printer():
    def show(stage: str, fraction: float | None = None) -> None:
        suffix = f" {fraction:.0%}" if fraction is not None else ""
        err.print(f"[dim]· {stage}{suffix}[/dim]")

    return show


def obtain_snapshot(target: str | None, server_memory: str | None) -> Snapshot:
    if _is_snapshot_file(target):
        return load_snapshot(Path(target))
    target = _default_target(target)
    with err.status("reading the catalog…") as status:
        return take_snapshot(
            target,
            server_memory_bytes=parse_size(server_memory),
            progress=lambda step: status.update(f"reading the catalog: {step}…"),
        )


def _review(snap: Snapshot, categories: list[str] | None, codes: list[str] | None) -> Review:
    for category in categories or []:
        if category not in CATEGORIES:
            raise typer.BadParameter(f"unknown category {category!r}; use one of {', '.join(CATEGORIES)}")
    with err.status("running checks…") as status:
        return run_review(
            snap,
            categories=categories,
            codes=codes,
            progress=lambda check: status.update(f"running checks: {check.code} {check.title}"),
        )


def emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        output.write_text(text)
        err.print(f"wrote {output}")


@app.command()
def review(
    target: TargetArg = None,
    format: FormatOpt = "text",
    output: OutputOpt = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a finding is at or above this severity (info, low, medium, high, critical).",
        ),
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", "-c", help="Only this area (repeatable).")
    ] = None,
    check: Annotated[
        list[str] | None, typer.Option("--check", help="Only this check code (repeatable).")
    ] = None,
    server_memory: MemoryOpt = None,
) -> None:
    """Review a database (or a saved snapshot): prioritized findings, each with evidence and a fix."""
    try:
        threshold = Severity.parse(fail_on) if fail_on else None
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--fail-on") from None
    if format not in FORMATS:
        raise typer.BadParameter(
            f"unknown format {format!r}; use one of {', '.join(FORMATS)}", param_hint="--format"
        )
    result = _review(obtain_snapshot(target, server_memory), category, check)
    write_review(result, format, output)
    if threshold is not None and any(f.severity >= threshold for f in result.findings):
        raise typer.Exit(1)


def write_review(result: Review, format: str, output: Path | None) -> None:
    from dbwright import output as renderers

    if format == "text" and output is None:
        renderers.print_review(result, Console())
        return
    emit(renderers.render(result, format), output)


@app.command()
def snapshot(
    target: TargetArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to save the snapshot JSON.")] = Path(
        "snapshot.json"
    ),
    server_memory: MemoryOpt = None,
) -> None:
    """Save a catalog snapshot as JSON, to review offline later (`dbwright review snap.json`)."""
    snap = obtain_snapshot(target, server_memory)
    output.write_text(snap.to_json(indent=1))
    err.print(
        f"wrote {output}: {len(snap.tables)} tables, {len(snap.columns)} columns, "
        f"{len(snap.indexes)} indexes in {snap.introspection_ms:.0f} ms"
    )


@app.command()
def fix(
    codes: Annotated[list[str], typer.Argument(help="Check codes whose fixes to write, e.g. DW102 DW201.")],
    database: Annotated[
        str | None, typer.Option("--db", "-d", help="Database or snapshot (as for review).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Migration file to write.")] = Path("migration.sql"),
    server_memory: MemoryOpt = None,
) -> None:
    """Write the fixes of the chosen checks to one migration file, with its down part. Never applies."""
    from dbwright.changes.migration_file import render_migration

    result = _review(obtain_snapshot(database, server_memory), None, codes)
    packages = [f.finding.fix for f in result.findings if f.finding.fix is not None]
    if not packages:
        err.print(f"no fixes for {', '.join(codes)} in this database; nothing written")
        return
    out.write_text(render_migration(packages))
    err.print(f"wrote {out}: {len(packages)} change package(s); review it, then apply it yourself")


@app.command()
def demo(
    reset: Annotated[bool, typer.Option("--reset", help="Delete the demo data and build it again.")] = False,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the embedded server and exit.")] = False,
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML report path.")] = Path(
        "dbwright-demo-report.html"
    ),
) -> None:
    """Start an embedded PostgreSQL with a demo database, run a workload, review it, write the HTML report."""
    from dbwright import demo as demo_lib
    from dbwright import output as renderers

    if stop:
        was_running = demo_lib.stop()
        err.print("embedded server stopped" if was_running else "embedded server was not running")
        return
    url = demo_lib.prepare(reset=reset, progress=_stage_printer())
    with err.status("reading the catalog…"):
        snap = take_snapshot(url)
    result = _review(snap, None, None)
    renderers.print_review(result, Console())
    output.write_text(renderers.render(result, "html"))
    advice_path = _demo_index_advice(url, snap, output)
    print(f"HTML report: {output.resolve()}")
    if advice_path:
        print(f"Index advice: {advice_path.resolve()}")


def _demo_index_advice(url: str, snap: Snapshot, output: Path) -> Path | None:
    """The demo's workload through the index advisor (rolled-back real builds: no HypoPG there)."""
    from dbwright.advisors.indexes import render as advice_render
    from dbwright.advisors.indexes.advise import advise_indexes

    with err.status("advising indexes for the workload…") as status:
        try:
            advice = advise_indexes(
                url, snapshot=snap, progress=lambda text: status.update(f"advising: {text}")
            )
        except DbwrightError as error:
            err.print(f"index advice skipped: {error.message}", markup=False)
            return None
    sys.stdout.write(advice_render.text(advice) + "\n")
    path = output.with_name(output.stem + "-index-advice.html")
    path.write_text(advice_render.html_page(advice))
    return path


@app.command("checks")
def list_checks(
    format: Annotated[str, typer.Option("--format", "-f", help="Output format: text or json.")] = "text",
) -> None:
    """List every check: code, area, severity and title."""
    import json

    from dbwright.commands._common import check_format

    check_format(format, ("text", "json"))  # a list of checks, not findings: no SARIF, no report

    rows = [
        {
            "code": c.code,
            "category": c.category,
            "severity": c.severity.label,
            "title": c.title,
            "requires": list(c.requires),
        }
        for c in all_checks()
    ]
    if format == "json":
        print(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table("code", "area", "severity", "title")
    for row in rows:
        table.add_row(row["code"], row["category"], row["severity"], row["title"])
    Console().print(table)


@app.command("exit-codes")
def exit_codes() -> None:
    """Print the exit codes dbwright uses."""
    for code, meaning in sorted(EXIT_CODES.items()):
        print(f"{code:>3}  {meaning}")


@app.command()
def version() -> None:
    """Print dbwright's version."""
    print(f"dbwright {__version__}")


def _register_commands() -> None:
    from dbwright.commands import register_all

    register_all(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app; turn every error into one line and an exit code."""
    try:
        result = app(args=argv, standalone_mode=False)
    except DbwrightError as error:
        _say(f"dbwright: error: {error.message}")
        return error.exit_code
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        return 130
    except _USAGE_ERRORS as error:
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        _say(f"dbwright: usage error: {message}")
        return 2
    except KeyboardInterrupt:
        _say("dbwright: interrupted")
        return 130
    except Exception as error:  # a bug: still one line, never a traceback (DBWRIGHT_DEBUG=1 shows it)
        if os.environ.get("DBWRIGHT_DEBUG"):
            raise
        message = redact(str(error).splitlines()[0] if str(error) else type(error).__name__)
        _say(f"dbwright: internal error: {type(error).__name__}: {message}")
        return 70
    return result if isinstance(result, int) else 0


def _say(line: str) -> None:
    """One unwrapped, unstyled, password-free line on stderr."""
    sys.stderr.write(redact(line) + "\n")


def run() -> None:
    sys.exit(main())


__all__ = ["app", "main", "run", "InputFileError"]
