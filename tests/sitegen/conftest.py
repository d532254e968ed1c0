"""A small documented database: two schemas, declared and undeclared foreign keys, comments, an enum."""

from __future__ import annotations

import pytest

from dbwright.engines.registry import take_snapshot

SCHEMA_SQL = """
CREATE SCHEMA crm;
COMMENT ON SCHEMA crm IS 'Who buys';
CREATE TYPE crm.tier AS ENUM ('bronze', 'silver', 'gold');
CREATE TABLE crm.customers (
    id int PRIMARY KEY,
    email text NOT NULL UNIQUE,
    tier crm.tier NOT NULL DEFAULT 'bronze'
);
COMMENT ON TABLE crm.customers IS 'People and companies that order';
COMMENT ON COLUMN crm.customers.email IS 'Login and invoice address';
CREATE SCHEMA shop;
CREATE TABLE shop.orders (
    id int PRIMARY KEY,
    customer_id int NOT NULL REFERENCES crm.customers(id),
    placed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_idx ON shop.orders (customer_id);
COMMENT ON TABLE shop.orders IS 'One row per checkout';
CREATE TABLE shop.order_lines (
    order_id int REFERENCES shop.orders(id),
    line_no int,
    sku varchar(20) NOT NULL CHECK (sku <> ''),
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE shop.refunds (
    id int PRIMARY KEY,
    order_id int NOT NULL,
    amount numeric(10,2) NOT NULL
);
COMMENT ON COLUMN shop.refunds.order_id IS 'The refunded order; no FK declared';
INSERT INTO crm.customers SELECT g, 'c' || g || '@example.com', 'silver' FROM generate_series(1, 200) g;
INSERT INTO shop.orders SELECT g, 1 + g % 200, '2026-01-01' FROM generate_series(1, 500) g;
INSERT INTO shop.order_lines SELECT 1 + g % 500, g, 'SKU' || g FROM generate_series(1, 800) g;
INSERT INTO shop.refunds SELECT g, 1 + (g * 7) % 500, 9.99 FROM generate_series(1, 150) g;
ANALYZE;
"""


@pytest.fixture
def shop_db(pg):
    pg.execute(SCHEMA_SQL)
    return pg


@pytest.fixture
def shop_snapshot(shop_db):
    return take_snapshot(shop_db.url)
