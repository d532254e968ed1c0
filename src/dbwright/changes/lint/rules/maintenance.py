"""Maintenance commands and table-level changes that rewrite or block: VACUUM FULL, CLUSTER,
SET TABLESPACE, SET LOGGED, triggers, materialized view refreshes, explicit LOCK TABLE."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as AT

from dbwright.changes.lint.rules import Hit, rule
from dbwright.changes.lint.rules.common import commands, existing
from dbwright.engines.postgres.parse_tree import qualified
from dbwright.model.findings import Severity


@rule(
    "DW722",
    "VACUUM FULL",
    Severity.HIGH,
    fails=["VACUUM FULL orders;", "VACUUM (FULL, ANALYZE) orders;"],
    passes=["VACUUM (ANALYZE) orders;", "ANALYZE orders;"],
)
def vacuum_full(statement, state):
    """VACUUM FULL rewrites the table and all its indexes under ACCESS EXCLUSIVE: no reads and no writes
    for the whole copy, and it needs room for a second copy on disk.

    Safe rewrite: plain `VACUUM` (SHARE UPDATE EXCLUSIVE) to make space reusable, or `pg_repack`, which
    rebuilds online and takes ACCESS EXCLUSIVE only briefly at the end.
    """
    if statement.effects.kind == "VacuumFull":
        yield Hit(
            "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE",
            safe_rewrite="VACUUM (ANALYZE) <table>;  -- or pg_repack --table <table>",
        )


@rule(
    "DW723",
    "CLUSTER",
    Severity.HIGH,
    fails=["CLUSTER orders USING orders_created_idx;"],
    passes=[
        "CREATE TABLE orders (id int); CREATE INDEX orders_id_idx ON orders (id); "
        "CLUSTER orders USING orders_id_idx;"
    ],
)
def cluster(statement, state):
    """CLUSTER rewrites the table in index order under ACCESS EXCLUSIVE: no reads, no writes, for the
    whole copy and sort, plus every index rebuild.

    Safe rewrite: `pg_repack --order-by`, which reorders online.
    """
    if statement.effects.kind == "Cluster" and existing(statement, state):
        yield Hit(
            "CLUSTER rewrites the table under ACCESS EXCLUSIVE",
            safe_rewrite="pg_repack --table <table> --order-by <columns>",
        )


@rule(
    "DW724",
    "SET TABLESPACE",
    Severity.HIGH,
    fails=["ALTER TABLE orders SET TABLESPACE fast_ssd;"],
    passes=["CREATE TABLE orders (id int); ALTER TABLE orders SET TABLESPACE fast_ssd;"],
)
def set_tablespace(statement, state):
    """SET TABLESPACE copies the table's files to the new tablespace under ACCESS EXCLUSIVE: no reads
    and no writes until the copy ends.

    Safe rewrite: `pg_repack --tablespace`, which moves the table online; or create new tables in the
    tablespace from the start (`default_tablespace`).
    """
    for table, _cmd in commands(statement, AT.AT_SetTableSpace):
        if not state.is_new(table):
            yield Hit(
                f"SET TABLESPACE copies {table} under ACCESS EXCLUSIVE",
                safe_rewrite=f"pg_repack --table {table} --tablespace <tablespace>",
            )


@rule(
    "DW741",
    "SET LOGGED / SET UNLOGGED rewrites the table",
    Severity.HIGH,
    fails=["ALTER TABLE events SET LOGGED;", "ALTER TABLE events SET UNLOGGED;"],
    passes=["CREATE UNLOGGED TABLE events (id int); ALTER TABLE events SET LOGGED;"],
)
def set_logged(statement, state):
    """SET LOGGED and SET UNLOGGED rewrite the table (and write it all to WAL for LOGGED) under ACCESS
    EXCLUSIVE.

    Safe rewrite: create the table with the persistence it needs from the start; for a big table, copy
    into a new table in batches and swap names in one short transaction.
    """
    for table, _cmd in commands(statement, AT.AT_SetLogged, AT.AT_SetUnLogged):
        if not state.is_new(table):
            yield Hit(
                f"changing persistence rewrites {table} under ACCESS EXCLUSIVE",
                safe_rewrite="copy into a new table in batches, then swap names in one short transaction",
            )


@rule(
    "DW727",
    "Trigger created on an existing table",
    Severity.MEDIUM,
    fails=["CREATE TRIGGER orders_audit AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit();"],
    passes=[
        "CREATE TABLE orders (id int);\n"
        "CREATE TRIGGER orders_audit AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit();"
    ],
)
def create_trigger(statement, state):
    """CREATE TRIGGER takes SHARE ROW EXCLUSIVE on the table: it waits behind every running write and
    blocks all writes that queue up behind it. The trigger then adds its cost to every write, and a
    failing trigger fails the write.

    Safe rewrite: set a short lock_timeout and retry; keep the function cheap and tested; for
    audit/sync triggers, prefer `FOR EACH STATEMENT` with transition tables where possible.
    """
    node = statement.node
    if isinstance(node, ast.CreateTrigStmt) and not state.is_new(qualified(node.relation)):
        yield Hit(
            f"CREATE TRIGGER takes SHARE ROW EXCLUSIVE on {qualified(node.relation)}: writes wait",
            safe_rewrite="SET lock_timeout = '2s';  -- and retry on lock timeout\n" + statement.sql + ";",
        )


@rule(
    "DW728",
    "Materialized view refreshed without CONCURRENTLY",
    Severity.MEDIUM,
    fails=["REFRESH MATERIALIZED VIEW daily_sales;"],
    passes=["REFRESH MATERIALIZED VIEW CONCURRENTLY daily_sales;"],
)
def refresh_without_concurrently(statement, state):
    """REFRESH MATERIALIZED VIEW takes ACCESS EXCLUSIVE on the view for the whole query: every read of
    the view waits.

    Safe rewrite: `REFRESH MATERIALIZED VIEW CONCURRENTLY` (EXCLUSIVE: reads go on), which needs a
    unique index on the view without a WHERE clause.
    """
    node = statement.node
    if isinstance(node, ast.RefreshMatViewStmt) and not node.concurrent and not node.skipData:
        yield Hit(
            f"REFRESH takes ACCESS EXCLUSIVE on {qualified(node.relation)}: reads wait",
            safe_rewrite=statement.sql.replace("VIEW", "VIEW CONCURRENTLY", 1)
            + ";  -- needs a unique index on the view",
        )


@rule(
    "DW742",
    "LOCK TABLE in a mode that blocks writes",
    Severity.MEDIUM,
    fails=["LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;", "LOCK TABLE orders IN SHARE MODE;"],
    passes=["LOCK TABLE orders IN ROW EXCLUSIVE MODE;", "CREATE TABLE orders (id int); LOCK TABLE orders;"],
)
def explicit_lock(statement, state):
    """An explicit LOCK TABLE holds its lock until the transaction ends, so everything after it in the
    migration runs while writers (or, for ACCESS EXCLUSIVE, readers too) wait.

    Safe rewrite: drop the explicit lock and let each statement take the lock it needs, for as short a
    time as possible, with a lock_timeout.
    """
    if (
        statement.effects.kind == "LockTable"
        and state.lock_model.blocks_writes(statement.effects.lock)
        and existing(statement, state)
    ):
        yield Hit(
            f"LOCK TABLE … {statement.effects.lock} holds until the migration's transaction ends",
            safe_rewrite="remove the LOCK TABLE; set lock_timeout instead",
        )
