"""Adding and changing columns: defaults, NOT NULL, types, serial/identity, generated columns."""

from __future__ import annotations

from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType
from pglast.stream import RawStream

from dbwright.changes.lint.rules import Case, Hit, rule
from dbwright.changes.lint.rules.common import commands
from dbwright.engines.postgres.parse_tree import column_constraints, column_default
from dbwright.model.findings import Severity
from dbwright.model.operations import ident, qident


def _added_columns(statement, state):
    for table, cmd in commands(statement, AT.AT_AddColumn):
        if not state.is_new(table):
            yield table, cmd.def_


@rule(
    "DW704",
    "Column added with a default that rewrites the table",
    Severity.HIGH,
    fails=[
        "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        "ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();",
        Case("ALTER TABLE orders ADD COLUMN status text DEFAULT 'new';", version=100000),
    ],
    passes=[
        "ALTER TABLE orders ADD COLUMN status text DEFAULT 'new';",
        "ALTER TABLE orders ADD COLUMN created_at timestamptz DEFAULT now();",
        "CREATE TABLE orders (id bigint); ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();",
    ],
)
def volatile_default(statement, state):
    """ADD COLUMN with a volatile default (`gen_random_uuid()`, `clock_timestamp()`, `random()`, a
    sequence) computes a value per row, so PostgreSQL rewrites the whole table under ACCESS EXCLUSIVE:
    no reads, no writes, for as long as the copy takes, and twice the disk meanwhile.

    Version-aware: since PostgreSQL 11 a constant or stable default (`'new'`, `0`, `now()`) is stored once
    in the catalog and costs nothing. Before 11, every default rewrites.

    Safe rewrite: add the column without a default (instant), `ALTER COLUMN … SET DEFAULT` (only new rows
    get it, instant), then backfill existing rows in batches by primary-key range (`dbwright backfill`).
    """
    for table, column in _added_columns(statement, state):
        default = column_default(column)
        if default is None or column_constraints(column, ConstrType.CONSTR_GENERATED):
            continue
        level = state.lock_model.volatility(default)
        if state.server_version < 110000:
            why = "before PostgreSQL 11 any default rewrites the table"
        elif level == "volatile":
            why = "the default is volatile, so every row gets its own value"
        elif level == "unknown":
            why = "the default calls a function dbwright cannot prove stable"
        else:
            continue
        col = ident(column.colname)
        typ = state.lock_model.sql_type(column.typeName).label if column.typeName else "…"
        yield Hit(
            f"ADD COLUMN {column.colname} rewrites {table} under ACCESS EXCLUSIVE: {why}",
            safe_rewrite=f"ALTER TABLE {qident(table)} ADD COLUMN {col} {typ};\n"
            f"ALTER TABLE {qident(table)} ALTER COLUMN {col} SET DEFAULT {RawStream()(default)};\n"
            "-- then backfill existing rows in batches (dbwright backfill)",
        )


@rule(
    "DW705",
    "NOT NULL column added without a default",
    Severity.HIGH,
    fails=["ALTER TABLE orders ADD COLUMN region text NOT NULL;"],
    passes=[
        "ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';",
        "ALTER TABLE orders ADD COLUMN region text;",
        "CREATE TABLE orders (id bigint); ALTER TABLE orders ADD COLUMN region text NOT NULL;",
    ],
)
def not_null_without_default(statement, state):
    """ADD COLUMN … NOT NULL without a default fails on any table that has rows ("column contains null
    values"), after taking ACCESS EXCLUSIVE: the deploy breaks, or works only where the table is empty.

    Safe rewrite: add the column with a constant default (instant since PostgreSQL 11), or add it nullable,
    backfill in batches, then make it NOT NULL the safe way (see DW706).
    """
    for table, column in _added_columns(statement, state):
        not_null = (
            column.is_not_null
            or column_constraints(column, ConstrType.CONSTR_NOTNULL)
            or column_constraints(column, ConstrType.CONSTR_PRIMARY)
        )
        fills = (
            column_default(column) is not None
            or state.lock_model.is_serial(column)
            or column_constraints(column, ConstrType.CONSTR_IDENTITY)
            or column_constraints(column, ConstrType.CONSTR_GENERATED)
        )
        if not_null and not fills:
            yield Hit(
                f"ADD COLUMN {column.colname} NOT NULL without a default fails if {table} has rows",
                safe_rewrite=f"ALTER TABLE {qident(table)} ADD COLUMN {ident(column.colname)} "
                f"{state.lock_model.sql_type(column.typeName).label} NOT NULL DEFAULT <constant>;",
            )


@rule(
    "DW706",
    "SET NOT NULL scans the table under ACCESS EXCLUSIVE",
    Severity.HIGH,
    fails=[
        "ALTER TABLE orders ALTER COLUMN region SET NOT NULL;",
        Case(
            "ALTER TABLE orders ADD CONSTRAINT region_nn CHECK (region IS NOT NULL) NOT VALID;\n"
            "ALTER TABLE orders VALIDATE CONSTRAINT region_nn;\n"
            "ALTER TABLE orders ALTER COLUMN region SET NOT NULL;",
            version=110000,
        ),
    ],
    passes=[
        "ALTER TABLE orders ADD CONSTRAINT region_nn CHECK (region IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT region_nn;\n"
        "ALTER TABLE orders ALTER COLUMN region SET NOT NULL;",
        "CREATE TABLE orders (region text); ALTER TABLE orders ALTER COLUMN region SET NOT NULL;",
    ],
)
def set_not_null(statement, state):
    """SET NOT NULL takes ACCESS EXCLUSIVE and scans the whole table to prove no row is NULL: no reads and
    no writes for the length of a full scan.

    Version-aware: since PostgreSQL 12 the scan is skipped when a validated `CHECK (col IS NOT NULL)`
    proves it, and a CHECK can be added NOT VALID and validated under SHARE UPDATE EXCLUSIVE.

    Safe rewrite (PostgreSQL 12+): `ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID` (brief lock),
    `VALIDATE CONSTRAINT c` (scan, writes go on), `SET NOT NULL` (no scan), `DROP CONSTRAINT c`.
    """
    for table, cmd in commands(statement, AT.AT_SetNotNull):
        if state.is_new(table):
            continue
        if state.server_version >= 120000 and state.has_not_null_check(table, cmd.name):
            continue
        check = f"{cmd.name}_not_null"[:63]
        t, c, k = qident(table), ident(cmd.name), ident(check)
        rewrite = (
            f"ALTER TABLE {t} ADD CONSTRAINT {k} CHECK ({c} IS NOT NULL) NOT VALID;\n"
            f"ALTER TABLE {t} VALIDATE CONSTRAINT {k};\n"
            f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n"
            f"ALTER TABLE {t} DROP CONSTRAINT {k};"
        )
        if state.server_version < 120000:
            rewrite = (
                "-- before PostgreSQL 12 SET NOT NULL always scans; keep the validated CHECK "
                f"instead:\nALTER TABLE {t} ADD CONSTRAINT {k} CHECK ({c} IS NOT NULL) NOT VALID;\n"
                f"ALTER TABLE {t} VALIDATE CONSTRAINT {k};"
            )
        yield Hit(
            f"SET NOT NULL on {table}.{cmd.name} scans the table under ACCESS EXCLUSIVE", safe_rewrite=rewrite
        )


def _type_change(statement, state):
    for table, cmd in commands(statement, AT.AT_AlterColumnType):
        if state.is_new(table):
            continue
        old, new = state.column_type(table, cmd.name), state.lock_model.sql_type(cmd.def_.typeName)
        yield table, cmd, old, new


def _narrows(old, new) -> bool:
    if new is None or new.name != "varchar" or not new.mods:
        return False
    if old is None:
        return False
    return old.name == "text" or (old.name == "varchar" and (not old.mods or old.mods[0] > new.mods[0]))


@rule(
    "DW711",
    "Column type change that rewrites the table",
    Severity.HIGH,
    fails=[
        "ALTER TABLE orders ALTER COLUMN id TYPE bigint;",
        "ALTER TABLE orders ALTER COLUMN note TYPE text;",
        Case("ALTER TABLE orders ALTER COLUMN qty TYPE bigint;", before=("CREATE TABLE orders (qty int);",)),
        "ALTER TABLE orders ALTER COLUMN code TYPE varchar(20) USING trim(code);",
    ],
    passes=[
        Case(
            "ALTER TABLE orders ALTER COLUMN note TYPE varchar(40);",
            before=("CREATE TABLE orders (note varchar(20));",),
        ),
        Case(
            "ALTER TABLE orders ALTER COLUMN note TYPE text;",
            before=("CREATE TABLE orders (note varchar(20));",),
        ),
        Case(
            "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2);",
            before=("CREATE TABLE orders (amount numeric(10,2));",),
        ),
        "CREATE TABLE orders (id int); ALTER TABLE orders ALTER COLUMN id TYPE bigint;",
    ],
)
def type_change_rewrites(statement, state):
    """ALTER COLUMN … TYPE rewrites the whole table, and every index on it, under ACCESS EXCLUSIVE,
    unless the old type is binary-coercible to the new one: `varchar(n)` to `varchar(m)` with m ≥ n, to
    unlimited `varchar` or to `text`; `numeric(p,s)` to `numeric(q,s)` with q ≥ p; `cidr` to `inet`.
    Changes such as `int` to `bigint`, `timestamp` to `timestamptz` (unless the session TimeZone is UTC)
    and any `USING` expression rewrite.

    dbwright knows the current type when an earlier migration (or the snapshot the runner passes)
    created the column; otherwise it says so and assumes the rewrite.

    Safe rewrite for a rewriting change: add a new column of the new type, keep it in sync with a
    trigger, backfill in batches, then swap names in one short transaction (or, for int → bigint keys,
    `dbwright` plans the same steps). For binary-coercible changes nothing is needed.
    """
    for table, cmd, old, new in _type_change(statement, state):
        if _narrows(old, new):
            continue  # DW712
        rewrites, why = state.lock_model.rewrite_for_change(old, new, cmd.def_.raw_default is not None)
        if not rewrites:
            continue
        severity = (
            Severity.LOW if old is None and new and new.name in ("text", "varchar", "numeric") else None
        )
        yield Hit(
            f"ALTER COLUMN {cmd.name} TYPE {new.label if new else '?'} on {table}: {why}",
            severity=severity,
            safe_rewrite=f"-- add {cmd.name}_new {new.label if new else ''}, sync it with a trigger, "
            f"backfill in batches,\n-- then rename both columns in one short transaction",
        )


@rule(
    "DW712",
    "varchar shrunk (or a limit added)",
    Severity.HIGH,
    fails=[
        Case(
            "ALTER TABLE orders ALTER COLUMN note TYPE varchar(10);",
            before=("CREATE TABLE orders (note varchar(20));",),
        ),
        Case(
            "ALTER TABLE orders ALTER COLUMN note TYPE varchar(10);",
            before=("CREATE TABLE orders (note text);",),
        ),
    ],
    passes=[
        Case(
            "ALTER TABLE orders ALTER COLUMN note TYPE varchar(30);",
            before=("CREATE TABLE orders (note varchar(20));",),
        )
    ],
)
def varchar_shrink(statement, state):
    """Shortening a `varchar` limit (or putting one on `text`) checks every row and rewrites the table
    under ACCESS EXCLUSIVE, and fails the deploy if one value is too long.

    Safe rewrite: keep the type and add `CHECK (length(col) <= n) NOT VALID`, then `VALIDATE CONSTRAINT`
    (SHARE UPDATE EXCLUSIVE: writes go on). A CHECK is also easier to change later than a type.
    """
    for table, cmd, old, new in _type_change(statement, state):
        if _narrows(old, new):
            t, c, limit = qident(table), ident(cmd.name), new.mods[0]
            k = ident(f"{cmd.name}_length"[:63])
            yield Hit(
                f"{table}.{cmd.name} goes from {old.label} to {new.label}: every row is checked and the "
                "table is rewritten under ACCESS EXCLUSIVE",
                safe_rewrite=f"ALTER TABLE {t} ADD CONSTRAINT {k} CHECK (length({c}) <= {limit}) NOT VALID;\n"
                f"ALTER TABLE {t} VALIDATE CONSTRAINT {k};",
            )


@rule(
    "DW713",
    "serial column added to an existing table",
    Severity.HIGH,
    fails=["ALTER TABLE events ADD COLUMN seq bigserial;"],
    passes=["CREATE TABLE events (seq bigserial);", "ALTER TABLE events ADD COLUMN seq bigint;"],
)
def serial_added(statement, state):
    """Adding a `serial`/`bigserial` column fills every existing row from the new sequence (a volatile
    default), so the table is rewritten under ACCESS EXCLUSIVE.

    Safe rewrite: add a plain `bigint` column, attach a sequence as its default for new rows, backfill
    existing rows in batches, then add NOT NULL the safe way (DW706).
    """
    for table, column in _added_columns(statement, state):
        if state.lock_model.is_serial(column):
            yield Hit(
                f"ADD COLUMN {column.colname} {state.lock_model.sql_type(column.typeName).label} rewrites {table}",
                safe_rewrite=_sequence_rewrite(table, column.colname),
            )


def _sequence_rewrite(table: str, column: str) -> str:
    t, c = qident(table), ident(column)
    seq = qident(f"{table}_{column}_seq")
    return (
        f"ALTER TABLE {t} ADD COLUMN {c} bigint;\nCREATE SEQUENCE {seq} OWNED BY {t}.{c};\n"
        f"ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT nextval('{seq}');\n"
        f"-- backfill existing rows in batches, then SET NOT NULL the safe way (DW706)"
    )


@rule(
    "DW714",
    "Identity column added to an existing table",
    Severity.HIGH,
    fails=["ALTER TABLE events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;"],
    passes=[
        "CREATE TABLE events (seq bigint GENERATED ALWAYS AS IDENTITY);",
        "ALTER TABLE events ALTER COLUMN seq ADD GENERATED BY DEFAULT AS IDENTITY;",
    ],
)
def identity_added(statement, state):
    """`ADD COLUMN … GENERATED … AS IDENTITY` fills every existing row from the identity sequence, so
    the table is rewritten under ACCESS EXCLUSIVE.

    Safe rewrite: add a plain `bigint` column, backfill it in batches from a sequence, make it NOT NULL the
    safe way (DW706), then `ALTER COLUMN … ADD GENERATED BY DEFAULT AS IDENTITY` (catalog only) and move
    the identity sequence past the highest value with `setval`.
    """
    for table, column in _added_columns(statement, state):
        if column_constraints(column, ConstrType.CONSTR_IDENTITY):
            yield Hit(
                f"ADD COLUMN {column.colname} … AS IDENTITY rewrites {table}",
                safe_rewrite=f"ALTER TABLE {qident(table)} ADD COLUMN {ident(column.colname)} bigint;\n"
                "-- backfill in batches, SET NOT NULL safely (DW706), then:\n"
                f"ALTER TABLE {qident(table)} ALTER COLUMN {ident(column.colname)} "
                "ADD GENERATED BY DEFAULT AS IDENTITY;",
            )


@rule(
    "DW715",
    "Stored generated column added to an existing table",
    Severity.HIGH,
    fails=["ALTER TABLE orders ADD COLUMN total numeric GENERATED ALWAYS AS (qty * price) STORED;"],
    passes=[
        "CREATE TABLE orders (qty int, price numeric, total numeric GENERATED ALWAYS AS (qty * price) STORED);",
        "ALTER TABLE orders ADD COLUMN total numeric;",
    ],
)
def stored_generated(statement, state):
    """A stored generated column is computed for every existing row when added: the table is rewritten
    under ACCESS EXCLUSIVE.

    Safe rewrite: add a plain nullable column, fill it for new rows with a BEFORE INSERT OR UPDATE
    trigger, backfill existing rows in batches; or compute the value in a view or at query time.
    """
    for table, column in _added_columns(statement, state):
        if column_constraints(column, ConstrType.CONSTR_GENERATED):
            yield Hit(
                f"ADD COLUMN {column.colname} GENERATED … STORED rewrites {table}",
                safe_rewrite=f"ALTER TABLE {qident(table)} ADD COLUMN {ident(column.colname)} "
                f"{state.lock_model.sql_type(column.typeName).label};\n"
                "-- a BEFORE INSERT OR UPDATE trigger computes it; backfill old rows in batches",
            )
