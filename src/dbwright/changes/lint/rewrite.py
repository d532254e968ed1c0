"""Safe rewrites: each unsafe statement becomes its safe sequence, as change packages with rollback.

    CREATE INDEX                 -> CREATE INDEX CONCURRENTLY, outside a transaction
    ADD FOREIGN KEY              -> ADD … NOT VALID, then VALIDATE CONSTRAINT
    SET NOT NULL                 -> CHECK (col IS NOT NULL) NOT VALID, VALIDATE, SET NOT NULL, drop the CHECK
    ADD COLUMN … volatile DEFAULT -> ADD COLUMN (nullable), SET DEFAULT, backfill in batches (+ NOT NULL safely)
    ADD UNIQUE                   -> CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … USING INDEX

Each package is one transaction (or one statement that cannot run in one): a VALIDATE must not
share a transaction with the ADD … NOT VALID before it, or the ADD's lock is held through the
scan. Statements with nothing to rewrite pass through unchanged, so the packages, in order, are
the whole migration; the rollback is each package's rollback, last package first. Names PostgreSQL would have chosen (``orders_customer_id_fkey``) are chosen
here too, so the final schema is the same as the naive statement's; the tests prove it.
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType
from pglast.stream import RawStream

from dbwright.changes.lint.context import LintState, _key, bare, lock_model_of
from dbwright.changes.lint.names import choose, default_constraint_name, default_index_name
from dbwright.changes.lint.parse import ParsedStatement, parse_statements
from dbwright.changes.lint.rules.constraints import index_options
from dbwright.engines.base import Engine, StatementEffects
from dbwright.engines.postgres.parse_tree import column_default, qualified
from dbwright.model.operations import (
    AddCheck,
    DropConstraint,
    Lock,
    Operation,
    RawSQL,
    SetNotNull,
    ValidateConstraint,
    ident,
    qident,
)
from dbwright.model.package import ChangePackage

BATCH_SIZE = 10_000


def deparse(node) -> str:
    return RawStream()(node)


def safe_rewrite(
    sql: str,
    server_version: int = 150000,
    *,
    filename: str | None = None,
    state: LintState | None = None,
    engine: Engine | None = None,
) -> list[ChangePackage]:
    """One package per statement of ``sql``: its safe sequence, or the statement itself when it is safe.

    ``engine`` is the engine of the server linted for (the default engine when None), for its lock model.
    """
    state = state or LintState(server_version=server_version, lock_model=lock_model_of(engine))
    state.start_file(filename)
    packages = []
    for parsed in parse_statements(sql, filename):
        if parsed.starts_migration:
            state.start_migration()
        fx = state.lock_model.effects(parsed.node, state.server_version, state.column_type, state)
        packages += _rewrite(parsed, fx, state) or [_as_written(parsed, fx)]
        state.observe(parsed.node)
    return packages


def _as_written(parsed: ParsedStatement, fx: StatementEffects) -> ChangePackage:
    op = RawSQL(
        parsed.sql.rstrip(";") + ";",
        lock_=Lock(fx.lock, ", ".join(fx.tables) or None),
        transactional_=fx.transactional,
        scans_=fx.scans,
        rewrites_=fx.rewrites,
    )
    return ChangePackage.of(f"As written (line {parsed.line})", [op], "No safer sequence needed or known.")


def _rewrite(parsed: ParsedStatement, fx: StatementEffects, state: LintState) -> list[ChangePackage] | None:
    node = parsed.node
    if isinstance(node, ast.IndexStmt) and not node.concurrent and not state.is_new(qualified(node.relation)):
        return index_concurrently(node, state)
    if isinstance(node, ast.AlterTableStmt) and len(node.cmds) == 1:
        table = qualified(node.relation)
        if state.is_new(table):
            return None
        cmd = node.cmds[0]
        if cmd.subtype == AT.AT_AddConstraint:
            constraint = cmd.def_
            if constraint.contype == ConstrType.CONSTR_FOREIGN and not constraint.skip_validation:
                if _key(table) in state.partitioned_tables and state.server_version < 180000:
                    return foreign_key_on_partitioned(table, constraint, state)
                return foreign_key_not_valid(table, constraint, state)
            if constraint.contype == ConstrType.CONSTR_UNIQUE and not constraint.indexname:
                return unique_via_index(table, constraint, state)
        if (
            cmd.subtype == AT.AT_SetNotNull
            and state.server_version >= 120000
            and not state.has_not_null_check(table, cmd.name)
        ):
            return set_not_null_via_check(table, cmd.name, state)
        if (
            cmd.subtype == AT.AT_AddColumn
            and fx.rewrites
            and column_default(cmd.def_) is not None
            and state.lock_model.volatility(column_default(cmd.def_)) in ("volatile", "unknown")
        ):
            return volatile_default(table, cmd.def_, state)
    return None


def in_steps(title: str, steps: list[list[Operation]], explanation: str, **notes) -> list[ChangePackage]:
    """One package per transaction; the explanation goes with the first."""
    count = len(steps)
    return [
        ChangePackage.of(
            f"{title} (step {i} of {count})" if count > 1 else title,
            ops,
            explanation if i == 1 else f"Step {i} of: {title}.",
            **(notes if i == 1 else {}),
        )
        for i, ops in enumerate(steps, 1)
    ]


# --- the five rewrites ---------------------------------------------------------------------------
def index_concurrently(node: ast.IndexStmt, state: LintState) -> list[ChangePackage]:
    table = qualified(node.relation)
    node.idxname = node.idxname or default_index_name(node.relation.relname, node, state.taken_names)
    node.concurrent = True
    schema = f"{node.relation.schemaname}." if node.relation.schemaname else ""
    op = RawSQL(
        deparse(node) + ";",
        reverse_text=f"DROP INDEX CONCURRENTLY IF EXISTS {schema}{ident(node.idxname)};",
        lock_=Lock("SHARE UPDATE EXCLUSIVE", table),
        transactional_=False,
        scans_=True,
    )
    return in_steps(
        f"Build index {node.idxname} CONCURRENTLY",
        [[op]],
        "CREATE INDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE instead of SHARE: writes go on during the "
        "build. It runs outside a transaction; if it fails, drop the INVALID index it leaves and rerun.",
    )


def foreign_key_not_valid(table: str, constraint: ast.Constraint, state: LintState) -> list[ChangePackage]:
    name = default_constraint_name(bare(table), constraint, state.taken_names)
    constraint.conname = name
    constraint.skip_validation = True
    constraint.initially_valid = False
    add = RawSQL(
        f"ALTER TABLE {qident(table)} ADD {deparse(constraint)};",
        reverse_text=DropConstraint(table, name).sql(),
        lock_=Lock("SHARE ROW EXCLUSIVE", f"{table}, {qualified(constraint.pktable)}"),
    )
    return in_steps(
        f"Add foreign key {name} NOT VALID, then validate",
        [[add], [ValidateConstraint(table, name)]],
        "ADD … NOT VALID takes SHARE ROW EXCLUSIVE for an instant and checks only new rows; VALIDATE "
        "scans under SHARE UPDATE EXCLUSIVE (ROW SHARE on the referenced table), so writes go on.",
    )


def foreign_key_on_partitioned(
    table: str, constraint: ast.Constraint, state: LintState
) -> list[ChangePackage]:
    """Before PostgreSQL 18 a partitioned table refuses ADD FOREIGN KEY … NOT VALID: there is no
    lock-light path on the parent. Add it as written, in its own step, and say so."""
    name = default_constraint_name(bare(table), constraint, state.taken_names)
    constraint.conname = name
    add = RawSQL(
        f"ALTER TABLE {qident(table)} ADD {deparse(constraint)};",
        reverse_text=DropConstraint(table, name).sql(),
        lock_=Lock("SHARE ROW EXCLUSIVE", f"{table}, {qualified(constraint.pktable)}"),
        scans_=True,
    )
    return in_steps(
        f"Add foreign key {name} to the partitioned table {table} (no NOT VALID path before PostgreSQL 18)",
        [[add]],
        'PostgreSQL before 18 cannot add a NOT VALID foreign key to a partitioned table ("cannot add NOT '
        'VALID foreign key on partitioned table"), so there is no safe rewrite: the ADD validates every '
        "partition while holding SHARE ROW EXCLUSIVE on them and on the referenced table. Run it when "
        "writes can wait, with lock_timeout set, or add the key to each partition NOT VALID and VALIDATE it "
        "there first, so the parent's ADD finds them and has less to check.",
    )


def set_not_null_steps(table: str, column: str, taken: set[str] | None = None) -> list[list[Operation]]:
    check = choose(bare(table), column, "not_null", taken or ())
    return [
        [AddCheck(table, check, f"{ident(column)} IS NOT NULL")],
        [ValidateConstraint(table, check)],
        [SetNotNull(table, column, proven_by_check=True), DropConstraint(table, check)],
    ]


def set_not_null_via_check(table: str, column: str, state: LintState) -> list[ChangePackage]:
    return in_steps(
        f"SET NOT NULL on {table}.{column} through a validated CHECK",
        set_not_null_steps(table, column, state.taken_names),
        "The CHECK is added NOT VALID (instant), validated under SHARE UPDATE EXCLUSIVE (writes go on), "
        "then SET NOT NULL uses it instead of scanning (PostgreSQL 12+), and the CHECK is dropped.",
    )


def volatile_default(table: str, column: ast.ColumnDef, state: LintState) -> list[ChangePackage]:
    default = column_default(column)
    default_sql = deparse(default)
    name, typ = column.colname, deparse(column.typeName)
    not_null = column.is_not_null or any(
        c.contype == ConstrType.CONSTR_NOTNULL for c in column.constraints or ()
    )
    t, c = qident(table), ident(name)
    steps: list[list[Operation]] = [
        [
            RawSQL(
                f"ALTER TABLE {t} ADD COLUMN {c} {typ};",
                reverse_text=f"ALTER TABLE {t} DROP COLUMN IF EXISTS {c};",
                lock_=Lock("ACCESS EXCLUSIVE", table),
            ),
            RawSQL(
                f"ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {default_sql};",
                reverse_text=f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;",
                lock_=Lock("ACCESS EXCLUSIVE", table),
            ),
        ],
        [
            RawSQL(
                backfill_sql(table, name, default_sql),
                lock_=Lock("ROW EXCLUSIVE", table),
                transactional_=False,
                scans_=True,
            )
        ],
    ]
    if not_null:
        steps += set_not_null_steps(table, name, state.taken_names)
    return in_steps(
        f"Add {table}.{name} without a rewrite, then backfill in batches",
        steps,
        "The column is added without a default (instant), the default is set for new rows (instant), and "
        f"existing rows are filled {BATCH_SIZE} at a time, each batch its own transaction, so no lock is held "
        "for long. For large tables prefer `dbwright backfill` (primary-key ranges, throttled, resumable)."
        + (" NOT NULL is then added through a validated CHECK." if not_null else ""),
        performance_notes=("the backfill writes a new version of every row: expect WAL and replica lag",),
    )


def backfill_sql(table: str, column: str, value_sql: str, batch_size: int = BATCH_SIZE) -> str:
    """A resumable batched backfill: each batch commits, and rows still NULL are the remaining work."""
    t, c = qident(table), ident(column)
    return (
        f"DO $backfill$\nDECLARE done bigint;\nBEGIN\n  LOOP\n"
        f"    UPDATE {t} SET {c} = {value_sql}\n"
        f"     WHERE ctid = ANY (ARRAY(SELECT ctid FROM {t} WHERE {c} IS NULL LIMIT {batch_size}));\n"
        f"    GET DIAGNOSTICS done = ROW_COUNT;\n    EXIT WHEN done = 0;\n    COMMIT;\n  END LOOP;\n"
        f"END\n$backfill$;"
    )


def unique_via_index(table: str, constraint: ast.Constraint, state: LintState) -> list[ChangePackage]:
    columns = [k.sval for k in constraint.keys]
    name = default_constraint_name(bare(table), constraint, state.taken_names)
    schema = table.rsplit(".", 1)[0] + "." if "." in table else ""
    cols = ", ".join(ident(col) for col in columns)
    index, timing = index_options(constraint)
    build = RawSQL(
        f"CREATE UNIQUE INDEX CONCURRENTLY {ident(name)} ON {qident(table)} ({cols}){index};",
        reverse_text=f"DROP INDEX CONCURRENTLY IF EXISTS {schema}{ident(name)};",
        lock_=Lock("SHARE UPDATE EXCLUSIVE", table),
        transactional_=False,
        scans_=True,
    )
    attach = RawSQL(
        f"ALTER TABLE {qident(table)} ADD CONSTRAINT {ident(name)} UNIQUE USING INDEX {ident(name)}{timing};",
        reverse_text=DropConstraint(table, name).sql(),
        lock_=Lock("ACCESS EXCLUSIVE", table),
    )
    return in_steps(
        f"Add UNIQUE {name} from an index built CONCURRENTLY",
        [[build], [attach]],
        "The unique index is built CONCURRENTLY (writes go on), then the constraint adopts it with a brief "
        "ACCESS EXCLUSIVE and no scan. NULLS NOT DISTINCT, INCLUDE and storage options go to the index, "
        "DEFERRABLE and INITIALLY DEFERRED to the constraint, as in the original statement.",
    )


def rollback_sql(packages: list[ChangePackage]) -> str:
    """The down script of a rewritten migration: each package's rollback, last package first."""
    return "\n".join(p.rollback_sql for p in reversed(packages) if p.rollback_sql)
