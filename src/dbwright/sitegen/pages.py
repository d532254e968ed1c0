"""The pages of the site as plain blocks (headings, paragraphs, tables, diagrams, links).

Markdown and HTML render the same blocks, so the two formats never disagree on content. Links
name a page (the index, a schema, a table, the dictionary), not a file: each renderer turns
them into relative paths with its own extension.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbwright.model import Table
from dbwright.model.units import format_bytes
from dbwright.sitegen import mermaid
from dbwright.sitegen.site import KIND_NAMES, Relationship, Site, row_count

DICTIONARY_FILE = "data-dictionary.csv"


@dataclass(frozen=True)
class Link:
    text: str
    kind: str  # index, schema, table, dictionary
    name: str = ""


Cell = str | Link | tuple[str | Link, ...]


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Para:
    parts: tuple[str | Link, ...]


@dataclass(frozen=True)
class Grid:
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Diagram:
    source: str


Block = Heading | Para | Grid | Code | Diagram


@dataclass(frozen=True)
class Page:
    kind: str  # index, schema, table
    name: str
    title: str
    blocks: tuple[Block, ...]


VOLATILE = ("rows", "size")


def _grid(site: Site, header: tuple[str, ...], rows) -> Grid:
    """A table; without sizes (``Site.sizes`` off) the ever-changing rows and size columns are left out."""
    keep = [i for i, name in enumerate(header) if site.sizes or name not in VOLATILE]
    return Grid(tuple(header[i] for i in keep), tuple(tuple(row[i] for i in keep) for row in rows))


def _table_link(site: Site, qname: str) -> Cell:
    return Link(qname, "table", qname) if site.documented(qname) else qname


def _legend(site: Site) -> Para:
    text = (
        "Diagram: solid lines are declared foreign keys; dashed lines marked “implied” are relationships "
        "the data obeys but nobody declared."
    )
    return Para((text,) if site.implied_source else ("Diagram: lines are declared foreign keys.",))


def _version(version_num: int) -> str:
    return f"{version_num // 10000}.{version_num % 100}" if version_num >= 100000 else str(version_num)


def index_page(site: Site) -> Page:
    snap = site.snapshot
    blocks: list[Block] = [
        Para(
            (
                f"PostgreSQL {_version(snap.server.version_num)}: "
                f"{len(site.schemas)} schemas, {len(site.tables)} tables, {len(site.relationships)} relationships.",
            )
        ),
        Para(("Data dictionary (one row per column): ", Link(DICTIONARY_FILE, "dictionary"))),
    ]
    if site.implied_source:
        blocks.append(Para((f"Implied relationships: {site.implied_source}",)))
    rows = []
    for schema in site.schemas:
        tables = site.tables_in(schema)
        rows.append(
            (
                Link(schema, "schema", schema),
                str(len(tables)),
                format_bytes(sum(t.total_bytes for t in tables)),
                site.comment("SCHEMA", schema),
            )
        )
    blocks += [Heading("Schemas"), _grid(site, ("schema", "tables", "size", "comment"), rows)]
    return Page("index", "", f"Database {snap.server.database}", tuple(blocks))


def schema_page(site: Site, schema: str) -> Page:
    blocks: list[Block] = [Para(("Back to ", Link("all schemas", "index")))]
    comment = site.comment("SCHEMA", schema)
    if comment:
        blocks.append(Para((comment,)))
    tables = site.tables_in(schema)
    if tables:
        rows = tuple(
            (
                Link(t.name, "table", t.qname),
                KIND_NAMES[t.kind],
                row_count(t),
                format_bytes(t.total_bytes),
                site.table_comment(t),
            )
            for t in tables
        )
        blocks += [
            Heading("Tables"),
            _grid(site, ("table", "kind", "rows", "size", "comment"), rows),
            Heading("Entity-relationship diagram"),
            _legend(site),
            Diagram(mermaid.schema_diagram(site, schema)),
        ]
    views = site.views_in(schema)
    if views:
        blocks += [
            Heading("Views"),
            Grid(("view", "comment"), tuple((v.name, site.comment("VIEW", v.qname)) for v in views)),
        ]
    types = site.types_in(schema)
    if types:
        blocks += [
            Heading("Types"),
            Grid(
                ("type", "kind", "definition", "comment"),
                tuple(
                    (
                        t.name,
                        {"e": "enum", "d": "domain", "c": "composite"}.get(t.kind, t.kind),
                        _type_definition(t),
                        site.comment("TYPE", t.qname) or site.comment("DOMAIN", t.qname),
                    )
                    for t in types
                ),
            ),
        ]
    return Page("schema", schema, f"Schema {schema}", tuple(blocks))


def _type_definition(user_type) -> str:
    if user_type.kind == "e":
        return ", ".join(user_type.labels)
    if user_type.kind == "d":
        extra = (" NOT NULL" if user_type.not_null else "") + "".join(f" {c}" for c in user_type.checks)
        return f"{user_type.base_type}{extra}"
    return ", ".join(user_type.attributes)


def table_page(site: Site, table: Table) -> Page:
    blocks: list[Block] = [
        Para(("Schema ", Link(table.schema, "schema", table.schema), " · ", Link("all schemas", "index")))
    ]
    comment = site.table_comment(table)
    if comment:
        blocks.append(Para((comment,)))
    facts = [f"{KIND_NAMES[table.kind]}"]
    if site.sizes:
        facts += [
            f"rows {row_count(table)}",
            f"size {format_bytes(table.total_bytes)} (heap {format_bytes(table.heap_bytes)}, "
            f"TOAST {format_bytes(table.toast_bytes)}, indexes {format_bytes(table.index_bytes)})",
        ]
    if table.parent:
        facts.append(f"partition of {table.parent}")
    if table.partition_key:
        facts.append(f"partitioned by {table.partition_key}")
    blocks.append(Para(("; ".join(facts) + ".",)))
    blocks += [Heading("Columns"), _columns_grid(site, table)]
    constraints = site.constraints(table)
    if constraints:
        kinds = {
            "p": "primary key",
            "u": "unique",
            "f": "foreign key",
            "c": "check",
            "x": "exclusion",
            "n": "not null",
            "t": "constraint trigger",
        }
        blocks += [
            Heading("Constraints"),
            Grid(
                ("name", "type", "definition", "comment"),
                tuple(
                    (
                        c.name,
                        kinds.get(c.type, c.type) + ("" if c.validated else " (NOT VALID)"),
                        c.definition,
                        site.comment("CONSTRAINT", f"{table.qname}.{c.name}"),
                    )
                    for c in constraints
                ),
            ),
        ]
    indexes = site.indexes(table)
    if indexes:
        blocks += [
            Heading("Indexes"),
            _grid(
                site,
                ("name", "definition", "size", "comment"),
                tuple(
                    (
                        i.name + ("" if i.valid else " (INVALID)"),
                        i.definition,
                        format_bytes(i.bytes),
                        site.comment("INDEX", i.qname),
                    )
                    for i in indexes
                ),
            ),
        ]
    relationships = site.relationships_of(table)
    if relationships:
        blocks += [
            Heading("Relationships"),
            Grid(
                ("from", "to", "kind", "name / evidence"),
                tuple(_relationship_row(site, r) for r in relationships),
            ),
        ]
    blocks += [Heading("Diagram"), _legend(site), Diagram(mermaid.table_diagram(site, table))]
    return Page("table", table.qname, f"Table {table.qname}", tuple(blocks))


def _columns_grid(site: Site, table: Table) -> Grid:
    primary = set(site.primary_key(table))
    unique = site.unique_columns(table)
    rows = []
    for column in site.columns(table):
        keys = ["PK"] if column.name in primary else ["unique"] if column.name in unique else []
        refs: list[str | Link] = []
        for rel in site.references_of_column(table, column.name):
            target = rel.parent_columns[rel.child_columns.index(column.name)]
            refs += [
                ("implied → " if rel.implied else "→ "),
                _link_or_text(site, rel.parent, f"{rel.parent}.{target}"),
            ]
        user_type = site.user_type(column)
        type_text = column.data_type
        if user_type is not None and user_type.kind == "e":
            type_text += f" (enum: {', '.join(user_type.labels)})"
        generated = {"a": "identity always", "d": "identity by default"}.get(column.identity or "", "")
        default = column.default or generated or ("generated" if column.generated else "")
        rows.append(
            (
                column.name,
                type_text,
                "" if column.not_null else "yes",
                default,
                " ".join(keys),
                tuple(refs),
                site.column_comment(column),
            )
        )
    return Grid(("column", "type", "nullable", "default", "key", "references", "comment"), tuple(rows))


def _link_or_text(site: Site, qname: str, text: str) -> str | Link:
    return Link(text, "table", qname) if site.documented(qname) else text


def _relationship_row(site: Site, rel: Relationship) -> tuple[Cell, ...]:
    child = (_link_or_text(site, rel.child, rel.child), f" ({', '.join(rel.child_columns)})")
    parent = (_link_or_text(site, rel.parent, rel.parent), f" ({', '.join(rel.parent_columns)})")
    kind = "implied by the data (not declared)" if rel.implied else "foreign key"
    return child, parent, kind, rel.evidence if rel.implied else rel.name


def all_pages(site: Site) -> list[Page]:
    return (
        [index_page(site)]
        + [schema_page(site, s) for s in site.schemas]
        + [table_page(site, t) for t in site.tables]
    )
