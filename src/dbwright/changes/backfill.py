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
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import pglast
import psycopg
from pglast import ast
from pglast.stream import RawStream
from psycopg import sql

from dbwright.engines.postgres.connect import SessionOptions, open_session
from dbwright.errors import MigrationFailedError, RefusedError, SqlParseError
from dbwright.redact import redact

SCHEMA = "dbwright"
PROGRESS_TABLE = f"{SCHEMA}.backfill_progress"
MIN_BATCH = 100
FIRST_ADAPTIVE_BATCH = 1000
EXACT_COUNT_BELOW = 200_000  # below this many estimated rows, count the keys instead of trusting reltuples
RETRYABLE = (
    psycopg.errors.LockNotAvailable,
    psycopg.errors.DeadlockDetected,
    psycopg.errors.SerializationFailure,
)

CREATE_PROGRESS = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (
    job text PRIMARY KEY,
    table_name text NOT NULL,
    set_sql text NOT NULL,
    where_sql text,
    key_columns text[] NOT NULL,
    last_key text[],
    batches integer NOT NULL DEFAULT 0,
    keys_done bigint NOT NULL DEFAULT 0,
    rows_updated bigint NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
)"""


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


# --- the table ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    oid: int
    schema: str
    name: str
    key: tuple[tuple[str, str], ...]  # (column, type) of the primary key, in key order
    reltuples: float

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)


def resolve_table(conn: psycopg.Connection, name: str) -> Table:
    try:
        row = conn.execute(
            "SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)",
            (name,),
        ).fetchone()
    except psycopg.errors.InvalidName as error:
        raise RefusedError(f"--table {name!r} is not a table name: {_first_line(error)}") from None
    if row is None:
        raise RefusedError(f"table {name} does not exist (or is not on the search_path)")
    oid, schema, relname, relkind, reltuples = row
    if relkind not in ("r", "p"):
        raise RefusedError(f"{schema}.{relname} is not a table")
    key = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_index i"
        " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
        " WHERE i.indrelid = %s AND i.indisprimary ORDER BY k.ord",
        (oid,),
    ).fetchall()
    if not key:
        raise RefusedError(
            f"{schema}.{relname} has no primary key: backfill walks the table in primary-key "
            "order (add one, or backfill by hand)"
        )
    return Table(oid, schema, relname, tuple((c, t) for c, t in key), float(reltuples))


class _Statements:
    """The two statements of a batch, composed once: find the batch's last key; update its range."""

    def __init__(self, table: Table, set_sql: str, where_sql: str | None) -> None:
        cols = [sql.Identifier(c) for c, _ in table.key]
        key_list = sql.SQL(", ").join(cols)
        self.key_row = sql.SQL("({})").format(key_list)
        self.param_row = sql.SQL("({})").format(
            sql.SQL(", ").join(sql.SQL("%s::{}").format(sql.SQL(t)) for _, t in table.key)
        )
        as_text = sql.SQL(", ").join(sql.SQL("{}::text").format(c) for c in cols)
        order = sql.SQL(", ").join(cols)
        # qualified: a bare name in ORDER BY would mean the text output column of the same name
        desc = sql.SQL(", ").join(sql.SQL("{} DESC").format(sql.Identifier("s", c)) for c, _ in table.key)
        after = sql.SQL("WHERE {} > {}").format(self.key_row, self.param_row)
        self.bound_first = sql.SQL(
            "SELECT {as_text}, count(*) OVER () FROM (SELECT {keys} FROM {t} ORDER BY {order} LIMIT %s) s"
            " ORDER BY {desc} LIMIT 1"
        ).format(as_text=as_text, keys=key_list, t=table.ident, order=order, desc=desc)
        self.bound_after = sql.SQL(
            "SELECT {as_text}, count(*) OVER () FROM (SELECT {keys} FROM {t} {after} ORDER BY {order} LIMIT %s) s"
            " ORDER BY {desc} LIMIT 1"
        ).format(as_text=as_text, keys=key_list, t=table.ident, after=after, order=order, desc=desc)
        condition = sql.SQL(" AND ({})").format(sql.SQL(where_sql)) if where_sql else sql.SQL("")
        upto = sql.SQL("{} <= {}").format(self.key_row, self.param_row)
        self.update_first = sql.SQL("UPDATE {t} SET {set} WHERE {upto}{cond}").format(
            t=table.ident, set=sql.SQL(set_sql), upto=upto, cond=condition
        )
        self.update_after = sql.SQL("UPDATE {t} SET {set} WHERE {row} > {p} AND {upto}{cond}").format(
            t=table.ident, set=sql.SQL(set_sql), row=self.key_row, p=self.param_row, upto=upto, cond=condition
        )
        self.count_after = sql.SQL("SELECT count(*) FROM {t} {after}").format(t=table.ident, after=after)
        self.count_all = sql.SQL("SELECT count(*) FROM {t}").format(t=table.ident)


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
            report = _run(conn, table, assignments, assigned, condition, options, progress)
        except psycopg.OperationalError as error:
            raise MigrationFailedError(
                f"backfill of {table} lost the server ({_first_line(error)}); every "
                "committed batch is recorded: rerun with --resume to continue"
            ) from None
    report.seconds = time.monotonic() - started
    return report


def _run(
    conn: psycopg.Connection,
    table_name: str,
    assignments: str,
    assigned: tuple[str, ...],
    condition: str | None,
    options: BackfillOptions,
    progress: Progress | None,
) -> BackfillReport:
    table = resolve_table(conn, table_name)
    keys = {c for c, _ in table.key}
    if keys & set(assigned):
        raise RefusedError(
            f"--set assigns the primary key ({', '.join(sorted(keys & set(assigned)))}) that the "
            "backfill walks by; that is not a backfill"
        )
    job = job_id(table.qualified, assignments, condition)
    statements = _Statements(table, assignments, condition)
    with _job_lock(conn, job, table.qualified):
        _ensure_progress_table(conn)
        report = _start(conn, job, table, assignments, condition, options, statements)
        last = report.resumed_from
        size = options.first_size
        while options.max_batches is None or len(report.batches) < options.max_batches:
            if report.batches and options.sleep_s:
                time.sleep(options.sleep_s)
            batch = _batch(conn, job, statements, last, size, report, options)
            if batch is None:
                conn.execute(
                    f"UPDATE {PROGRESS_TABLE} SET finished_at = now(), updated_at = now() WHERE job = %s",
                    (job,),
                )
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
def _job_lock(conn: psycopg.Connection, job: str, table: str) -> Iterator[None]:
    """One run per job at a time: a second run of the same backfill is refused, not interleaved."""
    key = "SELECT {}(hashtextextended('dbwright backfill ' || %s, 0))"
    if not conn.execute(key.format("pg_try_advisory_lock"), (job,)).fetchone()[0]:
        raise RefusedError(f"the same backfill of {table} is already running in another session")
    try:
        yield
    finally:
        if not conn.closed:
            with suppress(psycopg.Error):  # the session ends right after; the server releases it then
                conn.execute(key.format("pg_advisory_unlock"), (job,))


def _ensure_progress_table(conn: psycopg.Connection) -> None:
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (PROGRESS_TABLE,)).fetchone()[0]
    if not exists:
        with conn.transaction():
            conn.execute(CREATE_PROGRESS)


def _start(
    conn: psycopg.Connection,
    job: str,
    table: Table,
    assignments: str,
    condition: str | None,
    options: BackfillOptions,
    statements: _Statements,
) -> BackfillReport:
    """Pick up, refuse or reset this job's progress row; estimate the keys still to walk."""
    report = BackfillReport(job, table.qualified, assignments, condition, tuple(c for c, _ in table.key), 0)
    row = conn.execute(
        f"SELECT last_key, batches, keys_done, rows_updated, finished_at FROM {PROGRESS_TABLE}"
        " WHERE job = %s",
        (job,),
    ).fetchone()
    continuing = False
    if row is not None:
        last_key, batches, keys_done, rows_updated, finished_at = row
        if finished_at is None and batches > 0 and not (options.resume or options.restart):
            raise RefusedError(
                f"a backfill of {table.qualified} with the same SET and WHERE stopped after {batches} "
                f"batch(es) at key ({', '.join(last_key)}); pass --resume to continue it or "
                "--restart to start over"
            )
        if options.resume and (finished_at is None or batches == 0):
            continuing = True
            report.resumed_from = tuple(last_key) if last_key else None
            report.keys_done, report.rows_updated = keys_done, rows_updated
            report.batches_before = batches
        elif options.resume:  # finished already: nothing to do
            report.keys_done = report.estimated_keys = keys_done
            report.rows_updated = rows_updated
            report.finished = True
            report.resumed_from = tuple(last_key) if last_key else None
    if report.finished:
        return report
    if not continuing:
        with conn.transaction():
            conn.execute(f"DELETE FROM {PROGRESS_TABLE} WHERE job = %s", (job,))
            conn.execute(
                f"INSERT INTO {PROGRESS_TABLE} (job, table_name, set_sql, where_sql, key_columns)"
                " VALUES (%s, %s, %s, %s, %s)",
                (job, table.qualified, assignments, condition, [c for c, _ in table.key]),
            )
    report.estimated_keys = _estimated_keys(conn, table, statements, report)
    return report


def _estimated_keys(
    conn: psycopg.Connection, table: Table, statements: _Statements, report: BackfillReport
) -> int:
    """All the keys, walked or not: counted on small tables, the planner's estimate on large ones."""
    if table.reltuples >= EXACT_COUNT_BELOW:
        return max(int(table.reltuples), report.keys_done)  # the bar's total grows if the estimate was low
    if report.resumed_from is None:
        return report.keys_done + conn.execute(statements.count_all).fetchone()[0]
    return report.keys_done + conn.execute(statements.count_after, list(report.resumed_from)).fetchone()[0]


def _batch(
    conn: psycopg.Connection,
    job: str,
    statements: _Statements,
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
            with conn.transaction():
                if last is None:
                    bound = conn.execute(statements.bound_first, (size,)).fetchone()
                else:
                    bound = conn.execute(statements.bound_after, [*last, size]).fetchone()
                if bound is None:
                    return None
                upper, keys = tuple(bound[:-1]), bound[-1]
                if last is None:
                    cur = conn.execute(statements.update_first, list(upper))
                else:
                    cur = conn.execute(statements.update_after, [*last, *upper])
                rows = cur.rowcount
                conn.execute(
                    f"UPDATE {PROGRESS_TABLE} SET last_key = %s, batches = batches + 1,"
                    " keys_done = keys_done + %s, rows_updated = rows_updated + %s, updated_at = now()"
                    " WHERE job = %s",
                    (list(upper), keys, rows, job),
                )
            return Batch(number, upper, keys, size, rows, time.monotonic() - started, retries)
        except RETRYABLE as error:
            if retries >= options.retries:
                raise MigrationFailedError(
                    f"backfill of {report.table}: batch {number} failed {retries + 1} times "
                    f"({_first_line(error)}); {len(report.batches)} batch(es) of this run are committed: "
                    "rerun with --resume to continue"
                ) from None
            pause = options.backoff_s * (2**retries) * random.uniform(0.8, 1.2)
            retries += 1
            time.sleep(pause)
        except psycopg.errors.QueryCanceled:
            raise MigrationFailedError(
                f"backfill of {report.table}: batch {number} reached statement_timeout {options.statement_timeout}; "
                "use a smaller --batch-size, then --resume"
            ) from None
        except psycopg.OperationalError:
            raise
        except psycopg.Error as error:
            raise MigrationFailedError(
                f"backfill of {report.table}: batch {number} failed: {_first_line(error)}; "
                "nothing of it was applied"
            ) from None


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return redact(lines[0] if lines else type(error).__name__)
