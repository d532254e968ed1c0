"""`dbwright backfill`: batched UPDATE by primary-key range. A thin shell over dbwright.changes.backfill."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from dbwright import api
from dbwright.cli.common import DatabaseArg, DbOpt, TextOrJsonOpt, emit_json, err, one_database


def register(app: typer.Typer) -> None:
    app.command("backfill")(backfill_command)


def backfill_command(
    table: Annotated[str, typer.Option("--table", "-t", help="The table to fill, e.g. shop.orders.")],
    set_: Annotated[str, typer.Option("--set", help="The assignments, e.g. \"status = 'new'\".")],
    database: DatabaseArg = None,
    db: DbOpt = None,
    where: Annotated[
        str | None, typer.Option("--where", help='Only rows matching this, e.g. "status IS NULL".')
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Primary keys per batch (one transaction each).")
    ] = 10_000,
    sleep: Annotated[float, typer.Option("--sleep", help="Seconds to pause between batches.")] = 0.05,
    lock_timeout: Annotated[
        str,
        typer.Option(
            "--lock-timeout", help="lock_timeout of each batch; a batch that waits longer is retried."
        ),
    ] = "1s",
    statement_timeout: Annotated[
        str, typer.Option("--statement-timeout", help="statement_timeout of each batch.")
    ] = "1min",
    retries: Annotated[
        int, typer.Option("--retries", help="Retries of a batch, with exponential backoff.")
    ] = 5,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run of the same backfill.")
    ] = False,
    restart: Annotated[
        bool, typer.Option("--restart", help="Forget an interrupted run and start over.")
    ] = False,
    max_batches: Annotated[
        int | None,
        typer.Option("--max-batches", help="Stop after this many batches (rerun with --resume to go on)."),
    ] = None,
    max_batch_time: Annotated[
        float | None,
        typer.Option(
            "--max-batch-time",
            help="Seconds a batch may hold its row locks: slower batches halve the batch size "
            "(quick ones grow it back up to --batch-size).",
        ),
    ] = None,
    format: TextOrJsonOpt = "text",
) -> None:
    """Fill a column in batches by primary-key range: throttled, resumable, each batch a short transaction."""
    target = one_database(database, db)
    options = api.backfill_options(
        batch_size=batch_size,
        sleep_s=sleep,
        lock_timeout=lock_timeout,
        statement_timeout=statement_timeout,
        retries=retries,
        resume=resume,
        restart=restart,
        max_batches=max_batches,
        max_batch_s=max_batch_time,
    )
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("keys, {task.fields[rows]:,} rows updated, {task.fields[retries]} retries"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=format == "json",
    )
    task = bar.add_task(table, total=None, rows=0, retries=0)

    def show(report, batch) -> None:
        if not bar.live.is_started:  # only once the input is accepted and the first batch committed
            bar.start()
        bar.update(
            task,
            total=report.estimated_keys,
            completed=report.keys_done,
            rows=report.rows_updated,
            retries=report.retries,
        )

    try:
        report = api.backfill(target, table, set_, where=where, options=options, progress=show)
    except KeyboardInterrupt:
        err.print("interrupted: the batch in flight was rolled back; rerun with --resume to continue")
        raise typer.Exit(130) from None
    finally:
        if bar.live.is_started:
            bar.stop()
    if format == "json":
        emit_json(report.to_dict())
        return
    since = f" (resumed after key ({', '.join(report.resumed_from)}))" if report.resumed_from else ""
    if report.finished and not report.batches:
        print(
            f"{report.table}: nothing to do; this backfill finished already ({report.rows_updated:,} rows)"
            if report.resumed_from or report.rows_updated
            else f"{report.table}: the table is empty"
        )
        return
    slowest = max((b.seconds for b in report.batches), default=0.0)
    print(
        f"{report.table}: {report.rows_this_run:,} rows updated in {len(report.batches)} batch(es) of up to "
        f"{batch_size:,} keys{since}, {report.seconds:.2f}s, longest batch {slowest * 1000:.0f} ms, "
        f"{report.retries} lock retries"
    )
    if report.finished:
        print(
            f"finished: {report.rows_updated:,} rows updated in all, key order ({', '.join(report.key_columns)})"
        )
    else:
        last = ", ".join(report.last_key or ())
        print(f"stopped after key ({last}); rerun with --resume to continue")
