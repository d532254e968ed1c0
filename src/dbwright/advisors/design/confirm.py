"""Confirmation on the full table, in set-based SQL, before anything is reported.

A sample can only suggest: each candidate is re-checked here over every row, and the
result carries its violation counts, so an approximate dependency reports its error rate
and a missing foreign key its orphans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from dbwright.changes.operations import ident, qident


@dataclass(frozen=True)
class FdCheck:
    lhs: tuple[str, ...]
    rhs: str
    rows: int  # rows whose left side is not NULL
    groups: int  # distinct left-side values
    violating_groups: int  # left-side values with more than one right-side value
    violating_rows: int  # rows to change for the dependency to hold exactly (g3 × rows)

    @property
    def error(self) -> float:
        return self.violating_rows / self.rows if self.rows else 1.0

    @property
    def exact(self) -> bool:
        return self.violating_rows == 0

    def to_dict(self) -> dict[str, Any]:
        return {"lhs": list(self.lhs), "rhs": self.rhs, "rows": self.rows, "groups": self.groups,
                "violating_groups": self.violating_groups, "violating_rows": self.violating_rows,
                "error": round(self.error, 6)}


def _cols(columns: tuple[str, ...]) -> str:
    return ", ".join(ident(c) for c in columns)


def fd_violations(conn: psycopg.Connection, table: str, lhs: tuple[str, ...], rhs: str) -> FdCheck:
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


def fd_violations_many(conn: psycopg.Connection, table: str, lhs: tuple[str, ...],
                       rhs: list[str]) -> list[FdCheck]:
    """fd_violations for several right sides of one left side, in one scan (GROUPING SETS)."""
    found: list[FdCheck] = []
    for start in range(0, len(rhs), MAX_SETS_PER_SCAN):
        chunk = rhs[start:start + MAX_SETS_PER_SCAN]
        if len(chunk) == 1:
            found.append(fd_violations(conn, table, lhs, chunk[0]))
            continue
        x = _cols(lhs)
        ys = ", ".join(ident(c) for c in chunk)
        sets = ", ".join(f"({x}, {ident(c)})" for c in chunk)
        not_null = " AND ".join(f"{ident(c)} IS NOT NULL" for c in lhs)
        query = f"""
            WITH pairs AS (SELECT GROUPING({ys}) AS g, {x}, count(*) AS n FROM {qident(table)}
                           WHERE {not_null} GROUP BY GROUPING SETS ({sets})),
                 groups AS (SELECT g, sum(n) AS n, max(n) AS top, count(*) AS variants FROM pairs GROUP BY g, {x})
            SELECT g, coalesce(sum(n), 0)::bigint, count(*)::bigint,
                   count(*) FILTER (WHERE variants > 1)::bigint, coalesce(sum(n - top), 0)::bigint
            FROM groups GROUP BY g"""
        by_mask = {row[0]: row[1:] for row in conn.execute(query).fetchall()}
        full = (1 << len(chunk)) - 1
        for i, column in enumerate(chunk):
            rows, groups, bad_groups, bad_rows = by_mask.get(full ^ (1 << (len(chunk) - 1 - i)), (0, 0, 0, 0))
            found.append(FdCheck(lhs, column, rows, groups, bad_groups, bad_rows))
    return found


def key_violations(conn: psycopg.Connection, table: str, columns: tuple[str, ...]) -> tuple[int, int, int]:
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
    return (f"SELECT c.* FROM {qident(child)} c WHERE {not_null} "
            f"AND NOT EXISTS (SELECT 1 FROM {qident(parent)} p WHERE {match})")


def orphans(conn: psycopg.Connection, child: str, columns: tuple[str, ...], parent: str,
            ref_columns: tuple[str, ...]) -> tuple[int, int, int]:
    """(non-NULL references, orphan rows, distinct orphan values)."""
    not_null = " AND ".join(f"{ident(c)} IS NOT NULL" for c in columns)
    listing = orphan_query(child, columns, parent, ref_columns)
    query = f"""
        SELECT (SELECT count(*) FROM {qident(child)} WHERE {not_null})::bigint,
               count(*)::bigint, count(DISTINCT ({', '.join(f'o.{ident(c)}' for c in columns)}, 0))::bigint
        FROM ({listing}) o"""
    return tuple(conn.execute(query).fetchone())  # type: ignore[return-value]


def null_counts(conn: psycopg.Connection, table: str, columns: list[str]) -> dict[str, int]:
    if not columns:
        return {}
    parts = ", ".join(f"count(*) FILTER (WHERE {ident(c)} IS NULL)::bigint" for c in columns)
    values = conn.execute(f"SELECT {parts} FROM {qident(table)}").fetchone()
    return dict(zip(columns, values, strict=True))


def distinct_values(conn: psycopg.Connection, table: str, column: str, limit: int) -> list[tuple[Any, int]] | None:
    """Every distinct non-NULL value with its count, or None when there are more than ``limit``."""
    rows = conn.execute(f"SELECT {ident(column)}, count(*) FROM {qident(table)} WHERE {ident(column)} IS NOT NULL "
                        f"GROUP BY 1 ORDER BY 1 LIMIT {limit + 1}").fetchall()
    return None if len(rows) > limit else [(value, count) for value, count in rows]


def text_fit(conn: psycopg.Connection, table: str, column: str, pattern: str) -> tuple[int, int, int]:
    """(non-NULL values, values not matching ``pattern``, longest value in characters)."""
    c = ident(column)
    query = (f"SELECT count({c})::bigint, count(*) FILTER (WHERE {c} !~ %s)::bigint, "
             f"coalesce(max(char_length({c})), 0) FROM {qident(table)}")
    return tuple(conn.execute(query, (pattern,)).fetchone())  # type: ignore[return-value]


def numeric_range(conn: psycopg.Connection, table: str, column: str) -> tuple[Any, Any, bool]:
    """(min, max, every value integral)."""
    c = ident(column)
    query = (f"SELECT min({c}), max({c}), coalesce(bool_and({c} = trunc({c})), true) FROM {qident(table)}")
    return tuple(conn.execute(query).fetchone())  # type: ignore[return-value]


def max_length(conn: psycopg.Connection, table: str, column: str) -> tuple[int, int]:
    """(longest value in characters, non-NULL values)."""
    c = ident(column)
    return tuple(conn.execute(f"SELECT coalesce(max(char_length({c})), 0), count({c})::bigint "
                              f"FROM {qident(table)}").fetchone())  # type: ignore[return-value]


def average_widths(conn: psycopg.Connection, table: str, columns: tuple[str, ...],
                   sample_percent: float | None) -> dict[str, float]:
    """Average stored bytes per value, for the storage a decomposition saves."""
    sampling = f" TABLESAMPLE SYSTEM ({sample_percent:.6f}) REPEATABLE (7)" if sample_percent else ""
    parts = ", ".join(f"coalesce(avg(pg_column_size({ident(c)})), 0)::float8" for c in columns)
    values = conn.execute(f"SELECT {parts} FROM {qident(table)}{sampling}").fetchone()
    return dict(zip(columns, values, strict=True))
