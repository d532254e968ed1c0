"""The desired schema loaded on the embedded server (PostgreSQL 18) instead of the live one's."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from dbwright import demo
from dbwright.changes.diff import diff
from dbwright.changes.diff.scratch import embedded_server_url
from dbwright.engines.postgres.scratch import SCRATCH_PREFIX
from tests.changes.diff.helpers import run_script, sections

SCHEMA = """
CREATE SCHEMA shop;
CREATE TYPE shop.status AS ENUM ('new', 'paid');
CREATE TABLE shop.customers (id int PRIMARY KEY, email text NOT NULL);
CREATE TABLE shop.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                          customer_id int NOT NULL REFERENCES shop.customers, status shop.status DEFAULT 'new');
CREATE INDEX orders_customer_id_idx ON shop.orders (customer_id);
COMMENT ON TABLE shop.orders IS 'one per checkout';
"""


@pytest.mark.slow
def test_scratch_on_the_embedded_server(pg, tmp_path, monkeypatch):
    root = Path(tempfile.mkdtemp(prefix="dbwright-diff-embedded-"))  # not tmp_path: see tests/demo
    monkeypatch.setenv("DBWRIGHT_DEMO_DIR", str(root))
    try:
        pg.execute("CREATE TABLE legacy (id int)")
        schema = tmp_path / "schema.sql"
        schema.write_text(SCHEMA)
        plan = diff(pg.url, schema, scratch_server="embedded", allow_destructive=True)
        up, _ = sections(plan.migration())
        run_script(pg.url, up)
        # Loaded on PostgreSQL 18, applied on 15: the live database now has no difference left.
        again = diff(pg.url, schema, scratch_server="embedded", allow_destructive=True)
        assert again.differences == [], [d.key for d in again.differences]
        assert again.warnings == [
            "the desired schema was loaded on PostgreSQL 18 and the live database runs 15: "
            "view and function definitions may print differently and show as changed"
        ]
        with psycopg.connect(embedded_server_url(), autocommit=True) as conn:
            left = conn.execute(
                "SELECT count(*) FROM pg_database WHERE datname LIKE %s", (SCRATCH_PREFIX + "%",)
            ).fetchone()[0]
        assert left == 0
    finally:
        demo.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_a_target_without_createdb_gets_the_embedded_server_by_default(pg, tmp_path, monkeypatch):
    """The compared server never needs CREATEDB: the scratch database goes to the embedded server."""
    root = Path(tempfile.mkdtemp(prefix="dbwright-diff-embedded-"))
    monkeypatch.setenv("DBWRIGHT_DEMO_DIR", str(root))
    role = pg.role("diff_no_createdb", "LOGIN NOCREATEDB")
    try:
        schema = tmp_path / "schema.sql"
        schema.write_text('CREATE TABLE public.notes (id int PRIMARY KEY, body text COLLATE "C");\n')
        plan = diff(pg.url.replace("postgres@", f"{role}@", 1), schema)
        assert [p.title for p in plan.packages] == [
            "Create table public.notes",
            "Add constraint notes_pkey on public.notes",
        ]
        assert 'body text COLLATE pg_catalog."C"' in plan.migration()
        assert any(w.startswith("the target's role may not create databases") for w in plan.warnings)
        assert (
            pg.value("SELECT count(*) FROM pg_database WHERE datname LIKE %s", (SCRATCH_PREFIX + "%",)) == 0
        )
    finally:
        demo.stop()
        shutil.rmtree(root, ignore_errors=True)
