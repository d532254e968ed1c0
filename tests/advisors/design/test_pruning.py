"""Partition pruning of the workload's queries, planned on a scratch copy of the proposed structure."""

from __future__ import annotations

import psycopg

from dbwright.advisors.design import design_review
from dbwright.engines.postgres.scratch import SCRATCH_PREFIX
from tests.advisors.design.test_partition import events


def workload(pg) -> None:
    """Three statements on the event table, sent with real parameters as an application would."""
    with psycopg.connect(pg.url, autocommit=True) as app:
        app.execute(
            "SELECT count(*) FROM events WHERE created_at >= %s AND created_at < %s",
            ("2024-03-01 00:00+00", "2024-03-08 00:00+00"),
        )
        app.execute("SELECT id, payload FROM events WHERE kind = %s", ("kind1",))
        app.execute(
            "SELECT count(*) FROM events WHERE created_at >= '2024-05-01' AND created_at < '2024-05-08'"
        )
        app.execute("SELECT pg_stat_force_next_flush()")


def by_query(pruning: dict) -> dict[str, dict]:
    return {q["query"]: q for q in pruning["queries"]}


def test_range_queries_prune_and_others_scan_every_partition(pg):
    events(pg)
    workload(pg)
    proposal = design_review(pg.url, use_desbordante=False, min_partition_rows=10_000).of_kind("partition")[0]
    pruning = proposal.evidence["pruning"]
    assert pruning["partitions"] == 27 and pruning["statements"] >= 3
    queries = by_query(pruning)
    ranged = queries["SELECT count(*) FROM events WHERE created_at >= $1 AND created_at < $2"]
    # Parameters are decided at executor start-up; with two successive histogram bounds of the
    # source table, one week's partition (or two, at a boundary) is left of 27.
    assert ranged["pruning"] == "run time" and 1 <= ranged["scanned"] <= 2
    assert ranged["unbound_parameters"] == []
    by_kind = queries["SELECT id, payload FROM events WHERE kind = $1"]
    assert by_kind["pruning"] == "none" and by_kind["scanned"] == 27
    assert pruning["scan_all"] >= 1 and pruning["pruned"] >= 2


def test_scratch_database_is_dropped_and_source_untouched(pg):
    events(pg)
    workload(pg)
    design_review(pg.url, use_desbordante=False, min_partition_rows=10_000)
    with psycopg.connect(pg.cluster.url("postgres"), autocommit=True) as admin:
        left = admin.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE %s", (SCRATCH_PREFIX + "%",)
        ).fetchone()[0]
    assert left == 0
    assert pg.value("SELECT relkind FROM pg_class WHERE relname = 'events'") == "r"
    assert pg.value("SELECT count(*) FROM pg_class WHERE relname LIKE 'events_p2%'") == 0


def test_pruning_can_be_turned_off(pg):
    events(pg)
    proposal = design_review(
        pg.url, use_desbordante=False, min_partition_rows=10_000, estimate_pruning=False
    ).of_kind("partition")[0]
    assert "pruning" not in proposal.evidence


def test_without_createdb_the_estimate_is_skipped_and_said(pg):
    events(pg)
    workload(pg)
    role = pg.role("dw_pruning_reader", "LOGIN NOCREATEDB")
    pg.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    pg.execute(f'GRANT pg_read_all_stats TO "{role}"')
    url = pg.cluster.url(pg.name, user=role)
    proposal = design_review(url, use_desbordante=False, min_partition_rows=10_000).of_kind("partition")[0]
    pruning = proposal.evidence["pruning"]
    assert "CREATEDB" in pruning["skipped"] and pruning["statements"] >= 3


def test_a_candidate_whose_check_times_out_is_rejected_alone(pg, monkeypatch):
    """A confirmation past statement_timeout rejects that candidate, not the whole table."""
    from dbwright.advisors.design import design
    from dbwright.engines.postgres import design_confirm as confirm
    from dbwright.engines.postgres.query_errors import translating

    pg.execute(
        "CREATE TABLE visits (id int PRIMARY KEY, customer_id int, customer_name text, region_id int, "
        "region_name text)"
    )
    pg.execute(
        "INSERT INTO visits SELECT g, g % 50, 'c' || (g % 50), g % 20, 'r' || (g % 20) "
        "FROM generate_series(1, 3000) g"
    )
    pg.analyze()
    real = confirm.fd_checks
    timed_out = []

    def slow_for_customer(conn, table, lhs, rhs, *args):
        if lhs == ("customer_id",):  # a real query cancelled by a real statement_timeout
            timed_out.append(lhs)
            conn.execute("SET statement_timeout = '50ms'")
            try:
                with translating():  # as an engine function would raise it: QueryTimeoutError
                    conn.execute("SELECT pg_sleep(1)")
            finally:
                conn.execute("RESET statement_timeout")
        return real(conn, table, lhs, rhs, *args)

    monkeypatch.setattr(confirm, "fd_checks", slow_for_customer)
    report = design.design_review(pg.url, use_desbordante=False, estimate_pruning=False)
    assert timed_out == [("customer_id",)]
    table = next(t for t in report.tables if t.table == "public.visits")
    assert table.skipped is None
    splits = {p.columns for p in report.proposals if p.kind == "normalize"}
    assert ("region_id", "region_name") in splits and ("customer_id", "customer_name") not in splits
    assert any(
        r.what == "customer_id → customer_name" and "statement_timeout" in r.reason for r in report.rejected
    )
