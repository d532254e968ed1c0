"""A role with only pg_monitor gets a partial review that says what it skipped and why."""

from dbwright.checks.registry import all_checks
from dbwright.engines.registry import take_snapshot
from dbwright.review import run_review


def test_pg_monitor_only_review_lists_skipped(pg):
    pg.execute("CREATE TABLE secrets (id int PRIMARY KEY, note text)")
    pg.execute("INSERT INTO secrets SELECT g, 'x' FROM generate_series(1, 100) g")
    pg.analyze()
    pg.role("monitor_only", "LOGIN IN ROLE pg_monitor")
    snap = take_snapshot(pg.cluster.url(pg.name, user="monitor_only"))

    skipped = {s.section: s.reason for s in snap.skipped}
    assert "password_hashes" in skipped and "superuser" in skipped["password_hashes"]
    assert "hba_rules" in skipped and "pg_hba_file_rules" in skipped["hba_rules"]
    assert "server_memory" in skipped
    assert "column_stats" in skipped and "1 table" in skipped["column_stats"]
    assert "other_sessions" not in skipped  # pg_monitor includes pg_read_all_stats

    review = run_review(snap)
    listed = {s.check.code: s.reasons for s in review.skipped}
    expected = {c.code for c in all_checks() if set(c.requires) & set(skipped)}
    assert set(listed) == expected
    for code in expected:
        assert all(":" in reason for reason in listed[code])
    assert review.to_dict()["snapshot_skipped"]


def test_superuser_review_skips_nothing_privileged(pg):
    pg.execute("CREATE EXTENSION pg_stat_statements")
    snap = pg.snapshot()
    assert {s.section for s in snap.skipped} == set()
