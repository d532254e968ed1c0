"""Round-trip machinery for the diff tests: plan, apply up, compare, apply down, compare."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import psycopg

from dbwright.changes.diff import compare_snapshots, desired_snapshot, diff
from dbwright.changes.diff.plan import DiffPlan
from dbwright.changes.lint.parse import parse_statements
from dbwright.changes.migration_file import DOWN_MARK, UP_MARK
from dbwright.engines.postgres.diff_catalog import diff_target
from dbwright.engines.registry import take_snapshot
from dbwright.model import Snapshot
from tests.pgcluster import PG_BIN


def sections(migration: str) -> tuple[str, str]:
    up = migration.split(UP_MARK, 1)[1].split(DOWN_MARK, 1)[0]
    return up, migration.split(DOWN_MARK, 1)[1]


def run_script(url: str, sql: str) -> None:
    """Run a migration part the way psql -f would: statement by statement, BEGIN/COMMIT as written."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in parse_statements(sql, "migration.sql"):
            conn.execute(statement.sql)


def scratch_databases(pg) -> list[str]:
    return [
        r[0] for r in pg.execute("SELECT datname FROM pg_database WHERE datname LIKE 'dbwright_scratch_%'")
    ]


def snapshot(url: str) -> Snapshot:
    """A side as the diff reads it: search_path=pg_catalog, so every name prints qualified."""
    return take_snapshot(diff_target(url))


def round_trip(pg, tmp_path: Path, live_sql: str, desired_sql: str, **options) -> DiffPlan:
    """Diff live -> desired, apply the up part and compare with desired (and diff again: nothing left),
    then the down part and the original."""
    pg.execute(live_sql)
    original = snapshot(pg.url)
    schema = tmp_path / "schema.sql"
    schema.write_text(desired_sql)
    plan = diff(pg.url, schema, **options)
    up, down = sections(plan.migration())
    run_script(pg.url, up)
    desired = desired_snapshot(schema, target=pg.url)
    assert compare_snapshots(snapshot(pg.url), desired) == [], up
    again = diff(pg.url, schema, allow_destructive=True)
    assert again.differences == [] and again.manual == [], [d.to_dict() for d in again.differences]
    run_script(pg.url, down)
    assert compare_snapshots(snapshot(pg.url), original) == [], down
    assert scratch_databases(pg) == []
    return plan


def psql_errors(url: str, sql_file: Path) -> list[str]:
    """Run a file as psql does without ON_ERROR_STOP: the ERROR lines it printed (what a user would count)."""
    done = subprocess.run(
        [str(PG_BIN / "psql"), "-X", "-q", "-d", url, "-f", str(sql_file)], capture_output=True, text=True
    )
    return [line for line in done.stderr.splitlines() if "ERROR:" in line]


def pg_dump_lines(url: str, sort: bool = True) -> list[str]:
    """pg_dump --schema-only, sorted, without comments, \\restrict keys and blank lines (its noise)."""
    done = subprocess.run(
        [str(PG_BIN / "pg_dump"), "--schema-only", "--no-owner", "-d", url],
        capture_output=True,
        text=True,
        check=True,
    )
    kept = []
    for line in done.stdout.splitlines():
        text = line.rstrip()
        if not text or text.startswith("--") or re.match(r"^\\(un)?restrict ", text):
            continue
        kept.append(text.rstrip(",;") if sort else text)
    return sorted(kept) if sort else kept


def step_sql(plan: DiffPlan) -> list[str]:
    return [op.sql() for p in plan.packages for op in p.operations]
