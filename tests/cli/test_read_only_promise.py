"""The read-only promise: every analysis command, run against a real database without HypoPG, takes no
lock stronger than ACCESS SHARE on a user relation and writes nothing.

HypoPG's package is on the test cluster's server, but the database has no ``CREATE EXTENSION hypopg``:
the what-if fallback that used to build real indexes is exactly what this guards. While the commands
run, a thread polls ``pg_locks`` for every backend whose application_name starts with "dbwright":
a relation lock other than ACCESS SHARE in this database, or a transaction id (any write assigns
one: rows, catalog rows, temporary tables), is a broken promise. Before and after, the relations
(oid, relfilenode: nothing created, dropped or rewritten) and the database's row counters
(``pg_stat_database``, catalogs included, so a rolled-back CREATE INDEX shows too) must be equal.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from dbwright.mcp.server import build_server
from tests.cli.test_cli_errors import run_cli
from tests.mcp.conftest import call_many, text_of

SCHEMA = """
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id bigint PRIMARY KEY, email text NOT NULL, region int NOT NULL);
CREATE TABLE shop.orders (
    id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES shop.customers,
    status text NOT NULL, total numeric(12, 2) NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE shop.items (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES shop.orders, sku text, qty int);
CREATE VIEW shop.big_orders AS SELECT * FROM shop.orders WHERE total > 900;
COMMENT ON TABLE shop.orders IS 'one row per checkout';
INSERT INTO shop.customers SELECT g, 'user' || g || '@example.com', g % 50 FROM generate_series(1, 5000) g;
INSERT INTO shop.orders SELECT g, 1 + g % 5000, CASE WHEN g % 10 = 0 THEN 'open' ELSE 'done' END,
    g % 1000, '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 40000) g;
INSERT INTO shop.items (order_id, sku, qty) SELECT 1 + g % 40000, 'sku' || g % 300, 1 + g % 4 FROM generate_series(1, 60000) g;
"""

#: The application's workload, as pg_stat_statements will record it (reads and writes).
WORKLOAD = [
    ("SELECT id, total FROM shop.orders WHERE customer_id = %s ORDER BY created_at DESC LIMIT 10", 40),
    ("SELECT count(*) FROM shop.items WHERE order_id = %s", 40),
    ("UPDATE shop.orders SET status = 'done' WHERE customer_id = %s AND status = 'open'", 10),
    ("DELETE FROM shop.items WHERE order_id = %s AND qty > 3", 10),
    ("SELECT id FROM shop.customers WHERE lower(email) = lower(%s::text)", 20),
]

#: Relation locks and transaction ids held by dbwright's backends in this database.
WATCH = """
SELECT l.locktype, l.mode, l.relation, l.granted, a.application_name, left(a.query, 200)
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE a.application_name LIKE 'dbwright%%' AND a.pid <> pg_backend_pid()
  AND ((l.locktype = 'relation' AND l.database = %(db)s AND l.mode <> 'AccessShareLock' AND l.relation >= 16384)
       OR l.locktype = 'transactionid')
"""

RELATIONS = "SELECT oid, relname, relfilenode FROM pg_class WHERE oid >= 16384 ORDER BY oid"
COUNTERS = (
    "SELECT tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = current_database()"
)
TABLE_COUNTERS = "SELECT sum(n_tup_ins), sum(n_tup_upd), sum(n_tup_del) FROM pg_stat_user_tables"


class LockWatcher:
    """Polls pg_locks from its own session, as fast as it can, until stopped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn = psycopg.connect(url, autocommit=True)
        self.database = self.conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        self.database = self.database.fetchone()[0]
        self.seen: list[tuple[Any, ...]] = []
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.conn.cursor() as cur:
            while not self._stop.is_set():
                cur.execute(WATCH, {"db": self.database}, prepare=True)
                self.seen.extend(cur.fetchall())
                self.polls += 1

    def __enter__(self) -> LockWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.conn.close()

    def violations(self) -> list[str]:
        names = {}
        with psycopg.connect(self.url, autocommit=True) as conn:
            for oid, name in conn.execute("SELECT oid, oid::regclass::text FROM pg_class WHERE oid >= 16384"):
                names[oid] = name
        return sorted(
            {
                f"{kind} {mode} on {names.get(rel, rel)} by {app!r}: {query}"
                for kind, mode, rel, _granted, app, query in self.seen
            }
        )


def _state(pg) -> dict[str, Any]:
    """What a write would change: the relations and their files, and every row counter of the database."""
    pg.execute("SELECT pg_stat_force_next_flush()")  # this session's own reads first
    pg.execute("SELECT 1")
    time.sleep(0.3)
    pg.execute("SELECT pg_stat_clear_snapshot()")
    return {
        "relations": pg.execute(RELATIONS),
        "database_rows": pg.execute(COUNTERS)[0],
        "table_rows": pg.execute(TABLE_COUNTERS)[0],
        "indexes": pg.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indexrelid >= 16384"),
    }


@pytest.fixture
def app(pg, tmp_path) -> Iterator[Any]:
    """A shop database with a recorded workload, a role, applied and pending migrations, no HypoPG."""
    pg.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    pg.execute(SCHEMA)
    pg.execute("ANALYZE")
    pg.role("promise_app")
    pg.execute(
        "GRANT USAGE ON SCHEMA shop TO promise_app; GRANT SELECT ON ALL TABLES IN SCHEMA shop TO promise_app"
    )
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "V1__notes.sql").write_text(
        "-- migrate:up\nCREATE TABLE shop.notes (id int PRIMARY KEY, body text);\n"
        "-- migrate:down\nDROP TABLE shop.notes;\n"
    )
    assert run_cli("migrate", "apply", pg.url, "--dir", str(migrations)).returncode == 0
    (migrations / "V2__index.sql").write_text(
        "-- migrate:up\nCREATE INDEX orders_status ON shop.orders (status);\n"
        "-- migrate:down\nDROP INDEX shop.orders_status;\n"
    )
    pg.execute("SELECT pg_stat_statements_reset()")
    for sql, calls in WORKLOAD:
        for n in range(calls):
            argument = f"user{n}@example.com" if "email" in sql else 1 + n * 97
            pg.execute(sql, (argument,))
    installed, offered = pg.execute(
        "SELECT installed_version, default_version FROM pg_available_extensions WHERE name = 'hypopg'"
    )[0]
    assert installed is None and offered, "the test database must have no HypoPG, the server its package"
    (tmp_path / "schema.sql").write_text(
        "CREATE SCHEMA shop;\nCREATE TABLE shop.customers (id bigint PRIMARY KEY, email text NOT NULL);\n"
    )
    pg.migrations = migrations
    pg.workdir = tmp_path
    yield pg


def _cli_commands(pg) -> list[tuple[str, ...]]:
    url, work = pg.url, pg.workdir
    return [
        ("snapshot", url, "-o", str(work / "snap.json")),
        ("review", url, "--format", "json"),
        ("audit", url, "--format", "json"),
        ("advise", "indexes", url, "--format", "json"),
        ("advise", "indexes", url),
        ("explain", "SELECT id, total FROM shop.orders WHERE customer_id = 42", url, "--format", "json"),
        ("explain", "SELECT count(*) FROM shop.items WHERE order_id = 7", url, "--analyze"),
        ("explain", "UPDATE shop.orders SET status = 'x' WHERE customer_id = 7", url),
        ("explain", "DELETE FROM shop.items WHERE order_id = 7", url, "--format", "json"),
        ("design", url, "--time-budget", "20", "--format", "json"),
        ("docs", url, "-o", str(work / "site")),
        ("pii", url, "--format", "json"),
        ("access", "promise_app", url),
        ("roles", "plan", url),
        ("audit-logging", "plan", url),
        ("migrate", "status", url, "--dir", str(pg.migrations)),
        ("migrate", "plan", url, "--dir", str(pg.migrations)),
        ("diff", url, "--to", str(work / "schema.sql"), "--scratch-server", "embedded"),
    ]


def _mcp_calls() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("snapshot_summary", {"refresh": True}),
        ("list_objects", {}),
        ("describe_table", {"table": "shop.orders"}),
        ("review", {}),
        ("explain", {"sql": "SELECT * FROM shop.orders WHERE customer_id = 3"}),
        ("explain", {"sql": "SELECT count(*) FROM shop.orders", "analyze": True}),
        ("explain", {"sql": "UPDATE shop.orders SET total = 0 WHERE id = 1"}),
        (
            "explain_with_indexes",
            {
                "sql": "SELECT * FROM shop.orders WHERE customer_id = 3",
                "indexes": ["CREATE INDEX ON shop.orders (customer_id)"],
            },
        ),
        ("top_queries", {}),
        ("advise_indexes", {}),
        ("lint_migration", {"sql": "CREATE INDEX ON shop.orders (status)"}),
        ("check_docs", {"code": "DW102"}),
        ("query", {"sql": "SELECT count(*) FROM shop.orders"}),
        ("audit", {}),
        ("access", {"role": "promise_app"}),
        ("pii_scan", {}),
        ("migration_status", {}),
        ("replication_status", {}),
    ]


def test_every_analysis_command_reads_only(app):
    pg = app
    before = _state(pg)
    outputs: dict[str, Any] = {}
    failed: list[tuple[Any, ...]] = []
    with LockWatcher(pg.url) as watcher:
        for command in _cli_commands(pg):
            outputs[command[:2] + command[-1:]] = result = run_cli(*command)
            if result.returncode not in (0, 1) or "Traceback" in result.stderr:  # 1: findings, not failure
                failed.append((command[:2], result.returncode, result.stderr[-300:]))
        mcp = call_many(build_server(pg.url), _mcp_calls())
    after = _state(pg)
    assert failed == []
    assert watcher.polls > 100
    assert watcher.violations() == []
    assert after == before

    # without HypoPG the advice says so, and says what to do
    advice = json.loads(outputs[("advise", "indexes", "json")].stdout)
    assert advice["what_if"] == "none" and advice["verified"] is False
    assert "CREATE EXTENSION hypopg" in advice["hint"] and "--allow-real-indexes" in advice["hint"]
    assert advice["hypopg"]["installed"] is None and advice["hypopg"]["on_server"]
    assert any(r["index"]["table"] == "shop.orders" for r in advice["recommendations"])
    explained = json.loads(
        outputs[("explain", "SELECT id, total FROM shop.orders WHERE customer_id = 42", "json")].stdout
    )
    assert explained["what_if"] == "none" and explained["verified"] is False and explained["hint"]
    assert explained["suggestions"] and explained["suggestions"][0]["cost_after"] is None
    mcp_errors = {name: text_of(r) for (name, _), r in zip(_mcp_calls(), mcp, strict=True) if r.isError}
    assert set(mcp_errors) <= {"explain_with_indexes"}, mcp_errors  # it needs HypoPG, and says so


def test_text_output_without_hypopg_says_what_to_do(app):
    advice = run_cli("advise", "indexes", app.url)
    assert advice.returncode == 0, advice.stderr
    assert "UNVERIFIED: no what-if" in advice.stdout
    assert "CREATE EXTENSION hypopg" in advice.stdout and "--allow-real-indexes" in advice.stdout
    explained = run_cli("explain", "SELECT id FROM shop.orders WHERE customer_id = 42", app.url)
    assert explained.returncode == 0, explained.stderr
    assert "UNVERIFIED: no what-if" in explained.stdout and "CREATE EXTENSION hypopg" in explained.stdout


def test_allow_real_indexes_still_builds_and_rolls_back(app):
    """The flag asks for the old path by name: real builds under SHARE locks, always rolled back."""
    before = _state(app)
    with LockWatcher(app.url) as watcher:
        result = run_cli("advise", "indexes", app.url, "--allow-real-indexes", "--format", "json")
        explained = run_cli(
            "explain",
            "SELECT id FROM shop.orders WHERE customer_id = 42",
            app.url,
            "--allow-real-indexes",
            "--format",
            "json",
        )
    assert result.returncode == 0, result.stderr
    advice = json.loads(result.stdout)
    assert advice["what_if"] == "real indexes, rolled back" and advice["verified"] is True
    assert advice["recommendations"] and advice["leftovers"] == {"hypothetical_indexes": 0, "real_indexes": 0}
    assert json.loads(explained.stdout)["what_if"] == "real indexes, rolled back"
    assert any("ShareLock" in v for v in watcher.violations())  # the watcher does see the builds
    after = _state(app)
    assert after["relations"] == before["relations"] and after["indexes"] == before["indexes"]
    assert after["database_rows"] != before["database_rows"]  # the rolled-back builds wrote catalog rows


def test_what_if_real_alone_is_not_enough(app):
    from dbwright import api
    from dbwright.errors import RefusedError

    with pytest.raises(RefusedError, match="--allow-real-indexes"):
        api.advise_indexes(app.url, what_if="real", query="SELECT id FROM shop.orders WHERE customer_id = 1")
