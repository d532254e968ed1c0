"""Batched backfills by primary-key range: throttled, resumable, each batch its own short transaction.

A one-statement ``UPDATE big SET col = expr`` holds a row lock on every row it touches until it
commits, writes the table's WAL in one burst and loses everything if it is stopped. Here the table is
walked in primary-key order, ``batch_size`` keys at a time: each batch is one UPDATE of the rows whose
key lies in (previous batch's last key, this batch's last key], committed in the same transaction as
its row in ``dbwright.backfill_progress``. A rerun with ``resume`` continues right after the last
committed batch, so no row is updated twice and none is skipped, even for a SET that is not
idempotent (``n = n + 1``). ``lock_timeout`` bounds how long a batch queues behind another lock (and
so how long others queue behind it); a batch that reaches it is rolled back and retried with backoff.
Rows a batch updates stay locked until it commits, so a writer that touches one waits up to the
batch's duration: ``max_batch_s`` shrinks the batches (down to ``MIN_BATCH`` keys) when one takes
longer, and grows them back (up to ``batch_size``) when they are quick.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pglast
from pglast import ast
from pglast.stream import RawStream

from dbwright.engines.base import Connection
from dbwright.engines.postgres import backfill as engine
from dbwright.engines.postgres.advisory_locks import release_named_lock, try_named_lock
from dbwright.engines.postgres.backfill import BatchStatements, Table
from dbwright.engines.postgres.connect import SessionOptions, open_session
from dbwright.engines.postgres.failures import Failure, StatementFailed, failures
from dbwright.errors import DbwrightError, MigrationFailedError, RefusedError, SqlParseError

MIN_BATCH = 100
FIRST_ADAPTIVE_BATCH = 1000
EXACT_COUNT_BELOW = 200_000  # below this many estimated rows, count the keys instead of trusting reltuples
#: Failures after which a batch is simply tried again (it was rolled back whole).
RETRYABLE = (Failure.LOCK_TIMEOUT, Failure.CONFLICT)


@dataclass(frozen=True)
class BackfillOptions:
    batch_size: int = 10_000
    sleep_s: float = 0.05  # pause between batches: room for the application's own writes (and replicas)
    lock_timeout: str = "1s"
    statement_timeout: str = "1min"
    retries: int = 5
    backoff_s: float = 0.2
    resume: bool = False  # continue an interrupted backfill of the same table, SET and WHERE
    restart: bool = False  # forget an interrupted one and start from the first key
    max_batches: int | None = None  # stop (resumably) after this many batches in this run
    max_batch_s: float | None = None  # adapt the batch size so that a batch holds its row locks no longer

    @property
    def first_size(self) -> int:
        """With a time limit, start small and grow: the first batch must not be the slow one."""
        return self.batch_size if self.max_batch_s is None else min(self.batch_size, FIRST_ADAPTIVE_BATCH)

    def next_size(self, size: int, seconds: float) -> int:
        """The next batch's size: halved after a batch slower than max_batch_s, grown after a quick one."""
        if self.max_batch_s is None:
            return self.batch_size
        if seconds > self.max_batch_s:
            return max(min(MIN_BATCH, self.batch_size), size // 2)
        if seconds < self.max_batch_s / 2:
            return min(self.batch_size, size + max(1, size // 2))
        return size

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise RefusedError(f"batch size must be at least 1, not {self.batch_size}")
        if self.sleep_s < 0 or self.retries < 0 or self.backoff_s < 0 or (self.max_batch_s or 0) < 0:
            raise RefusedError("sleep, retries and backoff must not be negative")
        if self.resume and self.restart:
            raise RefusedError("--resume and --restart contradict each other; pass one")


@dataclass(frozen=True)
class Batch:
    number: int  # counted across runs of the same job
    last_key: tuple[str, ...]
    keys: int  # keys walked
    size: int  # keys asked for (the batch size in force)
    rows: int  # rows updated (keys that passed --where)
    seconds: float  # the batch's transaction, retries included
    retries: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "last_key": list(self.last_key),
            "keys": self.keys,
            "size": self.size,
            "rows": self.rows,
            "seconds": round(self.seconds, 4),
            "retries": self.retries,
        }


@dataclass
class BackfillReport:
    job: str
    table: str
    set_sql: str
    where_sql: str | None
    key_columns: tuple[str, ...]
    estimated_keys: int  # keys in the table (done before this run + still to walk), for progress
    keys_done: int = 0  # across runs
    rows_updated: int = 0  # across runs
    resumed_from: tuple[str, ...] | None = None
    batches_before: int = 0  # committed by earlier runs of the job
    batches: list[Batch] = field(default_factory=list)  # this run's
    finished: bool = False
    seconds: float = 0.0

    @property
    def retries(self) -> int:
        return sum(b.retries for b in self.batches)

    @property
    def rows_this_run(self) -> int:
        return sum(b.rows for b in self.batches)

    @property
    def last_key(self) -> tuple[str, ...] | None:
        return self.batches[-1].last_key if self.batches else self.resumed_from

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "table": self.table,
            "set": self.set_sql,
            "where": self.where_sql,
            "key_columns": list(self.key_columns),
            "estimated_keys": self.estimated_keys,
            "keys_done": self.keys_done,
            "rows_updated": self.rows_updated,
            "rows_this_run": self.rows_this_run,
            "batches_before": self.batches_before,
            "retries": self.retries,
            "resumed_from": list(self.resumed_from) if self.resumed_from else None,
            "last_key": list(self.last_key) if self.last_key else None,
            "finished": self.finished,
            "seconds": round(self.seconds, 3),
            "batches": [b.to_dict() for b in self.batches],
        }


Progress = Callable[[BackfillReport, Batch], None]


# --- the user's SQL ----------------------------------------------------------------------------------


def parse_set(text: str) -> tuple[str, tuple[str, ...]]:
    """``col = expr[, …]`` as PostgreSQL deparses it, and the columns it assigns. Anything else is refused."""
    try:
        statements = pglast.parse_sql(f"UPDATE _t SET {text}")
    except pglast.parser.ParseError as error:
        raise SqlParseError(f"--set {text!r} does not parse: {error}") from None
    node = statements[0].stmt if len(statements) == 1 else None
    if (
        not isinstance(node, ast.UpdateStmt)
        or node.whereClause
        or node.fromClause
        or node.returningClause
        or node.withClause
    ):
        raise SqlParseError(
            f"--set {text!r} must be only assignments, such as \"status = 'new'\"; put conditions in --where"
        )
    deparsed = RawStream()(node)
    prefix = "UPDATE _t SET "
    assert deparsed.startswith(prefix), deparsed
    columns = tuple(target.name for target in node.targetList)
    return deparsed[len(prefix) :], columns


def parse_where(text: str | None) -> str | None:
    """A boolean expression, deparsed whole so that it cannot reach outside the parentheses it is put in."""
    if text is None or not text.strip():
        return None
    try:
        statements = pglast.parse_sql(f"SELECT 1 WHERE {text}")
    except pglast.parser.ParseError as error:
        raise SqlParseError(f"--where {text!r} does not parse: {error}") from None
    node = statements[0].stmt if len(statements) == 1 else None
    if (
        not isinstance(node, ast.SelectStmt)
        or node.fromClause
        or node.groupClause
        or node.havingClause
        or node.sortClause
        or node.limitCount
        or node.limitOffset
        or node.whereClause is None
    ):
        raise SqlParseError(f'--where {text!r} must be one boolean expression, such as "status IS NULL"')
    return RawStream()(node.whereClause)


def job_id(table: str, set_sql: str, where_sql: str | None) -> str:
    """The same table, SET and WHERE are the same job: that is what --resume continues."""
    return hashlib.sha256(f"{table}\n{set_sql}\n{where_sql or ''}".encode()).hexdigest()[:16]


# --- running -----------------------------------------------------------------------------------------


def backfill(
    target: str | None,
    table: str,
    set_sql: str,
    where: str | None = None,
    options: BackfillOptions | None = None,
    progress: Progress | None = None,
) -> BackfillReport:
    """Run (or resume) the backfill ``UPDATE table SET set_sql WHERE where`` batch by batch."""
    options = options or BackfillOptions()
    assignments, assigned = parse_set(set_sql)
    condition = parse_where(where)
    session = SessionOptions(
        read_only=False,
        statement_timeout=options.statement_timeout,
        lock_timeout=options.lock_timeout,
        application_name="dbwright backfill",
    )
    started = time.monotonic()
    with open_session(target, session) as conn:
        try:
            with failures(conn):
                report = _run(conn, table, assignments, assigned, condition, options, progress)
        except StatementFailed as error:
            if error.failure is not Failure.CONNECTION_LOST:
                raise
            raise MigrationFailedError(
                f"backfill of {table} lost the server ({error.message}); every "
                "committed batch is recorded: rerun with --resume to continue"
            ) from None
    report.seconds = time.monotonic() - started
    return report


def _run(
    conn: Connection,
    table_name: str,
    assignments: str,
    assigned: tuple[str, ...],
    condition: str | None,
    options: BackfillOptions,
    progress: Progress | None,
) -> BackfillReport:
    table = engine.resolve_table(conn, table_name)
    keys = {c for c, _ in table.key}
    if keys & set(assigned):
        raise RefusedError(
            f"--set assigns the primary key ({', '.join(sorted(keys & set(assigned)))}) that the "
            "backfill walks by; that is not a backfill"
        )
    job = job_id(table.qualified, assignments, condition)
    statements = BatchStatements(table, assignments, condition)
    with _job_lock(conn, job, table.qualified):
        engine.ensure_progress_table(conn)
        report = _start(conn, job, table, assignments, condition, options, statements)
        last = report.resumed_from
        size = options.first_size
        while options.max_batches is None or len(report.batches) < options.max_batches:
            if report.batches and options.sleep_s:
                time.sleep(options.sleep_s)
            batch = _batch(conn, job, statements, last, size, report, options)
            if batch is None:
                engine.finish_job(conn, job)
                report.finished = True
                break
            report.batches.append(batch)
            report.keys_done += batch.keys
            report.rows_updated += batch.rows
            report.estimated_keys = max(report.estimated_keys, report.keys_done)
            last = batch.last_key
            size = options.next_size(size, batch.seconds)
            if progress:
                progress(report, batch)
    return report


@contextmanager
def _job_lock(conn: Connection, job: str, table: str) -> Iterator[None]:
    """One run per job at a time: a second run of the same backfill is refused, not interleaved."""
    name = f"dbwright backfill {job}"
    if not try_named_lock(conn, name):
        raise RefusedError(f"the same backfill of {table} is already running in another session")
    try:
        yield
    finally:
        release_named_lock(conn, name)


def _start(
    conn: Connection,
    job: str,
    table: Table,
    assignments: str,
    condition: str | None,
    options: BackfillOptions,
    statements: BatchStatements,
) -> BackfillReport:
    """Pick up, refuse or reset this job's progress row; estimate the keys still to walk."""
    report = BackfillReport(job, table.qualified, assignments, condition, table.key_columns, 0)
    row = engine.progress_of(conn, job)
    continuing = False
    if row is not None:
        if not row.finished and row.batches > 0 and not (options.resume or options.restart):
            raise RefusedError(
                f"a backfill of {table.qualified} with the same SET and WHERE stopped after {row.batches} "
                f"batch(es) at key ({', '.join(row.last_key or ())}); pass --resume to continue it or "
                "--restart to start over"
            )
        if options.resume and (not row.finished or row.batches == 0):
            continuing = True
            report.resumed_from = row.last_key
            report.keys_done, report.rows_updated = row.keys_done, row.rows_updated
            report.batches_before = row.batches
        elif options.resume:  # finished already: nothing to do
            report.keys_done = report.estimated_keys = row.keys_done
            report.rows_updated = row.rows_updated
            report.finished = True
            report.resumed_from = row.last_key
    if report.finished:
        return report
    if not continuing:
        engine.start_job(conn, job, table, assignments, condition)
    report.estimated_keys = _estimated_keys(conn, table, statements, report)
    return report


def _estimated_keys(
    conn: Connection, table: Table, statements: BatchStatements, report: BackfillReport
) -> int:
    """All the keys, walked or not: counted on small tables, the planner's estimate on large ones."""
    if table.reltuples >= EXACT_COUNT_BELOW:
        return max(int(table.reltuples), report.keys_done)  # the bar's total grows if the estimate was low
    return report.keys_done + engine.count_keys(conn, statements, report.resumed_from)


def _batch(
    conn: Connection,
    job: str,
    statements: BatchStatements,
    last: tuple[str, ...] | None,
    size: int,
    report: BackfillReport,
    options: BackfillOptions,
) -> Batch | None:
    """One batch in one transaction with its progress row; retried with backoff after a lock timeout."""
    number = report.batches_before + len(report.batches) + 1
    retries = 0
    started = time.monotonic()
    while True:
        try:
            walked = engine.run_batch(conn, job, statements, last, size)
            if walked is None:
                return None
            upper, keys, rows = walked
            return Batch(number, upper, keys, size, rows, time.monotonic() - started, retries)
        except StatementFailed as error:
            if error.failure in RETRYABLE and retries < options.retries:
                pause = options.backoff_s * (2**retries) * random.uniform(0.8, 1.2)
                retries += 1
                time.sleep(pause)
                continue
            raise _batch_failed(error, number, retries, report, options) from None


def _batch_failed(
    error: StatementFailed, number: int, retries: int, report: BackfillReport, options: BackfillOptions
) -> DbwrightError:
    """What a batch's failure means for the run, in one line (a lost server is told by backfill())."""
    if error.failure in RETRYABLE:
        return MigrationFailedError(
            f"backfill of {report.table}: batch {number} failed {retries + 1} times "
            f"({error.message}); {len(report.batches)} batch(es) of this run are committed: "
            "rerun with --resume to continue"
        )
    if error.failure is Failure.STATEMENT_TIMEOUT:
        return MigrationFailedError(
            f"backfill of {report.table}: batch {number} reached statement_timeout {options.statement_timeout}; "
            "use a smaller --batch-size, then --resume"
        )
    if error.failure is Failure.CONNECTION_LOST:
        return error
    return MigrationFailedError(
        f"backfill of {report.table}: batch {number} failed: {error.message}; nothing of it was applied"
    )
