"""Renames, drops, TRUNCATE and one-statement backfills: changes that break running code or lose data."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import DropBehavior, ObjectType

from dbwright.changes.lint.rows import rows_touched
from dbwright.changes.lint.rules import Hit, rule
from dbwright.changes.lint.rules.common import commands
from dbwright.engines.postgres.parse_tree import qualified
from dbwright.model.findings import Severity

_EXPAND_CONTRACT = (
    "expand and contract: add the new {what}, write to both (trigger or application), "
    "backfill, switch readers, and drop the old {what} in a later release"
)


def _rename(statement, state, kind):
    node = statement.node
    if isinstance(node, ast.RenameStmt) and node.renameType == kind and node.relation is not None:
        table = qualified(node.relation)
        if not state.is_new(table):
            yield table, node


@rule(
    "DW716",
    "Column renamed",
    Severity.MEDIUM,
    fails=["ALTER TABLE orders RENAME COLUMN qty TO quantity;"],
    passes=[
        "CREATE TABLE orders (qty int); ALTER TABLE orders RENAME COLUMN qty TO quantity;",
        "ALTER TABLE orders ADD COLUMN quantity int;",
    ],
)
def rename_column(statement, state):
    """RENAME COLUMN is instant but takes ACCESS EXCLUSIVE, and every running application instance
    that still uses the old name fails from that moment: deploys are never atomic with the schema.

    Safe rewrite: expand and contract. Add the new column, write to both, backfill, switch readers, drop
    the old column in a later release; or rename and leave a view with the old name for old code.
    """
    for table, node in _rename(statement, state, ObjectType.OBJECT_COLUMN):
        yield Hit(
            f"renaming {table}.{node.subname} to {node.newname} breaks code that still uses the old name",
            safe_rewrite=_EXPAND_CONTRACT.format(what="column"),
        )


@rule(
    "DW717",
    "Table renamed",
    Severity.MEDIUM,
    fails=["ALTER TABLE orders RENAME TO purchases;"],
    passes=["CREATE TABLE orders (id int); ALTER TABLE orders RENAME TO purchases;"],
)
def rename_table(statement, state):
    """RENAME of a table takes ACCESS EXCLUSIVE and breaks every running query, view-less client and
    cached plan that names the old table.

    Safe rewrite: rename, then `CREATE VIEW old_name AS SELECT * FROM new_name` in the same transaction
    (a simple view is updatable), and drop the view once no code uses the old name.
    """
    for table, node in _rename(statement, state, ObjectType.OBJECT_TABLE):
        yield Hit(
            f"renaming {table} to {node.newname} breaks code that still uses the old name",
            safe_rewrite=f"{statement.sql};\nCREATE VIEW {table} AS SELECT * FROM {node.newname};  "
            "-- until old code is gone",
        )


@rule(
    "DW718",
    "Column dropped",
    Severity.MEDIUM,
    fails=["ALTER TABLE orders DROP COLUMN legacy_code;"],
    passes=["CREATE TABLE orders (legacy_code text); ALTER TABLE orders DROP COLUMN legacy_code;"],
)
def drop_column(statement, state):
    """DROP COLUMN is instant (the column is only marked dropped) but takes ACCESS EXCLUSIVE, loses the
    data for good (the down migration cannot bring it back), and breaks running code that still selects
    or inserts the column, including `SELECT *` consumers and ORMs with a cached column list.

    Safe rewrite: release code that no longer uses the column first (ORMs: mark it ignored), then drop
    it in a later migration, with a backup of the data if it may be needed.
    """
    for table, cmd in commands(statement, AT.AT_DropColumn):
        if not state.is_new(table):
            yield Hit(
                f"dropping {table}.{cmd.name} loses its data and breaks code that still uses it",
                safe_rewrite="stop using the column in a released version first; drop it in a later "
                "migration",
            )


@rule(
    "DW719",
    "Table dropped",
    Severity.HIGH,
    fails=["DROP TABLE legacy_orders;", "DROP TABLE IF EXISTS legacy_orders CASCADE;"],
    passes=["CREATE TABLE scratch (id int); DROP TABLE scratch;", "DROP INDEX CONCURRENTLY some_idx;"],
)
def drop_table(statement, state):
    """DROP TABLE takes ACCESS EXCLUSIVE, loses the data for good, and breaks running code that uses the
    table; with CASCADE it also drops views and foreign keys that depend on it.

    Safe rewrite: stop using the table in a released version, rename it (e.g. `_to_drop_orders`) and
    wait a release, then drop it; keep a dump if the data may be needed.
    """
    node = statement.node
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
        names = [t for t in statement.effects.tables if not state.is_new(t)]
        if names:
            cascade = (
                " (CASCADE also drops dependent views and foreign keys)"
                if node.behavior == DropBehavior.DROP_CASCADE
                else ""
            )
            yield Hit(
                f"dropping {', '.join(names)} loses its data{cascade}",
                safe_rewrite="rename the table first and drop it a release later, once nothing uses it",
            )


@rule(
    "DW720",
    "NOT NULL dropped",
    Severity.LOW,
    fails=["ALTER TABLE orders ALTER COLUMN region DROP NOT NULL;"],
    passes=[
        "ALTER TABLE orders ALTER COLUMN region SET DEFAULT 'eu';",
        "CREATE TABLE orders (region text NOT NULL); ALTER TABLE orders ALTER COLUMN region DROP NOT NULL;",
    ],
)
def drop_not_null(statement, state):
    """DROP NOT NULL is instant (ACCESS EXCLUSIVE, no scan), but it is a one-way door: once NULLs are
    written, the down migration's SET NOT NULL fails, and code that assumed a value now meets NULL.

    Safe rewrite: release code that handles NULL first. To roll back later, clean up the NULLs and
    restore NOT NULL the safe way (DW706).
    """
    for table, cmd in commands(statement, AT.AT_DropNotNull):
        if not state.is_new(table):
            yield Hit(
                f"dropping NOT NULL on {table}.{cmd.name}: the rollback fails once NULLs are written",
                safe_rewrite="make sure readers handle NULL; restore later with the DW706 sequence",
            )


@rule(
    "DW721",
    "TRUNCATE … CASCADE",
    Severity.CRITICAL,
    fails=["TRUNCATE orders CASCADE;"],
    passes=["TRUNCATE orders;", "CREATE TABLE staging (id int); TRUNCATE staging CASCADE;"],
)
def truncate_cascade(statement, state):
    """TRUNCATE … CASCADE empties every table with a foreign key to the named tables, and theirs in turn,
    under ACCESS EXCLUSIVE. It is not undone by a down migration, and the set of tables it reaches grows
    silently as the schema grows.

    Safe rewrite: name every table to empty explicitly (`TRUNCATE a, b`), so the statement fails instead of
    emptying a table nobody meant to.
    """
    node = statement.node
    if (
        isinstance(node, ast.TruncateStmt)
        and node.behavior == DropBehavior.DROP_CASCADE
        and not state.all_new(statement.effects.tables)
    ):
        yield Hit(
            "TRUNCATE … CASCADE also empties every table that references "
            f"{', '.join(statement.effects.tables)}",
            safe_rewrite="TRUNCATE "
            + ", ".join(statement.effects.tables)
            + ", <each referencing table, named>;",
        )


@rule(
    "DW729",
    "One-statement backfill of a whole table",
    Severity.MEDIUM,
    fails=[
        "UPDATE orders SET region = 'eu';",
        "DELETE FROM events;",
        "UPDATE orders SET region = 'eu' WHERE region IS NULL;",
        "ALTER TABLE orders ADD COLUMN region text;\nUPDATE orders SET region = 'eu' WHERE region IS NULL;",
        "UPDATE orders SET archived = true WHERE created_at < now() - interval '1 year';",
    ],
    passes=[
        "UPDATE orders SET region = 'eu' WHERE id BETWEEN 1 AND 10000;",
        "UPDATE orders SET region = 'eu' WHERE id = 42;",
        "DELETE FROM events WHERE id IN (1, 2, 3);",
        "CREATE TABLE orders (region text); UPDATE orders SET region = 'eu';",
    ],
)
def whole_table_backfill(statement, state):
    """An UPDATE (or DELETE) that touches most of a table in one statement holds the row locks of all
    those rows until commit (concurrent writers to any of them wait), writes a new version of every
    row (bloat, WAL, replica lag), and cannot be resumed if it fails halfway.

    It is judged by the rows it touches, not by whether it has a WHERE clause: `WHERE col IS NULL` on
    a column the migration just added matches every row. With a snapshot (`dbwright migrate plan`, or
    `LintState.from_snapshot`) the estimate is the table's `reltuples` times the predicate's
    selectivity (`null_frac` for IS NULL, `n_distinct` for equality), and 10,000 rows or more is a
    backfill; without one, an equality, an IN list or a bounded range picks a batch, while no WHERE,
    IS NULL, IS NOT NULL, `<>` and a one-sided range do not.

    Safe rewrite: batches by primary-key range, each its own short transaction, throttled
    (`dbwright backfill`), outside the schema migration.
    """
    node = statement.node
    if not isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
        return
    touched = rows_touched(node, state)
    if state.is_new(touched.table) or not touched.many:
        return
    verb = "UPDATE" if isinstance(node, ast.UpdateStmt) else "DELETE"
    yield Hit(
        f"{verb} of {touched.table} in one transaction touches {touched.describe()}",
        safe_rewrite=f"dbwright backfill {touched.table} … --batch-size 10000  "
        f"-- {verb} by primary-key range, one short transaction per batch",
    )
