"""Integrity checks: whether the constraints the schema declares actually hold for every row."""

from __future__ import annotations

from collections.abc import Iterator

from dbwright.checks.registry import check, finding
from dbwright.model import Constraint, Snapshot
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import AddForeignKey, ValidateConstraint
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


#: Sampled values (and distinct ones) a reference needs before the data counts as evidence.
MIN_SAMPLED = 20
MIN_DISTINCT = 5
#: Above this share of orphans the data does not imply the relationship: nothing is said.
MAX_ORPHAN_SHARE = 0.05


@check(
    "DW119",
    category="integrity",
    severity=Severity.MEDIUM,
    title="Relationship the data implies, with no foreign key",
)
def implied_relationship(snap: Snapshot) -> Iterator[Finding]:
    """A column named like a reference (``customer_id``) to exactly one table's single-column
    primary key (``customers.id``), with no foreign key, whose sampled values all have a parent
    row. The relationship exists in the data and in the application's mind, but nothing keeps it:
    a delete of the parent or a bad write leaves child rows pointing nowhere, and tools that read
    the catalog (ER diagrams, the planner's join estimates for FK joins) do not know it.

    Evidence: up to 1,000 non-null values of the column (the snapshot's bounded sample), with how
    many are distinct and how many have no parent. It is proposed only when at least 20 values and
    5 distinct values were read (a count or a flag is not a key) and none is an orphan; confidence
    is high from 1,000 sampled values and 100 distinct, else medium. With orphans up to 5% of the
    sample it is reported at low severity with no fix: the orphans must be cleaned first. Above
    that the data does not imply the relationship and nothing is said. Partitions, tables under a
    lock and tables dbwright cannot read are not sampled (the snapshot lists them as skipped).

    A schema that declares foreign keys for fewer than a quarter of its references (those it
    declares plus those the data implies, at least three of them) has chosen to keep references in the application: rows
    purged in its own order, stores that may live in other databases. There the findings are
    information, with the share named, not a defect.

    Fix: ``ADD CONSTRAINT … FOREIGN KEY … NOT VALID`` (a brief SHARE ROW EXCLUSIVE lock on both
    tables), then ``VALIDATE CONSTRAINT`` (SHARE UPDATE EXCLUSIVE: reads and writes go on while it
    scans). Index the column too if it is not (DW102 says so once the key exists).

    References: https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK,
    https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT
    """
    declared = _declared_share(snap)
    for ref in snap.implied_references:
        if ref.sampled < MIN_SAMPLED or ref.distinct_values < MIN_DISTINCT:
            continue
        share = ref.orphans / ref.sampled
        if share > MAX_ORPHAN_SHARE:
            continue
        columns = ", ".join(ref.columns)
        confidence = "high" if ref.sampled >= 1000 and ref.distinct_values >= 100 else "medium"
        evidence = {
            "references": ref.ref_qname,
            "columns": list(ref.columns),
            "ref_columns": list(ref.ref_columns),
            "sampled_values": ref.sampled,
            "distinct_values": ref.distinct_values,
            "orphans": ref.orphans,
            "confidence": confidence,
            "sample": "up to 1,000 non-null values of the column",
        }
        target = f"{ref.ref_qname}({', '.join(ref.ref_columns)})"
        if ref.orphans:
            yield finding(
                ref.table_qname,
                f"{ref.table_qname}({columns}) looks like a reference to {target}, but {ref.orphans} of "
                f"{ref.sampled} sampled values have no parent row: clean them, then add the foreign key",
                severity=Severity.LOW,
                **evidence,
            )
            continue
        share = declared.get(ref.schema)
        by_choice = share is not None and share < FK_CULTURE
        if by_choice:
            evidence["declared_share"] = round(share, 2)
        yield finding(
            ref.table_qname,
            f"{ref.table_qname}({columns}) references {target} in every sampled row "
            f"({ref.sampled} values, {ref.distinct_values} distinct, {confidence} confidence) "
            "but no foreign key declares it"
            + (
                f"; info only: schema {ref.schema} declares foreign keys for only {share:.0%} of its "
                "references, so the application keeps them itself (purges, sharded stores) by choice"
                if by_choice
                else ""
            ),
            fix=_foreign_key_package(snap, ref),
            severity=Severity.INFO if by_choice else None,
            **evidence,
        )


#: A schema that declares foreign keys for fewer of its references than this has chosen not to.
FK_CULTURE = 0.25


def _declared_share(snap: Snapshot) -> dict[str, float]:
    """Per schema: declared foreign-key columns over those plus the references the data implies."""
    declared: dict[str, int] = {}
    for fk in snap.constraints:
        if fk.type == "f":
            declared[fk.schema] = declared.get(fk.schema, 0) + 1
    implied: dict[str, int] = {}
    for ref in snap.implied_references:
        if ref.orphans == 0 and ref.distinct_values >= MIN_DISTINCT:
            implied[ref.schema] = implied.get(ref.schema, 0) + 1
    return {  # one or two undeclared references are an oversight; a pattern needs more
        schema: declared.get(schema, 0) / (declared.get(schema, 0) + count)
        for schema, count in implied.items()
        if count >= 3
    }


def _foreign_key_package(snap: Snapshot, ref) -> ChangePackage:
    taken = {c.name for c in snap.constraints}
    name = f"{ref.table}_{'_'.join(ref.columns)}_fkey"[:63]
    while name in taken:
        name = f"{name[:59]}_new"
    return ChangePackage.of(
        f"Declare the foreign key {ref.table_qname}({', '.join(ref.columns)}) → {ref.ref_qname}",
        [
            AddForeignKey(ref.table_qname, name, ref.columns, ref.ref_qname, ref.ref_columns),
            ValidateConstraint(ref.table_qname, name),
        ],
        f"Every sampled value of {ref.table_qname}({', '.join(ref.columns)}) has a parent row in "
        f"{ref.ref_qname}. The key is added NOT VALID (a brief lock), then validated while reads and "
        "writes go on; if validation fails, its error names a row without a parent.",
    )
