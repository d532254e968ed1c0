"""`migrate plan --safe`: pending migrations rewritten into their safe sequences, never applied."""

import json

from tests.changes.migrations.conftest import write
from tests.cli.test_cli_errors import run_cli


def test_plan_safe_rewrites_pending_migrations_and_writes_them(pg, tmp_path):
    pg.execute("CREATE TABLE customers (id bigint PRIMARY KEY)")
    pg.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text)")
    mdir = tmp_path / "migrations"
    write(
        mdir,
        1,
        "harden",
        "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
        "REFERENCES customers (id);\n"
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;",
    )
    out = tmp_path / "safe.sql"
    result = run_cli("migrate", "plan", "--safe", "-d", pg.url, "--dir", str(mdir), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "CREATE INDEX CONCURRENTLY" in result.stdout and "OUTSIDE transaction" in result.stdout
    up, down = out.read_text().split("-- migrate:down")
    assert "NOT VALID" in up and "VALIDATE CONSTRAINT orders_customer_fk" in up
    assert "CHECK (note IS NOT NULL) NOT VALID" in up
    assert "DROP INDEX CONCURRENTLY IF EXISTS" in down

    as_json = run_cli("migrate", "plan", "--safe", "-d", pg.url, "--dir", str(mdir), "--format", "json")
    files = json.loads(as_json.stdout)
    assert [f["file"] for f in files] == ["V1__harden.sql"] and len(files[0]["packages"]) >= 4
    # a dry run: nothing applied
    assert pg.value("SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_customer_idx'") == 0
    assert pg.value("SELECT to_regclass('dbwright.schema_history')") is None
