"""Adding constraints: CHECK, FOREIGN KEY, UNIQUE, PRIMARY KEY, and attaching partitions."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType
from pglast.stream import RawStream

from dbwright.changes.lint.context import bare
from dbwright.changes.lint.names import default_constraint_name
from dbwright.changes.lint.rules import Hit, rule
from dbwright.changes.lint.rules.common import commands
from dbwright.engines.postgres.parse_tree import qualified
from dbwright.model.findings import Severity
from dbwright.model.operations import ident, qident


def _added(statement, state, *kinds):
    for table, cmd in commands(statement, AT.AT_AddConstraint, AT.AT_AddColumn):
        if state.is_new(table):
            continue
        if cmd.subtype == AT.AT_AddConstraint:
            if cmd.def_.contype in kinds:
                yield table, cmd.def_, None
        else:
            for constraint in cmd.def_.constraints or ():
                if constraint.contype in kinds:
                    yield table, constraint, cmd.def_.colname


def deparse(node) -> str:
    return RawStream()(node)


def constraint_name(table: str, constraint: ast.Constraint, column: str | None, state) -> str:
    """Its own name, or the one PostgreSQL would give it (unique among the names already taken)."""
    return default_constraint_name(bare(table), constraint, state.taken_names, column)


@rule(
    "DW707",
    "CHECK constraint added without NOT VALID",
    Severity.HIGH,
    fails=["ALTER TABLE orders ADD CONSTRAINT qty_positive CHECK (qty > 0);"],
    passes=[
        "ALTER TABLE orders ADD CONSTRAINT qty_positive CHECK (qty > 0) NOT VALID;",
        "ALTER TABLE orders VALIDATE CONSTRAINT qty_positive;",
        "CREATE TABLE orders (qty int); ALTER TABLE orders ADD CONSTRAINT qty_positive CHECK (qty > 0);",
    ],
)
def check_without_not_valid(statement, state):
    """ADD CONSTRAINT … CHECK takes ACCESS EXCLUSIVE and scans the whole table to validate it: no reads
    and no writes until every row is checked.

    Safe rewrite: `ADD CONSTRAINT … CHECK (…) NOT VALID` (a brief ACCESS EXCLUSIVE, no scan; new rows are
    checked from then on), then `VALIDATE CONSTRAINT` in a later step: it scans under SHARE UPDATE
    EXCLUSIVE, so reads and writes go on.
    """
    for table, constraint, _column in _added(statement, state, ConstrType.CONSTR_CHECK):
        if constraint.skip_validation or _column is not None:
            continue
        name = constraint_name(table, constraint, None, state)
        t, k = qident(table), ident(name)
        yield Hit(
            f"CHECK on {table} is validated by a full scan under ACCESS EXCLUSIVE",
            safe_rewrite=f"ALTER TABLE {t} ADD CONSTRAINT {k} CHECK ({deparse(constraint.raw_expr)}) "
            f"NOT VALID;\nALTER TABLE {t} VALIDATE CONSTRAINT {k};",
        )


@rule(
    "DW708",
    "Foreign key added without NOT VALID",
    Severity.HIGH,
    fails=[
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
        "REFERENCES customers (id);",
        "ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers;",
    ],
    passes=[
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
        "REFERENCES customers (id) NOT VALID;",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;",
        "ALTER TABLE orders ADD COLUMN customer_id bigint REFERENCES customers (id);",
    ],
)
def fk_without_not_valid(statement, state):
    """ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE on both the table and the referenced table and
    validates every row while holding them: writes to both tables wait for the whole scan.

    Safe rewrite: `ADD CONSTRAINT … FOREIGN KEY … NOT VALID` (brief lock, no scan; new rows are checked),
    then `VALIDATE CONSTRAINT`, which scans under SHARE UPDATE EXCLUSIVE (and ROW SHARE on the referenced
    table): writes go on. A foreign key on a new, all-NULL column needs no scan and is not flagged.
    """
    for table, constraint, column in _added(statement, state, ConstrType.CONSTR_FOREIGN):
        if constraint.skip_validation or column is not None:
            continue
        name = constraint_name(table, constraint, None, state)
        text = deparse(constraint)
        if not constraint.conname:
            text = f"CONSTRAINT {ident(name)} {text}"
        yield Hit(
            f"FOREIGN KEY on {table} → {qualified(constraint.pktable)} is validated under SHARE ROW "
            "EXCLUSIVE on both tables",
            safe_rewrite=f"ALTER TABLE {qident(table)} ADD {text} NOT VALID;\n"
            f"ALTER TABLE {qident(table)} VALIDATE CONSTRAINT {ident(name)};",
        )


def index_options(constraint: ast.Constraint) -> tuple[str, str]:
    """What the constraint says about its index (NULLS NOT DISTINCT, INCLUDE, WITH, TABLESPACE) and about
    itself (DEFERRABLE, INITIALLY DEFERRED): both must survive the rewrite, or its meaning changes."""
    index = ""  # in CREATE INDEX's order: INCLUDE, NULLS NOT DISTINCT, WITH, TABLESPACE
    including = [i.sval for i in constraint.including or ()]
    if including:
        index += f" INCLUDE ({', '.join(ident(c) for c in including)})"
    if getattr(constraint, "nulls_not_distinct", False):
        index += " NULLS NOT DISTINCT"
    if constraint.options:
        index += f" WITH ({', '.join(deparse(o) for o in constraint.options)})"
    if constraint.indexspace:
        index += f" TABLESPACE {ident(constraint.indexspace)}"
    timing = ""
    if constraint.deferrable:
        timing = " DEFERRABLE" + (" INITIALLY DEFERRED" if constraint.initdeferred else "")
    return index, timing


def index_first(table: str, constraint: ast.Constraint, column: str | None, kind: str, name: str) -> str:
    columns = [column] if column else [a.sval for a in constraint.keys or ()]
    cols = ", ".join(ident(c) for c in columns)
    index, timing = index_options(constraint)
    unique = "UNIQUE" if kind == "UNIQUE" else "PRIMARY KEY"
    return (
        f"CREATE UNIQUE INDEX CONCURRENTLY {ident(name)} ON {qident(table)} ({cols}){index};"
        "  -- outside a transaction\n"
        f"ALTER TABLE {qident(table)} ADD CONSTRAINT {ident(name)} {unique} USING INDEX {ident(name)}{timing};"
    )


@rule(
    "DW709",
    "UNIQUE constraint added without USING INDEX",
    Severity.HIGH,
    fails=[
        "ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE (code);",
        "ALTER TABLE orders ADD COLUMN code text UNIQUE;",
    ],
    passes=[
        "ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE USING INDEX orders_code_key;",
        "CREATE TABLE orders (code text); ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE (code);",
    ],
)
def unique_without_index(statement, state):
    """ADD CONSTRAINT … UNIQUE builds its index while holding ACCESS EXCLUSIVE: no reads and no writes
    for the whole index build.

    Safe rewrite: `CREATE UNIQUE INDEX CONCURRENTLY` outside a transaction (writes go on), then
    `ADD CONSTRAINT … UNIQUE USING INDEX`, which only takes a brief ACCESS EXCLUSIVE.
    """
    for table, constraint, column in _added(statement, state, ConstrType.CONSTR_UNIQUE):
        if not constraint.indexname:
            yield Hit(
                f"UNIQUE on {table} builds its index under ACCESS EXCLUSIVE",
                safe_rewrite=index_first(
                    table, constraint, column, "UNIQUE", constraint_name(table, constraint, column, state)
                ),
            )


@rule(
    "DW710",
    "PRIMARY KEY added without USING INDEX",
    Severity.HIGH,
    fails=[
        "ALTER TABLE events ADD PRIMARY KEY (id);",
        "ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);",
    ],
    passes=[
        "ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey;",
        "CREATE TABLE events (id bigint); ALTER TABLE events ADD PRIMARY KEY (id);",
    ],
)
def primary_key_without_index(statement, state):
    """ADD PRIMARY KEY builds a unique index under ACCESS EXCLUSIVE and, for nullable columns, scans to
    set NOT NULL too: no reads and no writes meanwhile.

    Safe rewrite: make the columns NOT NULL the safe way (DW706), `CREATE UNIQUE INDEX CONCURRENTLY`
    outside a transaction, then `ADD CONSTRAINT … PRIMARY KEY USING INDEX` (a brief lock).
    """
    for table, constraint, column in _added(statement, state, ConstrType.CONSTR_PRIMARY):
        if not constraint.indexname:
            yield Hit(
                f"PRIMARY KEY on {table} builds its index under ACCESS EXCLUSIVE",
                safe_rewrite=index_first(
                    table,
                    constraint,
                    column,
                    "PRIMARY KEY",
                    constraint_name(table, constraint, column, state),
                ),
            )


@rule(
    "DW726",
    "Partition attached without a CHECK that proves its bound",
    Severity.MEDIUM,
    fails=[
        "ALTER TABLE measurements ATTACH PARTITION measurements_2024 "
        "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
    ],
    passes=[
        "CREATE TABLE measurements_2024 (LIKE measurements);\n"
        "ALTER TABLE measurements ATTACH PARTITION measurements_2024 "
        "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
    ],
)
def attach_partition(statement, state):
    """ATTACH PARTITION scans the partition to prove every row fits the bound, holding ACCESS EXCLUSIVE
    on the partition (and SHARE UPDATE EXCLUSIVE on the parent since PostgreSQL 12; ACCESS EXCLUSIVE
    before). The scan is skipped when a validated CHECK constraint already implies the bound.

    Safe rewrite: on the partition, `ADD CONSTRAINT … CHECK (<bound>) NOT VALID`, `VALIDATE CONSTRAINT`
    (writes go on), then ATTACH (no scan), then drop the CHECK.
    """
    for _table, cmd in commands(statement, AT.AT_AttachPartition):
        partition = qualified(cmd.def_.name)
        if state.is_new(partition):
            continue
        p = qident(partition)
        yield Hit(
            f"ATTACH PARTITION {partition} scans it under ACCESS EXCLUSIVE",
            lock="ACCESS EXCLUSIVE",
            safe_rewrite=f"ALTER TABLE {p} ADD CONSTRAINT bound_check CHECK (<partition bound>) NOT VALID;\n"
            f"ALTER TABLE {p} VALIDATE CONSTRAINT bound_check;\n{statement.sql};\n"
            f"ALTER TABLE {p} DROP CONSTRAINT bound_check;",
        )


@rule(
    "DW725",
    "Partition detached without CONCURRENTLY",
    Severity.MEDIUM,
    fails=["ALTER TABLE measurements DETACH PARTITION measurements_2020;"],
    passes=["ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;"],
)
def detach_partition(statement, state):
    """DETACH PARTITION takes ACCESS EXCLUSIVE on the parent table: every query on any partition waits.

    Safe rewrite (PostgreSQL 14+): `DETACH PARTITION … CONCURRENTLY`, outside a transaction block; it takes
    SHARE UPDATE EXCLUSIVE on the parent. Before 14 there is no concurrent form: run it with a short
    lock_timeout and retries.
    """
    for table, cmd in commands(statement, AT.AT_DetachPartition):
        if cmd.def_.concurrent or state.is_new(table):
            continue
        rewrite = (
            statement.sql.rstrip(";") + " CONCURRENTLY;  -- outside a transaction block"
            if state.server_version >= 140000
            else "SET lock_timeout = '2s';  -- and retry: no CONCURRENTLY before PostgreSQL 14\n"
            + statement.sql
        )
        yield Hit(f"DETACH PARTITION takes ACCESS EXCLUSIVE on {table}", safe_rewrite=rewrite)
