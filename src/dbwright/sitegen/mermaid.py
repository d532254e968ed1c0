"""ER diagrams in Mermaid ``erDiagram`` syntax: one per schema, and one around each table.

Declared foreign keys are solid lines; relationships only the data implies are dashed (Mermaid's
non-identifying ``..``) and labelled ``implied``. Entities get safe ids with the qualified name
as their label, so any PostgreSQL identifier draws.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dbwright.model import Table
from dbwright.sitegen import clusters
from dbwright.sitegen.site import Relationship, Site


def entity_id(qname: str) -> str:
    return "t_" + re.sub(r"[^A-Za-z0-9_]", lambda m: f"_{ord(m.group()):x}_", qname)


def _text(value: str) -> str:
    """A quoted Mermaid string: no double quotes or newlines inside."""
    return '"' + re.sub(r"\s+", " ", value.replace('"', "'")).strip() + '"'


def _type(data_type: str) -> str:
    """Mermaid attribute types are one word: ``numeric(12,2)`` → ``numeric(12_2)``, ``text[]`` stays."""
    word = re.sub(r"[^A-Za-z0-9_()\[\]]+", "_", data_type).strip("_")
    return word if word and not word[0].isdigit() else f"t_{word}"


def _attribute_name(name: str) -> str:
    word = re.sub(r"[^A-Za-z0-9_]+", "_", name)
    return word if word and not word[0].isdigit() else f"c_{word}"


def _entity(site: Site, table: Table, *, with_columns: bool) -> list[str]:
    head = f"    {entity_id(table.qname)}[{_text(table.qname)}]"
    if not with_columns:
        return [head]
    primary = set(site.primary_key(table))
    unique = site.unique_columns(table) - primary
    outgoing = [r for r in site.relationships if r.child == table.qname]
    foreign = {c for r in outgoing if not r.implied for c in r.child_columns}
    implied = {c for r in outgoing if r.implied for c in r.child_columns} - foreign
    lines = [head + " {"]
    for column in site.columns(table):
        keys = [
            k for k, member in (("PK", primary), ("FK", foreign), ("UK", unique)) if column.name in member
        ]
        line = f"        {_type(column.data_type)} {_attribute_name(column.name)}"
        if keys:
            line += " " + ", ".join(keys)
        notes = [column.name] if column.name != _attribute_name(column.name) else []
        notes += ["implied FK"] if column.name in implied else []
        if notes:
            line += " " + _text(", ".join(notes))
        lines.append(line)
    lines.append("    }")
    return lines


def _relationship(site: Site, rel: Relationship) -> str:
    child = site.table(rel.child)
    nullable = child is None or any(
        not col.not_null for col in site.columns(child) if col.name in rel.child_columns
    )
    one_to_one = (
        child is not None
        and len(rel.child_columns) == 1
        and rel.child_columns[0] in site.unique_columns(child)
    )
    parent_end = "|o" if nullable else "||"
    child_end = "o|" if one_to_one else "o{"
    line = ".." if rel.implied else "--"
    return f"    {entity_id(rel.parent)} {parent_end}{line}{child_end} {entity_id(rel.child)} : {_text(rel.label)}"


def _diagram(
    site: Site, detailed: list[str], relationships: list[Relationship], direction: str | None = None
) -> str:
    """``detailed`` tables are drawn with their columns; other ends of the relationships by name only."""
    lines = ["erDiagram"] + ([f"    direction {direction}"] if direction else [])
    named = sorted({r.child for r in relationships} | {r.parent for r in relationships} | set(detailed))
    for qname in named:
        table = site.table(qname)
        if table is None:
            lines.append(f"    {entity_id(qname)}[{_text(qname)}]")
        else:
            lines += _entity(site, table, with_columns=qname in detailed)
    lines += [_relationship(site, r) for r in relationships]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SchemaDiagram:
    """One of a schema's diagrams: its tables drawn with columns, and the Mermaid source."""

    kind: str  # all, hubs, related, unrelated (clusters.Group.kind)
    tables: tuple[str, ...]
    source: str


def _group_diagram(
    site: Site, tables: tuple[str, ...], *, internal_only: bool = False, direction: str | None = None
) -> str:
    """The tables with columns, and their relationships (``internal_only``: only those among them)."""
    members = set(tables)
    if internal_only:
        relationships = [r for r in site.relationships if r.child in members and r.parent in members]
    else:
        relationships = [r for r in site.relationships if r.child in members or r.parent in members]
    return _diagram(site, list(tables), relationships, direction)


def schema_diagrams(site: Site, schema: str) -> list[SchemaDiagram]:
    """The schema's ER diagrams: one when it fits in a browser, else split (see ``clusters``)."""
    tables = [t.qname for t in site.tables_in(schema)]
    members = set(tables)
    inside = [r for r in site.relationships if r.child in members and r.parent in members]

    def text_of(kind: str, group: tuple[str, ...]) -> str:
        # a split schema's diagrams run left to right: parallel chains stack instead of widening the page
        direction = None if kind == "all" else "LR"
        return _group_diagram(site, group, internal_only=kind == "hubs", direction=direction)

    groups = clusters.split(tables, inside, text_of)
    return [SchemaDiagram(g.kind, g.tables, text_of(g.kind, g.tables)) for g in groups]


def schema_diagram(site: Site, schema: str) -> str:
    """Every table of the schema with its columns, and each relationship that touches one (unsplit)."""
    tables = [t.qname for t in site.tables_in(schema)]
    return _group_diagram(site, tuple(tables))


#: A table with more neighbours than this draws them as name-only stubs.
NEIGHBOURS_WITH_COLUMNS = 6
#: At most this many neighbours are drawn; the Relationships table lists them all.
MAX_NEIGHBOURS = 30


@dataclass(frozen=True)
class TableDiagram:
    source: str
    left_out: int  # neighbours not drawn (listed in the Relationships table)


def table_diagram_of(site: Site, table: Table) -> TableDiagram:
    """The table and its direct neighbours: with columns when few and not hubs, else as stubs."""
    neighbours = site.neighbours(table)
    drawn = neighbours[:MAX_NEIGHBOURS]
    detailed = [table.qname]
    if len(neighbours) <= NEIGHBOURS_WITH_COLUMNS:
        detailed += [
            q
            for q in drawn
            if site.table(q) is not None and len(site.neighbours(site.table(q))) <= clusters.HUB_DEGREE
        ]
    keep = set(drawn) | {table.qname}
    relationships = [r for r in site.relationships_of(table) if r.child in keep and r.parent in keep]
    direction = "LR" if len(drawn) > NEIGHBOURS_WITH_COLUMNS else None
    return TableDiagram(_diagram(site, detailed, relationships, direction), len(neighbours) - len(drawn))


def table_diagram(site: Site, table: Table) -> str:
    return table_diagram_of(site, table).source
