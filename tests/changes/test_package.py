"""Change packages derive their rollback and their script shape from the operations."""

from dbwright.model.operations import (
    AddForeignKey,
    AlterSystem,
    CreateIndex,
    DropIndex,
    ReloadConfig,
    SetNotNull,
    ValidateConstraint,
)
from dbwright.model.package import ChangePackage


def test_rollback_is_derived_in_reverse_order():
    package = ChangePackage.of(
        "fk",
        [
            AddForeignKey("shop.orders", "orders_customer_fk", ("customer_id",), "shop.customers", ("id",)),
            ValidateConstraint("shop.orders", "orders_customer_fk"),
        ],
        "add a foreign key without a long lock",
    )
    assert (
        package.rollback_sql == "BEGIN;\nSET LOCAL lock_timeout = '5s';\n"
        "ALTER TABLE shop.orders DROP CONSTRAINT IF EXISTS orders_customer_fk;\nCOMMIT;"
    )
    assert "NOT VALID" in package.forward_sql and package.transactional


def test_concurrent_index_runs_outside_transaction_with_lock_timeout():
    package = ChangePackage.of(
        "idx",
        [CreateIndex("orders_customer_idx", "shop.orders", ("customer_id",), table_bytes=400 * 1024**2)],
        "index",
    )
    assert package.forward_sql.splitlines() == [
        "SET lock_timeout = '5s';",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx ON shop.orders (customer_id);"
        "  -- runs outside a transaction block",
    ]
    assert "DROP INDEX CONCURRENTLY IF EXISTS shop.orders_customer_idx;" in package.rollback_sql
    step = package.steps()[0]
    assert step["lock"] == "SHARE UPDATE EXCLUSIVE" and step["impact"] == "allows reads and writes"
    assert not step["in_transaction"] and step["scans_table"] and step["estimated_seconds"] > 10


def test_drop_index_with_definition_is_reversible():
    drop = DropIndex("shop.orders_dup", definition="CREATE INDEX orders_dup ON shop.orders USING btree (id)")
    assert drop.reverse().sql() == "CREATE INDEX CONCURRENTLY orders_dup ON shop.orders USING btree (id);"
    assert not drop.destructive
    assert DropIndex("shop.orders_dup").destructive


def test_set_not_null_and_settings_reverse():
    assert SetNotNull("t", "c").reverse().sql() == "ALTER TABLE t ALTER COLUMN c DROP NOT NULL;"
    package = ChangePackage.of("cfg", [AlterSystem("work_mem", "16MB"), ReloadConfig()], "tune")
    assert package.rollback_sql.splitlines() == [
        "ALTER SYSTEM RESET work_mem;  -- runs outside a transaction block",
        "SELECT pg_reload_conf();",
    ]


def test_validate_runs_in_its_own_transaction():
    package = ChangePackage.of(
        "fk",
        [
            AddForeignKey("shop.orders", "orders_customer_fk", ("customer_id",), "shop.customers", ("id",)),
            ValidateConstraint("shop.orders", "orders_customer_fk"),
        ],
        "add a foreign key without a long lock",
    )
    first, second = package.forward_sql.split("COMMIT;")[:2]
    assert "NOT VALID" in first and "VALIDATE" not in first
    assert second.strip().startswith("BEGIN;") and "VALIDATE CONSTRAINT orders_customer_fk" in second
