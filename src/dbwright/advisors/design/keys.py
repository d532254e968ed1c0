"""Keys and constraints the data obeys but the catalog does not declare.

Candidate keys become unique constraints (built as a unique index CONCURRENTLY, then
attached with ``ADD CONSTRAINT … UNIQUE USING INDEX``); inclusion dependencies that look
like foreign keys become ``ADD CONSTRAINT … NOT VALID`` plus ``VALIDATE``, with their orphans;
never-NULL columns get ``SET NOT NULL`` through a validated check; text columns with a handful
of values get a check constraint.
"""

from __future__ import annotations

import re
from typing import Any

from dbwright.advisors.design.context import TableInfo
from dbwright.advisors.design.proposal import Proposal
from dbwright.model.operations import (
    AddCheck,
    AddForeignKey,
    CreateIndex,
    DropConstraint,
    Lock,
    RawSQL,
    SetNotNull,
    ValidateConstraint,
    ident,
    literal,
    qident,
)
from dbwright.model.package import ChangePackage

#: A key found in fewer rows than this may be unique by chance.
MIN_KEY_ROWS = 50
#: Constraints are not proposed from tables smaller than this: too little evidence.
MIN_CONSTRAINT_ROWS = 100
MAX_CHECK_VALUES = 10
KEY_TYPES = {"int2", "int4", "int8", "text", "varchar", "bpchar", "citext", "uuid", "numeric", "date"}
#: In a table that already has a primary key, only identifier-like columns are proposed as keys.
_IDENTIFIER_NAME = re.compile(
    r"(^|_)(code|key|email|e_mail|sku|slug|username|login|handle|number|no|num|isbn|iban|ean|uuid|guid|"
    r"ref|reference|serial|token|external_id)$|^(name|title)$"
)
_OPTIONAL_NAME = re.compile(
    r"(deleted|archived|ended|cancell?ed|closed|finished|completed|expire[sd]|removed|last_\w+)_(at|on|by)$|"
    r"(^|_)(notes?|comments?|description|remarks?|middle_name|suffix|parent_id|memo)$"
)
TEXT_TYPES = {"text", "varchar", "bpchar", "citext"}


#: Columns that say whose row it is in a multi-tenant schema: keys are unique per tenant, not globally.
_TENANT = re.compile(
    r"^(tenant|org|organization|organisation|account|company|workspace|team|store|shop|site|project)_id$"
)


def tenant_column(info: TableInfo) -> str | None:
    """The NOT NULL tenant column of the table, when it has exactly one."""
    found = [c.name for c in info.columns if c.not_null and _TENANT.match(c.name)]
    return found[0] if len(found) == 1 else None


def object_name(*parts: str) -> str:
    return "_".join(parts)[:63]


def key_proposal(info: TableInfo, columns: tuple[str, ...], rows: int, source: str) -> Proposal | None:
    if rows < MIN_KEY_ROWS or info.is_superkey(columns):
        return None
    for name in columns:
        column = info.column(name)
        if column.type_name not in KEY_TYPES or (info.primary_key and info.is_generated_key(name)):
            return None
    tenant = tenant_column(info)
    if info.primary_key and not all(_IDENTIFIER_NAME.search(c) for c in columns if c != tenant):
        return None
    table = info.qname
    name = object_name(info.table.name, *columns, "key")
    keys = tuple(ident(c) for c in columns)
    operations = [
        CreateIndex(name, table, keys, unique=True, concurrently=True, table_bytes=info.table.heap_bytes),
        RawSQL(
            f"ALTER TABLE {qident(table)} ADD CONSTRAINT {ident(name)} UNIQUE USING INDEX {ident(name)};",
            f"ALTER TABLE {qident(table)} DROP CONSTRAINT IF EXISTS {ident(name)};",
            lock_=Lock("ACCESS EXCLUSIVE", table),
        ),
    ]
    no_pk = not info.primary_key
    explanation = (
        f"Every one of the {rows:,} rows has a distinct, non-NULL ({', '.join(columns)}): declare it, "
        "so duplicates cannot creep in. The index is built CONCURRENTLY (writes continue), then "
        "attached as the constraint."
    )
    if no_pk:
        explanation += (
            f" {table} has no primary key: this natural key can be promoted to one with "
            f"ALTER TABLE … ADD PRIMARY KEY USING INDEX {name} once its columns are NOT NULL."
        )
    package = ChangePackage.of(f"Declare ({', '.join(columns)}) unique on {table}", operations, explanation)
    kind = "a natural key of a table without a primary key" if no_pk else "an undeclared candidate key"
    return Proposal(
        "unique_key",
        table,
        columns,
        f"{table}: ({', '.join(columns)}) is {kind}",
        {"rows": rows, "duplicates": 0, "nulls": 0, "found_by": source, "table_has_primary_key": not no_pk},
        package,
        score=rows,
    )


def singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("ses", "xes", "ches", "shes")):
        return name[:-2]
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def names_match(child_column: str, parent_table: str, parent_column: str) -> bool:
    """``customer_id`` → customers.id / customer.customer_id; ``country_code`` → countries.code."""
    stems = {parent_table, singular(parent_table)}
    if child_column == parent_column and parent_column not in ("id", "code", "key", "name"):
        return True
    return any(child_column == f"{stem}_{parent_column}" for stem in stems) or (
        parent_column.startswith(tuple(f"{s}_" for s in stems)) and child_column == parent_column
    )


_FAMILIES = [{"int2", "int4", "int8"}, TEXT_TYPES, {"numeric"}, {"uuid"}, {"date"}]


def types_match(a: str, b: str) -> bool:
    return a == b or any(a in family and b in family for family in _FAMILIES)


def foreign_key_proposal(
    child: TableInfo,
    column: str,
    parent: TableInfo,
    ref: str,
    counts: tuple[int, int, int],
    listing: str,
    found_by: str,
) -> Proposal:
    refs, orphan_rows, orphan_values = counts
    name = object_name(child.table.name, column, "fkey")
    operations = [
        AddForeignKey(child.qname, name, (column,), parent.qname, (ref,)),
        ValidateConstraint(child.qname, name, table_bytes=child.table.heap_bytes),
    ]
    manual = ()
    explanation = (
        f"{refs:,} non-NULL values of {child.qname}.{column} all but {orphan_rows} found in "
        f"{parent.qname}.{ref}, which is unique. Adding the constraint NOT VALID protects new rows at "
        "once with a brief lock; VALIDATE then checks old rows without blocking writes."
    )
    if orphan_rows:
        manual = (
            f"VALIDATE fails until the {orphan_rows} orphan row(s) ({orphan_values} distinct value(s)) are "
            f"fixed (set to NULL, corrected, or their parents restored). List them with: {listing};",
        )
    if column not in child.indexed_columns:
        explanation += f" {child.qname}.{column} leads no index: consider one, for deletes on {parent.qname}."
    package = ChangePackage.of(
        f"Declare {child.qname}.{column} → {parent.qname}.{ref}", operations, explanation, manual_steps=manual
    )
    return Proposal(
        "foreign_key",
        child.qname,
        (column,),
        f"{child.qname}.{column} looks like a foreign key to {parent.qname}.{ref}",
        {
            "references": refs,
            "orphan_rows": orphan_rows,
            "orphan_values": orphan_values,
            "orphan_query": listing,
            "found_by": found_by,
        },
        package,
        score=refs,
    )


def looks_optional(name: str) -> bool:
    return bool(_OPTIONAL_NAME.search(name))


def not_null_proposal(info: TableInfo, column: str, rows: int) -> Proposal:
    table = info.qname
    name = object_name(info.table.name, column, "not_null")
    operations = [
        AddCheck(table, name, f"{ident(column)} IS NOT NULL"),
        ValidateConstraint(table, name, table_bytes=info.table.heap_bytes),
        SetNotNull(table, column, proven_by_check=True),
        DropConstraint(table, name),
    ]
    package = ChangePackage.of(
        f"Make {table}.{column} NOT NULL",
        operations,
        f"None of the {rows:,} rows has a NULL {column}. The safe sequence: a NOT VALID check (brief lock), "
        "VALIDATE (scans, writes continue), SET NOT NULL (proven by the check, no scan), drop the check.",
    )
    return Proposal(
        "not_null",
        table,
        (column,),
        f"{table}.{column} is never NULL but nullable",
        {"rows": rows, "nulls": 0},
        package,
        score=rows * 0.01,
    )


def check_values_proposal(info: TableInfo, column: str, values: list[tuple[Any, int]], rows: int) -> Proposal:
    table = info.qname
    name = object_name(info.table.name, column, "check")
    listed = ", ".join(literal(str(v)) for v, _ in values)
    operations = [
        AddCheck(table, name, f"{ident(column)} IN ({listed})"),
        ValidateConstraint(table, name, table_bytes=info.table.heap_bytes),
    ]
    package = ChangePackage.of(
        f"Limit {table}.{column} to its {len(values)} values",
        operations,
        "A CHECK constraint keeps typos out; when the list changes often or needs its own attributes, a lookup "
        f"table with a foreign key is the better home (CREATE TABLE {info.table.name}_{column} ({column} text "
        "PRIMARY KEY) filled with these values).",
    )
    return Proposal(
        "check_values",
        table,
        (column,),
        f"{table}.{column} holds only {len(values)} distinct values and nothing constrains them",
        {"rows": rows, "values": {str(v): n for v, n in values}},
        package,
        score=rows * 0.01,
    )
