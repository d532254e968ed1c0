"""The migration set the kill test applies: transactional and CONCURRENTLY steps, with sleeps
that widen the windows between them, so random kills land inside every kind of step."""

from pathlib import Path

from tests.changes.migrations.conftest import write

#: An IMMUTABLE function that sleeps: an index on it builds slowly, so kills land inside the build.
SLOW_KEY = """CREATE FUNCTION slow_key(bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM pg_sleep(0.0004); RETURN $1; END $$;"""

INDEXES = ("orders_slow_idx", "orders_customer_idx")


def write_set(directory: Path) -> None:
    write(
        directory,
        1,
        "orders",
        f"{SLOW_KEY}\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL);\n"
        "INSERT INTO orders SELECT g, g % 97 FROM generate_series(1, 400) g;\nSELECT pg_sleep(0.05);",
        "DROP TABLE orders;\nDROP FUNCTION slow_key(bigint);",
    )
    write(
        directory,
        2,
        "status",
        "ALTER TABLE orders ADD COLUMN status text;\nSELECT pg_sleep(0.05);\n"
        "CREATE INDEX CONCURRENTLY orders_slow_idx ON orders (slow_key(id));\n"
        "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';\nSELECT pg_sleep(0.05);\n"
        "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\n"
        "CREATE TABLE customers (id bigint PRIMARY KEY);\nSELECT pg_sleep(0.05);",
        "DROP TABLE customers;\nDROP INDEX CONCURRENTLY orders_customer_idx;\n"
        "DROP INDEX CONCURRENTLY orders_slow_idx;\nALTER TABLE orders DROP COLUMN status;",
    )
    write(
        directory,
        3,
        "fk",
        "INSERT INTO customers SELECT DISTINCT customer_id FROM orders;\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers "
        "NOT VALID;\nSELECT pg_sleep(0.05);\nALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;",
        "ALTER TABLE orders DROP CONSTRAINT orders_customer_fk;",
    )
