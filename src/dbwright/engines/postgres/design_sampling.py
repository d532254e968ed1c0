"""Bounded samples of table data: the only way the design review reads rows in bulk.

A table that fits the row budget is read whole. A larger one is read through TABLESAMPLE
(BERNOULLI, or SYSTEM for very large tables, with a fixed seed so runs repeat) and labelled
``sampled``: whatever the sample suggests is confirmed on the full table later, in SQL
(``design_confirm``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbwright.engines.base import Connection
from dbwright.engines.postgres.query_errors import translate
from dbwright.model.operations import ident, qident

Progress = Callable[[str], None]

#: Above this many rows, SYSTEM (block) sampling: BERNOULLI would still visit every page.
SYSTEM_SAMPLING_ROWS = 2_000_000
SAMPLE_SEED = 7

#: Types whose values are worth profiling; large documents and binary data are not.
PROFILED_TYPES = {
    "int2",
    "int4",
    "int8",
    "numeric",
    "float4",
    "float8",
    "text",
    "varchar",
    "bpchar",
    "bool",
    "date",
    "timestamp",
    "timestamptz",
    "time",
    "uuid",
    "citext",
}


@dataclass
class TableSample:
    table: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    row_estimate: int
    sampled: bool
    method: str  # "full table", "TABLESAMPLE BERNOULLI (p%)", ...
    seconds: float

    def values(self, column: str) -> list[Any]:
        position = self.columns.index(column)
        return [row[position] for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "sample_rows": len(self.rows),
            "row_estimate": self.row_estimate,
            "sampled": self.sampled,
            "method": self.method,
            "seconds": round(self.seconds, 3),
        }


@translate
def read_sample(
    conn: Connection,
    table: str,
    columns: list[str],
    row_estimate: float,
    sample_rows: int,
    progress: Progress | None = None,
) -> TableSample:
    """Read at most ``sample_rows`` rows of ``columns``: the whole table when it fits."""
    started = time.monotonic()
    limit = sample_rows
    select = f"SELECT {', '.join(ident(c) for c in columns)} FROM {qident(table)}"
    estimate = int(max(row_estimate, 0))
    if progress:
        progress(f"sampling {table} (≈{estimate:,} rows)")
    if estimate > limit:
        percent = min(100.0, 100.0 * limit * 1.2 / estimate)
        how = "SYSTEM" if estimate > SYSTEM_SAMPLING_ROWS else "BERNOULLI"
        query = f"{select} TABLESAMPLE {how} ({percent:.6f}) REPEATABLE ({SAMPLE_SEED}) LIMIT {limit}"
        rows = conn.execute(query).fetchall()
        method = f"TABLESAMPLE {how} ({percent:.3g}%)"
        return TableSample(table, tuple(columns), rows, estimate, True, method, time.monotonic() - started)
    rows = conn.execute(f"{select} LIMIT {limit + 1}").fetchall()
    if len(rows) > limit:  # the statistics were stale: count, then sample at the right rate
        counted = count_rows(conn, table)
        return read_sample(conn, table, columns, counted, sample_rows, progress=None)
    return TableSample(
        table, tuple(columns), rows, len(rows), False, "full table", time.monotonic() - started
    )


@translate
def count_rows(conn: Connection, table: str) -> int:
    """The table's exact row count (a full scan)."""
    return conn.execute(f"SELECT count(*) FROM {qident(table)}").fetchone()[0]
