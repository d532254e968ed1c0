"""Every change package the design review proposes applies and rolls back cleanly on a copy.

The scenarios are built in the test database, reviewed (read-only), then copied with
CREATE DATABASE … TEMPLATE. On the copy each package is applied and rolled back; the
catalog structure and the row counts must come back exactly as they were.
"""

from __future__ import annotations

import psycopg
import pytest

from dbwright.advisors.design import design_review
from dbwright.review import take_snapshot
from tests.advisors.design import scenarios


def structure(url: str) -> dict[str, set]:
    """What must survive apply + rollback: tables, columns (not their position), constraints, indexes, views."""
    snap = take_snapshot(url)
    return {
        "tables": {(t.qname, t.kind) for t in snap.tables},
        "columns": {(c.table_qname, c.name, c.data_type, c.not_null, c.default) for c in snap.columns},
        "constraints": {(c.table_qname, c.name, c.type, c.definition, c.validated) for c in snap.constraints},
        "indexes": {(i.qname, i.definition) for i in snap.indexes},
        "views": {v.qname for v in snap.views},
    }


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    tables = [r[0] for r in conn.execute(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'public'").fetchall()]
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def run(conn: psycopg.Connection, operations) -> None:
    for op in operations:
        conn.execute(op.sql())


@pytest.fixture
def copy_of(pg):
    made = []

    def make() -> str:
        name = f"{pg.name}_copy"
        pg.conn.close()  # CREATE DATABASE … TEMPLATE needs the source to have no sessions
        with psycopg.connect(pg.cluster.url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg.name}"')
        pg.conn = psycopg.connect(pg.url, autocommit=True)
        made.append(name)
        return pg.cluster.url(name)

    yield make
    with psycopg.connect(pg.cluster.url("postgres"), autocommit=True) as admin:
        for name in made:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
def test_every_package_applies_and_rolls_back_on_a_copy(pg, copy_of):
    scenarios.transitive(pg)
    scenarios.dirty(pg)
    scenarios.natural_key(pg)
    scenarios.missing_fk(pg, orphans=3)
    scenarios.wide_varchar(pg)
    pg.execute("CREATE TABLE imports(id int PRIMARY KEY, happened text, flag text)")
    pg.execute("INSERT INTO imports SELECT g, '2024-01-01 10:00:' || lpad((g % 60)::text, 2, '0'), "
               "CASE WHEN g % 2 = 0 THEN 'true' ELSE 'false' END FROM generate_series(1, 600) g")
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
                conn.execute(f"DELETE FROM {proposal.table} WHERE id IN "
                             f"(SELECT id FROM ({proposal.evidence['orphan_query']}) o)")
            before, counts = structure(url), row_counts(conn)
            filenode = conn.execute(f"SELECT pg_relation_filenode('{proposal.table}')").fetchone()[0]
            run(conn, proposal.package.operations)
            if proposal.destructive_package:
                run(conn, proposal.destructive_package.operations)
            changed = structure(url)
            assert changed != before, proposal.title
            rewritten = conn.execute(f"SELECT pg_relation_filenode('{proposal.table}')").fetchone()[0] != filenode
            expected = any(op.rewrites for op in proposal.package.operations)
            assert rewritten == expected, (proposal.title, rewritten)
            if proposal.destructive_package:
                run(conn, proposal.destructive_package.rollback_operations())
            run(conn, proposal.package.rollback_operations())
            assert structure(url) == before, proposal.title
            assert row_counts(conn) == counts, proposal.title
