"""Partitioning advice for an append-only, time-ordered event table (and not for a churned one)."""

from __future__ import annotations

import re

import psycopg

from dbwright.advisors.design import design_review
from tests.advisors.design.copying import apply_and_roll_back


def events(pg, updates: bool = False) -> None:
    pg.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    pg.execute(
        "CREATE TABLE events(id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, kind text NOT NULL, "
        "payload text)"
    )
    pg.execute("CREATE INDEX events_kind_idx ON events (kind, created_at)")
    pg.execute(
        "INSERT INTO events(created_at, kind, payload) SELECT timestamptz '2024-01-01 00:00+00' "
        "+ g * interval '8 minutes', 'kind' || g % 5, md5(g::text) FROM generate_series(1, 30000) g"
    )
    if updates:
        pg.execute("UPDATE events SET payload = 'x' WHERE id % 2 = 0")
        pg.execute("UPDATE events SET payload = 'y' WHERE id % 2 = 0")
    pg.execute("SELECT count(*) FROM events WHERE created_at >= timestamptz '2024-06-01' - interval '7 days'")
    pg.execute("SELECT pg_stat_force_next_flush()")
    pg.analyze()


def test_append_only_event_table_gets_range_partitioning(pg, copy_of):
    events(pg)
    report = design_review(pg.url, use_desbordante=False, min_partition_rows=10_000)
    found = report.of_kind("partition")
    assert len(found) == 1, [p.title for p in report.proposals]
    proposal = found[0]
    e = proposal.evidence
    assert e["partition_key"] == "created_at" and e["interval"] == "week"
    assert e["correlation"] > 0.99 and e["change_share"] == 0
    assert e["partitions"] == 24 + 3  # 30,000 × 8 min ≈ 167 days: 24 ISO weeks, 3 made ahead
    assert e["range_queries"] and "created_at >=" in e["range_queries"][0]["query"]
    sql = proposal.package.forward_sql
    assert "PARTITION BY RANGE (created_at)" in sql
    assert "ADD PRIMARY KEY (id, created_at)" in sql
    assert (
        "CREATE TABLE public.events_p20240101 PARTITION OF public.events_partitioned FOR VALUES FROM "
        "('2024-01-01 00:00:00+00') TO ('2024-01-08 00:00:00+00')" in sql
    )
    assert "CREATE INDEX ON public.events_partitioned USING btree (kind, created_at)" in sql
    assert "DETACH PARTITION public.events_p20240101 CONCURRENTLY" in proposal.advice

    url = copy_of()
    with psycopg.connect(url, autocommit=True) as conn:
        applied = apply_and_roll_back(conn, url, proposal)
    assert ("public.events", "p") in applied["tables"]  # partitioned, under the old name
    assert ("public.events_unpartitioned", "r") in applied["tables"]


def test_copy_keeps_every_row(pg, copy_of):
    events(pg)
    proposal = design_review(pg.url, use_desbordante=False, min_partition_rows=10_000).of_kind("partition")[0]
    url = copy_of()
    with psycopg.connect(url, autocommit=True) as conn:
        from tests.advisors.design.copying import run

        run(conn, proposal.package.operations)
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 30000
        assert conn.execute("SELECT count(*) FROM events_unpartitioned").fetchone()[0] == 30000
        plan = conn.execute(
            "EXPLAIN SELECT * FROM events WHERE created_at >= '2024-05-01' AND created_at < '2024-05-08'"
        ).fetchall()
        scanned = {m for row in plan for m in re.findall(r"on (events_p\d{8})\b", row[0])}
        assert scanned == {"events_p20240429", "events_p20240506"}  # pruning: 2 weekly partitions of 27


def test_updated_table_is_not_advised(pg):
    events(pg, updates=True)
    report = design_review(pg.url, use_desbordante=False, min_partition_rows=10_000)
    assert not report.of_kind("partition")


def test_small_table_is_not_advised(pg):
    events(pg)
    assert not design_review(pg.url, use_desbordante=False).of_kind("partition")
