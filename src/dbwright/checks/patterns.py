"""Design patterns from the relational and NoSQL literature, found with evidence from a bounded sample.

The sample is what the snapshot already holds: ANALYZE's statistics (``pg_stats``: null fractions,
distinct counts, most common values and histogram bounds, from up to 30,000 sampled rows) and the
top-level keys of the first 500 documents of each jsonb column. Every finding states the sample
it rests on; below a minimum sample nothing is claimed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from dbwright.checks.registry import check, finding
from dbwright.model import Column, Snapshot, Table
from dbwright.model.findings import Finding, Severity

#: Rows a table needs (planner estimate) before its statistics count as evidence.
MIN_ROWS = 20
#: Distinct sampled values a column needs before its shape counts as evidence.
MIN_VALUES = 5
_TEXT_TYPES = {"text", "varchar", "bpchar", "citext"}
_DELIMITERS = (",", ";", "|")
#: One list item: a short token of up to three words (``golf``, ``New York``, ``ab-12``, ``x@y.z``).
_ITEM = re.compile(r"^[\w.@:/+#-]+(?: [\w.@:/+#-]+){0,2}$")


def _sampled_values(column: Column) -> list[str]:
    stats = column.stats
    if stats is None:
        return []
    values = list(stats.most_common_vals or ()) + list(stats.histogram_bounds or ())
    return list(dict.fromkeys(v for v in values if v))


def _list_items(value: str, delimiter: str) -> list[str] | None:
    parts = [p.strip() for p in value.split(delimiter)]
    if len(parts) < 2 or not all(parts) or not all(len(p) <= 40 and _ITEM.match(p) for p in parts):
        return None
    return parts


def delimited_list_shape(values: list[str]) -> tuple[str, float, Counter] | None:
    """The delimiter most sampled values split on into short tokens, if items recur across values."""
    best = None
    for delimiter in _DELIMITERS:
        split = [_list_items(v, delimiter) for v in values]
        lists = [items for items in split if items]
        share = len(lists) / len(values)
        items = Counter(item.lower() for group in lists for item in group)
        recurring = sum(1 for count in items.values() if count > 1)
        evident = share >= 0.6 and len(lists) >= MIN_VALUES and recurring >= 2
        if evident and (best is None or share > best[1]):
            best = (delimiter, share, items)
    return best


@check(
    "DW114",
    category="design",
    severity=Severity.MEDIUM,
    title="Delimited list stored in one column",
    references=(
        "https://www.postgresql.org/docs/current/arrays.html",
        "https://pragprog.com/titles/bksap1/sql-antipatterns-volume-1/",
    ),
)
def delimited_list(snap: Snapshot) -> Iterator[Finding]:
    """A text column whose values are lists: ``'golf,cooking,gaming'``. Bill Karwin calls it
    *jaywalking*. The database cannot check the items, count or index them, nor keep them unique,
    and every query that looks for one item (``interests LIKE '%golf%'``) reads every row and
    matches ``minigolf`` too.

    Evidence: ANALYZE's sample of the column (most common values and histogram bounds). It fires
    when at least 60% of at least 5 distinct sampled values split on the same delimiter (comma,
    semicolon or bar) into short tokens, and tokens recur across values: a vocabulary, not prose.
    Sentences with commas, CSV-like free text and single values are not flagged.

    Fix: a child table with one row per item (a junction table when the items are an entity of
    their own), filled with ``string_to_array``; or a ``text[]`` column with a GIN index when the
    list has no attributes of its own. The finding has no automatic change package: the
    application must write the new shape.

    References: https://www.postgresql.org/docs/current/arrays.html,
    https://pragprog.com/titles/bksap1/sql-antipatterns-volume-1/
    """
    for table in snap.user_tables():
        if table.is_partition or table.row_estimate < MIN_ROWS:
            continue
        for column in snap.columns_of(table.qname):
            if column.type_name not in _TEXT_TYPES:
                continue
            values = _sampled_values(column)
            if len(values) < MIN_VALUES:
                continue
            found = delimited_list_shape(values)
            if found is None:
                continue
            delimiter, share, items = found
            common = ", ".join(item for item, _ in items.most_common(5))
            yield finding(
                column.qname,
                f"{column.qname} holds delimited lists ('{delimiter}'-separated in {share:.0%} of "
                f"{len(values)} sampled values; common items: {common})",
                delimiter=delimiter,
                share_of_sampled_values=round(share, 3),
                sampled_values=len(values),
                distinct_items=len(items),
                examples=values[:3],
                sample="pg_stats (ANALYZE's sample)",
                table_rows=int(table.row_estimate),
            )


_ENTITY = re.compile(r"^(?:entity|object|owner|item|record|parent|subject)_?id$|_id$")
_ATTRIBUTE = re.compile(r"^(?:\w+_)?(?:attribute|attr|key|name|property|prop|field|meta_key|propname)$")
_VALUE = re.compile(r"^(?:\w+_)?(?:value|val|meta_value|data)$")


@check(
    "DW115",
    category="design",
    severity=Severity.LOW,
    title="Entity-attribute-value table",
    references=(
        "https://en.wikipedia.org/wiki/Entity%E2%80%93attribute%E2%80%93value_model",
        "https://www.postgresql.org/docs/current/datatype-json.html",
    ),
)
def entity_attribute_value(snap: Snapshot) -> Iterator[Finding]:
    """A narrow table of (entity, attribute name, value) rows: each row is one property of some
    other row. The model trades every guarantee of a column for flexibility: no types (every
    value is text), no NOT NULL, CHECK or foreign key per attribute, and reading one entity back
    takes a pivot or one join per attribute.

    Evidence: the shape (at most six columns: an ``*_id`` column, a name column such as
    ``attribute``/``key``/``propname`` and a text ``value`` column) and ANALYZE's sample: the name
    column repeats a small vocabulary (2–500 distinct values) and entities have several rows each.
    It is info-level advice: EAV is sometimes chosen on purpose for properties that plugins or
    users define (MediaWiki's ``page_props``). Tables without statistics are not judged.

    Fix: for attributes that are known and fixed, real columns (typed, constrained); for open-ended
    ones, one ``jsonb`` column on the entity, with CHECKs or a GIN index as needed.

    References: https://en.wikipedia.org/wiki/Entity%E2%80%93attribute%E2%80%93value_model,
    https://www.postgresql.org/docs/current/datatype-json.html
    """
    for table in snap.user_tables():
        if table.is_partition or table.row_estimate < MIN_ROWS:
            continue
        columns = snap.columns_of(table.qname)
        if len(columns) > 6:
            continue
        entity = next((c for c in columns if _ENTITY.search(c.name)), None)
        attribute = next(
            (c for c in columns if _ATTRIBUTE.match(c.name) and c.type_name in _TEXT_TYPES), None
        )
        value = next((c for c in columns if _VALUE.match(c.name) and c is not attribute), None)
        if not (entity and attribute and value) or value.type_name not in _TEXT_TYPES | {"bytea", "jsonb"}:
            continue
        names = _distinct(attribute, table)
        entities = _distinct(entity, table)
        if names is None or entities is None or not 2 <= names <= 500:
            continue
        rows_per_entity = table.row_estimate / max(entities, 1)
        if rows_per_entity < 2:
            continue
        yield finding(
            table.qname,
            f"{table.qname} stores properties as rows ({entity.name}, {attribute.name}, {value.name}): "
            f"about {names:.0f} attribute names, {rows_per_entity:.1f} rows per {entity.name}",
            severity=Severity.INFO,
            entity_column=entity.name,
            attribute_column=attribute.name,
            value_column=value.name,
            distinct_attributes=round(names),
            rows_per_entity=round(rows_per_entity, 1),
            common_attributes=list((attribute.stats.most_common_vals or ())[:10]) if attribute.stats else [],
            sample="pg_stats (ANALYZE's sample)",
            table_rows=int(table.row_estimate),
        )


def _names_a_table(value: str, tables: set[str]) -> bool:
    """``Post``, ``blog.Post``, ``BlogPost`` or ``post`` names table post(s)/blog_post(s)."""
    if not _TYPE_NAME.match(value):
        return False
    bare = value.replace("::", ".").split(".")[-1]
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", bare).lower()
    return any(name in tables for name in (snake, snake + "s", snake + "es", value.lower().replace(".", "_")))


def _distinct(column: Column, table: Table) -> float | None:
    """pg_stats' n_distinct as a count (negative values are a fraction of the rows)."""
    if column.stats is None or column.stats.n_distinct is None:
        return None
    n = column.stats.n_distinct
    return -n * table.row_estimate if n < 0 else n


_POLYMORPHIC_TYPE = re.compile(r"^(?P<stem>\w+?)_?(?:type|kind|class|model)$")
#: A type value that names a table or class: ``Post``, ``app.Photo``, ``blog_post`` (not ``image/png``).
_TYPE_NAME = re.compile(r"^[A-Za-z_][\w.:]*$")


@check(
    "DW116",
    category="design",
    severity=Severity.LOW,
    title="Polymorphic association without a foreign key",
    references=(
        "https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK",
        "https://pragprog.com/titles/bksap1/sql-antipatterns-volume-1/",
    ),
)
def polymorphic_association(snap: Snapshot) -> Iterator[Finding]:
    """A pair of columns ``X_type`` + ``X_id`` where the type says which table the id points into
    (Rails' ``commentable_type``/``commentable_id``, Django's generic relations). No foreign key
    can be declared on such a pair, so nothing stops an id that points nowhere, and deleting the
    parent leaves orphans behind.

    Evidence: the column pair with no foreign key on ``X_id``, and in ANALYZE's sample at least two
    type values, every one of which names a table of the database (``Post`` → ``posts``,
    ``blog.Photo`` → ``photos``). Not flagged: a ``*_type`` column alone; a table never analyzed
    (no evidence of what the types are); a pair whose id column has a foreign key; an id that is
    (part of) the table's own primary key or unique constraint, which names the row itself
    (``media_type, media_id`` of a media table); type values that are categories rather than
    tables (MIME types such as ``image/png``, log kinds such as ``delete`` next to a log id).

    Fix: one nullable foreign-key column per parent table with a CHECK that exactly one is set
    (``CHECK (num_nonnulls(post_id, photo_id) = 1)``), or a common supertype table that every
    parent references. The ORM's generic relation then becomes explicit relations.

    References: https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK,
    https://pragprog.com/titles/bksap1/sql-antipatterns-volume-1/
    """
    tables = {t.name.lower() for t in snap.user_tables()}
    for table in snap.user_tables():
        if table.is_partition:
            continue
        columns = {c.name: c for c in snap.columns_of(table.qname)}
        keyed = {col for fk in snap.constraints_of(table.qname, "f") for col in fk.columns}
        own_key = {
            col for c in snap.constraints_of(table.qname) if c.type in ("p", "u") for col in c.columns
        } | {col for i in snap.indexes_of(table.qname) if i.unique and not i.predicate for col in i.columns}
        for name, column in columns.items():
            match = _POLYMORPHIC_TYPE.match(name)
            if match is None or column.type_name not in _TEXT_TYPES | {"int2", "int4"}:
                continue
            stem = match.group("stem").rstrip("_")
            id_column = columns.get(f"{stem}_id") or columns.get(f"{stem}id")
            if id_column is None or id_column.name in keyed | own_key or not stem:
                continue
            if column.stats is None:
                continue  # never analyzed: no evidence of what the types are
            examples = list(column.stats.most_common_vals or ())[:5]
            named = [v for v in examples if _names_a_table(v, tables)]
            if len(named) < 2 or len(named) < len(examples):
                continue
            kinds = _distinct(column, table)
            yield finding(
                table.qname,
                f"{table.qname}.({column.name}, {id_column.name}) points into a table chosen by "
                f"{column.name}: no foreign key can check it"
                + (f" (types seen: {', '.join(examples)})" if examples else ""),
                type_column=column.name,
                id_column=id_column.name,
                distinct_types=None if kinds is None else round(kinds),
                types_seen=examples,
                sample="pg_stats (ANALYZE's sample)"
                if column.stats
                else "none: the table was never analyzed",
            )


#: Share of sampled documents a key must appear in to count as "in nearly every row".
KEY_PRESENCE = 0.95
#: Documents the sample needs before key presence counts as evidence.
MIN_DOCUMENTS = 20


@check(
    "DW117",
    category="design",
    severity=Severity.LOW,
    title="jsonb keys present in nearly every row",
    references=(
        "https://www.postgresql.org/docs/current/datatype-json.html#JSON-DOC-DESIGN",
        "https://www.postgresql.org/docs/current/ddl-generated-columns.html",
    ),
)
def jsonb_fixed_keys(snap: Snapshot) -> Iterator[Finding]:
    """A jsonb column whose documents all carry the same keys is a table hiding in a column. The
    planner has no statistics on the keys (row estimates for ``doc->>'status' = 'paid'`` are
    guesses), every key is repeated in every row's storage, types and NOT NULL cannot be enforced,
    and an update of one key rewrites the whole document.

    Evidence: the top-level keys of the column's first 500 object documents (the snapshot's bounded
    sample). It fires when at least 20 documents were sampled and at least one key is in 95% or
    more of them; the keys that are are named.

    Fix: promote those keys to typed columns (keep the rest in jsonb), or, as a first step, add
    generated columns (``GENERATED ALWAYS AS (doc->>'status') STORED``) that can be indexed and
    constrained. Documents whose shape really varies are what jsonb is for.

    References: https://www.postgresql.org/docs/current/datatype-json.html#JSON-DOC-DESIGN,
    https://www.postgresql.org/docs/current/ddl-generated-columns.html
    """
    for sample in snap.json_keys:
        if sample.rows_sampled < MIN_DOCUMENTS:
            continue
        fixed = [key for key, present in sample.keys if present / sample.rows_sampled >= KEY_PRESENCE]
        if not fixed:
            continue
        yield finding(
            f"{sample.table_qname}.{sample.column}",
            f"{sample.table_qname}.{sample.column}: {len(fixed)} key(s) in nearly every document "
            f"({', '.join(fixed[:8])}{'…' if len(fixed) > 8 else ''}) of {sample.rows_sampled} sampled",
            fixed_keys=fixed,
            documents_sampled=sample.rows_sampled,
            key_presence={key: round(present / sample.rows_sampled, 3) for key, present in sample.keys[:20]},
            sample="first 500 object documents of the column",
        )


#: A table this wide, mostly empty, wants its sparse attributes in one jsonb column.
WIDE_COLUMNS = 30
SPARSE_NULL_FRACTION = 0.95
MIN_ROWS_FOR_SPARSITY = 100


@check(
    "DW118",
    category="design",
    severity=Severity.LOW,
    title="Wide table whose columns are mostly empty",
    references=(
        "https://www.postgresql.org/docs/current/storage-page-layout.html",
        "https://www.postgresql.org/docs/current/datatype-json.html",
    ),
)
def wide_sparse_table(snap: Snapshot) -> Iterator[Finding]:
    """Dozens of nullable columns of which most rows fill only a few: one table holding several
    kinds of thing (a "one true lookup" or single-table inheritance gone wide). Every new kind adds
    columns, constraints cannot say which columns belong to which kind, and the null bitmap and
    wide tuples cost I/O on every scan.

    Evidence: at least 30 columns, at least 100 rows, and, in ANALYZE's sample, at least half of
    the nullable columns NULL in 95% or more of the rows. Tables without statistics are not judged.

    Fix: move the sparse attributes into one ``jsonb`` column (keys only where set), or split the
    kinds into their own tables that share the key. Keep the columns every row fills.

    References: https://www.postgresql.org/docs/current/storage-page-layout.html,
    https://www.postgresql.org/docs/current/datatype-json.html
    """
    for table in snap.user_tables():
        if table.is_partition or table.row_estimate < MIN_ROWS_FOR_SPARSITY:
            continue
        columns = snap.columns_of(table.qname)
        if len(columns) < WIDE_COLUMNS:
            continue
        nullable = [c for c in columns if not c.not_null and c.stats is not None]
        sparse = [c for c in nullable if (c.stats.null_frac or 0) >= SPARSE_NULL_FRACTION]
        if not nullable or len(sparse) < len(nullable) / 2:
            continue
        yield finding(
            table.qname,
            f"{table.qname} has {len(columns)} columns; {len(sparse)} of its {len(nullable)} nullable "
            f"columns are NULL in at least {SPARSE_NULL_FRACTION:.0%} of rows",
            columns=len(columns),
            sparse_columns=[c.name for c in sparse],
            nullable_columns=len(nullable),
            sample="pg_stats (ANALYZE's sample)",
            table_rows=int(table.row_estimate),
        )
