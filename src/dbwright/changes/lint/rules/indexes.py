"""Index builds, drops and rebuilds."""

from __future__ import annotations

import re

from pglast import ast
from pglast.enums import ObjectType

from dbwright.changes.lint.rules import Hit, rule
from dbwright.engines.postgres.parse_tree import qualified
from dbwright.model.findings import Severity


def concurrently(sql: str, verb: str) -> str:
    """``sql`` with CONCURRENTLY inserted after ``verb`` (CREATE [UNIQUE] INDEX, DROP INDEX, REINDEX x)."""
    return re.sub(rf"^\s*({verb})\s+", r"\1 CONCURRENTLY ", sql, count=1, flags=re.IGNORECASE) + ";"


@rule(
    "DW701",
    "Index built without CONCURRENTLY",
    Severity.HIGH,
    fails=[
        "CREATE INDEX orders_customer_idx ON orders (customer_id);",
        "CREATE UNIQUE INDEX ON shop.orders (code);",
    ],
    passes=[
        "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);",
        "CREATE TABLE orders (id bigint, customer_id bigint); CREATE INDEX ON orders (customer_id);",
    ],
)
def index_without_concurrently(statement, state):
    """A plain CREATE INDEX takes a SHARE lock on the table for the whole build: reads go on, but every
    INSERT, UPDATE and DELETE waits until the index is built, which on a large table is minutes.

    Safe rewrite: `CREATE INDEX CONCURRENTLY`, run outside a transaction block. It takes SHARE UPDATE
    EXCLUSIVE, which does not block writes, and scans the table twice. If it fails it leaves an INVALID
    index behind: drop it (`DROP INDEX CONCURRENTLY`) and retry.

    A table created earlier in the same migration is empty and unused, so its indexes are not flagged.
    """
    node = statement.node
    if isinstance(node, ast.IndexStmt) and not node.concurrent and not state.is_new(qualified(node.relation)):
        yield Hit(
            f"CREATE INDEX on {qualified(node.relation)} takes SHARE for the whole build: writes wait",
            safe_rewrite=concurrently(statement.sql, r"CREATE\s+(?:UNIQUE\s+)?INDEX")
            + "  -- outside a transaction block",
        )


@rule(
    "DW702",
    "Index dropped without CONCURRENTLY",
    Severity.MEDIUM,
    fails=["DROP INDEX orders_customer_idx;"],
    passes=["DROP INDEX CONCURRENTLY orders_customer_idx;", "DROP TABLE old_orders;"],
)
def drop_index_without_concurrently(statement, state):
    """DROP INDEX takes ACCESS EXCLUSIVE on the index's table: queued behind any long query on the table,
    it blocks every read and write that arrives after it.

    Safe rewrite: `DROP INDEX CONCURRENTLY`, outside a transaction block; it takes SHARE UPDATE EXCLUSIVE
    and waits for running queries instead of blocking new ones.
    """
    node = statement.node
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_INDEX and not node.concurrent:
        indexes = [".".join(part.sval for part in name) for name in node.objects]
        tables = [t for t in statement.effects.tables if t not in indexes and not state.is_new(t)]
        on = ", ".join(tables) if tables else "its table"
        if [t for t in statement.effects.tables if not state.is_new(t)]:
            yield Hit(
                f"DROP INDEX {', '.join(indexes)} takes ACCESS EXCLUSIVE on {on}: every read and write waits",
                safe_rewrite=concurrently(statement.sql, r"DROP\s+INDEX")
                + "  -- outside a transaction block",
            )


@rule(
    "DW740",
    "REINDEX without CONCURRENTLY",
    Severity.MEDIUM,
    fails=["REINDEX INDEX orders_customer_idx;", "REINDEX TABLE orders;"],
    passes=["REINDEX INDEX CONCURRENTLY orders_customer_idx;"],
)
def reindex_without_concurrently(statement, state):
    """REINDEX of a table takes SHARE on it (writes wait); REINDEX of an index takes ACCESS EXCLUSIVE on
    the index, so every query that would use it waits, for the whole rebuild.

    Safe rewrite: `REINDEX … CONCURRENTLY` (PostgreSQL 12+), outside a transaction block: SHARE UPDATE
    EXCLUSIVE only. Before 12, build a new index CONCURRENTLY and drop the old one CONCURRENTLY.
    """
    node = statement.node
    if isinstance(node, ast.ReindexStmt) and statement.effects.transactional and node.relation is not None:
        if state.is_new(qualified(node.relation)):
            return
        rewrite = (
            concurrently(statement.sql, r"REINDEX\s+(?:INDEX|TABLE)")
            if state.server_version >= 120000
            else "CREATE INDEX CONCURRENTLY <new> …; DROP INDEX CONCURRENTLY <old>; "
            "ALTER INDEX <new> RENAME TO <old>;"
        )
        yield Hit(f"REINDEX takes {statement.effects.lock} for the whole rebuild", safe_rewrite=rewrite)
