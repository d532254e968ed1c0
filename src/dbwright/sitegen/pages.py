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
    kind: str  # index, schema, table, view, function, dictionary
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
    kind: str  # index, schema, table, view, function
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
        ]
        blocks += _schema_diagrams(site, schema, len(tables))
    views = site.views_in(schema)
    if views:
        blocks += [
            Heading("Views"),
            Grid(
                ("view", "comment"),
                tuple((Link(v.name, "view", v.qname), site.comment("VIEW", v.qname)) for v in views),
            ),
        ]
    functions = site.functions_in(schema)
    if functions:
        blocks += [
            Heading("Functions"),
            Grid(
                ("function", "kind", "arguments", "language", "comment"),
                tuple(
                    (
                        Link(f.name, "function", f"{f.schema}.{f.name}"),
                        FUNCTION_KINDS.get(f.kind, f.kind),
                        f.arguments,
                        f.language,
                        site.function_comment(f),
                    )
                    for f in functions
                ),
            ),
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
    definition = site.view(table.qname)
    if definition is not None and definition.definition:
        blocks += [Heading("Definition"), Code(definition.definition.strip())]
    drawn = mermaid.table_diagram_of(site, table)
    blocks += [Heading("Diagram"), _legend(site)]
    if drawn.left_out:
        blocks.append(
            Para(
                (
                    f"{drawn.left_out} more related tables are not drawn, to keep the diagram readable; "
                    "the Relationships table above lists every one.",
                )
            )
        )
    blocks.append(Diagram(drawn.source))
    return Page("table", table.qname, f"Table {table.qname}", tuple(blocks))


GROUP_TITLES = {
    "hubs": "hub tables (related to many others; drawn by name only in the other diagrams)",
    "related": "tables joined by foreign keys",
    "unrelated": "tables with no relationship in this schema",
}


def _schema_diagrams(site: Site, schema: str, table_count: int) -> list[Block]:
    """One ER diagram when the schema fits in a browser; else one per cluster, each listing its tables."""
    diagrams = mermaid.schema_diagrams(site, schema)
    blocks: list[Block] = [Heading("Entity-relationship diagram"), _legend(site)]
    if len(diagrams) == 1:
        return blocks + [Diagram(diagrams[0].source)]
    blocks.append(
        Para(
            (
                f"{table_count} tables are too many for one readable diagram, so they are drawn as "
                f"{len(diagrams)}: tables joined by foreign keys stay together, hub tables are drawn with "
                "their columns once and by name elsewhere, and each diagram shows the tables it reaches "
                "in other diagrams by name only.",
            )
        )
    )
    for number, diagram in enumerate(diagrams, 1):
        links: list[str | Link] = []
        for qname in diagram.tables:
            links += [", " if links else "", Link(site.table(qname).name, "table", qname)]
        blocks += [
            Heading(f"Diagram {number} of {len(diagrams)}: {GROUP_TITLES[diagram.kind]}", 3),
            Para(tuple(links)),
            Diagram(diagram.source),
        ]
    return blocks


FUNCTION_KINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window function"}
VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}


def view_page(site: Site, view) -> Page:
    """A view: its comment, columns and definition (materialized views have table pages)."""
    blocks: list[Block] = [
        Para(("Schema ", Link(view.schema, "schema", view.schema), " · ", Link("all schemas", "index")))
    ]
    comment = site.comment("VIEW", view.qname)
    if comment:
        blocks.append(Para((comment,)))
    blocks.append(Para((f"view, owned by {view.owner}.",)))
    columns = site.view_columns(view)
    if columns:
        blocks += [
            Heading("Columns"),
            Grid(
                ("column", "type", "comment"),
                tuple((c.name, c.data_type, site.column_comment(c)) for c in columns),
            ),
        ]
    if view.definition:
        blocks += [Heading("Definition"), Code(view.definition.strip())]
    return Page("view", view.qname, f"View {view.qname}", tuple(blocks))


def function_page(site: Site, qname: str) -> Page:
    """Every overload of one function name: signature, kind, language, volatility, definition."""
    overloads = site.function_overloads(qname)
    schema = overloads[0].schema
    blocks: list[Block] = [
        Para(("Schema ", Link(schema, "schema", schema), " · ", Link("all schemas", "index")))
    ]
    for function in overloads:
        facts = [
            FUNCTION_KINDS.get(function.kind, function.kind),
            f"language {function.language}",
            VOLATILITY.get(function.volatility, function.volatility),
            f"owner {function.owner}",
        ]
        if function.security_definer:
            facts.append("SECURITY DEFINER")
        facts += [f"SET {setting}" for setting in function.config]
        blocks += [Heading(f"{function.name}({function.arguments})", 2), Para(("; ".join(facts) + ".",))]
        comment = site.function_comment(function)
        if comment:
            blocks.append(Para((comment,)))
        if function.definition:
            blocks.append(Code(function.definition.strip()))
    title = "Aggregate" if all(f.kind == "a" for f in overloads) else "Function"
    return Page("function", qname, f"{title} {qname}", tuple(blocks))


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
        + [view_page(site, v) for s in site.schemas for v in site.views_in(s)]
        + [function_page(site, q) for q in site.function_names]
    )
