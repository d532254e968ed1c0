"""dbwright.api, the library API the faces call: each function on a real PostgreSQL 15 test database.

Bad option values raise InvalidArgumentError (exit 22) before any connection is opened: those tests
pass a target nothing listens on, so a connection attempt would fail with a different error.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from dbwright import api
from dbwright.errors import InvalidArgumentError
from dbwright.model import Snapshot
from dbwright.model.findings import Severity
from tests.pgcluster import free_port

SHOP = """
CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, name text);
CREATE TABLE orders (
    id int PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers,
    status text NOT NULL,
    note text
);
INSERT INTO customers SELECT g, 'user' || g || '@example.com', 'Name ' || g FROM generate_series(1, 2000) g;
INSERT INTO orders SELECT g, 1 + g % 2000, CASE WHEN g % 10 = 0 THEN 'new' ELSE 'shipped' END, NULL
FROM generate_series(1, 20000) g;
"""


@pytest.fixture
def shop(pg):
    pg.execute(SHOP)
    pg.analyze()
    return pg


@pytest.fixture
def nowhere() -> str:
    """A target no server answers at: using it for a connection fails with exit 11, not 22."""
    return f"postgresql://nobody@127.0.0.1:{free_port()}/none"


# --- option values -----------------------------------------------------------------------------------


def test_option_values_parse_or_raise_invalid_argument():
    assert api.parse_severity("HIGH") is Severity.HIGH and api.parse_severity(Severity.LOW) is Severity.LOW
    assert api.parse_size("512MB") == 512 * 1024**2 and api.parse_size("1.5 GiB") == int(1.5 * 1024**3)
    assert api.parse_size(None) is None and api.parse_size(4096) == 4096
    assert [api.parse_server_version(v) for v in ("15", 12, "9.6", "150004", "16.2")] == [
        150000,
        120000,
        90600,
        150004,
        160002,
    ]
    assert api.check_category("indexes") == "indexes"
    for bad in (
        lambda: api.parse_severity("severe"),
        lambda: api.parse_size("lots"),
        lambda: api.parse_server_version("fifteen"),
        lambda: api.check_category("speed"),
        lambda: api.check_category("indexes", audit=True),
    ):
        with pytest.raises(InvalidArgumentError) as raised:
            bad()
        assert raised.value.exit_code == 22


def test_is_snapshot_path():
    assert api.is_snapshot_path("snap.json") and api.is_snapshot_path(Path("snap"))
    assert not api.is_snapshot_path("postgresql://h/db.json") and not api.is_snapshot_path("dbname=x.json")
    assert not api.is_snapshot_path(None) and not api.is_snapshot_path("shop")


# --- snapshots, review, audit ------------------------------------------------------------------------


def test_snapshot_save_load_and_review_from_each_source(shop, tmp_path):
    snap = api.snapshot(shop.url, server_memory="4GB")
    assert isinstance(snap, Snapshot) and snap.table("public.orders") is not None
    assert snap.server.memory_bytes == 4 * 1024**3
    path = api.save_snapshot(snap, tmp_path / "snap.json")
    assert (
        api.load_snapshot(path).table("public.orders").row_estimate
        == snap.table("public.orders").row_estimate
    )

    steps: list[str] = []
    live = api.review(shop.url, codes=["DW102"], progress=steps.append)
    assert [f.finding.object for f in live.findings] == ["public.orders"]
    assert "check DW102 Foreign key without a supporting index" in steps
    for source in (snap, path, str(path)):
        assert api.review(source, codes=["DW102"]).codes == {"DW102"}
    assert {f.check.category for f in api.review(snap, categories=["design"]).findings} == {"design"}


def test_review_rejects_an_unknown_category_before_connecting(nowhere):
    with pytest.raises(InvalidArgumentError, match="unknown category 'speed'"):
        api.review(nowhere, categories=["speed"])


def test_fix_packages_and_render_migration(shop):
    packages = api.fix_packages(api.review(shop.url, codes=["DW102"]))
    [package] = packages
    assert "CREATE INDEX CONCURRENTLY" in package.forward_sql
    text = api.render_migration(packages)
    assert text.index("-- migrate:up") < text.index(package.forward_sql) < text.index("-- migrate:down")


def test_at_or_above_filters_by_severity_and_leaves_ignored_lint_findings_out(shop):
    result = api.review(shop.url)
    high = api.at_or_above(result.findings, "high")
    assert all(f.severity >= Severity.HIGH for f in high)
    assert len(api.at_or_above(result.findings, "info")) == len(result.findings)
    findings = api.lint("CREATE INDEX i ON orders (status); -- dbwright:ignore DW701 reason: tiny table")
    assert any(f.ignored for f in findings)
    assert not any(f.ignored for f in api.at_or_above(findings, "info"))


def test_audit_live_and_offline(shop):
    live = api.audit(shop.url, access=False)
    assert live.access is None and live.access_skipped == "not requested (--no-access)"
    assert live.to_dict()["summary"]["checks"] > 0
    offline = api.audit(shop.snapshot())
    assert offline.access is None and "saved snapshot" in offline.access_skipped
    category = next(c.category for c, _ in live.checks())
    narrowed = api.audit(shop.snapshot(), categories=[category])
    assert {c.category for c, _ in narrowed.checks()} == {category}


def test_audit_rejects_an_unknown_category_before_connecting(nowhere):
    with pytest.raises(InvalidArgumentError, match="unknown audit category"):
        api.audit(nowhere, categories=["speed"])


def test_checks_lint_rules_and_find_check():
    assert "DW101" in {c.code for c in api.checks()}
    assert "DW701" in {r.code for r in api.lint_rules()}
    assert api.find_check("dw101").title == "Table without a primary key"
    assert api.find_check("DW701").code == "DW701"
    with pytest.raises(InvalidArgumentError, match="no check or lint rule"):
        api.find_check("DW999")


# --- changes -----------------------------------------------------------------------------------------


def test_lint_sql_and_files(tmp_path):
    sql = "CREATE INDEX orders_status ON orders (status);"
    [finding] = [f for f in api.lint(sql, server_version="12") if f.code == "DW701"]
    assert finding.lock == "SHARE" and finding.file == "<sql>"
    (tmp_path / "V1__a.sql").write_text("CREATE TABLE t (id int);\n")
    (tmp_path / "V2__b.sql").write_text("CREATE INDEX t_id ON t (id);\n")
    assert any(f.code == "DW701" for f in api.lint([tmp_path], server_version=15))
    assert not any(f.code == "DW701" for f in api.lint(tmp_path, unapplied=True))
    with pytest.raises(InvalidArgumentError):
        api.lint(sql, server_version="fifteen")


def test_diff_to_a_schema_file(shop, tmp_path):
    schema = tmp_path / "schema.sql"
    schema.write_text(
        SHOP.split("INSERT")[0].replace("note text", "note text,\n    placed_at timestamptz")
        + "CREATE INDEX orders_customer ON orders (customer_id);\n"
    )
    plan = api.diff(shop.url, schema, rename_columns=[], rename_tables=[])
    migration = plan.migration()
    assert "ADD COLUMN placed_at timestamp with time zone" in migration
    assert "CREATE INDEX CONCURRENTLY orders_customer" in migration
    assert "DROP COLUMN placed_at" in migration.split("-- migrate:down")[1]


def test_backfill(shop):
    from dbwright.changes.backfill import BackfillOptions

    report = api.backfill(
        shop.url,
        "orders",
        "note = 'checked'",
        where="status = 'new'",
        options=BackfillOptions(batch_size=500),
    )
    assert report.finished and report.rows_updated == 2000
    assert shop.value("SELECT count(*) FROM orders WHERE note = 'checked'") == 2000


def test_migrations_new_plan_apply_verify_rollback(pg, tmp_path):
    directory = tmp_path / "migrations"
    path = api.migrate_new(
        directory, "add items", up="CREATE TABLE items (id int PRIMARY KEY);", down="DROP TABLE items;"
    )
    assert path.parent == directory and path.name.endswith("__add_items.sql")
    assert [m.filename for m in api.migrate_status(pg.url, directory).pending] == [path.name]
    plan = api.migrate_plan(pg.url, directory)
    assert [s.sql for s in plan.statements] == ["CREATE TABLE items (id int PRIMARY KEY)"]
    assert [m.filename for m, _ in api.migrate_safe_plan(pg.url, directory)] == [path.name]

    applied = api.migrate_apply(pg.url, directory, api.apply_options(lock_timeout="1s", retries=1))
    assert applied.migrations == [path.name]
    assert pg.value("SELECT to_regclass('items')::text") == "items"
    assert api.migrate_verify(pg.url, directory).ok
    assert api.migrate_status(pg.url, directory).pending == []

    rolled_back = api.migrate_rollback(pg.url, directory)
    assert rolled_back.migrations == [path.name] and not rolled_back.drift
    assert pg.value("SELECT to_regclass('items')") is None


def test_migrate_baseline(pg, tmp_path):
    pg.execute("CREATE TABLE legacy (id int)")
    directory = tmp_path / "migrations"
    directory.mkdir()
    row = api.migrate_baseline(pg.url, directory, "20250101000000")
    assert row.version == "20250101000000" and len(row.fingerprint) == 64


def test_apply_options_reject_negative_retries():
    with pytest.raises(InvalidArgumentError):
        api.apply_options(retries=-1)


# --- advisors ----------------------------------------------------------------------------------------


def test_explain(shop):
    result = api.explain(shop.url, "SELECT * FROM orders WHERE customer_id = 42", suggest=False)
    assert result.sql.startswith("SELECT") and not result.analyzed
    assert result.to_dict()["plan"]
    analyzed = api.explain(shop.url, "SELECT count(*) FROM orders", analyze=True, suggest=False)
    assert analyzed.analyzed and analyzed.run.execution_ms is not None


def test_advise_indexes_and_verify_on_a_scratch_copy(shop):
    shop.execute("CREATE EXTENSION hypopg")
    advice = api.advise_indexes(shop.url, query="SELECT * FROM orders WHERE customer_id = 42", budget="50MB")
    assert advice.backend == "hypopg"
    assert any(r.spec.keys[0] == "customer_id" for r in advice.recommendations)
    shop.conn.close()  # CREATE DATABASE … TEMPLATE needs the source to have no other sessions
    try:
        verification = api.verify_index_advice(shop.url, advice)
    finally:
        shop.conn = psycopg.connect(shop.url, autocommit=True)
    assert verification.built and verification.measurements
    assert shop.value("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'") == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"budget": "lots"}, "cannot read budget"),
        ({"weight_by": "vibes"}, "unknown weighting"),
        ({"objective": "fast"}, "unknown objective"),
        ({"min_calls": -1}, "0 or more"),
    ],
)
def test_advise_indexes_rejects_bad_options(shop, options, message):
    with pytest.raises(InvalidArgumentError, match=message):
        api.advise_indexes(shop.url, query="SELECT 1", **options)


def test_advise_indexes_rejects_an_unknown_what_if_mode(shop):
    with pytest.raises(InvalidArgumentError, match="unknown what-if mode"):
        api.advise_indexes(shop.url, query="SELECT * FROM orders WHERE id = 1", what_if="dream")


def test_advise_design(shop):
    report = api.advise_design(shop.url, sample_rows=5000, time_budget_s=30, estimate_pruning=False)
    assert {t.table for t in report.tables} >= {"public.orders", "public.customers"}
    assert report.to_dict()["proposals"] is not None
    with pytest.raises(InvalidArgumentError):
        api.advise_design(shop.url, max_error=0.9)


# --- security ----------------------------------------------------------------------------------------


def test_discover_pii(shop):
    report = api.discover_pii(shop.url, sample_rows=200)
    email = [f for f in report.findings if (f.table, f.column) == ("customers", "email")]
    assert email and "user1@example.com" not in str(report.to_dict())
    with pytest.raises(InvalidArgumentError):
        api.discover_pii(shop.url, sample_rows=0)


def test_plan_roles(shop):
    plan = api.plan_roles(shop.url, schemas=["public"], app_users=["shop_app:readwrite"], prefix="t_")
    sql = "\n".join(p.forward_sql for p in plan.packages)
    assert "CREATE ROLE t_readonly NOLOGIN" in sql and "shop_app" in sql
    with pytest.raises(InvalidArgumentError, match="cannot read app user"):
        api.plan_roles(shop.url, app_users=["x:admin"])


def test_plan_audit_logging(shop):
    plan = api.plan_audit_logging(shop.url, tables=["public.customers"], mode="trigger")
    assert plan.packages and "public.customers" in "\n".join(p.forward_sql for p in plan.packages)
    with pytest.raises(InvalidArgumentError, match="unknown scope"):
        api.plan_audit_logging(shop.url, tables=[], scope="planet")
