"""A few generated rows per table, from the catalog alone, for schemas we did not write.

Tables are filled parents first (foreign keys), each row in its own savepoint: a row that a
CHECK, a trigger or a unique index refuses is retried with its nullable columns NULL, then with
every column that has a default left to it (synapse's single-row ``lock char(1) DEFAULT 'X'``
tables), then dropped. Values are passed as text and cast to the column's declared type, so any type with
a text input works; foreign-key columns take the referenced values of existing parent rows.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter

import psycopg
from psycopg import sql

_TABLES_SQL = """
SELECT c.oid, n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
"""

_COLUMNS_SQL = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       a.attidentity <> '' OR a.attgenerated <> ''
         OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%', false) AS auto,
       d.adbin IS NOT NULL AS has_default,
       coalesce(bt.typname, t.typname) AS base_type,
       coalesce(bt.typtype, t.typtype) AS base_kind,
       coalesce(bt.typcategory, t.typcategory) AS category,
       CASE WHEN coalesce(bt.typname, t.typname) IN ('varchar', 'bpchar')
            THEN coalesce(nullif(t.typtypmod, -1), a.atttypmod) - 4 END AS max_length,
       coalesce(bt.oid, t.oid) AS base_oid
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_UNIQUE_COLUMNS_SQL = """
SELECT i.indrelid, a.attname
FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indisunique AND i.indrelid = ANY(%s)
"""

_FOREIGN_KEYS_SQL = """
SELECT c.conrelid, c.confrelid,
       array(SELECT attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute ON attrelid = c.conrelid AND attnum = k.n ORDER BY k.o),
       array(SELECT attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute ON attrelid = c.confrelid AND attnum = k.n ORDER BY k.o)
FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY(%s)
"""


@dataclass
class _Column:
    name: str
    declared: str
    not_null: bool
    auto: bool
    has_default: bool
    base_type: str
    base_kind: str
    category: str
    max_length: int | None
    base_oid: int


@dataclass
class _Table:
    oid: int
    schema: str
    name: str
    columns: list[_Column] = field(default_factory=list)
    unique_columns: set[str] = field(default_factory=set)
    foreign_keys: list[tuple[int, list[str], list[str]]] = field(default_factory=list)

    @property
    def ident(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.name))


def fill(conn: psycopg.Connection, rows: int) -> dict[str, int]:
    """Insert up to ``rows`` generated rows into every user table; count the tables with rows and without."""
    tables = _read_tables(conn)
    enum_labels = _enum_labels(conn)
    for table in _parents_first(tables):
        for index in range(1, rows + 1):
            _insert_row(conn, tables, table, index, enum_labels)
    empty = sum(
        1
        for table in tables.values()
        if not conn.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(table.ident)).fetchone()[0]
    )
    return {"tables_filled": len(tables) - empty, "tables_empty": empty}


def _read_tables(conn: psycopg.Connection) -> dict[int, _Table]:
    tables = {oid: _Table(oid, schema, name) for oid, schema, name in conn.execute(_TABLES_SQL)}
    oids = list(tables)
    for row in conn.execute(_COLUMNS_SQL, (oids,)):
        tables[row[0]].columns.append(_Column(*row[1:]))
    for oid, column in conn.execute(_UNIQUE_COLUMNS_SQL, (oids,)):
        tables[oid].unique_columns.add(column)
    for child, parent, columns, referenced in conn.execute(_FOREIGN_KEYS_SQL, (oids,)):
        tables[child].foreign_keys.append((parent, list(columns), list(referenced)))
    return tables


def _enum_labels(conn: psycopg.Connection) -> dict[int, list[str]]:
    labels: dict[int, list[str]] = defaultdict(list)
    for type_oid, label in conn.execute(
        "SELECT enumtypid, enumlabel FROM pg_enum ORDER BY enumtypid, enumsortorder"
    ):
        labels[type_oid].append(label)
    return labels


def _parents_first(tables: dict[int, _Table]) -> list[_Table]:
    graph = {oid: {p for p, _, _ in t.foreign_keys if p != oid and p in tables} for oid, t in tables.items()}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError:  # a cycle of foreign keys: fill in name order, the cycle's FKs take NULL or fail
        order = sorted(tables, key=lambda oid: (tables[oid].schema, tables[oid].name))
    return [tables[oid] for oid in order]


def _insert_row(
    conn: psycopg.Connection,
    tables: dict[int, _Table],
    table: _Table,
    index: int,
    enums: dict[int, list[str]],
) -> bool:
    values = _row_values(conn, tables, table, index, enums)
    nullable_cleared = {name: (None if _nullable(table, name) else value) for name, value in values.items()}
    defaulted = {c.name for c in table.columns if c.has_default}
    defaults_used = {name: value for name, value in nullable_cleared.items() if name not in defaulted}
    for attempt in (values, nullable_cleared, defaults_used):
        try:
            with conn.transaction():
                _insert(conn, table, attempt)
            return True
        except psycopg.Error:
            continue
    return False


def _nullable(table: _Table, name: str) -> bool:
    return not next(c for c in table.columns if c.name == name).not_null


def _insert(conn: psycopg.Connection, table: _Table, values: dict[str, str | None]) -> None:
    if not values:
        conn.execute(sql.SQL("INSERT INTO {} DEFAULT VALUES").format(table.ident))
        return
    declared = {c.name: c.declared for c in table.columns}
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            table.ident,
            sql.SQL(", ").join(sql.Identifier(name) for name in values),
            sql.SQL(", ").join(sql.SQL("%s::" + declared[name]) for name in values),
        ),
        list(values.values()),
    )


def _row_values(
    conn: psycopg.Connection,
    tables: dict[int, _Table],
    table: _Table,
    index: int,
    enums: dict[int, list[str]],
) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for parent_oid, columns, referenced in table.foreign_keys:
        parent_rows = _parent_rows(conn, tables[parent_oid], referenced) if parent_oid in tables else []
        chosen = parent_rows[(index - 1) % len(parent_rows)] if parent_rows else (None,) * len(columns)
        for column, value in zip(columns, chosen, strict=True):
            values.setdefault(column, value)
    for column in table.columns:
        if column.name in values:
            continue
        if column.auto or (column.has_default and column.name not in table.unique_columns):
            continue
        values[column.name] = _value(column, index, enums)
    return values


def _parent_rows(
    conn: psycopg.Connection, parent: _Table, columns: list[str]
) -> list[tuple[str | None, ...]]:
    query = sql.SQL("SELECT {} FROM {} LIMIT 50").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns), parent.ident
    )
    return list(conn.execute(query))


def _value(column: _Column, index: int, enums: dict[int, list[str]]) -> str | None:
    """A text literal for row ``index`` that the column's type accepts, distinct per row where it can be."""
    kind, category, name = column.base_kind, column.category, column.base_type
    if category == "A":
        return "{}"
    if kind == "e":
        labels = enums.get(column.base_oid) or [None]
        return labels[(index - 1) % len(labels)]
    if name in ("int2", "int4", "int8", "oid"):
        return str(index)
    if name in ("numeric", "float4", "float8", "money"):
        return f"{index}.5"
    if name == "bool":
        return "true" if index % 2 else "false"
    if name == "uuid":
        return str(uuid.UUID(int=index))
    if name in ("json", "jsonb"):
        return f'{{"n": {index}}}'
    if name in ("timestamp", "timestamptz", "date"):
        return (datetime.datetime(2024, 1, 1) + datetime.timedelta(days=index)).isoformat()
    if name in ("time", "timetz"):
        return f"12:00:{index:02d}"
    if name == "interval":
        return f"{index} days"
    if name in ("inet", "cidr"):
        return f"10.0.0.{index}"
    if name == "bytea":
        return f"\\x{index:02x}"
    if name == "tsvector":
        return f"word{index}"
    if category == "S":  # text, varchar, char(n), citext, name
        text = f"{column.name}-{index}"
        if column.max_length and column.max_length > 0:
            text = text[-column.max_length :] if name != "bpchar" else str(index % 10) * column.max_length
        return text
    return None
