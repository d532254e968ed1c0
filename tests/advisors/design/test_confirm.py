"""Full-table confirmation queries: the one-scan GROUPING SETS form agrees with the per-pair form."""

from __future__ import annotations

from dbwright.advisors.design import confirm
from dbwright.engines.postgres.connect import open_session
from tests.advisors.design import scenarios


def test_grouping_sets_scan_matches_pairwise_queries(pg):
    scenarios.dirty(pg)
    pg.execute("ALTER TABLE shipments ALTER weight DROP NOT NULL")
    pg.execute("UPDATE shipments SET weight = NULL WHERE id % 10 = 0")  # NULL is one value, as in GROUP BY
    with open_session(pg.url) as conn:
        many = confirm.fd_violations_many(conn, "public.shipments", ("customer_id",), ["customer_city", "weight"])
        one = [confirm.fd_violations(conn, "public.shipments", ("customer_id",), c) for c in ("customer_city", "weight")]
    assert many == one
    assert many[0].violating_rows == 20 and many[0].groups == 200 and many[0].rows == 4000
    assert many[1].error > 0.5


def test_orphans_and_key_violations(pg):
    scenarios.missing_fk(pg, orphans=3)
    pg.execute("INSERT INTO purchases VALUES (9001, NULL, 1)")
    with open_session(pg.url) as conn:
        assert confirm.orphans(conn, "public.purchases", ("customer_id",), "public.customers", ("id",)) == (3000, 3, 3)
        assert confirm.key_violations(conn, "public.purchases", ("customer_id",)) == (3001, 1, 3000 - 503)
        assert confirm.null_counts(conn, "public.purchases", ["customer_id", "total"]) == {"customer_id": 1, "total": 0}
