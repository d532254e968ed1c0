"""Who owns the schema: the migration framework whose bookkeeping tables the snapshot shows.

A schema that Django, Rails, Alembic, Prisma, Flyway or Liquibase manages must be changed through
that framework: a hand-run DROP INDEX is recreated, or fought, by its next migration, and a rename
breaks the models. So a finding on such a schema also says how to make its fix there, and findings
on the framework's own tables (``django_migrations``, ``schema_migrations``) are judged as the
framework's business: information, not the user's to fix.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from dbwright.model import Snapshot
from dbwright.model.findings import Finding, Severity


@dataclass(frozen=True)
class Framework:
    name: str
    schema: str
    #: The table whose presence shows the framework (``public.django_migrations``).
    evidence: str
    #: The framework's own tables in that schema, by bare name.
    own_tables: frozenset[str]
    #: How a fix is made in this framework, in one sentence.
    how_to_change: str

    def owns(self, table_qname: str) -> bool:
        schema, _, name = table_qname.partition(".")
        return schema == self.schema and name.split(".")[0] in self.own_tables

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "schema": self.schema, "evidence": self.evidence}


_DJANGO_CONTRIB = (
    "django_migrations",
    "django_content_type",
    "django_session",
    "django_admin_log",
    "django_site",
    "auth_permission",
    "auth_group",
    "auth_group_permissions",
    "auth_user",
    "auth_user_groups",
    "auth_user_user_permissions",
)

#: (framework, tables that must all exist, its own tables, how a change is made there)
_MARKERS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...] = (
    (
        "Django",
        ("django_migrations",),
        _DJANGO_CONTRIB,
        "change the model (e.g. db_index=False on a field whose index a unique_together or "
        "UniqueConstraint already covers, Meta.indexes for a new one) and run makemigrations",
    ),
    (
        "Rails",
        ("schema_migrations", "ar_internal_metadata"),
        ("schema_migrations", "ar_internal_metadata"),
        "write it as an Active Record migration (add_index/remove_index … algorithm: :concurrently, "
        "with disable_ddl_transaction!)",
    ),
    (
        "Alembic",
        ("alembic_version",),
        ("alembic_version",),
        "write it as an Alembic revision (op.create_index/op.drop_index, postgresql_concurrently=True "
        "inside op.get_context().autocommit_block()) and update the SQLAlchemy models",
    ),
    (
        "Prisma",
        ("_prisma_migrations",),
        ("_prisma_migrations",),
        "change schema.prisma (@@index, @@unique) and run prisma migrate dev",
    ),
    (
        "Flyway",
        ("flyway_schema_history",),
        ("flyway_schema_history",),
        "add the SQL as the next versioned migration (V<n>__….sql)",
    ),
    (
        "Liquibase",
        ("databasechangelog", "databasechangeloglock"),
        ("databasechangelog", "databasechangeloglock"),
        "add it as a changeset to the changelog",
    ),
)


def detect(snap: Snapshot) -> tuple[Framework, ...]:
    """Every framework whose bookkeeping tables exist, per schema."""
    names_by_schema: dict[str, set[str]] = {}
    for table in snap.tables:
        names_by_schema.setdefault(table.schema, set()).add(table.name)
    found = []
    for schema, names in sorted(names_by_schema.items()):
        for name, markers, own, how in _MARKERS:
            if all(marker in names for marker in markers):
                found.append(Framework(name, schema, f"{schema}.{markers[0]}", frozenset(own) & names, how))
    return tuple(found)


def table_of(snap: Snapshot, obj: str) -> str | None:
    """The table a finding's object is, or belongs to: a table, one of its indexes or columns."""
    if snap.table(obj) is not None:
        return obj
    index = next((i for i in snap.indexes if i.qname == obj), None)
    if index is not None:
        return index.table_qname
    table = obj.rpartition(".")[0]
    return table if table and snap.table(table) is not None else None


def judged(snap: Snapshot, finding: Finding, frameworks: tuple[Framework, ...]) -> Finding:
    """The finding, phrased for the framework that owns its schema (unchanged when none does)."""
    if not frameworks:
        return finding
    table = table_of(snap, finding.object)
    schema = table.partition(".")[0] if table else finding.object.partition(".")[0]
    owner = next((f for f in frameworks if f.schema == schema), None)
    if owner is None:
        return finding
    evidence = dict(finding.evidence)
    evidence["managed_by"] = owner.name
    if table and owner.owns(table):
        evidence["framework_table"] = True
        return dataclasses.replace(
            finding,
            message=f"{finding.message} ({table} is {owner.name}'s own table: {owner.name} manages it)",
            evidence=evidence,
            severity=Severity.INFO,
            fix=None,
        )
    if finding.fix is not None:
        evidence["in_the_application"] = f"{owner.name} manages this schema: {owner.how_to_change}"
    return dataclasses.replace(finding, evidence=evidence)
