"""Sharding advice from the workload's joins and filters: distribution column, co-location, reference tables."""

from __future__ import annotations

import psycopg

from dbwright.advisors.design import design_review
from dbwright.advisors.design.sharding import equality_joins, workload_usage
from dbwright.engines.registry import take_snapshot
from dbwright.output import render

SMALL = 1024 * 1024  # "past one machine" for these tests: 1 MB


def shop(pg) -> None:
    pg.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    pg.execute("CREATE TABLE countries(code text PRIMARY KEY, name text NOT NULL)")
    pg.execute("INSERT INTO countries VALUES ('de', 'Germany'), ('fr', 'France'), ('nl', 'Netherlands')")
    pg.execute(
        "CREATE TABLE orders(id bigint PRIMARY KEY, customer_id bigint NOT NULL, status text NOT NULL, "
        "country_code text NOT NULL, total numeric NOT NULL)"
    )
    pg.execute(
        "INSERT INTO orders SELECT g, g % 2000, (ARRAY['new','paid','sent'])[g % 3 + 1], "
        "(ARRAY['de','fr','nl'])[g % 3 + 1], g % 97 FROM generate_series(1, 30000) g"
    )
    pg.execute(
        "CREATE TABLE order_items(order_id bigint NOT NULL, line int NOT NULL, customer_id bigint NOT NULL, "
        "sku text NOT NULL, PRIMARY KEY (order_id, line))"
    )
    pg.execute(
        "INSERT INTO order_items SELECT o.id, l, o.customer_id, 'sku' || (o.id * l) % 500 "
        "FROM orders o, generate_series(1, 2) l"
    )
    pg.analyze()
    pg.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(pg.url, autocommit=True) as app:
        for customer in range(20):
            app.execute(
                "SELECT o.id, i.sku FROM orders o JOIN order_items i ON i.customer_id = o.customer_id "
                "AND i.order_id = o.id WHERE o.customer_id = %s",
                (customer,),
            )
            app.execute(
                "SELECT o.total, c.name FROM orders o JOIN countries c ON c.code = o.country_code "
                "WHERE o.customer_id = %s",
                (customer,),
            )
        app.execute("SELECT sku FROM order_items WHERE customer_id = %s", (7,))
        for status in ("new", "paid", "sent"):  # heavy, but 3 values cannot spread rows over nodes
            app.execute("SELECT count(*) FROM orders WHERE status = %s", (status,))
        app.execute("SELECT pg_stat_force_next_flush()")


def test_join_pairs_are_read_from_on_and_where(pg):
    shop(pg)
    snap = take_snapshot(pg.url)
    import pglast

    tree = pglast.parse_sql(
        "SELECT 1 FROM orders o, order_items i WHERE i.order_id = o.id AND o.customer_id = 5"
    )
    assert equality_joins(tree[0].stmt, snap) == {
        (("public.order_items", "order_id"), ("public.orders", "id"))
    }
    usage = workload_usage(snap)
    assert usage.filters[("public.orders", "customer_id")] > 0
    assert (("public.countries", "code"), ("public.orders", "country_code")) in usage.joins


def test_distribution_column_colocation_and_reference_table(pg):
    shop(pg)
    report = design_review(pg.url, use_desbordante=False, shard_bytes=SMALL)
    advice = {p.table: p for p in report.of_kind("shard")}
    assert set(advice) == {"public.orders", "public.order_items"}  # countries is far below the threshold
    orders = advice["public.orders"]
    e = orders.evidence
    assert e["distribution_column"] == "customer_id"
    assert "status" not in e["candidates"]  # three values: not a distribution column, however often filtered
    assert (
        e["candidates"]["customer_id"]["filter_weight"] > 0
        and e["candidates"]["customer_id"]["join_weight"] > 0
    )
    assert {"table": "public.order_items", "column": "customer_id"}.items() <= e["colocated"][0].items()
    assert [r["table"] for r in e["reference_tables"]] == ["public.countries"]
    assert "SELECT create_reference_table('public.countries');" in e["citus_sql"]
    assert advice["public.order_items"].evidence["distribution_column"] == "customer_id"
    assert orders.package is None  # advice only: no Citus here
    text = render(report, "text")
    assert "Sharding (advice only)" in text and "shard it by customer_id" in text
    assert render(report, "json")  # to_dict is JSON-serialisable


def test_no_advice_below_the_threshold(pg):
    shop(pg)
    assert not design_review(pg.url, use_desbordante=False).of_kind("shard")


def test_cli_shard_threshold(pg, capsys):
    import json

    from dbwright.cli import main

    shop(pg)
    assert main(["design", pg.url, "--format", "json", "--no-desbordante", "--shard-gb", "0.001"]) == 0
    report = json.loads(capsys.readouterr().out)
    shards = {
        p["table"]: p["evidence"]["distribution_column"] for p in report["proposals"] if p["kind"] == "shard"
    }
    assert shards == {"public.orders": "customer_id", "public.order_items": "customer_id"}
