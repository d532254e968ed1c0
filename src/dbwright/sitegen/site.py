"""What the documentation site shows, read once from a snapshot: schemas, tables, relationships, paths.

The renderers (Markdown, HTML, CSV, Mermaid) all read this one object, so they agree on what
exists, in which order, and where each page lives. Everything is sorted by name: two builds
from the same snapshot are byte-identical, so docs can live in git.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from dbwright.model import Column, Constraint, Function, Index, Snapshot, Table, UserType, View

#: Table kinds that get a page: ordinary, partitioned, materialized view, foreign table.
DOCUMENTED_KINDS = ("r", "p", "m", "f")
KIND_NAMES = {"r": "table", "p": "partitioned table", "m": "materialized view", "f": "foreign table"}


@dataclass(frozen=True)
class Relationship:
    """child(columns) → parent(columns): a declared foreign key, or one only the data implies."""

    child: str
    child_columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    name: str
    implied: bool = False
    #: For implied ones: what the data showed (references checked, orphan rows).
    evidence: str = ""

    @property
    def label(self) -> str:
        return f"implied: {', '.join(self.child_columns)}" if self.implied else self.name


def slug(name: str) -> str:
    """A file-name-safe, reversible spelling: [A-Za-z0-9_-] kept, anything else as ~hex~."""
    return re.sub(r"[^A-Za-z0-9_-]", lambda m: f"~{ord(m.group()):x}~", name)


@dataclass
class Site:
    snapshot: Snapshot
    implied: tuple[Relationship, ...] = ()
    #: Set when implied relationships were asked for, to say how they were found.
    implied_source: str | None = None
    #: Row estimates and sizes change with every write; without them the pages change only with the schema.
    sizes: bool = True
    _comments: dict[tuple[str, str], str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._comments = {(c.object_type, c.object_name): c.comment for c in self.snapshot.comments}

    # --- what exists --------------------------------------------------------------------------
    @cached_property
    def tables(self) -> list[Table]:
        return sorted(
            (t for t in self.snapshot.tables if t.kind in DOCUMENTED_KINDS), key=lambda t: (t.schema, t.name)
        )

    @cached_property
    def schemas(self) -> list[str]:
        named = {s.name for s in self.snapshot.schemas} | {t.schema for t in self.tables}
        return sorted(named)

    def tables_in(self, schema: str) -> list[Table]:
        return [t for t in self.tables if t.schema == schema]

    def views_in(self, schema: str) -> list[View]:
        return sorted(
            (v for v in self.snapshot.views if v.schema == schema and not v.materialized),
            key=lambda v: v.name,
        )

    def view(self, qname: str) -> View | None:
        """The view (or materialized view) named ``qname``, with its definition."""
        return next((v for v in self.snapshot.views if v.qname == qname), None)

    def view_columns(self, view: View) -> list[Column]:
        return self.snapshot.columns_of(view.qname)

    def functions_in(self, schema: str) -> list[Function]:
        return sorted(
            (f for f in self.snapshot.functions if f.schema == schema), key=lambda f: (f.name, f.arguments)
        )

    @cached_property
    def function_names(self) -> list[str]:
        """One page per function name (``schema.name``): overloads share it."""
        return sorted({f"{f.schema}.{f.name}" for f in self.snapshot.functions})

    def function_overloads(self, name: str) -> list[Function]:
        schema, _, bare = name.partition(".")
        return [f for f in self.functions_in(schema) if f.name == bare]

    def function_comment(self, function: Function) -> str:
        kind = {"p": "PROCEDURE", "a": "AGGREGATE"}.get(function.kind, "FUNCTION")
        return self.comment(kind, f"{function.schema}.{function.name}({function.arguments})")

    def types_in(self, schema: str) -> list[UserType]:
        return sorted((t for t in self.snapshot.types if t.schema == schema), key=lambda t: t.name)

    def table(self, qname: str) -> Table | None:
        return self.snapshot.table(qname)

    def columns(self, table: Table) -> list[Column]:
        return self.snapshot.columns_of(table.qname)

    def constraints(self, table: Table) -> list[Constraint]:
        order = "pufcxn"
        return sorted(
            self.snapshot.constraints_of(table.qname),
            key=lambda c: (order.index(c.type) if c.type in order else 9, c.name),
        )

    def indexes(self, table: Table) -> list[Index]:
        return sorted(self.snapshot.indexes_of(table.qname), key=lambda i: (not i.primary, i.name))

    def comment(self, object_type: str, object_name: str) -> str:
        return self._comments.get((object_type, object_name), "")

    def table_comment(self, table: Table) -> str:
        kind = {"m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}.get(table.kind, "TABLE")
        return self.comment(kind, table.qname) or self.comment("TABLE", table.qname)

    def column_comment(self, column: Column) -> str:
        return self.comment("COLUMN", column.qname)

    def user_type(self, column: Column) -> UserType | None:
        """The enum, domain or composite type a column is declared with, if it is one of the database's."""
        for candidate in self.snapshot.types:
            if column.data_type in (
                candidate.qname,
                candidate.name,
                f'"{candidate.schema}"."{candidate.name}"',
            ):
                return candidate
        return None

    # --- keys and relationships ---------------------------------------------------------------
    def primary_key(self, table: Table) -> tuple[str, ...]:
        found = self.snapshot.constraints_of(table.qname, "p")
        return found[0].columns if found else ()

    def unique_columns(self, table: Table) -> set[str]:
        """Columns that are, alone, a unique key (primary or unique constraint, or unique index)."""
        single = {
            c.columns[0]
            for c in self.snapshot.constraints_of(table.qname)
            if c.type in ("p", "u") and len(c.columns) == 1
        }
        single |= {
            i.columns[0]
            for i in self.snapshot.indexes_of(table.qname)
            if i.unique and i.valid and not i.predicate and len(i.columns) == 1 and i.columns[0]
        }
        return single

    @cached_property
    def relationships(self) -> list[Relationship]:
        """Declared foreign keys, then the implied ones the declared set does not already cover."""
        declared = [
            Relationship(fk.table_qname, fk.columns, fk.ref_qname or "", fk.ref_columns, fk.name)
            for fk in self.snapshot.foreign_keys()
            if fk.ref_qname
        ]
        covered = {(r.child, r.child_columns, r.parent) for r in declared}
        implied = [r for r in self.implied if (r.child, r.child_columns, r.parent) not in covered]
        return sorted(declared + implied, key=lambda r: (r.child, r.child_columns, r.parent, r.name))

    def relationships_of(self, table: Table) -> list[Relationship]:
        return [r for r in self.relationships if table.qname in (r.child, r.parent)]

    def neighbours(self, table: Table) -> list[str]:
        """Tables one relationship away, by name."""
        found = {r.parent for r in self.relationships if r.child == table.qname}
        found |= {r.child for r in self.relationships if r.parent == table.qname}
        found.discard(table.qname)
        return sorted(found)

    def references_of_column(self, table: Table, column: str) -> list[Relationship]:
        return [r for r in self.relationships if r.child == table.qname and column in r.child_columns]

    # --- where pages live ---------------------------------------------------------------------
    @staticmethod
    def schema_page(schema: str, ext: str) -> str:
        return f"{slug(schema)}.{ext}"

    def table_page(self, qname: str, ext: str) -> str:
        table = self.table(qname)
        schema, _, name = qname.partition(".") if table is None else (table.schema, ".", table.name)
        return f"{slug(schema)}/{slug(name)}.{ext}"

    def view_page(self, qname: str, ext: str) -> str:
        """Views share tables' namespace in PostgreSQL, so they share the folder too."""
        view = self.view(qname)
        schema, _, name = qname.partition(".") if view is None else (view.schema, ".", view.name)
        return f"{slug(schema)}/{slug(name)}.{ext}"

    @staticmethod
    def function_page(name: str, ext: str) -> str:
        """``schema/functions/name``: a folder no table page can take (those are files)."""
        schema, _, bare = name.partition(".")
        return f"{slug(schema)}/functions/{slug(bare)}.{ext}"

    def documented(self, qname: str) -> bool:
        table = self.table(qname)
        return table is not None and table.kind in DOCUMENTED_KINDS


def row_count(table: Table) -> str:
    """The planner's estimate (reltuples); -1 means never analyzed or vacuumed."""
    if table.row_estimate < 0:
        return "unknown (not analyzed)"
    return f"≈{int(table.row_estimate):,}"
