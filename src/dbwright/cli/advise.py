"""`dbwright advise indexes`: workload-driven index recommendations within a storage budget."""

from __future__ import annotations

from pathlib import Path
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
from dbwright.cli.review import MinObservedOpt
from dbwright.output import render

advise_app = typer.Typer(
    name="advise", help="Advisors: recommendations priced against your workload.", no_args_is_help=True
)


@advise_app.command("indexes")
def indexes(
    database: DemoDatabaseArg = None,
    db: DbOpt = None,
    budget: Annotated[
        str | None,
        typer.Option(
            "--budget",
            help="Storage for new indexes: 500MB, 2GB or 10% of the database. Default: 10%, at least 64MB.",
        ),
    ] = None,
    min_calls: Annotated[int, typer.Option("--min-calls", help="Ignore statements called fewer times.")] = 0,
    min_time: Annotated[
        float, typer.Option("--min-time", help="Ignore statements with less total time (ms).")
    ] = 0.0,
    workload_file: Annotated[
        list[Path] | None,
        typer.Option("--workload-file", help="SQL file of workload statements (repeatable)."),
    ] = None,
    log_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--log-file",
            help="Server log with log_min_duration_statement lines: stderr, csvlog or jsonlog (repeatable).",
        ),
    ] = None,
    query: Annotated[str | None, typer.Option("--query", help="Advise on this one statement.")] = None,
    weight_by: Annotated[
        str, typer.Option("--weight-by", help="total_time, calls_x_mean or cost.")
    ] = "total_time",
    objective: Annotated[
        str,
        typer.Option(
            "--objective",
            help="total (the workload's summed time or cost), per-query (geometric mean of each "
            "statement's cost ratio) or auto: total with timings, per-query without.",
        ),
    ] = "auto",
    allow_real_indexes: Annotated[
        bool,
        typer.Option(
            "--allow-real-indexes",
            help="Without HypoPG: price candidates with real CREATE INDEX builds in transactions "
            "that are rolled back (SHARE locks: writers wait), and price drops with a rolled-back DROP "
            "INDEX. Without it and without HypoPG nothing is built: the advice is unverified.",
        ),
    ] = False,
    min_observed: MinObservedOpt = None,
    format: Annotated[str, format_option("index-advice")] = "text",
    output: OutputOpt = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Build the recommended indexes and measure the read-only workload statements before "
            "and after (median of 3 warm runs).",
        ),
    ] = False,
    scratch: Annotated[
        bool,
        typer.Option(
            "--scratch",
            help="With --verify: build on a scratch copy (CREATE DATABASE … TEMPLATE), dropped afterwards.",
        ),
    ] = False,
    yes: Annotated[
        bool,
        typer.Option("--yes", help="With --verify and no --scratch: really build the indexes on the target."),
    ] = False,
) -> None:
    """Recommend the indexes that lower the workload's cost most within a budget, and drops to make."""
    api.check_budget(budget)  # before the demo starts or a connection opens
    api.check_min_observed(min_observed)
    if (scratch or yes) and not verify:
        raise typer.BadParameter("--scratch and --yes only go with --verify")
    check_output_path(output)
    target = live_target(one_database(database, db))
    with err.status("advising…") as status:
        advice = api.advise_indexes(
            target,
            budget=budget,
            workload_files=workload_file or (),
            log_files=log_file or (),
            query=query,
            min_calls=min_calls,
            min_time_ms=min_time,
            weight_by=weight_by,
            allow_real_indexes=allow_real_indexes,
            objective=objective,
            min_observed_days=min_observed,
            progress=lambda text: status.update(f"advising: {text}…"),
        )
    if not verify:
        emit(render(advice, format), output)
        return
    if not scratch and advice.recommendations:
        err.print(
            "--verify without --scratch builds these indexes on the target (they stay):", highlight=False
        )
        for statement in api.index_build_statements(advice, scratch=False):
            err.print(f"  {statement}", markup=False, highlight=False)
    with err.status("verifying…") as status:
        verification = api.verify_index_advice(
            target,
            advice,
            scratch=scratch,
            confirmed=yes,
            progress=lambda text: status.update(f"verifying: {text}…"),
        )
    emit(api.render_index_verification(render(advice, format), advice, verification, format), output)


def register(app: typer.Typer) -> None:
    app.add_typer(advise_app, name="advise")
