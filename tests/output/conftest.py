"""One real review shared by the renderer tests: built once, rendered in every format.

The database has a table without a primary key whose name is hostile to every output
format (HTML tags, rich markup, quotes), a foreign key, data in pg_stat_statements, and is
reviewed by a plain login role so that some snapshot sections and checks are really skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from dbwright.advisors.indexes import advise_indexes
from dbwright.advisors.indexes.workload import Query, Workload
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


#: A long name and long statements, so wrapping is exercised.
LONG_TABLE = "customer_lifetime_value_snapshots_by_marketing_attribution_channel"

SCHEMA = f"""
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, status text, total numeric,
    created_at timestamptz, note text);
INSERT INTO orders SELECT g, g % 2000, CASE WHEN g % 9 = 0 THEN 'open' ELSE 'done' END, g % 997,
    '2024-01-01'::timestamptz + g * interval '1 min', md5(g::text) FROM generate_series(1, 60000) g;
CREATE TABLE tickets (id bigint PRIMARY KEY, owner_id int, priority int, subject text);
INSERT INTO tickets SELECT g, g % 500, g % 5, md5(g::text) FROM generate_series(1, 40000) g;
CREATE TABLE {LONG_TABLE} (id bigint PRIMARY KEY, attribution_channel_identifier int, value numeric);
INSERT INTO {LONG_TABLE} SELECT g, g % 300, g FROM generate_series(1, 40000) g;
ANALYZE;
"""

LONG_IN_LIST = ", ".join(str(n) for n in range(1, 120))
QUERIES = (
    ("SELECT id, total FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20", 400, 5200.0),
    ("SELECT id, subject FROM tickets WHERE owner_id = $1 AND priority = $2", 250, 3100.0),
    (
        f"SELECT sum(value) FROM {LONG_TABLE} WHERE attribution_channel_identifier = $1 "
        f"AND id NOT IN ({LONG_IN_LIST})",
        90,
        1800.0,
    ),
)


def _workload(timed: bool) -> Workload:
    return Workload(
        tuple(
            Query(sql, calls=calls, total_ms=ms if timed else None, fingerprint=f"{n:02d}fingerprint")
            for n, (sql, calls, ms) in enumerate(QUERIES)
        )
    )


def _database(cluster: Cluster, name: str, hypopg: bool) -> PgDatabase:
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    db = PgDatabase(cluster, name)
    db.execute(SCHEMA)
    if hypopg:
        db.execute("CREATE EXTENSION hypopg")
    return db


@pytest.fixture(scope="package")
def advices(cluster: Cluster) -> Iterator[dict]:
    """The same workload advised four ways: HypoPG timed (ms), HypoPG untimed (cost), real builds, none."""
    with_hypopg = _database(cluster, "advice_html_hypopg", hypopg=True)
    without = _database(cluster, "advice_html_plain", hypopg=False)
    try:
        yield {
            "ms": advise_indexes(with_hypopg.url, workload=_workload(True), budget="100MB"),
            "cost": advise_indexes(with_hypopg.url, workload=_workload(False), budget="100MB"),
            "real": advise_indexes(
                without.url, workload=_workload(True), budget="100MB", allow_real_indexes=True
            ),
            "unverified": advise_indexes(without.url, workload=_workload(True), budget="100MB"),
        }
    finally:
        with_hypopg.close()
        without.close()
