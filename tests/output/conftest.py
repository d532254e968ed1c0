"""One real review shared by the renderer tests: built once, rendered in every format.

The database has a table without a primary key whose name is hostile to every output
format (HTML tags, rich markup, quotes), a foreign key, data in pg_stat_statements, and is
reviewed by a plain login role so that some snapshot sections and checks are really skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from dbwright.engines.registry import take_snapshot
from dbwright.review import Review, run_review
from tests.conftest import PgDatabase
from tests.pgcluster import Cluster

HOSTILE_TABLE = "[bold]<script>alert('x')</script>"
REVIEWER = "report_reviewer"


@pytest.fixture(scope="package")
def review(cluster: Cluster) -> Iterator[Review]:
    name = "report_renderers"
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    db = PgDatabase(cluster, name)
    try:
        _build_schema(db)
        snap = take_snapshot(cluster.url(name, user=REVIEWER))
        yield run_review(snap)
    finally:
        db.close()


def _build_schema(db: PgDatabase) -> None:
    db.role(REVIEWER, "LOGIN")
    db.execute("CREATE EXTENSION pg_stat_statements")
    db.execute("CREATE SCHEMA shop")
    db.execute("CREATE TABLE shop.customers (id bigint PRIMARY KEY, email text NOT NULL)")
    db.execute(
        "CREATE TABLE shop.orders (id bigint PRIMARY KEY, "
        "customer_id bigint NOT NULL REFERENCES shop.customers, total numeric(12,2) NOT NULL)"
    )
    table = psycopg.sql.Identifier("shop", HOSTILE_TABLE).as_string(db.conn)
    db.execute(f"CREATE TABLE {table} (happened_at timestamptz, kind text)")
    db.execute(
        "INSERT INTO shop.customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 2000) g"
    )
    db.execute("INSERT INTO shop.orders SELECT g, 1 + g % 2000, g FROM generate_series(1, 5000) g")
    db.execute(f"INSERT INTO {table} SELECT now(), 'k' || g % 7 FROM generate_series(1, 300) g")
    db.execute(f"GRANT USAGE ON SCHEMA shop TO {REVIEWER}")
    db.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA shop TO {REVIEWER}")
    db.analyze()
    with db.connect(user=REVIEWER) as conn:  # the reviewer's own statements, so it can read their texts
        for customer in range(1, 40):
            conn.execute("SELECT sum(total) FROM shop.orders WHERE customer_id = %s", (customer,)).fetchall()
        conn.execute(
            "SELECT count(*) FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id"
        ).fetchall()
