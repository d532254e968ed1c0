"""`dbwright pii`: PII discovery from names, types and a bounded sample; masked output only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dbwright.commands._common import DatabaseArg, check_format


def pii(
    database: DatabaseArg = None,
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
    format: Annotated[str, typer.Option("--format", "-f", help="text, json or markdown.")] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
) -> None:
    """Find columns holding personal data; report confidence, match rate, masked examples and fixes."""
    from dbwright.audit.pii import discover_pii
    from dbwright.cli import emit
    from dbwright.output import formats_for, render

    check_format(format, formats_for("pii"))
    report = discover_pii(
        database, schemas=schema or (), sample_rows=sample_rows, table_timeout=table_timeout
    )
    emit(render(report, format), output)


def register(app: typer.Typer) -> None:
    app.command("pii")(pii)
