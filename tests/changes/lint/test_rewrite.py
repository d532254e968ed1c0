"""Safe rewrites reach the same schema as the naive statement, and their rollback returns to the start.

Each case builds the same tables in two fresh databases on the real server, runs the naive
statement in one and the safe packages in the other, and compares dbwright's own snapshots of
the table: columns, constraint definitions and index definitions.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from dbwright.changes.lint import safe_rewrite
from dbwright.changes.lint.parse import parse_statements
from dbwright.changes.lint.rewrite import rollback_sql
from dbwright.engines.registry import take_snapshot

SETUP = """
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, region text, code text);
INSERT INTO customers SELECT g FROM generate_series(1, 20) g;
INSERT INTO orders SELECT g, 1 + g % 20, 'eu', 'c' || g FROM generate_series(1, 12000) g;
"""

CASES = {
    "index": ("CREATE INDEX ON orders (customer_id);", 1),
    "unique_index_named": ("CREATE UNIQUE INDEX orders_code_uidx ON orders (code);", 1),
    "foreign_key": (
        "ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE;",
        2,
    ),
    "set_not_null": ("ALTER TABLE orders ALTER COLUMN region SET NOT NULL;", 3),
    "volatile_default": ("ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();", 2),
    "volatile_default_not_null": (
        "ALTER TABLE orders ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();",
        5,
    ),
    "unique": ("ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE (code);", 2),
    # what the constraint says about its index and about itself survives the rewrite (issue 15)
    "unique_nulls_not_distinct_deferrable": (
        "ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE NULLS NOT DISTINCT (code) "
        "DEFERRABLE INITIALLY DEFERRED;",
        2,
    ),
    "unique_unnamed_include": ("ALTER TABLE orders ADD UNIQUE (code) INCLUDE (region);", 2),
}


@pytest.fixture
def twin(pg) -> Iterator[str]:
    """A second fresh database next to ``pg``, for the safe sequence."""
    name = f"{pg.name}_safe"
    with psycopg.connect(pg.cluster.url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield pg.cluster.url(name)
    finally:
        with psycopg.connect(pg.cluster.url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_script(url: str, script: str) -> None:
    """Statement by statement on an autocommit session, as a migration runner would."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in parse_statements(script):
            conn.execute(statement.sql)


def schema_of(url: str, table: str = "orders") -> dict:
    snap = take_snapshot(url)
    return {
        "columns": sorted(
            (c.name, c.data_type, c.not_null, c.default, c.identity, c.generated)
            for c in snap.columns
            if c.table == table
        ),
        "constraints": sorted(
            (c.name, c.type, c.definition, c.validated) for c in snap.constraints if c.table == table
        ),
        "indexes": sorted((i.name, i.definition, i.valid) for i in snap.indexes if i.table == table),
    }


@pytest.mark.parametrize(("naive", "steps"), CASES.values(), ids=CASES.keys())
def test_safe_rewrite_reaches_the_naive_schema_and_rolls_back(pg, twin, naive, steps):
    pg.execute(SETUP)
    run_script(twin, SETUP)
    start = schema_of(twin)

    packages = safe_rewrite(naive, 150000)
    assert len(packages) == steps
    assert all(p.rollback_sql for p in packages[:1]), "the first step must be undoable"

    pg.execute(naive)
    run_script(twin, "\n".join(p.forward_sql for p in packages))
    assert schema_of(twin) == schema_of(pg.url)

    run_script(twin, rollback_sql(packages))
    assert schema_of(twin) == start


def test_index_rewrite_is_concurrent_and_outside_a_transaction():
    [package] = safe_rewrite("CREATE INDEX orders_customer_idx ON orders (customer_id);")
    [step] = package.steps()
    assert "CONCURRENTLY" in step["sql"] and not step["in_transaction"]
    assert step["lock"] == "SHARE UPDATE EXCLUSIVE"
    assert "DROP INDEX CONCURRENTLY IF EXISTS orders_customer_idx" in package.rollback_sql


def test_validate_never_shares_a_transaction_with_the_add():
    add, validate = safe_rewrite(
        "ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);"
    )
    assert "NOT VALID" in add.forward_sql and "VALIDATE" not in add.forward_sql
    assert "VALIDATE CONSTRAINT orders_customer_id_fkey" in validate.forward_sql
    assert validate.steps()[0]["lock"] == "SHARE UPDATE EXCLUSIVE"


def test_volatile_default_backfill_fills_every_row(pg):
    pg.execute(SETUP)
    run_script(
        pg.url,
        "\n".join(
            p.forward_sql
            for p in safe_rewrite("ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();")
        ),
    )
    assert pg.value("SELECT count(*) FROM orders WHERE token IS NULL") == 0
    assert pg.value("SELECT count(DISTINCT token) FROM orders") == 12000


def test_safe_statements_pass_through_and_new_tables_are_left_alone():
    packages = safe_rewrite("CREATE TABLE t (id bigint);\nCREATE INDEX ON t (id);\nSELECT 1;")
    assert [p.operations[0].sql() for p in packages] == [
        "CREATE TABLE t (id bigint);",
        "CREATE INDEX ON t (id);",
        "SELECT 1;",
    ]


def test_set_not_null_is_not_rewritten_before_pg12():
    [package] = safe_rewrite("ALTER TABLE orders ALTER COLUMN region SET NOT NULL;", 110000)
    assert package.title.startswith("As written")


def _lint_rewrites(sql: str, state=None) -> str:
    """The lint's safe rewrite of each flagged statement of ``sql`` (the statement itself when none)."""
    from dbwright.changes.lint import lint

    parts = []
    findings = lint(sql, state=state)
    for statement in parse_statements(sql):
        rewrite = next(
            (
                f.safe_rewrite
                for f in findings
                if f.line == statement.line and f.code in ("DW707", "DW708", "DW709")
            ),
            None,
        )
        parts.append(rewrite if rewrite else statement.sql + ";")
    return "\n".join(parts)


def test_two_unnamed_checks_get_the_names_postgresql_gives_them(pg, twin):
    naive = (
        "ALTER TABLE orders ADD CHECK (id > 0);\n"
        "ALTER TABLE orders ADD CHECK (id < 1000000);\n"
        "ALTER TABLE orders ADD CHECK (id > 0 AND customer_id > 0);"
    )
    pg.execute(SETUP)
    run_script(twin, SETUP)
    rewritten = _lint_rewrites(naive)
    assert "orders_id_check1" in rewritten and "orders_check" in rewritten and "NOT VALID" in rewritten
    pg.execute(naive)
    run_script(twin, rewritten)
    assert schema_of(twin) == schema_of(pg.url)


def test_a_name_the_database_already_uses_is_not_reused(pg, twin):
    from dbwright.changes.lint import LintState

    pg.execute(SETUP + "ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);")
    run_script(twin, SETUP + "ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);")
    naive = "ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE;"
    packages = safe_rewrite(naive, state=LintState.from_snapshot(take_snapshot(twin)))
    assert "orders_customer_id_fkey1" in packages[0].forward_sql
    lint_text = _lint_rewrites(naive, LintState.from_snapshot(take_snapshot(twin)))
    assert "orders_customer_id_fkey1" in lint_text
    pg.execute(naive)
    run_script(twin, "\n".join(p.forward_sql for p in packages))
    assert schema_of(twin) == schema_of(pg.url)


def test_the_lints_unique_rewrite_keeps_nulls_not_distinct_and_deferrable(pg, twin):
    naive = "ALTER TABLE orders ADD UNIQUE NULLS NOT DISTINCT (code) INCLUDE (region) DEFERRABLE;"
    pg.execute(SETUP)
    run_script(twin, SETUP)
    rewritten = _lint_rewrites(naive).replace("  -- outside a transaction", "")
    assert "NULLS NOT DISTINCT" in rewritten and "DEFERRABLE" in rewritten
    pg.execute(naive)
    run_script(twin, rewritten)
    assert schema_of(twin) == schema_of(pg.url)


def test_a_foreign_key_on_a_partitioned_table_uses_a_path_postgresql_15_supports(pg, twin):
    from dbwright.changes.lint import LintState

    setup = (
        "CREATE TABLE customers (id bigint PRIMARY KEY);\n"
        "CREATE TABLE events (id bigint, customer_id bigint, at date) PARTITION BY RANGE (at);\n"
        "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n"
        "INSERT INTO customers VALUES (1); INSERT INTO events VALUES (1, 1, '2026-05-01');"
    )
    pg.execute(setup)
    run_script(twin, setup)
    naive = "ALTER TABLE events ADD FOREIGN KEY (customer_id) REFERENCES customers (id);"
    packages = safe_rewrite(naive, state=LintState.from_snapshot(take_snapshot(twin)))
    assert "NOT VALID" not in packages[0].forward_sql and "before PostgreSQL 18" in packages[0].title
    pg.execute(naive)
    run_script(twin, "\n".join(p.forward_sql for p in packages))  # applies on PG15, no "not yet supported"
    assert schema_of(twin, "events") == schema_of(pg.url, "events")
