"""Integrity checks: whether the constraints the schema declares actually hold for every row."""

from __future__ import annotations

from collections.abc import Iterator

from dbwright.checks.registry import check, finding
from dbwright.model import Constraint, Snapshot
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import ValidateConstraint
from dbwright.model.package import ChangePackage

#: The constraint kinds PostgreSQL lets you add ``NOT VALID``, by their ``contype``.
_KINDS = {"c": "CHECK", "f": "FOREIGN KEY"}


@check("DW113", category="integrity", severity=Severity.MEDIUM, title="Constraint left NOT VALID")
def constraint_not_validated(snap: Snapshot) -> Iterator[Finding]:
    """A CHECK or FOREIGN KEY constraint was added ``NOT VALID`` and never validated.

    ``NOT VALID`` is the right first step on a busy table: the constraint applies to new and
    updated rows at once, without a long scan under a strong lock. It is only half the job:

    - rows written before the constraint was added were never checked, so the table may hold
      values the constraint forbids, or child rows whose parent does not exist;
    - the planner cannot use an unvalidated CHECK for constraint exclusion (skipping partitions
      or inheritance children that the CHECK proves hold no matching rows);
    - a NOT VALID foreign key is not trusted: a child row may point at a parent that does not
      exist, so a join that must not lose rows, a report or a tool relying on the relationship
      can be wrong;
    - a later ``SET NOT NULL`` cannot rely on an unvalidated ``CHECK (col IS NOT NULL)`` to skip
      its scan.

    Fix: ``ALTER TABLE … VALIDATE CONSTRAINT …``. It scans the table under SHARE UPDATE
    EXCLUSIVE, which allows reads and writes to go on. If it fails, the error names a row that
    breaks the constraint: correct or remove such rows first, then validate again.

    References: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT
    """
    for constraint in snap.constraints:
        if constraint.type in _KINDS and not constraint.validated:
            yield _not_validated(snap, constraint)


def _not_validated(snap: Snapshot, constraint: Constraint) -> Finding:
    kind = _KINDS[constraint.type]
    table = snap.table(constraint.table_qname)
    return finding(
        constraint.table_qname,
        f"{kind} constraint {constraint.name} on {constraint.table_qname} was added NOT VALID and never "
        "validated: rows older than it were never checked",
        constraint=constraint.name,
        kind=kind,
        definition=constraint.definition,
        fix=ChangePackage.of(
            f"Validate {constraint.name} on {constraint.table_qname}",
            [
                ValidateConstraint(
                    constraint.table_qname, constraint.name, table_bytes=table.heap_bytes if table else 0
                )
            ],
            "Checks the existing rows against the constraint with a scan under SHARE UPDATE EXCLUSIVE, "
            "which allows reads and writes; if a row breaks it, the validation fails and changes nothing.",
        ),
    )
