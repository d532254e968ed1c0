"""Partitioning advice for large, time-ordered, append-heavy tables.

Evidence, all from the catalog and one min/max query: a timestamp column whose physical order
follows time (``pg_stats.correlation``), inserts that dwarf updates and deletes
(``pg_stat_user_tables``), and range predicates on that column in the workload
(``pg_stat_statements``). The proposal is declarative range partitioning with an interval
giving at most ``MAX_PARTITIONS`` partitions over today's data, partitions made ahead, retention
by detaching and dropping old partitions, and a migration: new partitioned table, a batched
copy (one committed batch per partition), then a short locked tail copy and a rename swap.
"""

from __future__ import annotations

import datetime as dt
import re

from dbwright.advisors.design.context import TableInfo
from dbwright.advisors.design.proposal import Proposal
from dbwright.engines.base import Connection
from dbwright.engines.postgres.design_confirm import value_bounds
from dbwright.model import Snapshot
from dbwright.model.operations import Lock, RawSQL, ident, qident
from dbwright.model.package import ChangePackage

DEFAULT_MIN_ROWS = 1_000_000
MIN_CORRELATION = 0.9
#: Updates plus deletes per insert at most this share: the table is append-heavy.
MAX_CHANGE_SHARE = 0.05
MAX_PARTITIONS = 60
PREMADE = 3  # partitions made ahead of the newest data
TIME_TYPES = {"timestamp", "timestamptz", "date"}
INTERVALS = (
    ("day", dt.timedelta(days=1)),
    ("week", dt.timedelta(days=7)),
    ("month", dt.timedelta(days=31)),
    ("year", dt.timedelta(days=366)),
)


def time_column(info: TableInfo) -> tuple[str, float] | None:
    """The time column whose order best follows the table's physical order."""
    best = None
    for column in info.columns:
        stats = column.stats
        if (
            column.type_name in TIME_TYPES
            and stats
            and stats.correlation is not None
            and abs(stats.correlation) >= MIN_CORRELATION
            and (best is None or abs(stats.correlation) > best[1])
        ):
            best = (column.name, abs(stats.correlation))
    return best


def change_share(info: TableInfo) -> float | None:
    t = info.table
    if not t.n_tup_ins:
        return None
    return ((t.n_tup_upd or 0) + (t.n_tup_del or 0)) / t.n_tup_ins


def range_queries(snap: Snapshot, info: TableInfo, column: str) -> list[dict]:
    """Workload statements naming the table and comparing the column by range."""
    found = []
    pattern = re.compile(rf"\b{re.escape(column)}\b\s*(<|>|between\b)", re.IGNORECASE)
    for s in snap.workload_statements():
        if re.search(rf"\b{re.escape(info.table.name)}\b", s.query) and pattern.search(s.query):
            found.append({"query": s.query[:200], "calls": s.calls, "total_ms": round(s.total_ms, 1)})
    return sorted(found, key=lambda q: -q["total_ms"])[:5]


def _truncate(value: dt.datetime, unit: str) -> dt.datetime:
    value = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return value - dt.timedelta(days=value.weekday())
    if unit == "month":
        return value.replace(day=1)
    if unit == "year":
        return value.replace(month=1, day=1)
    return value


def _next(value: dt.datetime, unit: str) -> dt.datetime:
    if unit == "day":
        return value + dt.timedelta(days=1)
    if unit == "week":
        return value + dt.timedelta(days=7)
    if unit == "month":
        return (value.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return value.replace(year=value.year + 1)


def choose_interval(low: dt.datetime, high: dt.datetime) -> str:
    span = high - low
    for unit, length in INTERVALS:
        if span / length <= MAX_PARTITIONS:
            return unit
    return "year"


def bounds(low: dt.datetime, high: dt.datetime, unit: str) -> list[tuple[dt.datetime, dt.datetime]]:
    start, ranges = _truncate(low, unit), []
    while start <= high or len(ranges) == 0:
        ranges.append((start, _next(start, unit)))
        start = _next(start, unit)
    for _ in range(PREMADE):
        ranges.append((start, _next(start, unit)))
        start = _next(start, unit)
    return ranges


def _as_datetime(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
    return dt.datetime(value.year, value.month, value.day)


def _literal(value: dt.datetime, type_name: str) -> str:
    if type_name == "date":
        return f"'{value:%Y-%m-%d}'"
    return f"'{value:%Y-%m-%d %H:%M:%S}{'+00' if type_name == 'timestamptz' else ''}'"


_PARTMAN_INTERVALS = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}
_INDEX_TARGET = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ ")


def plan(
    conn: Connection, snap: Snapshot, info: TableInfo, rows: int, min_rows: int = DEFAULT_MIN_ROWS
) -> Proposal | None:
    if rows < min_rows or info.table.is_partition:
        return None
    found = time_column(info)
    share = change_share(info)
    if found is None or share is None or share > MAX_CHANGE_SHARE:
        return None
    if any(c.generated for c in info.columns):
        return None  # INSERT … SELECT * cannot copy generated columns
    column, correlation = found
    col = info.column(column)
    low, high, nulls = value_bounds(conn, info.qname, column)
    if low is None:
        return None
    low, high = _as_datetime(low), _as_datetime(high)
    unit = choose_interval(low, high)
    ranges = bounds(low, high, unit)
    table, schema, name = info.qname, info.table.schema, info.table.name
    new = f"{schema}.{(name + '_partitioned')[:63]}"
    old = f"{name}_unpartitioned"[:63]
    c = ident(column)
    ops: list = [
        RawSQL(
            f"CREATE TABLE {qident(new)} (LIKE {qident(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            f"INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE ({c});",
            f"DROP TABLE IF EXISTS {qident(new)};",
        )
    ]
    notes = []
    if info.primary_key:
        key = list(info.primary_key) + ([column] if column not in info.primary_key else [])
        ops.append(RawSQL(f"ALTER TABLE {qident(new)} ADD PRIMARY KEY ({', '.join(ident(k) for k in key)});"))
        if column not in info.primary_key:
            notes.append(
                f"The primary key becomes ({', '.join(key)}): a partitioned table's unique keys must "
                "include the partition key."
            )
    for index in snap.indexes_of(table):
        if index.primary or index.constraint:
            continue
        if index.unique and column not in index.columns:
            notes.append(f"Unique index {index.name} does not include {column} and cannot be kept as is.")
            continue
        match = _INDEX_TARGET.match(index.definition)
        if match:
            ops.append(
                RawSQL(
                    f"CREATE {match.group(1) or ''}INDEX ON {qident(new)} {index.definition[match.end() :]};"
                )
            )
    partitions = []
    for start, end in ranges:
        part = f"{schema}.{name}_p{start:%Y%m%d}"
        partitions.append((part, start, end))
        ops.append(
            RawSQL(
                f"CREATE TABLE {qident(part)} PARTITION OF {qident(new)} FOR VALUES FROM "
                f"({_literal(start, col.type_name)}) TO ({_literal(end, col.type_name)});"
            )
        )
    if nulls:
        ops.append(
            RawSQL(f"CREATE TABLE {qident(f'{schema}.{name}_pdefault')} PARTITION OF {qident(new)} DEFAULT;")
        )
    tail_from = next(s for _, s, e in partitions if s <= high < e)
    for _part, start, end in partitions:
        if start >= tail_from:
            break
        ops.append(
            RawSQL(
                f"INSERT INTO {qident(new)} SELECT * FROM {qident(table)} WHERE {c} >= "
                f"{_literal(start, col.type_name)} AND {c} < {_literal(end, col.type_name)};",
                lock_=Lock("ACCESS SHARE", table),
                scans_=True,
                starts_transaction_=True,
                table_bytes=info.table.heap_bytes // max(len(partitions) - PREMADE, 1),
            )
        )
    tail = f"{c} >= {_literal(tail_from, col.type_name)}" + (f" OR {c} IS NULL" if nulls else "")
    ops.append(
        RawSQL(
            f"LOCK TABLE {qident(table)} IN EXCLUSIVE MODE; "
            f"INSERT INTO {qident(new)} SELECT * FROM {qident(table)} WHERE {tail}; "
            f"ALTER TABLE {qident(table)} RENAME TO {ident(old)}; "
            f"ALTER TABLE {qident(new)} RENAME TO {ident(name)};",
            f"ALTER TABLE {qident(table)} RENAME TO {ident(new.split('.', 1)[1])}; "
            f"ALTER TABLE {qident(f'{schema}.{old}')} RENAME TO {ident(name)};",
            lock_=Lock("EXCLUSIVE", table),
            starts_transaction_=True,
        )
    )
    manual = [
        f"Before dropping {schema}.{old}: compare row counts; rows inserted with an old {column} after their "
        "batch was copied are not in the new table.",
        f"Make partitions ahead of time ({PREMADE} are made now): pg_partman's run_maintenance() or a scheduled "
        "CREATE TABLE … PARTITION OF.",
    ]
    if info.referenced_columns:
        manual.append(
            f"Foreign keys that reference {table} keep pointing at the renamed old table: recreate them "
            "against the new one."
        )
    if any(c_.default and "nextval" in c_.default for c_ in info.columns):
        manual.append(
            f"The sequence is owned by the old table: ALTER SEQUENCE … OWNED BY {table}.<column> before "
            f"dropping {schema}.{old}."
        )
    first = partitions[0][0]
    retention = (
        f"Retention: ALTER TABLE {table} DETACH PARTITION {first} CONCURRENTLY; then DROP TABLE {first}; "
        "instead of DELETE … WHERE " + f"{column} < …, which leaves bloat and vacuum work."
    )
    if nulls:
        retention = (
            retention.replace(" CONCURRENTLY", "")
            + " (CONCURRENTLY is not allowed with a default partition.)"
        )
    partman = snap.server.extension("pg_partman") if snap.server else None
    if partman and partman.installed_version:
        retention += (
            f" pg_partman {partman.installed_version} is installed: SELECT partman.create_parent('{table}', "
            f"'{column}', 'native', '{_PARTMAN_INTERVALS[unit]}') can manage creation and retention "
            "instead."
        )
    package = ChangePackage.of(
        f"Partition {table} by range of {column}, one partition per {unit}",
        ops,
        f"{len(partitions)} partitions ({len(partitions) - PREMADE} over today's data from {low:%Y-%m-%d} to "
        f"{high:%Y-%m-%d}, {PREMADE} ahead). History is copied in one committed batch per partition; the last "
        f"partition is copied under an EXCLUSIVE lock (reads continue) together with the rename swap. The old "
        f"table stays as {schema}.{old} until you drop it.",
        manual_steps=tuple(manual),
        performance_notes=tuple(notes),
    )
    queries = range_queries(snap, info, column)
    evidence = {
        "rows": rows,
        "bytes": info.table.total_bytes,
        "partition_key": column,
        "correlation": round(correlation, 4),
        "inserts": info.table.n_tup_ins,
        "updates": info.table.n_tup_upd,
        "deletes": info.table.n_tup_del,
        "change_share": round(share, 4),
        "interval": unit,
        "partitions": len(partitions),
        "min": str(low),
        "max": str(high),
        "range_queries": queries,
        "pg_partman": bool(partman and partman.installed_version),
    }
    return Proposal(
        "partition",
        table,
        (column,),
        f"{table} is append-only and ordered by {column}: partition it by {unit}",
        evidence,
        package,
        advice=retention,
        score=float(rows),
    )
