"""`dbwright explain`: one statement's plan, annotated, with the indexes that would help it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dbwright.commands._common import check_format


def explain(
    sql: Annotated[str | None, typer.Argument(help="The statement to explain (or use -f).")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the statement from this file.")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="postgresql:// URL, conninfo or database name. Default: DATABASE_URL, the PG* variables, "
            "else the embedded demo.",
        ),
    ] = None,
    analyze: Annotated[
        bool,
        typer.Option(
            "--analyze",
            help="Run it (EXPLAIN ANALYZE) in a read-only transaction that is rolled back; only for "
            "read-only SELECTs.",
        ),
    ] = False,
    suggest: Annotated[
        bool, typer.Option("--suggest/--no-suggest", help="Ask the index advisor (what-if) for this query.")
    ] = True,
    format: Annotated[str, typer.Option("--format", help="text, json or markdown.")] = "text",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Show a statement's plan annotated with misestimates, large scans, spills, nested loops, stale
    statistics and index suggestions."""
    import sys

    from rich.console import Console

    from dbwright.advisors.explain import explain_query
    from dbwright.cli import _default_target, emit
    from dbwright.errors import InputFileError
    from dbwright.output import formats_for, render

    check_format(format, formats_for("explain"))
    if (sql is None) == (file is None):
        raise typer.BadParameter("give the statement as an argument or with -f FILE (one of them)")
    if file is not None:
        try:
            sql = file.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise InputFileError(f"cannot read {file}: {error}") from None
    err = Console(stderr=True)
    target = _default_target(db)
    with err.status("explaining…") as status:
        result = explain_query(
            target,
            sql or "",
            analyze=analyze,
            suggest=suggest,
            progress=lambda text: status.update(f"explaining: {text}…"),
        )
    color = format == "text" and output is None and sys.stdout.isatty()
    emit(render(result, format, color=color), output)


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)
