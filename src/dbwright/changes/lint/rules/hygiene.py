"""Type hygiene for new columns: bigint keys, identity, timestamptz, text."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType

from dbwright.changes.lint.rules import Hit, rule
from dbwright.engines.postgres.parse_tree import column_constraints, qualified
from dbwright.model.findings import Severity


def new_columns(statement):
    """(table, ColumnDef, table-level key columns) for columns a statement creates."""
    node = statement.node
    if isinstance(node, ast.CreateStmt):
        table = qualified(node.relation)
        keys = set()
        for element in node.tableElts or ():
            if isinstance(element, ast.Constraint) and element.contype in (
                ConstrType.CONSTR_PRIMARY,
                ConstrType.CONSTR_FOREIGN,
                ConstrType.CONSTR_UNIQUE,
            ):
                keys |= {k.sval for k in (element.keys or element.fk_attrs or ())}
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                yield table, element, keys
    elif isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds:
            if cmd.subtype == AT.AT_AddColumn:
                yield qualified(node.relation), cmd.def_, set()


def _is_key(column: ast.ColumnDef, keys: set[str], state) -> bool:
    name = column.colname.lower()
    return (
        name in keys
        or name == "id"
        or name.endswith("_id")
        or state.lock_model.is_serial(column)
        or any(
            column_constraints(column, kind)
            for kind in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_IDENTITY)
        )
    )


@rule(
    "DW734",
    "Key column narrower than bigint",
    Severity.LOW,
    fails=[
        "CREATE TABLE orders (id serial PRIMARY KEY);",
        "CREATE TABLE orders (id int PRIMARY KEY);",
        "ALTER TABLE orders ADD COLUMN customer_id integer;",
    ],
    passes=["CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, qty int);"],
    lock_related=False,
)
def prefer_bigint(statement, state):
    """An `integer` key runs out at 2,147,483,647; widening it later rewrites the table and every
    referencing column (DW711) under ACCESS EXCLUSIVE, usually in a hurry. The four extra bytes are cheap.

    Safe rewrite: `bigint` (or `bigint GENERATED … AS IDENTITY`) for primary keys, identity/serial
    columns and the columns that reference them (`*_id`).
    """
    for table, column, keys in new_columns(statement):
        typ = state.lock_model.sql_type(column.typeName)
        if (
            typ
            and typ.name in ("int4", "int2", "serial", "serial4", "smallserial", "serial2")
            and not typ.array
            and _is_key(column, keys, state)
        ):
            better = "bigserial" if typ.name.startswith(("serial", "small")) else "bigint"
            yield Hit(
                f"{table}.{column.colname} is {typ.label}: it overflows at 2^31 and widening it rewrites "
                "the table",
                safe_rewrite=f"{column.colname} {better}",
            )


@rule(
    "DW735",
    "serial instead of an identity column",
    Severity.INFO,
    fails=["CREATE TABLE orders (id bigserial PRIMARY KEY);"],
    passes=["CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);"],
    lock_related=False,
)
def prefer_identity(statement, state):
    """`serial` is a sequence plus a default: grants, ownership and dumps treat them separately, and
    nothing stops a write from supplying its own id. Identity columns (SQL standard, PostgreSQL 10+) tie
    the sequence to the column and can refuse explicit values (`GENERATED ALWAYS`).

    Safe rewrite: `bigint GENERATED ALWAYS AS IDENTITY` (or `BY DEFAULT` when rows are loaded with ids).
    """
    if state.server_version < 100000:
        return
    for table, column, _keys in new_columns(statement):
        if state.lock_model.is_serial(column):
            yield Hit(
                f"{table}.{column.colname} is {state.lock_model.sql_type(column.typeName).label}",
                safe_rewrite=f"{column.colname} bigint GENERATED ALWAYS AS IDENTITY",
            )


@rule(
    "DW736",
    "timestamp without time zone",
    Severity.LOW,
    fails=[
        "CREATE TABLE events (created_at timestamp NOT NULL);",
        "ALTER TABLE events ADD COLUMN seen_at timestamp without time zone;",
    ],
    passes=["CREATE TABLE events (created_at timestamptz NOT NULL);"],
    lock_related=False,
)
def prefer_timestamptz(statement, state):
    """`timestamp` (without time zone) stores a wall-clock reading with no zone: the same instant reads
    differently per session TimeZone, and DST makes some values ambiguous. Changing it later to
    `timestamptz` rewrites the table.

    Safe rewrite: `timestamptz`, which stores an absolute instant (it uses the same 8 bytes).
    """
    for table, column, _keys in new_columns(statement):
        typ = state.lock_model.sql_type(column.typeName)
        if typ and typ.name == "timestamp":
            yield Hit(
                f"{table}.{column.colname} is timestamp without time zone",
                safe_rewrite=f"{column.colname} timestamptz",
            )


@rule(
    "DW737",
    "varchar(n) or char(n) instead of text",
    Severity.INFO,
    fails=["CREATE TABLE customers (email varchar(255));", "CREATE TABLE customers (code char(3));"],
    passes=["CREATE TABLE customers (email text CHECK (length(email) <= 320));"],
    lock_related=False,
)
def prefer_text(statement, state):
    """`varchar(n)` is stored exactly like `text`; the limit only checks, and shrinking it later rewrites
    the table (DW712). `char(n)` pads with spaces and compares surprisingly. A CHECK constraint states the
    limit and can be changed without a rewrite (NOT VALID, then VALIDATE).

    Safe rewrite: `text`, with `CHECK (length(col) <= n)` when the limit matters.
    """
    for table, column, _keys in new_columns(statement):
        typ = state.lock_model.sql_type(column.typeName)
        if typ and ((typ.name == "varchar" and typ.mods) or typ.name == "bpchar"):
            yield Hit(
                f"{table}.{column.colname} is {typ.label}",
                safe_rewrite=f"{column.colname} text"
                + (f" CHECK (length({column.colname}) <= {typ.mods[0]})" if typ.mods else ""),
            )
