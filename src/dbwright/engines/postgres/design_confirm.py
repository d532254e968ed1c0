"""Confirmation on the full table, in set-based SQL, before anything is reported.

A sample can only suggest: each candidate is re-checked here over every row, and the
result carries its violation counts, so an approximate dependency reports its error rate
and a missing foreign key its orphans. Every query here runs through ``translate``: a statement
past ``statement_timeout`` raises QueryTimeoutError, a table the session may not read
ReadDeniedError, any other failure ServerError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from dbwright.engines.base import Connection
from dbwright.engines.postgres.query_errors import translate
from dbwright.model.operations import ident, qident


@dataclass(frozen=True)
class FdCheck:
    lhs: tuple[str, ...]
    rhs: str
    rows: int  # rows whose left side is not NULL
    groups: int  # distinct left-side values
    violating_groups: int  # left-side values with more than one right-side value
    violating_rows: int  # rows to change for the dependency to hold exactly (g3 × rows)
    #: True when ``violating_rows`` is only a lower bound (one row per violating group): enough to reject.
    at_least: bool = False
    #: Distinct right-side values (by hash) over the groups, from the one-scan check: when the dependency
    #: is exact and this equals ``groups``, the right side also determines the left (they are 1:1).
    rhs_values: int | None = None

    @property
    def error(self) -> float:
        return self.violating_rows / self.rows if self.rows else 1.0

    @property
    def exact(self) -> bool:
        return self.violating_rows == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "lhs": list(self.lhs),
            "rhs": self.rhs,
            "rows": self.rows,
            "groups": self.groups,
            "violating_groups": self.violating_groups,
            "violating_rows": self.violating_rows,
            "error": round(self.error, 6),
            **({"error_is_lower_bound": True} if self.at_least else {}),
        }


def _cols(columns: tuple[str, ...]) -> str:
    return ", ".join(ident(c) for c in columns)


@translate
def fd_violations(conn: Connection, table: str, lhs: tuple[str, ...], rhs: str) -> FdCheck:
    """Per left-side value, how many right-side variants (GROUP BY … HAVING count > 1) and rows off."""
    x = _cols(lhs)
    not_null = " AND ".join(f"{ident(c)} IS NOT NULL" for c in lhs)
    query = f"""
        WITH pairs AS (SELECT {x}, {ident(rhs)}, count(*) AS n FROM {qident(table)}
                       WHERE {not_null} GROUP BY {x}, {ident(rhs)}),
             groups AS (SELECT sum(n) AS n, max(n) AS top, count(*) AS variants FROM pairs GROUP BY {x})
        SELECT coalesce(sum(n), 0)::bigint, count(*)::bigint,
               count(*) FILTER (WHERE variants > 1)::bigint, coalesce(sum(n - top), 0)::bigint
        FROM groups"""
    rows, groups, bad_groups, bad_rows = conn.execute(query).fetchone()
    return FdCheck(lhs, rhs, rows, groups, bad_groups, bad_rows)


#: Right sides confirmed per table scan (one grouping set each).
MAX_SETS_PER_SCAN = 12
#: Types whose text form differs exactly when the values differ: a difference seen through ``::text``
#: is a real one. (numeric 1.0 = 1.00 and float -0 = 0 are equal with different text; so is citext.)
#: numeric with a declared scale (numeric(15,2)) always prints that scale, so it qualifies.
TEXT_EXACT_NAMES = {
    "smallint",
    "integer",
    "bigint",
    "text",
    "character varying",
    "character",
    "date",
    "boolean",
    "uuid",
    "timestamp without time zone",
    "timestamp with time zone",
    "time without time zone",
}


def text_exact(data_type: str) -> bool:
    """``format_type`` of a column whose distinct values always have distinct text (numeric needs a scale)."""
    base = data_type.split("(", 1)[0].strip()
    return base in TEXT_EXACT_NAMES or (base == "numeric" and "," in data_type)


def _g3_query(source: str, lhs: tuple[str, ...], chunk: list[str], tag: int | None = None) -> str:
    """(grouping mask, rows, groups, violating groups, violating rows) per right side of ``chunk``.

    With a ``tag`` (the larger-sample re-check), the tag comes first and two more columns last: the
    pairs of rows sharing a left-side value, and how many of those pairs disagree on the right side.
    """
    x = _cols(lhs)
    ys = ", ".join(ident(c) for c in chunk)
    sets = ", ".join(f"({x}, {ident(c)})" for c in chunk)
    not_null = " AND ".join(f"{ident(c)} IS NOT NULL" for c in lhs)
    label = f"{tag} AS tag, " if tag is not None else ""
    pairs = (
        ", coalesce(sum(n * (n - 1) / 2), 0)::bigint, coalesce(sum(n * (n - 1) / 2 - agree), 0)::bigint"
        if tag is not None
        else ""
    )
    return f"""
        SELECT {label}g, coalesce(sum(n), 0)::bigint, count(*)::bigint,
               count(*) FILTER (WHERE variants > 1)::bigint, coalesce(sum(n - top), 0)::bigint{pairs}
        FROM (SELECT g, sum(n) AS n, max(n) AS top, count(*) AS variants, sum(n * (n - 1) / 2) AS agree
              FROM (SELECT GROUPING({ys}) AS g, {x}, count(*) AS n FROM {source}
                    WHERE {not_null} GROUP BY GROUPING SETS ({sets})) pairs
              GROUP BY g, {x}) groups
        GROUP BY g"""


def _decode(lhs: tuple[str, ...], chunk: list[str], by_mask: dict[int, tuple]) -> list[FdCheck]:
    return [FdCheck(lhs, column, *values[:4]) for column, values in _by_column(chunk, by_mask)]


def _by_column(chunk: list[str], by_mask: dict[int, tuple]) -> list[tuple[str, tuple]]:
    full = (1 << len(chunk)) - 1
    width = len(next(iter(by_mask.values()), (0, 0, 0, 0)))
    # The grouping set of a column leaves that column's GROUPING() bit 0.
    return [
        (column, by_mask.get(full ^ (1 << (len(chunk) - 1 - i)), (0,) * width))
        for i, column in enumerate(chunk)
    ]


@translate
def fd_violations_many(conn: Connection, table: str, lhs: tuple[str, ...], rhs: list[str]) -> list[FdCheck]:
    """fd_violations for several right sides of one left side, in one scan (GROUPING SETS)."""
    found: list[FdCheck] = []
    for start in range(0, len(rhs), MAX_SETS_PER_SCAN):
        chunk = rhs[start : start + MAX_SETS_PER_SCAN]
        if len(chunk) == 1:
            found.append(fd_violations(conn, table, lhs, chunk[0]))
            continue
        by_mask = {row[0]: row[1:] for row in conn.execute(_g3_query(qident(table), lhs, chunk)).fetchall()}
        found += _decode(lhs, chunk, by_mask)
    return found


@translate
def fd_checks(
    conn: Connection,
    table: str,
    lhs: tuple[str, ...],
    rhs: list[str],
    type_of: dict[str, str],
    max_error: float,
) -> list[FdCheck]:
    """Every right side of one left side confirmed on the full table, in one cheap scan where possible.

    First one hash aggregate per left-side value, keeping the smallest and largest 64-bit hash of
    each right side (``min``/``max`` of ``hashtextextended(y::text)``, and a NULL count): a group
    whose hashes all agree holds. That settles exact dependencies and clear failures (more violating
    groups than ``max_error`` allows, for types whose text form is exact) in a single pass without
    GROUPING SETS. Only the right sides left undecided, approximate ones, get the exact g3 count
    (``fd_violations_many``), which the report and the ``mode()`` fill need.
    """
    if not rhs:
        return []
    x = _cols(lhs)
    not_null = " AND ".join(f"{ident(c)} IS NOT NULL" for c in lhs)
    hashes = ", ".join(f"hashtextextended({ident(c)}::text, 0) AS h{i}" for i, c in enumerate(rhs))
    aggregates = ", ".join(
        f"min(h{i}) AS lo{i}, max(h{i}) AS hi{i}, count(h{i}) AS c{i}" for i in range(len(rhs))
    )
    bad = ", ".join(
        f"count(*) FILTER (WHERE lo{i} <> hi{i} OR (c{i} > 0 AND c{i} < n))::bigint, "
        f"count(DISTINCT lo{i})::bigint"
        for i in range(len(rhs))
    )
    query = f"""
        SELECT coalesce(sum(n), 0)::bigint, count(*)::bigint, {bad}
        FROM (SELECT count(*) AS n, {aggregates}
              FROM (SELECT {x}, {hashes} FROM {qident(table)} WHERE {not_null}) h GROUP BY {x}) groups"""
    rows, groups, *counts = conn.execute(query).fetchone()
    decided: dict[str, FdCheck] = {}
    undecided = []
    for i, column in enumerate(rhs):
        violating, values = counts[2 * i], counts[2 * i + 1]
        if violating == 0:
            decided[column] = FdCheck(lhs, column, rows, groups, 0, 0, rhs_values=values)
        elif text_exact(type_of.get(column, "")) and rows and violating / rows > max_error:
            decided[column] = FdCheck(lhs, column, rows, groups, violating, violating, at_least=True)
        else:
            undecided.append(column)
    for check in fd_violations_many(conn, table, lhs, undecided) if undecided else []:
        decided[check.rhs] = check
    return [decided[c] for c in rhs]


@dataclass(frozen=True)
class SampleCheck:
    """A candidate on a sample: its g3 there, and the pairs of rows that share a left-side value."""

    check: FdCheck
    pairs: int  # pairs of sampled rows with the same left side: the evidence the sample holds
    disagreeing_pairs: int  # ... of which differ on the right side

    @property
    def pair_error(self) -> float:
        return self.disagreeing_pairs / self.pairs if self.pairs else 0.0


@translate
def sample_fd_errors(
    conn: Connection,
    table: str,
    by_lhs: dict[tuple[str, ...], list[str]],
    percent: float,
    method: str = "SYSTEM",
    seed: int = 11,
) -> tuple[int, dict]:
    """Every candidate on one larger sample, in one statement (the sample is read once).

    Returns (rows sampled, {(lhs, rhs): SampleCheck}).
    """
    columns = sorted({c for lhs, rhs in by_lhs.items() for c in (*lhs, *rhs)})
    parts, chunks = [], []
    for lhs, rhs in by_lhs.items():
        for start in range(0, len(rhs), MAX_SETS_PER_SCAN):
            chunk = rhs[start : start + MAX_SETS_PER_SCAN]
            parts.append(_g3_query("s", lhs, chunk, tag=len(chunks)))
            chunks.append((lhs, chunk))
    if not parts:
        return 0, {}
    query = (
        f"WITH s AS MATERIALIZED (SELECT {_cols(tuple(columns))} FROM {qident(table)} "
        f"TABLESAMPLE {method} ({percent:.6f}) REPEATABLE ({seed})) "
        "SELECT -1, 0, count(*)::bigint, 0, 0, 0, 0, 0 FROM s UNION ALL " + " UNION ALL ".join(parts)
    )
    by_tag: dict[int, dict[int, tuple]] = {}
    sampled = 0
    for tag, mask, *values in conn.execute(query).fetchall():
        if tag == -1:
            sampled = values[0]
        else:
            by_tag.setdefault(tag, {})[mask] = tuple(values)
    found = {}
    for tag, (lhs, chunk) in enumerate(chunks):
        for column, values in _by_column(chunk, by_tag.get(tag, {})):
            rows, groups, bad_groups, bad_rows, pairs, disagreeing = values if len(values) == 6 else (0,) * 6
            found[(lhs, column)] = SampleCheck(
                FdCheck(lhs, column, rows, groups, bad_groups, bad_rows), pairs, disagreeing
            )
    return sampled, found


@translate
def key_violations(conn: Connection, table: str, columns: tuple[str, ...]) -> tuple[int, int, int]:
    """(rows, rows with a NULL in the key, duplicate rows beyond the first of each key value)."""
    any_null = " OR ".join(f"{ident(c)} IS NULL" for c in columns)
    query = f"""
        SELECT count(*)::bigint, count(*) FILTER (WHERE {any_null})::bigint,
               (count(*) FILTER (WHERE NOT ({any_null})) - count(DISTINCT ({_cols(columns)}, 0))
                   FILTER (WHERE NOT ({any_null})))::bigint
        FROM {qident(table)}"""
    return tuple(conn.execute(query).fetchone())  # type: ignore[return-value]


def orphan_query(child: str, columns: tuple[str, ...], parent: str, ref_columns: tuple[str, ...]) -> str:
    """The rows of ``child`` whose reference finds no row in ``parent``: what VALIDATE would reject."""
    not_null = " AND ".join(f"c.{ident(c)} IS NOT NULL" for c in columns)
    match = " AND ".join(f"p.{ident(r)} = c.{ident(c)}" for c, r in zip(columns, ref_columns, strict=True))
    return (
        f"SELECT c.* FROM {qident(child)} c WHERE {not_null} "
        f"AND NOT EXISTS (SELECT 1 FROM {qident(parent)} p WHERE {match})"
    )


@translate
def orphans(
    conn: Connection, child: str, columns: tuple[str, ...], parent: str, ref_columns: tuple[str, ...]
) -> tuple[int, int, int]:
    """(non-NULL references, orphan rows, distinct orphan values)."""
    not_null = " AND ".join(f"{ident(c)} IS NOT NULL" for c in columns)
    listing = orphan_query(child, columns, parent, ref_columns)
    query = f"""
        SELECT (SELECT count(*) FROM {qident(child)} WHERE {not_null})::bigint,
               count(*)::bigint, count(DISTINCT ({", ".join(f"o.{ident(c)}" for c in columns)}, 0))::bigint
        FROM ({listing}) o"""
    return tuple(conn.execute(query).fetchone())  # type: ignore[return-value]


@translate
def null_counts(conn: Connection, table: str, columns: list[str]) -> dict[str, int]:
    if not columns:
        return {}
    parts = ", ".join(f"count(*) FILTER (WHERE {ident(c)} IS NULL)::bigint" for c in columns)
    values = conn.execute(f"SELECT {parts} FROM {qident(table)}").fetchone()
    return dict(zip(columns, values, strict=True))


@translate
def distinct_values(conn: Connection, table: str, column: str, limit: int) -> list[tuple[Any, int]] | None:
    """Every distinct non-NULL value with its count, or None when there are more than ``limit``."""
    rows = conn.execute(
        f"SELECT {ident(column)}, count(*) FROM {qident(table)} WHERE {ident(column)} IS NOT NULL "
        f"GROUP BY 1 ORDER BY 1 LIMIT {limit + 1}"
    ).fetchall()
    return None if len(rows) > limit else [(value, count) for value, count in rows]


@translate
def distinct_values_many(
    conn: Connection, table: str, columns: list[str], limit: int
) -> dict[str, list[tuple[Any, int]] | None]:
    """distinct_values for several columns in one scan (GROUPING SETS, one set per column)."""
    if len(columns) <= 1:
        return {c: distinct_values(conn, table, c, limit) for c in columns}
    found: dict[str, list[tuple[Any, int]] | None] = {}
    for start in range(0, len(columns), MAX_SETS_PER_SCAN):
        chunk = columns[start : start + MAX_SETS_PER_SCAN]
        cols = ", ".join(ident(c) for c in chunk)
        query = (
            f"SELECT GROUPING({cols}), {cols}, count(*) FROM {qident(table)} "
            f"GROUP BY GROUPING SETS ({', '.join(f'({ident(c)})' for c in chunk)})"
        )
        values: dict[str, list[tuple[Any, int]]] = {c: [] for c in chunk}
        full = (1 << len(chunk)) - 1
        position = {full ^ (1 << (len(chunk) - 1 - i)): i for i in range(len(chunk))}
        for mask, *row in conn.execute(query).fetchall():
            i = position[mask]
            if row[i] is not None:
                values[chunk[i]].append((row[i], row[-1]))
        for column in chunk:
            listed = sorted(values[column], key=lambda vc: vc[0])
            found[column] = None if len(listed) > limit else listed
    return found


@translate
def text_fit(conn: Connection, table: str, column: str, pattern: str) -> tuple[int, int, int]:
    """(non-NULL values, values not matching ``pattern``, longest value in characters)."""
    c = ident(column)
    query = (
        f"SELECT count({c})::bigint, count(*) FILTER (WHERE {c} !~ %s)::bigint, "
        f"coalesce(max(char_length({c})), 0) FROM {qident(table)}"
    )
    return tuple(conn.execute(query, (pattern,)).fetchone())  # type: ignore[return-value]


@translate
def numeric_range(conn: Connection, table: str, column: str) -> tuple[Any, Any, bool]:
    """(min, max, every value integral)."""
    c = ident(column)
    query = f"SELECT min({c}), max({c}), coalesce(bool_and({c} = trunc({c})), true) FROM {qident(table)}"
    return tuple(conn.execute(query).fetchone())  # type: ignore[return-value]


@translate
def numeric_ranges(conn: Connection, table: str, columns: list[str]) -> dict[str, tuple[Any, Any, bool]]:
    """numeric_range for several columns in one scan."""
    if not columns:
        return {}
    parts = ", ".join(
        f"min({ident(c)}), max({ident(c)}), coalesce(bool_and({ident(c)} = trunc({ident(c)})), true)"
        for c in columns
    )
    row = conn.execute(f"SELECT {parts} FROM {qident(table)}").fetchone()
    return {c: tuple(row[3 * i : 3 * i + 3]) for i, c in enumerate(columns)}  # type: ignore[misc]


@translate
def max_length(conn: Connection, table: str, column: str) -> tuple[int, int]:
    """(longest value in characters, non-NULL values)."""
    c = ident(column)
    return tuple(
        conn.execute(
            f"SELECT coalesce(max(char_length({c})), 0), count({c})::bigint FROM {qident(table)}"
        ).fetchone()
    )  # type: ignore[return-value]


@translate
def average_widths(
    conn: Connection, table: str, columns: tuple[str, ...], sample_percent: float | None
) -> dict[str, float]:
    """Average stored bytes per value, for the storage a decomposition saves."""
    sampling = f" TABLESAMPLE SYSTEM ({sample_percent:.6f}) REPEATABLE (7)" if sample_percent else ""
    parts = ", ".join(f"coalesce(avg(pg_column_size({ident(c)})), 0)::float8" for c in columns)
    values = conn.execute(f"SELECT {parts} FROM {qident(table)}{sampling}").fetchone()
    return dict(zip(columns, values, strict=True))


@translate
def casts(conn: Connection, table: str, column: str, target: str) -> bool:
    """Every value really converts (a regular expression accepts 2024-13-45; the cast does not)."""
    try:
        with conn.transaction():
            conn.execute(f"SELECT count({ident(column)}::{target}) FROM {qident(table)}")
        return True
    except psycopg.DataError:  # class 22: bad format (22007) and out-of-range fields (22008) alike
        return False


@translate
def value_bounds(conn: Connection, table: str, column: str) -> tuple[Any, Any, int]:
    """(smallest value, largest value, NULL rows) of one column: the span a partitioning covers."""
    return conn.execute(
        f"SELECT min({ident(column)}), max({ident(column)}), count(*) FILTER (WHERE {ident(column)} IS NULL) "
        f"FROM {qident(table)}"
    ).fetchone()


@translate
def set_work_mem(conn: Connection, work_mem: str) -> None:
    """Memory per hash aggregate for the session's confirmation queries (hash, not sort, a GROUP BY)."""
    conn.execute(f"SET work_mem = '{work_mem}'")
