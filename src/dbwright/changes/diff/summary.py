"""The diff's text summary: what differs, what the migration does, what it left out and why."""

from __future__ import annotations

from pathlib import Path

from dbwright.changes.diff.plan import DiffPlan


def text_summary(plan: DiffPlan, output: Path | None = None) -> str:
    lines = [f"WARNING {warning}" for warning in plan.warnings]
    if not plan.differences:
        return "\n".join(lines + ["no differences: the live schema already matches"]) + "\n"
    counts: dict[str, dict[str, int]] = {}
    for d in plan.differences:
        counts.setdefault(d.kind, {}).setdefault(d.change, 0)
        counts[d.kind][d.change] += 1
    lines.append("differences:")
    for kind, changes in counts.items():
        lines.append(f"  {kind:<12} " + ", ".join(f"{n} {change}" for change, n in changes.items()))
    for rename in plan.renames:
        lines.append(f"rename {rename.kind} {rename.old} -> {rename.new_name} (from the hint)")
    statements = sum(len(p.operations) for p in plan.packages)
    seconds = sum(p.estimated_seconds for p in plan.packages)
    outside = sum(1 for p in plan.packages for op in p.operations if not op.transactional)
    lines.append(
        f"migration: {len(plan.packages)} step(s), {statements} statement(s), "
        f"{outside} outside a transaction, estimated {seconds:.1f}s"
        + (f", written to {output}" if output else "")
    )
    for refused in plan.refused:
        lines.append(f"REFUSED {refused.title}: {refused.reason} (pass --allow-destructive)")
    for manual in plan.manual:
        lines.append(f"NOT HANDLED {manual}")
    return "\n".join(lines) + "\n"
