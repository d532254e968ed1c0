"""Full-table confirmation queries: the one-scan GROUPING SETS form agrees with the per-pair form."""

from __future__ import annotations

from dbwright.engines.postgres import design_confirm as confirm
from dbwright.engines.postgres.connect import open_session
from tests.advisors.design import scenarios


def test_grouping_sets_scan_matches_pairwise_queries(pg):
    scenarios.dirty(pg)
    pg.execute("ALTER TABLE shipments ALTER weight DROP NOT NULL")
    pg.execute("UPDATE shipments SET weight = NULL WHERE id % 10 = 0")  # NULL is one value, as in GROUP BY
    with open_session(pg.url) as conn:
        many = confirm.fd_violations_many(
            conn, "public.shipments", ("customer_id",), ["customer_city", "weight"]
        )
        one = [
            confirm.fd_violations(conn, "public.shipments", ("customer_id",), c)
            for c in ("customer_city", "weight")
        ]
    assert many == one
    assert many[0].violating_rows == 20 and many[0].groups == 200 and many[0].rows == 4000
    assert many[1].error > 0.5


def test_orphans_and_key_violations(pg):
    scenarios.missing_fk(pg, orphans=3)
    pg.execute("INSERT INTO purchases VALUES (9001, NULL, 1)")
    with open_session(pg.url) as conn:
        assert confirm.orphans(conn, "public.purchases", ("customer_id",), "public.customers", ("id",)) == (
            3000,
            3,
            3,
        )
        assert confirm.key_violations(conn, "public.purchases", ("customer_id",)) == (3001, 1, 3000 - 503)
        assert confirm.null_counts(conn, "public.purchases", ["customer_id", "total"]) == {
            "customer_id": 1,
            "total": 0,
        }


def test_one_hash_scan_agrees_with_the_exact_count(pg):
    """fd_checks: exact dependencies and clear failures from one hash aggregate; approximate ones exact."""
    scenarios.dirty(pg)
    pg.execute("ALTER TABLE shipments ADD COLUMN customer_name text, ADD COLUMN note text")
    pg.execute(
        "UPDATE shipments SET customer_name = 'name ' || customer_id, "
        "note = CASE WHEN customer_id % 2 = 0 THEN 'n' || customer_id END"
    )  # NULL for odd customers
    pg.execute(
        "UPDATE shipments SET note = NULL WHERE id = 4"
    )  # customer 4 now has NULL and 'n4': a violation
    rhs = ["customer_city", "weight", "customer_name", "note"]
    with open_session(pg.url) as conn:
        types = {"customer_city": "text", "weight": "integer", "customer_name": "text", "note": "text"}
        fast = {
            c.rhs: c for c in confirm.fd_checks(conn, "public.shipments", ("customer_id",), rhs, types, 0.01)
        }
        exact = {
            c.rhs: c for c in confirm.fd_violations_many(conn, "public.shipments", ("customer_id",), rhs)
        }
    # Exact: settled by the hash scan, with as many distinct names as customers (1:1).
    assert fast["customer_name"].exact and fast["customer_name"].rhs_values == 200
    # Approximate (0.5% off): the exact GROUPING SETS count, identical to the per-pair form.
    assert fast["customer_city"] == exact["customer_city"] and fast["customer_city"].violating_rows == 20
    # A clear failure: rejected from the hash scan with a lower bound that already exceeds the limit.
    assert fast["weight"].at_least and fast["weight"].error > 0.01
    assert fast["weight"].violating_rows <= exact["weight"].violating_rows
    # NULL is one value, as in GROUP BY: the group mixing NULL and 'n4' is the one violation the hash scan
    # sees (NULLs never reach min/max); too few to reject, so it gets the exact count.
    assert exact["note"].violating_groups == 1 and exact["note"].violating_rows == 1
    assert fast["note"] == exact["note"]


def test_one_scan_value_lists_and_ranges_agree_with_one_query_per_column(pg):
    pg.execute(
        "CREATE TABLE t(id int PRIMARY KEY, state text, kind text, code text, qty bigint, price numeric(8,2))"
    )
    pg.execute(
        "INSERT INTO t SELECT g, (ARRAY['open','closed',NULL])[1 + g % 3], 'k' || g % 4, 'c' || g, g % 90, "
        "g * 0.25 FROM generate_series(1, 300) g"
    )
    with open_session(pg.url) as conn:
        many = confirm.distinct_values_many(conn, "public.t", ["state", "kind", "code"], 10)
        assert many == {
            c: confirm.distinct_values(conn, "public.t", c, 10) for c in ("state", "kind", "code")
        }
        assert many["state"] == [("closed", 100), ("open", 100)] and many["code"] is None  # 300 values > 10
        ranges = confirm.numeric_ranges(conn, "public.t", ["qty", "price"])
        assert ranges == {c: confirm.numeric_range(conn, "public.t", c) for c in ("qty", "price")}
        assert ranges["qty"] == (0, 89, True) and ranges["price"][2] is False


def test_casts_and_value_bounds(pg):
    pg.execute("CREATE TABLE d (s text, ts timestamptz)")
    pg.execute(
        "INSERT INTO d VALUES ('2024-01-02', '2024-01-01 00:00+00'), ('2024-02-29', '2024-03-01 00:00+00'), "
        "(NULL, NULL)"
    )
    with open_session(pg.url) as conn:
        assert confirm.casts(conn, "public.d", "s", "date")
        low, high, nulls = confirm.value_bounds(conn, "public.d", "ts")
    assert (low.month, high.month, nulls) == (1, 3, 1)


def test_a_date_shaped_value_out_of_range_does_not_cast(pg):
    # '2024-13-45' matches a date pattern; the cast fails with 22008, not the 22000 base class.
    pg.execute("CREATE TABLE d (s text)")
    pg.execute("INSERT INTO d VALUES ('2024-01-02'), ('2024-13-45')")
    with open_session(pg.url) as conn:
        assert not confirm.casts(conn, "public.d", "s", "date")
