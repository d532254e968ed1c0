"""Declarative diff: the migration from a live database to the schema a SQL file describes.

    diff(target, "schema.sql")   -> DiffPlan   load the file into a scratch database, snapshot both
                                               sides with the same code, compare, plan up and down
    plan_diff(live, desired)     -> DiffPlan   the same from two snapshots
    DiffPlan.migration()         -> str        a -- migrate:up / -- migrate:down file

Nothing is applied: the result is a migration file to review and run with ``dbwright migrate``.
"""

from __future__ import annotations

from pathlib import Path

from dbwright.changes.diff.compare import Catalog, Difference, compare, compare_snapshots, project
from dbwright.changes.diff.plan import DiffPlan, Refused, plan_diff
from dbwright.changes.diff.renames import Rename, parse_hint
from dbwright.changes.diff.scratch import (
    desired_snapshot,
    loaded_scratch,
    read_schema_file,
    scratch_server_for,
)
from dbwright.errors import DiffIncompleteError

__all__ = [
    "Catalog",
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
    strict: bool = False,
) -> DiffPlan:
    """Plan the change from the live database ``target`` to the schema in ``schema_path``.

    ``strict``: anything the plan cannot generate (listed as not handled) is an error
    (DiffIncompleteError) instead of a note in the file.
    """
    from dbwright.engines.postgres.diff_catalog import canonicalizer, diff_target, read_side
    from dbwright.engines.registry import take_snapshot

    schema = read_schema_file(schema_path)
    live = take_snapshot(diff_target(target))
    live_catalog = Catalog(*_frozen(read_side(target)))
    server, notes = scratch_server_for(target, scratch_server)
    with loaded_scratch(schema, server) as scratch:
        desired = take_snapshot(diff_target(scratch))
        desired_catalog = Catalog(*_frozen(read_side(scratch)))
        with canonicalizer(scratch) as canonical:
            plan = plan_diff(
                live,
                desired,
                allow_destructive=allow_destructive,
                renames=renames,
                live_catalog=live_catalog,
                desired_catalog=desired_catalog,
                canonical=canonical,
            )
    plan.warnings += schema.notes + notes
    if strict and plan.manual:
        raise DiffIncompleteError(
            f"{len(plan.manual)} difference(s) the diff cannot generate (--strict): {plan.manual[0]}"
        )
    return plan


def _frozen(side: tuple[dict, set]) -> tuple[dict, frozenset]:
    extras, dependencies = side
    return extras, frozenset(dependencies)
