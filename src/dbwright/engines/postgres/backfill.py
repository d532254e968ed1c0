"""A backfill's SQL on PostgreSQL: the table's primary key, the progress table, one batch's transaction.

The walk itself (batch sizes, retries, resuming, reporting) is generic, in
:mod:`dbwright.changes.backfill`; here is what it asks the server. Errors leave as
:class:`~dbwright.engines.postgres.failures.StatementFailed`.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from dbwright.engines.base import Connection
from dbwright.engines.postgres.failures import statement_failed
from dbwright.engines.postgres.migration_history import SCHEMA
from dbwright.errors import RefusedError
from dbwright.redact import redact

PROGRESS_TABLE = f"{SCHEMA}.backfill_progress"

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
    def key_columns(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.key)


@dataclass(frozen=True)
class Progress:
    """A job's row in the progress table."""

    last_key: tuple[str, ...] | None
    batches: int
    keys_done: int
    rows_updated: int
    finished: bool


def resolve_table(conn: Connection, name: str) -> Table:
    """The table ``name`` (as the search_path resolves it) and its primary key; refused without one."""
    try:
        row = conn.execute(
            "SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)",
            (name,),
        ).fetchone()
    except psycopg.errors.InvalidName as error:
        lines = str(error).strip().splitlines()
        reason = redact(lines[0] if lines else type(error).__name__)
        raise RefusedError(f"--table {name!r} is not a table name: {reason}") from None
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


class BatchStatements:
    """The statements of a batch, composed once: find the batch's last key; update its range; count."""

    def __init__(self, table: Table, set_sql: str, where_sql: str | None) -> None:
        ident = sql.Identifier(table.schema, table.name)
        cols = [sql.Identifier(c) for c, _ in table.key]
        key_list = sql.SQL(", ").join(cols)
        key_row = sql.SQL("({})").format(key_list)
        param_row = sql.SQL("({})").format(
            sql.SQL(", ").join(sql.SQL("%s::{}").format(sql.SQL(t)) for _, t in table.key)
        )
        as_text = sql.SQL(", ").join(sql.SQL("{}::text").format(c) for c in cols)
        order = sql.SQL(", ").join(cols)
        # qualified: a bare name in ORDER BY would mean the text output column of the same name
        desc = sql.SQL(", ").join(sql.SQL("{} DESC").format(sql.Identifier("s", c)) for c, _ in table.key)
        after = sql.SQL("WHERE {} > {}").format(key_row, param_row)
        self.bound_first = sql.SQL(
            "SELECT {as_text}, count(*) OVER () FROM (SELECT {keys} FROM {t} ORDER BY {order} LIMIT %s) s"
            " ORDER BY {desc} LIMIT 1"
        ).format(as_text=as_text, keys=key_list, t=ident, order=order, desc=desc)
        self.bound_after = sql.SQL(
            "SELECT {as_text}, count(*) OVER () FROM (SELECT {keys} FROM {t} {after} ORDER BY {order} LIMIT %s) s"
            " ORDER BY {desc} LIMIT 1"
        ).format(as_text=as_text, keys=key_list, t=ident, after=after, order=order, desc=desc)
        condition = sql.SQL(" AND ({})").format(sql.SQL(where_sql)) if where_sql else sql.SQL("")
        upto = sql.SQL("{} <= {}").format(key_row, param_row)
        self.update_first = sql.SQL("UPDATE {t} SET {set} WHERE {upto}{cond}").format(
            t=ident, set=sql.SQL(set_sql), upto=upto, cond=condition
        )
        self.update_after = sql.SQL("UPDATE {t} SET {set} WHERE {row} > {p} AND {upto}{cond}").format(
            t=ident, set=sql.SQL(set_sql), row=key_row, p=param_row, upto=upto, cond=condition
        )
        self.count_after = sql.SQL("SELECT count(*) FROM {t} {after}").format(t=ident, after=after)
        self.count_all = sql.SQL("SELECT count(*) FROM {t}").format(t=ident)


def ensure_progress_table(conn: Connection) -> None:
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (PROGRESS_TABLE,)).fetchone()[0]
    if not exists:
        with conn.transaction():
            conn.execute(CREATE_PROGRESS)


def progress_of(conn: Connection, job: str) -> Progress | None:
    row = conn.execute(
        f"SELECT last_key, batches, keys_done, rows_updated, finished_at FROM {PROGRESS_TABLE} WHERE job = %s",
        (job,),
    ).fetchone()
    if row is None:
        return None
    last_key, batches, keys_done, rows_updated, finished_at = row
    return Progress(
        tuple(last_key) if last_key else None, batches, keys_done, rows_updated, finished_at is not None
    )


def start_job(conn: Connection, job: str, table: Table, set_sql: str, where_sql: str | None) -> None:
    """A fresh progress row for ``job``, replacing any earlier one."""
    with conn.transaction():
        conn.execute(f"DELETE FROM {PROGRESS_TABLE} WHERE job = %s", (job,))
        conn.execute(
            f"INSERT INTO {PROGRESS_TABLE} (job, table_name, set_sql, where_sql, key_columns)"
            " VALUES (%s, %s, %s, %s, %s)",
            (job, table.qualified, set_sql, where_sql, list(table.key_columns)),
        )


def finish_job(conn: Connection, job: str) -> None:
    conn.execute(
        f"UPDATE {PROGRESS_TABLE} SET finished_at = now(), updated_at = now() WHERE job = %s", (job,)
    )


def count_keys(conn: Connection, statements: BatchStatements, after: tuple[str, ...] | None) -> int:
    """Keys in the table, or only those after ``after``."""
    if after is None:
        return conn.execute(statements.count_all).fetchone()[0]
    return conn.execute(statements.count_after, list(after)).fetchone()[0]


def run_batch(
    conn: Connection, job: str, statements: BatchStatements, last: tuple[str, ...] | None, size: int
) -> tuple[tuple[str, ...], int, int] | None:
    """One batch in one transaction with its progress row: (last key, keys walked, rows updated).

    None when no key is left after ``last``. A failure rolls the whole batch back and leaves
    as a StatementFailed.
    """
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
    except psycopg.Error as error:
        raise statement_failed(error, conn) from None
    return upper, keys, rows
