"""Destructive changes need --allow-destructive; the scratch database never outlives the diff."""

from __future__ import annotations

import pytest

from dbwright.changes.diff import diff
from dbwright.errors import InputFileError, SqlParseError
from tests.changes.diff.helpers import round_trip, scratch_databases, step_sql

LIVE = """
CREATE SCHEMA legacy;
CREATE TABLE legacy.audit (id serial PRIMARY KEY, what text);
CREATE TABLE customers (id int PRIMARY KEY, email varchar(100), fax text, score bigint);
CREATE INDEX customers_fax_idx ON customers (fax);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, note text);
CREATE INDEX orders_note_idx ON orders (note);
COMMENT ON COLUMN customers.fax IS 'nobody faxes';
INSERT INTO customers VALUES (1, 'a@example.com', '555', 7);
"""
DESIRED = """
CREATE TABLE customers (id int PRIMARY KEY, email varchar(50), score int);
"""


def test_drops_and_narrowing_are_refused_without_the_flag(pg, tmp_path):
    pg.execute(LIVE)
    schema = tmp_path / "schema.sql"
    schema.write_text(DESIRED)
    plan = diff(pg.url, schema)
    refused = {r.title: r.reason for r in plan.refused}
    assert refused["Drop table public.orders"] == "dropping a table loses its rows"
    assert refused["Drop table legacy.audit"] == "dropping a table loses its rows"
    assert refused["Drop schema legacy"].startswith("dropping a schema")
    assert refused["Drop column public.customers.fax"] == "dropping a column loses its values"
    assert (
        "not a known widening"
        in refused[
            "Change the type of public.customers.email from character varying(100) to character varying(50)"
        ]
    )
    assert "bigint -> integer" in refused["Change the type of public.customers.score from bigint to integer"]
    # What only exists because of a refused drop is left out with it: the index on the column, the
    # orders table's foreign key and index, the column's comment.
    assert refused["Drop index public.customers_fax_idx"] == "left out with the refused drop it belongs to"
    assert "Drop constraint orders_customer_id_fkey on public.orders" in refused
    assert "Remove comment on COLUMN public.customers.fax" in refused
    assert plan.packages == []  # nothing else differs
    assert "-- REFUSED (needs --allow-destructive): Drop table public.orders" in plan.migration()
    assert pg.value("SELECT count(*) FROM customers") == 1


def test_drops_round_trip_with_the_flag(pg, tmp_path):
    plan = round_trip(pg, tmp_path, LIVE, DESIRED, allow_destructive=True)
    sql = step_sql(plan)
    assert plan.refused == []
    assert sql.index("DROP INDEX CONCURRENTLY public.customers_fax_idx;") < sql.index(
        "ALTER TABLE public.customers DROP COLUMN fax;"
    )
    assert sql.index("DROP TABLE legacy.audit;") < sql.index("DROP SCHEMA legacy;")


def test_enum_value_removed_is_destructive_and_round_trips(pg, tmp_path):
    live = """
CREATE TYPE mood AS ENUM ('sad', 'meh', 'happy');
CREATE TABLE people (id int PRIMARY KEY, mood mood DEFAULT 'meh');
INSERT INTO people VALUES (1, 'sad'), (2, 'happy');
CREATE DOMAIN percent AS int CHECK (VALUE BETWEEN 0 AND 100);
"""
    desired = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE people (id int PRIMARY KEY, mood mood DEFAULT 'happy');
CREATE DOMAIN percent AS int CHECK (VALUE BETWEEN 0 AND 100);
CREATE DOMAIN email AS text NOT NULL CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%');
CREATE TYPE point3 AS (x float8, y float8, z float8);
"""
    schema = tmp_path / "schema.sql"
    schema.write_text(desired)
    pg.execute(live)
    assert [r.title for r in diff(pg.url, schema).refused] == [
        "Recreate enum public.mood without values ['meh']"
    ]
    pg.execute("DROP TABLE people; DROP TYPE mood; DROP DOMAIN percent")
    plan = round_trip(pg, tmp_path, live, desired, allow_destructive=True)
    assert any(t.startswith("Recreate enum public.mood") for t in (p.title for p in plan.packages))


def test_malformed_schema_is_one_line_with_file_and_line_and_scratch_is_dropped(pg, tmp_path):
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE a (id int);\n\nCREATE TABLE b (id int,, x text);\n")
    with pytest.raises(SqlParseError) as error:
        diff(pg.url, schema)
    assert str(error.value).startswith(f'{schema}:3: syntax error at or near ","')
    assert "\n" not in str(error.value)
    assert scratch_databases(pg) == []


def test_schema_the_server_rejects_names_the_line_and_scratch_is_dropped(pg, tmp_path):
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE a (id int);\nCREATE INDEX ON missing (id);\n")
    with pytest.raises(InputFileError, match=rf'^{schema}:2: relation "missing" does not exist$'):
        diff(pg.url, schema)
    assert scratch_databases(pg) == []


def test_no_differences(pg, tmp_path):
    pg.execute(DESIRED)
    schema = tmp_path / "schema.sql"
    schema.write_text(DESIRED)
    plan = diff(pg.url, schema)
    assert plan.empty and plan.differences == [] and plan.refused == []


def test_what_is_not_generated_is_listed_and_strict_fails_on_it(pg, tmp_path):
    from dbwright.changes.diff import parse_hint
    from dbwright.errors import DiffIncompleteError, RefusedError

    pg.execute("CREATE TABLE ledger (id int, booked date NOT NULL)")
    schema = tmp_path / "schema.sql"
    schema.write_text(
        "CREATE TABLE ledger (id int, booked date NOT NULL);\n"
        "CREATE TABLE ledger_archive (archived_at timestamptz) INHERITS (ledger);\n"
        "GRANT SELECT (id) ON ledger TO PUBLIC;\n"
    )
    plan = diff(pg.url, schema)
    assert plan.manual == [
        "inheritance child public.ledger_archive added: inheritance children and foreign tables are not generated",
        "column privileges public.ledger.id added: this kind is not generated; write it by hand",
    ]
    assert "-- NOT HANDLED (write by hand): inheritance child public.ledger_archive added" in plan.migration()
    with pytest.raises(
        DiffIncompleteError, match=r"^2 difference\(s\) the diff cannot generate \(--strict\)"
    ):
        diff(pg.url, schema, strict=True)
    assert DiffIncompleteError.exit_code == 25
    with pytest.raises(RefusedError, match="column public.ledger.nope does not exist in the live database"):
        diff(pg.url, schema, renames=[parse_hint("column", "public.ledger.nope=yes")])
    with pytest.raises(RefusedError, match="write it like shop.users.mail=email"):
        parse_hint("column", "ledger.id")
    assert scratch_databases(pg) == []
