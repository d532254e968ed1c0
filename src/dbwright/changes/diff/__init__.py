"""Declarative diff: the migration from a live database to the schema a SQL file describes.

    diff(target, "schema.sql")   -> DiffPlan   load the file into a scratch database, snapshot both
                                               sides with the same code, compare, plan up and down
    plan_diff(live, desired)     -> DiffPlan   the same from two snapshots
    DiffPlan.migration()         -> str        a -- migrate:up / -- migrate:down file

Nothing is applied: the result is a migration file to review and run with ``dbwright migrate``.
"""

from __future__ import annotations

from pathlib import Path

from dbwright.changes.diff.compare import Difference, compare, compare_snapshots, project
from dbwright.changes.diff.plan import DiffPlan, Refused, plan_diff
from dbwright.changes.diff.renames import Rename, parse_hint
from dbwright.changes.diff.scratch import desired_snapshot

__all__ = [
    "DiffPlan",
    "Difference",
    "Refused",
    "Rename",
    "compare",
    "compare_snapshots",
    "desired_snapshot",
    "diff",
    "parse_hint",
    "plan_diff",
    "project",
]


def diff(
    target: str | None,
    schema_path: Path,
    *,
    allow_destructive: bool = False,
    renames: list[Rename] | None = None,
    scratch_server: str | None = None,
) -> DiffPlan:
    """Plan the change from the live database ``target`` to the schema in ``schema_path``."""
    from dbwright.engines.registry import take_snapshot

    desired = desired_snapshot(schema_path, target=target, scratch_server=scratch_server)
    live = take_snapshot(target)
    return plan_diff(live, desired, allow_destructive=allow_destructive, renames=renames)
