"""`dbwright explain`: one statement's plan, annotated, with the indexes that would help it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dbwright import api
from dbwright.cli.common import (
    DbOpt,
    DemoDatabaseArg,
    OutputOpt,
    check_format,
    check_output_path,
    emit,
    err,
    live_target,
    one_database,
    use_color,
)
from dbwright.errors import InputFileError
from dbwright.output import formats_for, render


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)


def explain_format_option() -> Any:
    """``-f/--format`` as on every command; ``-f FILE`` (explain's old spelling of ``--file``) gets
    a one-line hint instead of a bare "unknown format"."""
    formats = formats_for("explain")

    def checked(value: str) -> str:
        if value not in formats and (value.lower().endswith(".sql") or Path(value).is_file()):
            raise typer.BadParameter(
                f"-f is --format now (one of {', '.join(formats)}); read the statement from a file with "
                f"--file {value}"
            )
        return check_format(value, formats)

    return typer.Option("--format", "-f", help=f"Output format: {', '.join(formats)}.", callback=checked)


def explain(
    sql: Annotated[
        str | None,
        typer.Argument(metavar="SQL", show_default=False, help="The statement to explain (or use --file)."),
    ] = None,
    database: DemoDatabaseArg = None,
    file: Annotated[Path | None, typer.Option("--file", help="Read the statement from this file.")] = None,
    db: DbOpt = None,
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
    allow_real_indexes: Annotated[
        bool,
        typer.Option(
            "--allow-real-indexes",
            help="Without HypoPG: price the suggested indexes with real CREATE INDEX builds in a "
            "transaction that is rolled back (SHARE lock: writers wait). Without it and without HypoPG "
            "nothing is built: the suggestions are unverified.",
        ),
    ] = False,
    format: Annotated[str, explain_format_option()] = "text",
    output: OutputOpt = None,
) -> None:
    """Show a statement's plan annotated with misestimates, large scans, spills, nested loops, stale
    statistics and index suggestions.

    With --file FILE, the one argument is DATABASE."""
    if file is not None and sql is not None and database is None:
        sql, database = None, sql
    if (sql is None) == (file is None):
        raise typer.BadParameter("give the statement as an argument or with --file FILE (one of them)")
    if file is not None:
        try:
            sql = file.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise InputFileError(f"cannot read {file}: {error}") from None
    check_output_path(output)
    target = live_target(one_database(database, db))
    with err.status("explaining…") as status:
        result = api.explain(
            target,
            sql or "",
            analyze=analyze,
            suggest=suggest,
            allow_real_indexes=allow_real_indexes,
            progress=lambda text: status.update(f"explaining: {text}…"),
        )
    color = format == "text" and output is None and use_color()
    emit(render(result, format, color=color), output)
