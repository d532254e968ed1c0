"""Transactions and sessions: statements that cannot run in a block, timeouts, enum values."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as AT

from dbwright.changes.lint.context import string_constants
from dbwright.changes.lint.rows import rows_touched
from dbwright.changes.lint.rules import Case, Hit, rule
from dbwright.changes.lint.rules.common import commands, existing
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
            f"{statement.words} cannot run inside a transaction block: the migration fails here",
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
            f"{statement.words} scans or rewrites under {fx.lock} with no statement_timeout",
            safe_rewrite="SET statement_timeout = '<estimate × 2>';  -- before this statement",
        )


@rule(
    "DW744",
    "Long statement under a lock taken earlier in the transaction",
    Severity.HIGH,
    fails=[
        "BEGIN;\nALTER TABLE orders ADD COLUMN region text;\n"
        "UPDATE orders SET region = 'eu' WHERE region IS NULL;\nCOMMIT;",
        "BEGIN;\nALTER TABLE orders ALTER COLUMN note SET DEFAULT '';\n"
        "CREATE INDEX orders_note_idx ON orders (note);\nCOMMIT;",
    ],
    passes=[
        "ALTER TABLE orders ADD COLUMN region text;\nUPDATE orders SET region = 'eu' WHERE region IS NULL;",
        "BEGIN;\nALTER TABLE orders ADD COLUMN region text;\nCOMMIT;\n"
        "UPDATE orders SET region = 'eu' WHERE id BETWEEN 1 AND 10000;",
        "BEGIN;\nALTER TABLE orders ADD COLUMN region text;\nUPDATE orders SET region = 'eu' WHERE id = 7;\nCOMMIT;",
    ],
)
def long_statement_under_held_lock(statement, state):
    """A lock is held until the transaction ends, not until the statement that took it ends. After an
    `ALTER TABLE … ADD COLUMN` (ACCESS EXCLUSIVE) inside `BEGIN … COMMIT`, a backfill `UPDATE` of the
    same table reports ROW EXCLUSIVE for itself, but the table stays locked against every read and
    write until COMMIT: the brief ALTER has become as long as the UPDATE. The same holds for a scan
    (CREATE INDEX, VALIDATE) after any statement that took a lock blocking writes. Django, Alembic and
    Rails run each migration in one transaction, so this is their usual shape.

    Safe rewrite: COMMIT right after the schema change, and run the long statement in its own
    transaction (for a backfill, in batches: `dbwright backfill`). Django: `atomic = False` or a
    separate migration; Alembic: a separate revision or `autocommit_block()`; Rails: a separate
    migration.
    """
    fx = statement.effects
    node = statement.node
    if isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
        long = rows_touched(node, state).many
    else:  # a statement that cannot run in a transaction fails there instead (DW703)
        long = (
            (fx.scans or fx.rewrites) and fx.transactional and not _validates_own_constraint(statement, state)
        )
    if not long:
        return
    held = []
    for table in existing(statement, state):
        earlier = statement.held_before(table)
        own = fx.locks.get(table, "none")
        if (
            earlier
            and state.lock_model.strongest(earlier.mode, own) != own
            and state.lock_model.blocks_writes(earlier.mode)
        ):
            held.append((table, earlier))
    if not held:
        return
    table, earlier = max(held, key=lambda item: state.lock_model.blocks_reads(item[1].mode))
    waits = "every read and write" if state.lock_model.blocks_reads(earlier.mode) else "every write"
    where = (
        f"line {earlier.line}" if earlier.file == statement.parsed.file else f"{earlier.file}:{earlier.line}"
    )
    yield Hit(
        f"{statement.words} runs while its transaction holds {earlier.mode} on {table} (taken at {where}) "
        f"until COMMIT: {waits} of {table} waits for this statement too",
        lock=earlier.mode,
        severity=Severity.HIGH if state.lock_model.blocks_reads(earlier.mode) else Severity.MEDIUM,
        safe_rewrite=f"COMMIT;  -- after the statement at {where}\n{statement.sql};  "
        "-- in its own transaction (a backfill: in batches, dbwright backfill)",
    )


def _validates_own_constraint(statement, state) -> bool:
    """VALIDATE of a constraint its own transaction added NOT VALID: DW745 says it, not DW744."""
    return any(
        (table.lower().removeprefix("public."), cmd.name.lower()) in state.not_valid_in_transaction
        for table, cmd in commands(statement, AT.AT_ValidateConstraint)
    )


@rule(
    "DW745",
    "NOT VALID and VALIDATE in the same transaction",
    Severity.HIGH,
    fails=[
        "BEGIN;\nALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
        "REFERENCES customers (id) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;\n"
        "COMMIT;",
        "BEGIN;\nALTER TABLE orders ADD CONSTRAINT qty_positive CHECK (qty > 0) NOT VALID;\n"
        "SET CONSTRAINTS ALL IMMEDIATE;\nALTER TABLE orders VALIDATE CONSTRAINT qty_positive;\nCOMMIT;",
    ],
    passes=[
        "ALTER TABLE orders ADD CONSTRAINT qty_positive CHECK (qty > 0) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT qty_positive;",
        "BEGIN;\nALTER TABLE orders ADD CONSTRAINT qty_positive CHECK (qty > 0) NOT VALID;\nCOMMIT;\n"
        "BEGIN;\nALTER TABLE orders VALIDATE CONSTRAINT qty_positive;\nCOMMIT;",
    ],
)
def validate_in_same_transaction(statement, state):
    """`ADD CONSTRAINT … NOT VALID` then `VALIDATE CONSTRAINT` is the safe way to add a CHECK or a
    foreign key only when they run in separate transactions: the ADD takes a brief strong lock (ACCESS
    EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE on both tables for a foreign key), and VALIDATE scans
    under SHARE UPDATE EXCLUSIVE, which lets writes go on. In one transaction the ADD's lock is still
    held while VALIDATE scans, so writes (for a CHECK, reads too) wait for the whole scan, exactly as
    with a plain ADD CONSTRAINT. Django's and Alembic's atomic migrations put both in one transaction
    when they are in one migration.

    Safe rewrite: COMMIT between the two (Django: the VALIDATE in a separate migration, or
    `atomic = False`; Alembic: a separate revision; Rails: a separate migration).
    """
    for table, cmd in commands(statement, AT.AT_ValidateConstraint):
        line = state.not_valid_in_transaction.get((table.lower().removeprefix("public."), cmd.name.lower()))
        if line is None or state.is_new(table):
            continue
        earlier = statement.held_before(table)
        held = earlier.mode if earlier else "the ADD's lock"
        yield Hit(
            f"VALIDATE CONSTRAINT {cmd.name} runs in the transaction that added it NOT VALID (line {line}): "
            f"{held} on {table} is held through the scan, so NOT VALID gains nothing here",
            lock=earlier.mode if earlier else None,
            safe_rewrite=f"COMMIT;  -- end the transaction that added {cmd.name}\n{statement.sql};",
        )
