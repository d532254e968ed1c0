"""Diff A -> B, apply the up part: A's snapshot equals B's. Apply the down part: it equals A's original."""

from __future__ import annotations

from dbwright.changes.diff import parse_hint
from tests.changes.diff.helpers import round_trip, step_sql

SHOP = """
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id int PRIMARY KEY, email varchar(100) NOT NULL, name text);
INSERT INTO shop.customers SELECT g, 'c' || g || '@example.com', 'n' || g FROM generate_series(1, 50) g;
"""


def test_add_table_with_foreign_key_and_index(pg, tmp_path):
    desired = (
        SHOP.split("INSERT")[0]
        + """
CREATE TABLE shop.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id int NOT NULL REFERENCES shop.customers (id) ON DELETE CASCADE,
    total numeric(10,2) NOT NULL DEFAULT 0 CHECK (total >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id_idx ON shop.orders (customer_id, created_at DESC);
CREATE UNIQUE INDEX customers_email_key ON shop.customers (lower(email));
CREATE SEQUENCE shop.invoice_no AS int INCREMENT BY 10 MINVALUE 100;
"""
    )
    plan = round_trip(pg, tmp_path, SHOP, desired)
    sql = "\n".join(step_sql(plan))
    # The new table's own index needs no CONCURRENTLY; the live table's index is built CONCURRENTLY.
    assert "CREATE INDEX orders_customer_id_idx ON shop.orders" in sql
    assert "CREATE UNIQUE INDEX CONCURRENTLY customers_email_key ON shop.customers" in sql
    assert plan.refused == [] and plan.manual == []
    order = [p.title for p in plan.packages]
    assert (
        order.index("Create sequence shop.invoice_no")
        < order.index("Create table shop.orders")
        < order.index("Add constraint orders_customer_id_fkey on shop.orders")
    )


def test_columns_added_altered_and_dropped_with_allow_destructive(pg, tmp_path):
    live = SHOP + "CREATE TABLE shop.notes (id int PRIMARY KEY, body varchar(200), legacy int);"
    desired = """
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL DEFAULT '',
                             country char(2) DEFAULT 'NL', tier smallint);
CREATE TABLE shop.notes (id int PRIMARY KEY, body varchar(20));
ALTER TABLE shop.customers ADD CONSTRAINT customers_tier_check CHECK (tier BETWEEN 1 AND 3);
"""
    plan = round_trip(pg, tmp_path, live, desired, allow_destructive=True)
    titles = [p.title for p in plan.packages]
    sql = "\n".join(step_sql(plan))
    # SET NOT NULL goes through a validated CHECK (the lint's rewrite); the new CHECK is added NOT VALID.
    assert any(t.startswith("SET NOT NULL on shop.customers.name through a validated CHECK") for t in titles)
    assert "ADD CONSTRAINT customers_tier_check CHECK (((tier >= 1) AND (tier <= 3))) NOT VALID;" in sql
    assert "VALIDATE CONSTRAINT customers_tier_check" in sql
    assert "ALTER TABLE shop.notes DROP COLUMN legacy;" in sql
    assert (
        "ALTER TABLE shop.notes ALTER COLUMN body TYPE character varying(20) USING body::character varying(20);"
        in sql
    )
    assert (
        "ALTER TABLE shop.customers ALTER COLUMN email TYPE text;" in sql
    )  # a widening, no USING, no rewrite
    assert plan.refused == []


def test_enum_value_added(pg, tmp_path):
    live = """
CREATE TYPE order_status AS ENUM ('new', 'paid');
CREATE TABLE orders (id int PRIMARY KEY, status order_status NOT NULL DEFAULT 'new');
INSERT INTO orders VALUES (1, 'new'), (2, 'paid');
"""
    desired = """
CREATE TYPE order_status AS ENUM ('draft', 'new', 'paid', 'shipped');
CREATE TABLE orders (id int PRIMARY KEY, status order_status NOT NULL DEFAULT 'new');
"""
    plan = round_trip(pg, tmp_path, live, desired)
    adds = [op for p in plan.packages for op in p.operations if "ADD VALUE" in op.sql()]
    assert [op.sql() for op in adds] == [
        "ALTER TYPE public.order_status ADD VALUE 'draft' BEFORE 'new';",
        "ALTER TYPE public.order_status ADD VALUE 'shipped' AFTER 'paid';",
    ]
    assert not any(op.transactional for op in adds)


def test_view_function_and_trigger_changed(pg, tmp_path):
    base = """
CREATE TABLE items (id int PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL DEFAULT 1, updated_at timestamptz);
CREATE FUNCTION line_total(p numeric, q int) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT p * q';
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$;
"""
    pg.role("report_reader", "NOLOGIN")
    live = (
        base
        + """
CREATE VIEW item_totals AS SELECT id, line_total(price, qty) AS total FROM items;
COMMENT ON VIEW item_totals IS 'per item';
GRANT SELECT ON item_totals TO report_reader;
CREATE MATERIALIZED VIEW expensive AS SELECT id FROM items WHERE price > 100;
CREATE INDEX expensive_id_idx ON expensive (id);
"""
    )
    desired = (
        base.replace("'SELECT p * q'", "'SELECT round(p * q, 2)'")
        + """
CREATE VIEW item_totals AS SELECT id, line_total(price, qty) AS total, qty FROM items WHERE qty > 0;
COMMENT ON VIEW item_totals IS 'per item';
GRANT SELECT ON item_totals TO report_reader;
CREATE MATERIALIZED VIEW expensive AS SELECT id, price FROM items WHERE price > 1000;
CREATE UNIQUE INDEX expensive_id_idx ON expensive (id);
CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch();
"""
    )
    plan = round_trip(pg, tmp_path, live, desired)
    titles = [p.title for p in plan.packages]
    assert "Replace function public.line_total(p numeric, q integer)" in titles
    assert titles.index("Drop view public.item_totals") < titles.index("Create view public.item_totals")
    assert "Create trigger items_touch on public.items" in titles


def test_comment_and_grant_changes(pg, tmp_path):
    pg.role("app_reader", "NOLOGIN")
    pg.role("app_writer", "NOLOGIN")
    live = (
        SHOP
        + """
COMMENT ON TABLE shop.customers IS 'old text';
COMMENT ON COLUMN shop.customers.name IS 'to be removed';
GRANT USAGE ON SCHEMA shop TO app_writer;
GRANT INSERT, UPDATE ON shop.customers TO app_writer;
"""
    )
    desired = (
        SHOP.split("INSERT")[0]
        + """
COMMENT ON TABLE shop.customers IS 'people who buy';
COMMENT ON COLUMN shop.customers.email IS 'login, it''s unique';
COMMENT ON SCHEMA shop IS 'the shop';
GRANT USAGE ON SCHEMA shop TO app_reader, app_writer;
GRANT SELECT ON shop.customers TO app_reader WITH GRANT OPTION;
GRANT INSERT ON shop.customers TO app_writer;
"""
    )
    plan = round_trip(pg, tmp_path, live, desired)
    sql = step_sql(plan)
    assert "REVOKE UPDATE ON TABLE shop.customers FROM app_writer;" in sql
    assert "GRANT SELECT ON TABLE shop.customers TO app_reader WITH GRANT OPTION;" in sql
    assert "COMMENT ON COLUMN shop.customers.email IS 'login, it''s unique';" in sql
    assert "COMMENT ON COLUMN shop.customers.name IS NULL;" in sql


def test_hinted_column_and_table_rename(pg, tmp_path):
    live = """
CREATE TABLE users (id int PRIMARY KEY, mail text NOT NULL UNIQUE);
CREATE INDEX users_lower_mail_idx ON users (lower(mail));
INSERT INTO users VALUES (1, 'a@example.com');
"""
    desired = """
CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL);
ALTER TABLE customers ADD CONSTRAINT users_mail_key UNIQUE (email);
ALTER TABLE customers RENAME CONSTRAINT customers_pkey TO users_pkey;
CREATE INDEX users_lower_mail_idx ON customers (lower(email));
"""
    renames = [
        parse_hint("table", "public.users=customers"),
        parse_hint("column", "public.customers.mail=email"),
    ]
    plan = round_trip(pg, tmp_path, live, desired, renames=renames)
    assert step_sql(plan) == [
        "ALTER TABLE public.users RENAME TO customers;",
        "ALTER TABLE public.customers RENAME COLUMN mail TO email;",
    ]
    assert pg.value("SELECT to_regclass('customers')") is None  # the down part renamed it back
    assert pg.value("SELECT mail FROM users") == "a@example.com"  # and kept the data


def test_views_over_views_and_over_a_column_whose_type_changes(pg, tmp_path):
    live = """
CREATE TABLE events (id int PRIMARY KEY, kind text, amount int);
CREATE VIEW big_events AS SELECT id, kind, amount FROM events WHERE amount > 10;
CREATE VIEW big_event_kinds AS SELECT kind, count(*) AS n FROM big_events GROUP BY kind;
CREATE VIEW untouched AS SELECT 1 AS one;
"""
    desired = """
CREATE TABLE events (id int PRIMARY KEY, kind text, amount bigint);
CREATE VIEW big_events AS SELECT id, kind, amount FROM events WHERE amount > 100;
CREATE VIEW big_event_kinds AS SELECT kind, count(*) AS n FROM big_events GROUP BY kind;
CREATE VIEW kinds_summary AS SELECT count(*) AS kinds FROM big_event_kinds;
CREATE VIEW untouched AS SELECT 1 AS one;
"""
    plan = round_trip(pg, tmp_path, live, desired)
    titles = [p.title for p in plan.packages]
    # The dependent view is recreated around its base view's change; creation follows the dependencies.
    assert (
        titles.index("Drop view public.big_event_kinds")
        < titles.index("Drop view public.big_events")
        < titles.index("Change the type of public.events.amount from integer to bigint")
        < titles.index("Create view public.big_events")
        < titles.index("Create view public.big_event_kinds")
        < titles.index("Create view public.kinds_summary")
    )
    assert not any("untouched" in t for t in titles)


def test_serial_generated_unique_partitioned_rls_and_a_new_result_type(pg, tmp_path):
    pg.role("auditor", "NOLOGIN")
    live = """
CREATE TABLE accounts (id int PRIMARY KEY, handle text, cents bigint NOT NULL DEFAULT 0);
INSERT INTO accounts SELECT g, 'h' || g, g FROM generate_series(1, 100) g;
CREATE FUNCTION account_count() RETURNS int LANGUAGE sql STABLE AS 'SELECT count(*)::int FROM accounts';
COMMENT ON FUNCTION account_count() IS 'how many';
GRANT EXECUTE ON FUNCTION account_count() TO auditor;
"""
    desired = """
CREATE TABLE accounts (id int PRIMARY KEY, handle text, cents bigint NOT NULL DEFAULT 0,
                       euros numeric GENERATED ALWAYS AS (cents / 100.0) STORED);
ALTER TABLE accounts ADD CONSTRAINT accounts_handle_key UNIQUE (handle);
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts SET (fillfactor = 90);
CREATE TABLE ledger (id serial, account_id int NOT NULL REFERENCES accounts, booked date NOT NULL,
                     PRIMARY KEY (id, booked))
    PARTITION BY RANGE (booked);
CREATE FUNCTION account_count() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM accounts';
COMMENT ON FUNCTION account_count() IS 'how many';
GRANT EXECUTE ON FUNCTION account_count() TO auditor;
"""
    plan = round_trip(pg, tmp_path, live, desired)
    titles = [p.title for p in plan.packages]
    assert "Recreate function public.account_count() with a new result type" in titles
    assert any(
        t.startswith("Add UNIQUE accounts_handle_key from an index built CONCURRENTLY") for t in titles
    )
    assert "ENABLE row level security on public.accounts" in titles
    assert (
        titles.index("Create sequence public.ledger_id_seq")
        < titles.index("Create table public.ledger")
        < titles.index("Sequence public.ledger_id_seq owned by public.ledger.id")
    )


def test_domain_and_composite_type_changes(pg, tmp_path):
    live = """
CREATE DOMAIN price AS numeric(10,2) CONSTRAINT price_positive CHECK (VALUE > 0);
CREATE DOMAIN sku AS text DEFAULT 'none' CONSTRAINT sku_short CHECK (length(VALUE) < 20);
CREATE TYPE dims AS (width int, "Height" int, note text);
CREATE TYPE unused AS (a int);
CREATE TABLE products (id int PRIMARY KEY, p price, s sku, d dims);
INSERT INTO products VALUES (1, 9.99, 'A-1', ROW(1, 2, 'x'));
"""
    desired = """
CREATE DOMAIN price AS numeric(10,2) NOT NULL DEFAULT 1 CONSTRAINT price_positive CHECK (VALUE >= 0.01)
    CONSTRAINT price_sane CHECK (VALUE < 100000);
CREATE DOMAIN sku AS text CONSTRAINT sku_format CHECK (VALUE ~ '^[A-Z]-[0-9]+$');
CREATE TYPE dims AS (width int, "Height" int, depth int);
CREATE TABLE products (id int PRIMARY KEY, p price, s sku, d dims);
CREATE TYPE unused AS (a bigint);
"""
    plan = round_trip(pg, tmp_path, live, desired, allow_destructive=True)
    sql = step_sql(plan)
    assert (
        "ALTER DOMAIN public.price ADD CONSTRAINT price_sane CHECK ((VALUE < (100000)::numeric)) NOT VALID;"
        in sql
    )
    assert "ALTER DOMAIN public.price VALIDATE CONSTRAINT price_sane;" in sql
    assert "ALTER DOMAIN public.price SET NOT NULL;" in sql
    assert "ALTER TYPE public.dims DROP ATTRIBUTE note;" in sql
    assert "ALTER TYPE public.dims ADD ATTRIBUTE depth integer;" in sql
    assert "ALTER TYPE public.unused ALTER ATTRIBUTE a TYPE bigint;" in sql  # no column uses it
    assert plan.manual == []
