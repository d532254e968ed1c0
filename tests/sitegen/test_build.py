"""The generated site for a small two-schema database: pages, links, diagrams, dictionary, stability."""

from __future__ import annotations

import csv
import io

from dbwright.engines.registry import take_snapshot
from dbwright.sitegen import Relationship, Site, build_site, find_implied
from dbwright.sitegen import mermaid as mermaid_module
from tests.sitegen.links import broken_links, html_links, markdown_links

TABLES = ("crm/customers", "shop/order_lines", "shop/orders", "shop/refunds")


def test_pages_exist_for_each_schema_and_table(shop_snapshot, tmp_path):
    build_site(shop_snapshot, tmp_path, format="both")
    for ext in ("html", "md"):
        for page in ("crm", "shop", *TABLES):
            assert (tmp_path / f"{page}.{ext}").is_file(), f"{page}.{ext}"
    assert (tmp_path / "index.html").is_file() and (tmp_path / "README.md").is_file()
    assert (tmp_path / "assets/mermaid.min.js").read_bytes().startswith(b"/*! mermaid 11.")
    assert b"MIT License" in (tmp_path / "assets/mermaid.min.js").read_bytes()[:2000]


def test_every_relative_link_resolves(shop_snapshot, tmp_path):
    build_site(shop_snapshot, tmp_path, format="both")
    assert broken_links(tmp_path, "*.html", html_links) == []
    assert broken_links(tmp_path, "*.md", markdown_links) == []
    schema_links = html_links(tmp_path / "shop.html")
    assert {"shop/orders.html", "shop/refunds.html", "index.html", "assets/mermaid.min.js"} <= set(
        schema_links
    )
    # the table page links across schemas, to the parent of its foreign key
    assert "../crm/customers.html" in html_links(tmp_path / "shop/orders.html")


def test_table_page_shows_columns_types_constraints_indexes_sizes_and_comments(shop_snapshot, tmp_path):
    build_site(shop_snapshot, tmp_path, format="markdown")
    orders = (tmp_path / "shop/orders.md").read_text()
    assert "One row per checkout" in orders
    assert "| placed_at | timestamp with time zone |" in orders
    assert (
        "orders_customer_id_fkey" in orders
        and "FOREIGN KEY (customer_id) REFERENCES crm.customers(id)" in orders
    )
    assert "orders_customer_idx" in orders and "CREATE INDEX orders_customer_idx" in orders
    assert "rows ≈500" in orders and "size " in orders
    customers = (tmp_path / "crm/customers.md").read_text()
    assert "(enum: bronze, silver, gold)" in customers
    assert "Login and invoice address" in customers
    assert "[shop.orders](../shop/orders.md) (customer_id)" in customers  # referenced by, linked back
    crm = (tmp_path / "crm.md").read_text()
    assert "Who buys" in crm and "| tier | enum | bronze, silver, gold |" in crm


def test_mermaid_source_draws_the_declared_relationships(shop_snapshot):
    site = Site(shop_snapshot)
    shop = mermaid_module.schema_diagram(site, "shop")
    customers, orders, lines = (
        mermaid_module.entity_id(q) for q in ("crm.customers", "shop.orders", "shop.order_lines")
    )
    assert shop.startswith("erDiagram\n")
    assert f'{customers} ||--o{{ {orders} : "orders_customer_id_fkey"' in shop
    assert f'{orders} ||--o{{ {lines} : "order_lines_order_id_fkey"' in shop  # PK column: NOT NULL
    assert "numeric(10_2) amount" in shop and "int4" not in shop
    around = mermaid_module.table_diagram(site, site.table("crm.customers"))
    assert f'{orders}["shop.orders"] {{' in around  # the neighbour, with its columns
    assert lines not in around  # two steps away: not drawn
    assert ".." not in around  # nothing implied was asked for


def test_implied_relationship_is_drawn_dashed_and_labelled(shop_db, shop_snapshot, tmp_path):
    implied = find_implied(shop_db.url, shop_snapshot, time_budget_s=20)
    assert [(r.child, r.child_columns, r.parent, r.parent_columns) for r in implied] == [
        ("shop.refunds", ("order_id",), "shop.orders", ("id",))
    ]
    assert "0 orphan rows" in implied[0].evidence
    build_site(shop_snapshot, tmp_path, format="both", implied=implied, implied_source="profiled")
    site = Site(shop_snapshot, implied, "profiled")
    refunds, orders = mermaid_module.entity_id("shop.refunds"), mermaid_module.entity_id("shop.orders")
    diagram = mermaid_module.schema_diagram(site, "shop")
    assert f'{orders} ||..o{{ {refunds} : "implied: order_id"' in diagram
    assert 'integer order_id "implied FK"' in diagram  # not marked FK: nobody declared it
    page = (tmp_path / "shop/refunds.md").read_text()
    assert "implied → [shop.orders.id](orders.md)" in page
    assert "implied by the data (not declared)" in page
    rows = list(csv.DictReader(io.StringIO((tmp_path / "data-dictionary.csv").read_text())))
    refund_fk = next(r for r in rows if r["table"] == "refunds" and r["column"] == "order_id")
    assert refund_fk["references"] == "" and refund_fk["implied_reference"] == "shop.orders.id"


def test_implied_duplicate_of_a_declared_key_is_not_drawn_twice(shop_snapshot):
    again = Relationship("shop.orders", ("customer_id",), "crm.customers", ("id",), "x", implied=True)
    site = Site(shop_snapshot, (again,), "profiled")
    assert [r.implied for r in site.relationships if r.child == "shop.orders"] == [False]


def test_two_builds_are_byte_identical(shop_snapshot, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    build_site(shop_snapshot, first, format="both")
    build_site(shop_snapshot, second, format="both")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for relative in files:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative
    assert shop_snapshot.taken_at not in (first / "index.html").read_text()


def test_data_dictionary_has_one_row_per_column(shop_snapshot, tmp_path):
    build_site(shop_snapshot, tmp_path)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "data-dictionary.csv").read_text())))
    documented = [c for c in shop_snapshot.columns if c.schema in ("crm", "shop")]
    assert len(rows) == len(documented) == 12
    email = next(r for r in rows if r["table"] == "customers" and r["column"] == "email")
    assert (email["nullable"], email["unique"], email["comment"]) == (
        "no",
        "yes",
        "Login and invoice address",
    )
    tier = next(r for r in rows if r["column"] == "tier")
    assert tier["allowed_values"] == "bronze | silver | gold" and tier["default"] == "'bronze'::crm.tier"
    order_fk = next(r for r in rows if r["table"] == "orders" and r["column"] == "customer_id")
    assert order_fk["references"] == "crm.customers.id"


def test_without_sizes_more_data_changes_no_page(shop_db, shop_snapshot, tmp_path):
    shop_db.execute(
        "INSERT INTO shop.refunds SELECT g, 1, 1 FROM generate_series(1000, 3000) g; ANALYZE shop.refunds"
    )
    grown = take_snapshot(shop_db.url)
    before, after, with_sizes = tmp_path / "before", tmp_path / "after", tmp_path / "sized"
    build_site(shop_snapshot, before, format="markdown", sizes=False)
    build_site(grown, after, format="markdown", sizes=False)
    build_site(grown, with_sizes, format="markdown")
    pages = sorted(p.relative_to(before) for p in before.rglob("*.md"))
    assert [p for p in pages if (before / p).read_bytes() != (after / p).read_bytes()] == []
    assert "rows ≈" not in (after / "shop/refunds.md").read_text()
    assert "rows ≈2,151" in (with_sizes / "shop/refunds.md").read_text()
