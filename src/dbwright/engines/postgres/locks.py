"""What each statement does to the tables it names: lock level, rewrite, scan, transaction.

The levels follow the PostgreSQL 15 docs ("Explicit Locking", and each command's page: ALTER
TABLE states the lock of every subcommand, ACCESS EXCLUSIVE where it says nothing). Each
modelled level is confirmed on a real server by tests/engines/postgres/test_locks_real.py, which
reads pg_locks for the statement's own backend. Version differences are modelled where they
change the answer: constant defaults stopped rewriting in 11, ATTACH PARTITION dropped to SHARE
UPDATE EXCLUSIVE on the parent in 12, DETACH … CONCURRENTLY appeared in 14.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType, DropBehavior, ObjectType, ReindexObjectType, TransactionStmtKind

from dbwright.engines.base import RelationLookup
from dbwright.engines.postgres.parse_tree import (
    column_constraints,
    column_default,
    dotted,
    qualified,
    subcommand_words,
)
from dbwright.engines.postgres.sqltypes import SqlType, rewrite_for_change, sql_type

NONE = "none"
UNKNOWN = "unknown"
ACCESS_SHARE = "ACCESS SHARE"
ROW_SHARE = "ROW SHARE"
ROW_EXCLUSIVE = "ROW EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"
SHARE = "SHARE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
EXCLUSIVE = "EXCLUSIVE"
ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"

#: Weakest to strongest, as in the "Conflicting Lock Modes" table.
LOCK_ORDER = (
    NONE,
    ACCESS_SHARE,
    ROW_SHARE,
    ROW_EXCLUSIVE,
    SHARE_UPDATE_EXCLUSIVE,
    SHARE,
    SHARE_ROW_EXCLUSIVE,
    EXCLUSIVE,
    ACCESS_EXCLUSIVE,
)
#: pg_locks spells modes as lock manager names.
PG_LOCKS_MODE = {
    "AccessShareLock": ACCESS_SHARE,
    "RowShareLock": ROW_SHARE,
    "RowExclusiveLock": ROW_EXCLUSIVE,
    "ShareUpdateExclusiveLock": SHARE_UPDATE_EXCLUSIVE,
    "ShareLock": SHARE,
    "ShareRowExclusiveLock": SHARE_ROW_EXCLUSIVE,
    "ExclusiveLock": EXCLUSIVE,
    "AccessExclusiveLock": ACCESS_EXCLUSIVE,
}
#: LOCK TABLE's mode numbers (lockdefs.h).
_LOCKMODE_NUMBER = {
    1: ACCESS_SHARE,
    2: ROW_SHARE,
    3: ROW_EXCLUSIVE,
    4: SHARE_UPDATE_EXCLUSIVE,
    5: SHARE,
    6: SHARE_ROW_EXCLUSIVE,
    7: EXCLUSIVE,
    8: ACCESS_EXCLUSIVE,
}
#: Modes that block ordinary writes (INSERT/UPDATE/DELETE take ROW EXCLUSIVE).
BLOCKS_WRITES = {SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE}


def strongest(*modes: str) -> str:
    known = [m for m in modes if m in LOCK_ORDER]
    if UNKNOWN in modes:
        return UNKNOWN
    return max(known, key=LOCK_ORDER.index) if known else NONE


def blocks_writes(mode: str) -> bool:
    return mode in BLOCKS_WRITES or mode == UNKNOWN


def blocks_reads(mode: str) -> bool:
    return mode in (ACCESS_EXCLUSIVE, UNKNOWN)


@dataclass
class Effects:
    """What one statement does; ``locks`` maps each named relation to the lock it takes."""

    kind: str
    locks: dict[str, str] = field(default_factory=dict)
    rewrites: bool = False
    scans: bool = False
    transactional: bool = True
    understood: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(self.locks)

    @property
    def lock(self) -> str:
        if not self.understood and not self.locks:
            return UNKNOWN
        return strongest(*self.locks.values()) if self.locks else NONE

    def take(self, relation: str, mode: str) -> None:
        self.locks[relation] = strongest(self.locks.get(relation, NONE), mode)


#: Known column types of existing tables, e.g. from earlier CREATE TABLE statements or a snapshot.
TypeLookup = Callable[[str, str], SqlType | None]


class _NoRelations:
    """Nothing known: an index's table and a foreign key's target stay unknown."""

    def index_table(self, index: str) -> str | None:
        return None

    def referenced_table(self, table: str, constraint: str) -> str | None:
        return None


NO_RELATIONS = _NoRelations()


# --- expressions -------------------------------------------------------------------------------
#: Built-ins evaluated once per statement (stable or immutable): a default of these does not rewrite.
NON_VOLATILE_FUNCTIONS = {
    "now",
    "current_timestamp",
    "transaction_timestamp",
    "statement_timestamp",
    "current_date",
    "lower",
    "upper",
    "length",
    "coalesce",
    "to_timestamp",
    "make_interval",
    "jsonb_build_object",
    "json_build_object",
    "array",
    "concat",
    "current_setting",
    "current_user",
    "session_user",
    "abs",
    "date_trunc",
    "md5",
}
#: Built-ins that return a new value per row: a default of these rewrites the whole table.
VOLATILE_FUNCTIONS = {
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "setseed",
    "txid_current",
    "pg_current_xact_id",
    "uuidv7",
    "uuid_generate_v7",
}


def volatility(expr) -> str:
    """'constant', 'stable' (once per statement), 'volatile', or 'unknown' (a function dbwright cannot judge)."""
    if expr is None or isinstance(expr, ast.A_Const):
        return "constant"
    if isinstance(expr, ast.TypeCast):
        return volatility(expr.arg)
    if isinstance(expr, ast.SQLValueFunction):
        return "stable"
    if isinstance(expr, ast.FuncCall):
        name = expr.funcname[-1].sval.lower()
        if name in VOLATILE_FUNCTIONS:
            return "volatile"
        inner = [volatility(a) for a in expr.args or ()]
        if name in NON_VOLATILE_FUNCTIONS:
            return _worst("stable", *inner)
        return _worst("unknown", *inner)
    if isinstance(expr, ast.A_Expr):
        return _worst(volatility(expr.lexpr), volatility(expr.rexpr))
    if isinstance(expr, ast.A_ArrayExpr | ast.RowExpr):
        return _worst(
            *(volatility(e) for e in (expr.elements if hasattr(expr, "elements") else expr.args) or ())
        )
    if isinstance(expr, ast.ColumnRef):
        return "unknown"
    return "unknown"


def _worst(*levels: str) -> str:
    order = ("constant", "stable", "unknown", "volatile")
    return max(levels or ("constant",), key=order.index)


def is_serial(column: ast.ColumnDef) -> bool:
    typ = sql_type(column.typeName)
    return bool(typ) and typ.name in ("serial", "bigserial", "smallserial", "serial4", "serial8", "serial2")


# --- the model ---------------------------------------------------------------------------------
def effects(
    node,
    server_version: int = 150000,
    types: TypeLookup | None = None,
    relations: RelationLookup | None = None,
) -> Effects:
    """The effects of one parsed statement (a pglast node) on the server version given; ``relations``
    names the table of an index and the target of a foreign key, when the migration or a snapshot knows."""
    handler = _HANDLERS.get(type(node).__name__)
    if handler is None:
        return Effects("Unknown", understood=False, notes=["dbwright does not model this kind of statement"])
    if handler in _NEEDS_RELATIONS:
        return handler(node, server_version, types or (lambda table, column: None), relations or NO_RELATIONS)
    return handler(node, server_version, types or (lambda table, column: None))


def _create_index(node: ast.IndexStmt, version: int, types) -> Effects:
    table = qualified(node.relation)
    fx = Effects("CreateIndex", scans=True, transactional=not node.concurrent)
    fx.take(table, SHARE_UPDATE_EXCLUSIVE if node.concurrent else SHARE)
    return fx


def _drop(node: ast.DropStmt, version: int, types, relations: RelationLookup) -> Effects:
    kind = node.removeType
    names = [
        dotted(obj) if isinstance(obj, tuple | list) else getattr(obj, "sval", str(obj))
        for obj in node.objects or ()
    ]
    relation_kinds = {
        ObjectType.OBJECT_TABLE: "DropTable",
        ObjectType.OBJECT_INDEX: "DropIndex",
        ObjectType.OBJECT_VIEW: "DropView",
        ObjectType.OBJECT_MATVIEW: "DropMaterializedView",
        ObjectType.OBJECT_SEQUENCE: "DropSequence",
        ObjectType.OBJECT_FOREIGN_TABLE: "DropForeignTable",
    }
    if kind in relation_kinds:
        fx = Effects(relation_kinds[kind], transactional=not node.concurrent)
        mode = SHARE_UPDATE_EXCLUSIVE if node.concurrent else ACCESS_EXCLUSIVE
        for name in names:
            if kind == ObjectType.OBJECT_INDEX:
                _lock_index_table(fx, name, mode, relations)
            fx.take(name, mode)
        if node.behavior == DropBehavior.DROP_CASCADE:
            fx.notes.append("CASCADE also drops dependent objects")
        return fx
    label = kind.name.removeprefix("OBJECT_").title().replace("_", "")
    if kind in (ObjectType.OBJECT_TRIGGER, ObjectType.OBJECT_RULE, ObjectType.OBJECT_POLICY):
        fx = Effects(f"Drop{label}")
        for obj in node.objects or ():
            parts = [n.sval for n in obj]
            fx.take(".".join(parts[:-1]), ACCESS_EXCLUSIVE)
        return fx
    simple = {
        ObjectType.OBJECT_FUNCTION,
        ObjectType.OBJECT_PROCEDURE,
        ObjectType.OBJECT_TYPE,
        ObjectType.OBJECT_DOMAIN,
        ObjectType.OBJECT_SCHEMA,
        ObjectType.OBJECT_EXTENSION,
        ObjectType.OBJECT_STATISTIC_EXT,
        ObjectType.OBJECT_AGGREGATE,
        ObjectType.OBJECT_COLLATION,
    }
    fx = Effects(f"Drop{label}", understood=kind in simple)
    if node.behavior == DropBehavior.DROP_CASCADE:
        fx.understood = False
        fx.notes.append("DROP … CASCADE may drop tables and columns that depend on it")
    return fx


def _lock_index_table(fx: Effects, index: str, mode: str, relations: RelationLookup) -> None:
    """An index is dropped or rebuilt under a lock on its table too: the table when known, else a note."""
    table = relations.index_table(index)
    if table:
        fx.take(table, mode)
    else:
        fx.notes.append(f"also takes {mode} on the table of {index} (not known offline)")


def _alter_table(node: ast.AlterTableStmt, version: int, types, relations: RelationLookup) -> Effects:
    table = qualified(node.relation)
    if node.objtype == ObjectType.OBJECT_INDEX:
        fx = Effects("AlterIndex")
        light = all(cmd.subtype in (AT.AT_SetRelOptions, AT.AT_ResetRelOptions) for cmd in node.cmds)
        fx.take(table, SHARE_UPDATE_EXCLUSIVE if light else ACCESS_EXCLUSIVE)
        return fx
    names = []
    fx = Effects("AlterTable")
    for cmd in node.cmds:
        names.append(_alter_table_cmd(fx, table, cmd, version, types, relations))
    fx.kind = "AlterTable:" + ",".join(dict.fromkeys(names))
    return fx


_SUE_RELOPTIONS = (
    "fillfactor",
    "autovacuum_",
    "toast.autovacuum_",
    "toast_tuple_target",
    "parallel_workers",
    "vacuum_",
    "toast.vacuum_",
    "log_autovacuum_min_duration",
    "user_catalog_table",
)


def _alter_table_cmd(  # noqa: C901
    fx: Effects, table: str, cmd: ast.AlterTableCmd, version: int, types, relations: RelationLookup
) -> str:
    sub = cmd.subtype
    name = sub.name.removeprefix("AT_")
    if sub == AT.AT_AddColumn:
        column: ast.ColumnDef = cmd.def_
        fx.take(table, ACCESS_EXCLUSIVE)
        default = column_default(column)
        generated = column_constraints(column, ConstrType.CONSTR_GENERATED)
        if generated:
            fx.rewrites = True
            fx.notes.append("a stored generated column computes every row: the table is rewritten")
        elif column_constraints(column, ConstrType.CONSTR_IDENTITY) or is_serial(column):
            fx.rewrites = True
            fx.notes.append(
                "an identity or serial column fills every row from a sequence: the table is rewritten"
            )
        elif default is not None:
            level = volatility(default)
            if version < 110000:
                fx.rewrites = True
                fx.notes.append("before PostgreSQL 11 any default rewrites the table")
            elif level in ("volatile", "unknown"):
                fx.rewrites = True
                fx.notes.append(
                    "a volatile default is computed per row: the table is rewritten"
                    if level == "volatile"
                    else "the default calls a function of unknown volatility: a rewrite is assumed"
                )
        for constraint in column.constraints or ():
            _constraint_effects(fx, table, constraint, version, on_new_column=True)
        return name
    if sub == AT.AT_AlterColumnType:
        column = cmd.def_
        fx.take(table, ACCESS_EXCLUSIVE)
        new = sql_type(column.typeName)
        rewrites, why = rewrite_for_change(types(table, cmd.name), new, column.raw_default is not None)
        fx.rewrites = fx.rewrites or rewrites
        fx.notes.append(why)
        return name
    if sub == AT.AT_SetNotNull:
        fx.take(table, ACCESS_EXCLUSIVE)
        fx.scans = True
        return name
    if sub == AT.AT_AddConstraint:
        _constraint_effects(fx, table, cmd.def_, version, on_new_column=False)
        return f"AddConstraint:{cmd.def_.contype.name.removeprefix('CONSTR_').title()}"
    if sub == AT.AT_ValidateConstraint:
        fx.take(table, SHARE_UPDATE_EXCLUSIVE)
        referenced = relations.referenced_table(table, cmd.name)
        if referenced:  # validating a foreign key reads the referenced table under ROW SHARE
            fx.take(referenced, ROW_SHARE)
        fx.scans = True
        return name
    if sub in (AT.AT_SetStatistics, AT.AT_SetOptions, AT.AT_ResetOptions, AT.AT_ClusterOn, AT.AT_DropCluster):
        fx.take(table, SHARE_UPDATE_EXCLUSIVE)
        return name
    if sub in (AT.AT_SetRelOptions, AT.AT_ResetRelOptions):
        options = [d.defname if not d.defnamespace else f"{d.defnamespace}.{d.defname}" for d in cmd.def_]
        light = all(opt.startswith(_SUE_RELOPTIONS) for opt in options)
        fx.take(table, SHARE_UPDATE_EXCLUSIVE if light else ACCESS_EXCLUSIVE)
        return name
    if sub.name.startswith(
        ("AT_EnableTrig", "AT_DisableTrig", "AT_EnableAlwaysTrig", "AT_EnableReplicaTrig")
    ):
        fx.take(table, SHARE_ROW_EXCLUSIVE)
        return name
    if sub == AT.AT_AttachPartition:
        fx.take(table, SHARE_UPDATE_EXCLUSIVE if version >= 120000 else ACCESS_EXCLUSIVE)
        fx.take(qualified(cmd.def_.name), ACCESS_EXCLUSIVE)
        fx.scans = True
        fx.notes.append(
            "the partition is scanned to prove its rows fit the bound, unless a validated CHECK "
            "constraint already proves it"
        )
        return name
    if sub == AT.AT_DetachPartition:
        concurrent = bool(cmd.def_.concurrent)
        fx.take(table, SHARE_UPDATE_EXCLUSIVE if concurrent else ACCESS_EXCLUSIVE)
        # CONCURRENTLY's second transaction still takes ACCESS EXCLUSIVE on the partition itself.
        fx.take(qualified(cmd.def_.name), ACCESS_EXCLUSIVE)
        if concurrent:
            fx.transactional = False
        return name + ("Concurrently" if concurrent else "")
    if sub in (AT.AT_SetTableSpace, AT.AT_SetLogged, AT.AT_SetUnLogged):
        fx.take(table, ACCESS_EXCLUSIVE)
        fx.rewrites = True
        return name
    documented_access_exclusive = {
        AT.AT_DropColumn,
        AT.AT_ColumnDefault,
        AT.AT_DropNotNull,
        AT.AT_DropConstraint,
        AT.AT_SetStorage,
        AT.AT_SetCompression,
        AT.AT_AddIdentity,
        AT.AT_SetIdentity,
        AT.AT_DropIdentity,
        AT.AT_ChangeOwner,
        AT.AT_EnableRowSecurity,
        AT.AT_DisableRowSecurity,
        AT.AT_ForceRowSecurity,
        AT.AT_NoForceRowSecurity,
        AT.AT_ReplicaIdentity,
        AT.AT_AddInherit,
        AT.AT_DropInherit,
        AT.AT_DropExpression,
        AT.AT_SetAccessMethod,
        AT.AT_EnableRule,
        AT.AT_DisableRule,
        AT.AT_AddOf,
        AT.AT_DropOf,
    }
    fx.take(table, ACCESS_EXCLUSIVE)
    if sub == AT.AT_SetAccessMethod:
        fx.rewrites = True
    if sub not in documented_access_exclusive:
        fx.understood = False
        fx.notes.append(
            f"dbwright does not model ALTER TABLE … {subcommand_words(sub)}; ACCESS EXCLUSIVE assumed "
            "(the docs' default)"
        )
    return name


def _constraint_effects(
    fx: Effects, table: str, constraint: ast.Constraint, version: int, *, on_new_column: bool
) -> None:
    kind = constraint.contype
    validated = not constraint.skip_validation
    if kind == ConstrType.CONSTR_FOREIGN:
        fx.take(table, SHARE_ROW_EXCLUSIVE)
        fx.take(qualified(constraint.pktable), SHARE_ROW_EXCLUSIVE)
        fx.scans = fx.scans or (validated and not on_new_column)
    elif kind == ConstrType.CONSTR_CHECK:
        fx.take(table, ACCESS_EXCLUSIVE)
        fx.scans = fx.scans or validated
    elif kind in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_EXCLUSION):
        fx.take(table, ACCESS_EXCLUSIVE)
        if not constraint.indexname:
            fx.scans = True
            fx.notes.append("builds its index under ACCESS EXCLUSIVE")
        if kind == ConstrType.CONSTR_PRIMARY and not on_new_column:
            fx.scans = True  # columns become NOT NULL, proven by a scan
    elif kind in (
        ConstrType.CONSTR_NOTNULL,
        ConstrType.CONSTR_NULL,
        ConstrType.CONSTR_DEFAULT,
        ConstrType.CONSTR_GENERATED,
        ConstrType.CONSTR_IDENTITY,
    ):
        fx.take(table, ACCESS_EXCLUSIVE)
    else:
        fx.take(table, ACCESS_EXCLUSIVE)


def _rename(node: ast.RenameStmt, version: int, types) -> Effects:
    what = node.renameType
    if node.relation is None:
        understood = what in (
            ObjectType.OBJECT_TYPE,
            ObjectType.OBJECT_SCHEMA,
            ObjectType.OBJECT_FUNCTION,
            ObjectType.OBJECT_ATTRIBUTE,
            ObjectType.OBJECT_DOMAIN,
        )
        return Effects(
            f"Rename{what.name.removeprefix('OBJECT_').title().replace('_', '')}", understood=understood
        )
    relation = qualified(node.relation)
    label = {
        ObjectType.OBJECT_COLUMN: "RenameColumn",
        ObjectType.OBJECT_TABLE: "RenameTable",
        ObjectType.OBJECT_INDEX: "RenameIndex",
        ObjectType.OBJECT_TABCONSTRAINT: "RenameConstraint",
        ObjectType.OBJECT_VIEW: "RenameView",
        ObjectType.OBJECT_MATVIEW: "RenameMaterializedView",
        ObjectType.OBJECT_SEQUENCE: "RenameSequence",
        ObjectType.OBJECT_TRIGGER: "RenameTrigger",
    }
    fx = Effects(label.get(what, "Rename"), understood=what in label)
    light = what == ObjectType.OBJECT_INDEX and version >= 120000
    fx.take(relation, SHARE_UPDATE_EXCLUSIVE if light else ACCESS_EXCLUSIVE)
    return fx


def _vacuum(node: ast.VacuumStmt, version: int, types) -> Effects:
    options = {o.defname.lower() for o in node.options or ()}
    full = "full" in options
    kind = ("VacuumFull" if full else "Vacuum") if node.is_vacuumcmd else "Analyze"
    fx = Effects(kind, scans=True, rewrites=full, transactional=not node.is_vacuumcmd)
    for rel in node.rels or ():
        fx.take(qualified(rel.relation), ACCESS_EXCLUSIVE if full else SHARE_UPDATE_EXCLUSIVE)
    if not node.rels:
        fx.notes.append("every table in the database")
    return fx


def _cluster(node: ast.ClusterStmt, version: int, types) -> Effects:
    fx = Effects("Cluster", rewrites=True, scans=True, transactional=node.relation is not None)
    if node.relation is not None:
        fx.take(qualified(node.relation), ACCESS_EXCLUSIVE)
    return fx


def _reindex(node: ast.ReindexStmt, version: int, types, relations: RelationLookup) -> Effects:
    """REINDEX TABLE: SHARE on the table (each index ACCESS EXCLUSIVE); REINDEX INDEX: ACCESS EXCLUSIVE
    on the index and SHARE on its table; CONCURRENTLY: SHARE UPDATE EXCLUSIVE on both."""
    concurrent = any(p.defname == "concurrently" for p in node.params or ())
    fx = Effects("Reindex", scans=True, transactional=not concurrent)
    if node.relation is not None:
        name = qualified(node.relation)
        if node.kind == ReindexObjectType.REINDEX_OBJECT_TABLE:
            fx.take(name, SHARE_UPDATE_EXCLUSIVE if concurrent else SHARE)
        else:
            _lock_index_table(fx, name, SHARE_UPDATE_EXCLUSIVE if concurrent else SHARE, relations)
            fx.take(name, SHARE_UPDATE_EXCLUSIVE if concurrent else ACCESS_EXCLUSIVE)
    else:
        fx.transactional = False
        fx.understood = False
        fx.notes.append("REINDEX of a whole schema or database")
    return fx


def _truncate(node: ast.TruncateStmt, version: int, types) -> Effects:
    fx = Effects("Truncate", rewrites=True)
    for rel in node.relations:
        fx.take(qualified(rel), ACCESS_EXCLUSIVE)
    if node.behavior == DropBehavior.DROP_CASCADE:
        fx.notes.append("CASCADE also empties every table that references these, and theirs in turn")
    return fx


def _alter_sequence(node: ast.AlterSeqStmt, version: int, types) -> Effects:
    """ALTER SEQUENCE takes SHARE ROW EXCLUSIVE on the sequence: nextval() waits, readers do not."""
    fx = Effects("AlterSequence")
    fx.take(qualified(node.sequence), SHARE_ROW_EXCLUSIVE)
    return fx


def _create_rule(node: ast.RuleStmt, version: int, types) -> Effects:
    fx = Effects("CreateRule")
    fx.take(qualified(node.relation), ACCESS_EXCLUSIVE)
    return fx


def _create_trigger(node: ast.CreateTrigStmt, version: int, types) -> Effects:
    fx = Effects("CreateTrigger")
    fx.take(qualified(node.relation), SHARE_ROW_EXCLUSIVE)
    return fx


def _refresh(node: ast.RefreshMatViewStmt, version: int, types) -> Effects:
    fx = Effects("RefreshMaterializedView", scans=True, rewrites=not node.concurrent)
    fx.take(qualified(node.relation), EXCLUSIVE if node.concurrent else ACCESS_EXCLUSIVE)
    return fx


def _dml(kind: str):
    def handler(node, version: int, types) -> Effects:
        fx = Effects(kind)
        relation = getattr(node, "relation", None)
        if relation is not None:
            fx.take(qualified(relation), ROW_EXCLUSIVE)
        where = getattr(node, "whereClause", None)
        fx.scans = kind in ("Update", "Delete") and where is None
        return fx

    return handler


def _select(node, version: int, types) -> Effects:
    fx = Effects("Select")
    if getattr(node, "intoClause", None) is not None:
        fx.kind = "SelectInto"
    for item in node.fromClause or ():
        if isinstance(item, ast.RangeVar):
            fx.take(qualified(item), ACCESS_SHARE)
    return fx


def _copy(node: ast.CopyStmt, version: int, types) -> Effects:
    """COPY FROM writes rows (ROW EXCLUSIVE, as INSERT); COPY TO reads them (ACCESS SHARE)."""
    fx = Effects("CopyFrom" if node.is_from else "CopyTo", scans=not node.is_from)
    if node.relation is not None:
        fx.take(qualified(node.relation), ROW_EXCLUSIVE if node.is_from else ACCESS_SHARE)
    return fx


def _create_table_as(node: ast.CreateTableAsStmt, version: int, types) -> Effects:
    """CREATE TABLE … AS reads its query's tables (ACCESS SHARE); the new table is its own."""
    fx = _select(node.query, version, types) if isinstance(node.query, ast.SelectStmt) else Effects("")
    fx.kind = "CreateTableAs"
    return fx


def _lock(node: ast.LockStmt, version: int, types) -> Effects:
    fx = Effects("LockTable")
    for rel in node.relations:
        fx.take(qualified(rel), _LOCKMODE_NUMBER.get(node.mode, ACCESS_EXCLUSIVE))
    return fx


def _create_table(node: ast.CreateStmt, version: int, types) -> Effects:
    fx = Effects("CreateTable")
    for parent in node.inhRelations or ():
        # PARTITION OF locks the parent ACCESS EXCLUSIVE; INHERITS takes SHARE UPDATE EXCLUSIVE.
        fx.take(qualified(parent), ACCESS_EXCLUSIVE if node.partbound is not None else SHARE_UPDATE_EXCLUSIVE)
    if node.partbound is not None:
        fx.kind = "CreateTable:PartitionOf"
    for element in node.tableElts or ():
        constraints = element.constraints if isinstance(element, ast.ColumnDef) else [element]
        for constraint in constraints or ():
            if isinstance(constraint, ast.Constraint) and constraint.contype == ConstrType.CONSTR_FOREIGN:
                fx.take(qualified(constraint.pktable), SHARE_ROW_EXCLUSIVE)
    return fx


def _transaction(node: ast.TransactionStmt, version: int, types) -> Effects:
    kind = TransactionStmtKind(node.kind).name.removeprefix("TRANS_STMT_").title()
    return Effects(f"Transaction:{kind}")


def _alter_enum(node: ast.AlterEnumStmt, version: int, types) -> Effects:
    if node.oldVal:
        return Effects("AlterEnum:RenameValue")
    return Effects("AlterEnum:AddValue", transactional=version >= 120000)


def _do(node: ast.DoStmt) -> Effects:
    """A DO block: its locks are not modelled; one that COMMITs (a batched backfill) cannot run
    inside a transaction block, so it is a step of its own."""
    return Effects(
        "Do",
        understood=False,
        transactional=not _commits(node),
        notes=["dbwright does not see the locks a DO block takes"],
    )


def _commits(node: ast.DoStmt) -> bool:
    """Whether a plpgsql DO body runs COMMIT or ROLLBACK, read from plpgsql's own parse tree."""
    import json

    import pglast

    options = {item.defname: item.arg for item in node.args or ()}
    language = getattr(options.get("language"), "sval", "plpgsql")
    body = getattr(options.get("as"), "sval", None)
    if language != "plpgsql" or body is None:
        return False
    try:
        tree = pglast.parse_plpgsql(
            f"CREATE FUNCTION dbwright_do() RETURNS void LANGUAGE plpgsql AS $dbwright_do${body}$dbwright_do$"
        )
    except Exception:  # a body plpgsql cannot parse: the server will say so when it runs
        return False
    text = json.dumps(tree)
    return '"PLpgSQL_stmt_commit"' in text or '"PLpgSQL_stmt_rollback"' in text


def _simple(kind: str, *, transactional: bool = True):
    return lambda node, version, types: Effects(kind, transactional=transactional)


def _view(node: ast.ViewStmt, version: int, types) -> Effects:
    fx = Effects("CreateView")
    if node.replace:
        fx.take(qualified(node.view), ACCESS_EXCLUSIVE)
    return fx


def _comment(node: ast.CommentStmt, version: int, types) -> Effects:
    fx = Effects("Comment")
    if node.objtype in (
        ObjectType.OBJECT_TABLE,
        ObjectType.OBJECT_INDEX,
        ObjectType.OBJECT_VIEW,
        ObjectType.OBJECT_MATVIEW,
        ObjectType.OBJECT_SEQUENCE,
    ):
        fx.take(dotted(node.object), SHARE_UPDATE_EXCLUSIVE)
    elif node.objtype == ObjectType.OBJECT_COLUMN:
        fx.take(".".join(n.sval for n in node.object[:-1]), SHARE_UPDATE_EXCLUSIVE)
    return fx


def _create_stats(node: ast.CreateStatsStmt, version: int, types) -> Effects:
    fx = Effects("CreateStatistics")
    for rel in node.relations or ():
        if isinstance(rel, ast.RangeVar):
            fx.take(qualified(rel), SHARE_UPDATE_EXCLUSIVE)
    return fx


_HANDLERS: dict[str, Callable[..., Effects]] = {
    "IndexStmt": _create_index,
    "DropStmt": _drop,
    "AlterTableStmt": _alter_table,
    "RenameStmt": _rename,
    "VacuumStmt": _vacuum,
    "ClusterStmt": _cluster,
    "ReindexStmt": _reindex,
    "TruncateStmt": _truncate,
    "CreateTrigStmt": _create_trigger,
    "RuleStmt": _create_rule,
    "ConstraintsSetStmt": _simple("SetConstraints"),
    "RefreshMatViewStmt": _refresh,
    "UpdateStmt": _dml("Update"),
    "DeleteStmt": _dml("Delete"),
    "InsertStmt": _dml("Insert"),
    "SelectStmt": _select,
    "LockStmt": _lock,
    "CopyStmt": _copy,
    "CreateStmt": _create_table,
    "TransactionStmt": _transaction,
    "AlterEnumStmt": _alter_enum,
    "ViewStmt": _view,
    "CommentStmt": _comment,
    "CreateStatsStmt": _create_stats,
    "VariableSetStmt": _simple("Set"),
    "CreateEnumStmt": _simple("CreateEnum"),
    "CreateFunctionStmt": _simple("CreateFunction"),
    "CreateSchemaStmt": _simple("CreateSchema"),
    "CreateSeqStmt": _simple("CreateSequence"),
    "AlterSeqStmt": _alter_sequence,
    "CompositeTypeStmt": _simple("CreateType"),
    "CreateDomainStmt": _simple("CreateDomain"),
    "CreateExtensionStmt": _simple("CreateExtension"),
    # CREATE AGGREGATE, OPERATOR, COLLATION, TEXT SEARCH …, base TYPE: catalog objects, no table lock
    "DefineStmt": _simple("Define"),
    "AlterTSConfigurationStmt": _simple("AlterTextSearchConfiguration"),
    "GrantStmt": _simple("Grant"),
    "GrantRoleStmt": _simple("GrantRole"),
    "CreateRoleStmt": _simple("CreateRole"),
    "AlterOwnerStmt": _simple("AlterOwner"),
    "CreateTableAsStmt": _create_table_as,
    "AlterSystemStmt": _simple("AlterSystem", transactional=False),
    "CreatedbStmt": _simple("CreateDatabase", transactional=False),
    "DropdbStmt": _simple("DropDatabase", transactional=False),
    "VariableShowStmt": _simple("Show"),
    "DoStmt": lambda node, version, types: _do(node),
}
#: Handlers that also ask which table an index belongs to, or which table a foreign key references.
_NEEDS_RELATIONS = {_drop, _alter_table, _reindex}
