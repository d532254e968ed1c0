"""Every change package the design review proposes applies and rolls back cleanly on a copy.

The scenarios are built in the test database, reviewed (read-only), then copied with
CREATE DATABASE … TEMPLATE. On the copy each package is applied and rolled back; the
catalog structure and the row counts must come back exactly as they were.
"""

from __future__ import annotations

import psycopg
import pytest

from dbwright.advisors.design import design_review
from tests.advisors.design import scenarios
from tests.advisors.design.copying import apply_and_roll_back, structure


@pytest.mark.slow
def test_every_package_applies_and_rolls_back_on_a_copy(pg, copy_of):
    scenarios.transitive(pg)
    scenarios.dirty(pg)
    scenarios.natural_key(pg)
    scenarios.missing_fk(pg, orphans=3)
    scenarios.wide_varchar(pg)
    pg.execute("CREATE TABLE imports(id int PRIMARY KEY, happened text, flag text)")
    pg.execute(
        "INSERT INTO imports SELECT g, '2024-01-01 10:00:' || lpad((g % 60)::text, 2, '0'), "
        "CASE WHEN g % 2 = 0 THEN 'true' ELSE 'false' END FROM generate_series(1, 600) g"
    )
    pg.analyze()
    original = structure(pg.url)
    report = design_review(pg.url, use_desbordante=False)
    assert structure(pg.url) == original  # the review itself changed nothing
    kinds = {p.kind for p in report.proposals if p.package}
    assert kinds >= {"normalize", "unique_key", "foreign_key", "not_null", "type"}, kinds

    url = copy_of()
    with psycopg.connect(url, autocommit=True) as conn:
        for proposal in report.proposals:
            if proposal.package is None:
                continue
            if proposal.kind == "foreign_key" and proposal.evidence["orphan_rows"]:
                # The package's manual step: fix the orphans before VALIDATE (here: delete them).
                conn.execute(
                    f"DELETE FROM {proposal.table} WHERE id IN "
                    f"(SELECT id FROM ({proposal.evidence['orphan_query']}) o)"
                )
            filenode = conn.execute(f"SELECT pg_relation_filenode('{proposal.table}')").fetchone()[0]
            run_and_check = apply_and_roll_back(conn, url, proposal)
            assert run_and_check
            if proposal.kind == "type":
                # A type change that claims a rewrite really rewrote (the rollback rewrites again or not).
                after = conn.execute(f"SELECT pg_relation_filenode('{proposal.table}')").fetchone()[0]
                assert (after != filenode) == proposal.evidence["rewrites_table"], proposal.title
