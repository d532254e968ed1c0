"""`dbwright design`: profile the data and propose normalization, keys, constraints and tighter types."""

from __future__ import annotations

from typing import Annotated

import typer

from dbwright import api
from dbwright.cli.common import (
    DbOpt,
    DemoDatabaseArg,
    OutputOpt,
    check_output_path,
    emit,
    err,
    format_option,
    live_target,
    one_database,
)
from dbwright.output import render


def design(
    database: DemoDatabaseArg = None,
    db: DbOpt = None,
    format: Annotated[str, format_option("design")] = "text",
    sample_rows: Annotated[
        int, typer.Option("--sample-rows", min=100, help="Rows read per table; larger tables are sampled.")
    ] = 20_000,
    time_budget: Annotated[
        float,
        typer.Option("--time-budget", min=1.0, help="Seconds for the whole review; tables left are skipped."),
    ] = 120.0,
    max_error: Annotated[
        float,
        typer.Option(
            "--max-error", min=0.0, max=0.5, help="Largest share of rows off for an approximate dependency."
        ),
    ] = 0.01,
    desbordante: Annotated[
        bool | None,
        typer.Option(
            "--desbordante/--no-desbordante",
            help="Use desbordante for full discovery (default: when installed).",
        ),
    ] = None,
    partition_rows: Annotated[
        int,
        typer.Option(
            "--partition-rows",
            min=1,
            help="Tables with at least this many rows are considered for partitioning.",
        ),
    ] = 1_000_000,
    pruning: Annotated[
        bool,
        typer.Option(
            "--pruning/--no-pruning",
            help="Plan the workload on a scratch copy of a proposed partitioning "
            "(CREATE DATABASE dbwright_scratch_…, dropped after).",
        ),
    ] = True,
    shard_gb: Annotated[
        float,
        typer.Option(
            "--shard-gb", min=0.0, help="Tables at least this large (GB) get sharding advice (Citus)."
        ),
    ] = 64.0,
    output: OutputOpt = None,
) -> None:
    """Profile the data: dependencies breaking 3NF, undeclared keys and foreign keys, over-wide types."""
    check_output_path(output)
    target = live_target(one_database(database, db))
    with err.status("profiling…") as status:
        report = api.advise_design(
            target,
            sample_rows=sample_rows,
            time_budget_s=time_budget,
            max_error=max_error,
            use_desbordante=desbordante,
            min_partition_rows=partition_rows,
            estimate_pruning=pruning,
            shard_bytes=int(shard_gb * 1024**3),
            progress=lambda text: status.update(f"design: {text}…"),
        )
    emit(render(report, format), output)


def register(app: typer.Typer) -> None:
    app.command("design")(design)
