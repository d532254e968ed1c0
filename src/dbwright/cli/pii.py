"""`dbwright pii`: PII discovery from names, types and a bounded sample; masked output only."""

from __future__ import annotations

from typing import Annotated

import typer

from dbwright import api
from dbwright.cli.common import (
    DatabaseArg,
    DbOpt,
    OutputOpt,
    check_output_path,
    emit,
    format_option,
    one_database,
)
from dbwright.output import render


def register(app: typer.Typer) -> None:
    app.command("pii")(pii)


def pii(
    database: DatabaseArg = None,
    db: DbOpt = None,
    sample_rows: Annotated[
        int,
        typer.Option(
            "--sample-rows", min=1, max=100_000, help="Rows sampled per table (TABLESAMPLE + LIMIT)."
        ),
    ] = 1000,
    schema: Annotated[
        list[str] | None, typer.Option("--schema", help="Only this schema (repeatable).")
    ] = None,
    table_timeout: Annotated[
        str, typer.Option("--table-timeout", help="statement_timeout for each table's sample.")
    ] = "5s",
    format: Annotated[str, format_option("pii")] = "text",
    output: OutputOpt = None,
) -> None:
    """Find columns holding personal data; report confidence, match rate, masked examples and fixes."""
    check_output_path(output)
    report = api.discover_pii(
        one_database(database, db), schemas=schema or (), sample_rows=sample_rows, table_timeout=table_timeout
    )
    emit(render(report, format), output)
