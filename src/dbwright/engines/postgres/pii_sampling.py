"""A bounded sample of column values: TABLESAMPLE with a row limit, under a statement_timeout.

The sample is read in a read-only session. Large tables use ``TABLESAMPLE SYSTEM`` (whole
pages, cheap), middling ones ``BERNOULLI`` (row by row, less clustered), small or never
analysed ones a plain ``LIMIT``; every query also has ``LIMIT`` so the row bound holds
whatever the estimate says. A table that times out, or whose values the session may not read,
is reported as skipped, not fatal; any other server failure raises ServerError. The values go
to ``dbwright.audit.pii.classify``, which reports them masked only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from dbwright.engines.base import Connection
from dbwright.engines.postgres.query_errors import translate

#: Types whose values are worth reading; others (bool, uuid, float, bytea, json) are judged by name only.
SAMPLED_TYPES = {
    "text",
    "character varying",
    "character",
    "citext",
    "name",
    "bigint",
    "numeric",
    "integer",
    "date",
    "timestamp without time zone",
    "timestamp with time zone",
    "inet",
    "cidr",
}
SYSTEM_SAMPLE_ABOVE_ROWS = 1_000_000
DEFAULT_SAMPLE_ROWS = 1000
DEFAULT_TABLE_TIMEOUT = "5s"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    sampled: bool


@dataclass(frozen=True)
class TableInfo:
    schema: str
    name: str
    row_estimate: float  # -1 when never analysed
    columns: tuple[Column, ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class TableSample:
    table: TableInfo
    method: str  # "SYSTEM (p)", "BERNOULLI (p)" or "LIMIT"
    rows: int
    values: dict[str, list[str]]  # column -> non-null values as text
    skipped: str | None = None


_TABLES = """
SELECT n.nspname, c.relname, c.reltuples,
       array_agg(a.attname ORDER BY a.attnum), array_agg(format_type(a.atttypid, NULL) ORDER BY a.attnum)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
  AND n.nspname NOT LIKE 'pg\\_%%' AND n.nspname <> 'information_schema'
  AND (cardinality(%(schemas)s::text[]) = 0 OR n.nspname = ANY(%(schemas)s))
GROUP BY n.nspname, c.relname, c.reltuples
ORDER BY 1, 2
"""


@translate
def list_tables(conn: Connection, schemas: Sequence[str] = ()) -> list[TableInfo]:
    tables = []
    for schema, name, reltuples, names, types in conn.execute(_TABLES, {"schemas": list(schemas)}):
        columns = tuple(Column(n, t, t in SAMPLED_TYPES) for n, t in zip(names, types, strict=True))
        tables.append(TableInfo(schema, name, float(reltuples), columns))
    return tables


def sampling_method(row_estimate: float, limit: int) -> tuple[str, float | None]:
    """Which TABLESAMPLE to use and its percentage, aiming at about twice the row limit."""
    if row_estimate <= 0 or row_estimate <= limit * 2:
        return "LIMIT", None
    percent = min(100.0, round(100.0 * limit * 2 / row_estimate, 4))
    return ("SYSTEM" if row_estimate > SYSTEM_SAMPLE_ABOVE_ROWS else "BERNOULLI"), percent


@translate
def sample_table(
    conn: Connection,
    table: TableInfo,
    limit: int = DEFAULT_SAMPLE_ROWS,
    timeout: str = DEFAULT_TABLE_TIMEOUT,
) -> TableSample:
    columns = [c for c in table.columns if c.sampled]
    if not columns:
        return TableSample(table, "none", 0, {})
    method, percent = sampling_method(table.row_estimate, limit)
    source = sql.SQL("{}.{}").format(sql.Identifier(table.schema), sql.Identifier(table.name))
    if percent is not None:
        source = sql.SQL("{} TABLESAMPLE {} ({})").format(source, sql.SQL(method), sql.Literal(percent))
    select = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c.name)) for c in columns)
    query = sql.SQL("SELECT {} FROM {} LIMIT {}").format(select, source, sql.Literal(limit))
    label = method if percent is None else f"{method} ({percent}%)"
    try:
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(timeout)))
            rows = conn.execute(query).fetchall()
    except psycopg.errors.QueryCanceled:
        return TableSample(table, label, 0, {}, skipped=f"sample exceeded the {timeout} time limit")
    except psycopg.errors.InsufficientPrivilege as error:
        reason = str(error).splitlines()[0] if str(error) else "permission denied"
        return TableSample(table, label, 0, {}, skipped=f"no privilege to read values ({reason})")
    values = {c.name: [row[i] for row in rows if row[i] is not None] for i, c in enumerate(columns)}
    return TableSample(table, label, len(rows), values)


def sample_database(
    conn: Connection,
    schemas: Sequence[str] = (),
    limit: int = DEFAULT_SAMPLE_ROWS,
    timeout: str = DEFAULT_TABLE_TIMEOUT,
) -> Iterator[TableSample]:
    for table in list_tables(conn, schemas):
        yield sample_table(conn, table, limit, timeout)


@translate
def database_name(conn: Connection) -> str:
    """The database the session is connected to, as the server names it."""
    return conn.execute("SELECT current_database()").fetchone()[0]
