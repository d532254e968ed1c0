"""Transactions and sessions: statements that cannot run in a block, timeouts, enum values."""

from __future__ import annotations

from pglast import ast

from dbwright.changes.lint.context import string_constants
from dbwright.changes.lint.rules import Case, Hit, rule
from dbwright.changes.lint.rules.common import existing
from dbwright.model.findings import Severity


@rule(
    "DW703",
    "Statement that cannot run in a transaction, inside BEGIN … COMMIT",
    Severity.CRITICAL,
    fails=[
        "BEGIN;\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\nCOMMIT;",
        "BEGIN;\nVACUUM orders;\nCOMMIT;",
    ],
    passes=[
        "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);",
        "BEGIN;\nCOMMIT;\nDROP INDEX CONCURRENTLY orders_customer_idx;",
    ],
)
def not_transactional_in_block(statement, state):
    """CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, DETACH PARTITION CONCURRENTLY, VACUUM and
    ALTER SYSTEM cannot run inside a transaction block: the migration fails at that statement
    ("cannot run inside a transaction block"), after the earlier statements took their locks.

    Safe rewrite: run the statement on its own, outside BEGIN … COMMIT (dbwright migrate does this by
    itself, recording each such step so a rerun resumes). Alembic: use
    `with op.get_context().autocommit_block():`; Django: a migration with `atomic = False`.
    """
    if (
        state.in_transaction_block
        and not statement.effects.transactional
        and statement.effects.kind != "AlterEnum:AddValue"
    ):
        yield Hit(
            f"{statement.effects.kind} cannot run inside a transaction block: the migration fails here",
            lock="none",
            safe_rewrite="COMMIT;\n" + statement.sql + ";\nBEGIN;  -- run it on its own",
        )


@rule(
    "DW733",
    "Enum value added inside a transaction (before PostgreSQL 12)",
    Severity.CRITICAL,
    fails=[Case("BEGIN;\nALTER TYPE order_status ADD VALUE 'refunded';\nCOMMIT;", version=110000)],
    passes=[
        "BEGIN;\nALTER TYPE order_status ADD VALUE 'refunded';\nCOMMIT;",
        Case("ALTER TYPE order_status ADD VALUE 'refunded';", version=110000),
    ],
)
def add_enum_value_in_block(statement, state):
    """Before PostgreSQL 12, `ALTER TYPE … ADD VALUE` cannot run inside a transaction block: the migration
    fails. Since 12 it can, but the new value cannot be used until the transaction commits (DW732).

    Safe rewrite: run the ADD VALUE on its own, outside the transaction (dbwright migrate does this on
    older servers).
    """
    if (
        statement.effects.kind == "AlterEnum:AddValue"
        and state.in_transaction_block
        and state.server_version < 120000
    ):
        yield Hit(
            "ALTER TYPE … ADD VALUE cannot run in a transaction block before PostgreSQL 12",
            lock="none",
            safe_rewrite="COMMIT;\n" + statement.sql + ";\nBEGIN;",
        )


@rule(
    "DW732",
    "Enum value used in the transaction that adds it",
    Severity.CRITICAL,
    fails=[
        "ALTER TYPE order_status ADD VALUE 'refunded';\n"
        "UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL;"
    ],
    passes=[
        "ALTER TYPE order_status ADD VALUE 'refunded';",
        "BEGIN;\nALTER TYPE order_status ADD VALUE 'refunded';\nCOMMIT;\n"
        "UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL;",
        "CREATE TYPE order_status AS ENUM ('new');\nALTER TYPE order_status ADD VALUE 'refunded';\n"
        "INSERT INTO orders (status) VALUES ('refunded');",
    ],
    lock_related=False,
)
def enum_value_used_too_soon(statement, state):
    """A value added with `ALTER TYPE … ADD VALUE` cannot be used until the transaction that added it
    commits: the statement fails with "unsafe use of new value". A migration file runs as one
    transaction (dbwright migrate, Alembic and Django all wrap it), so adding and using the value in the
    same file fails, unless the enum type itself was created in that transaction.

    Safe rewrite: add the value in one migration and use it in the next (or COMMIT in between).
    """
    if not state.enum_values_added or isinstance(statement.node, ast.AlterEnumStmt):
        return
    used = string_constants(statement.node) & set(state.enum_values_added)
    for value in sorted(used):
        enum = state.enum_values_added[value]
        if enum in state.enums_created:
            continue
        yield Hit(
            f"'{value}' was added to {enum} in this transaction: using it fails (unsafe use of new value)",
            lock="none",
            safe_rewrite="move this statement to the next migration (after the ADD VALUE commits)",
        )


@rule(
    "DW730",
    "No lock_timeout before a statement that blocks writes",
    Severity.MEDIUM,
    fails=["ALTER TABLE orders ADD COLUMN note text;"],
    passes=[
        "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;",
        "CREATE TABLE orders (id int); ALTER TABLE orders ADD COLUMN note text;",
        "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);",
    ],
)
def missing_lock_timeout(statement, state):
    """A statement that needs a lock which blocks writes waits behind any long-running query on the
    table, and while it waits every new query on the table queues behind it: a one-millisecond ALTER
    can take the application down. `lock_timeout` makes it give up (and retry) instead.

    Safe rewrite: `SET lock_timeout = '2s'` (or `SET LOCAL` inside the transaction) before the first such
    statement, and retry the migration on timeout. `dbwright migrate apply` sets it per statement and
    retries with backoff; lint knows that when the runner calls it. Reported once per file.
    """
    if state.timeouts_set_by_runner or state.lock_timeout_set:
        return
    if (
        state.lock_model.blocks_writes(statement.effects.lock)
        and existing(statement, state)
        and state.once("DW730")
    ):
        yield Hit(
            f"{statement.effects.lock} is requested with no lock_timeout: if it waits, every query on "
            f"{', '.join(existing(statement, state))} queues behind it",
            safe_rewrite="SET lock_timeout = '2s';  -- before this statement; retry on timeout",
        )


@rule(
    "DW731",
    "No statement_timeout before a long statement that blocks writes",
    Severity.LOW,
    fails=["CREATE INDEX orders_note_idx ON orders (note);"],
    passes=[
        "SET statement_timeout = '15min';\nSET lock_timeout = '2s';\nCREATE INDEX orders_note_idx ON orders (note);",
        "ALTER TABLE orders ADD COLUMN note text;",
    ],
)
def missing_statement_timeout(statement, state):
    """A statement that scans or rewrites the table while holding a lock that blocks writes keeps the
    application waiting for as long as it runs. `statement_timeout` bounds that time, so a migration
    that is slower than planned fails and rolls back instead of stalling production.

    Safe rewrite: `SET statement_timeout` to what the plan estimates, with headroom, before the statement.
    Reported once per file.
    """
    if state.timeouts_set_by_runner or state.statement_timeout_set:
        return
    fx = statement.effects
    if (
        (fx.scans or fx.rewrites)
        and state.lock_model.blocks_writes(fx.lock)
        and existing(statement, state)
        and state.once("DW731")
    ):
        yield Hit(
            f"{fx.kind} scans or rewrites under {fx.lock} with no statement_timeout",
            safe_rewrite="SET statement_timeout = '<estimate × 2>';  -- before this statement",
        )
