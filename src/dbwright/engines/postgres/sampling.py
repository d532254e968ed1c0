"""Block samples of a table (TABLESAMPLE SYSTEM, repeatable): distinct counts pg_stats cannot give.

The index size model (``dbwright.advisors.indexes.sizes``) decides what to count and how many
blocks to read; these functions send the statements. Each runs in a savepoint, so it also works
inside the what-if evaluator's open transaction, and a failure raises ``ServerError`` with the
server's first line, leaving the transaction usable.
"""

from __future__ import annotations

import psycopg

from dbwright.errors import ServerError
from dbwright.model.operations import ident, qident


def distinct_per_block(conn: psycopg.Connection, table: str, column: str, blocks: int, pages: int) -> tuple:
    """(blocks sampled, sum over them of the column's distinct values in each block)."""
    return _fetch(
        conn,
        f"SELECT count(*), coalesce(sum(n), 0) FROM (SELECT (ctid::text::point)[0] AS block, "
        f"count(DISTINCT {ident(column)}) AS n FROM {qident(table)} {_tablesample(blocks, pages)} "
        f"GROUP BY 1) blocks",
    )


def key_occurrences(
    conn: psycopg.Connection, table: str, columns: tuple[str, ...], blocks: int, pages: int
) -> tuple:
    """(blocks sampled, distinct keys seen, keys seen in one block only, distinct (block, key) pairs)."""
    listed = ", ".join(ident(c) for c in columns)
    return _fetch(
        conn,
        f"WITH occurrences AS (SELECT DISTINCT (ctid::text::point)[0] AS block, {listed} FROM {qident(table)} "
        f"{_tablesample(blocks, pages)}) "
        f"SELECT (SELECT count(DISTINCT block) FROM occurrences), count(*), count(*) FILTER (WHERE n = 1), "
        f"coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM occurrences GROUP BY {listed}) keys",
    )


def _fetch(conn: psycopg.Connection, sql: str) -> tuple:
    """One sampling statement's row, in a savepoint; ServerError (the server's first line) if it fails."""
    try:
        with conn.transaction():  # a savepoint inside the what-if evaluator's open transaction
            return conn.execute(sql).fetchone()
    except psycopg.Error as error:
        raise ServerError(str(error).strip().splitlines()[0]) from None


def _tablesample(blocks: int, pages: int) -> str:
    """A repeatable block sample of about ``blocks`` of a table's ``pages``."""
    return f"TABLESAMPLE SYSTEM ({min(100.0, 100.0 * blocks / pages):.6f}) REPEATABLE (0)"
