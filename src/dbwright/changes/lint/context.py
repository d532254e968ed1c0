"""What lint remembers between statements and between the files of one migration directory.

Tables created earlier in the migration are new: nobody else uses them yet, so their locks
cost nothing. Transaction blocks, ``SET lock_timeout``/``statement_timeout`` and enum values
added in the open transaction change what later statements mean.

What each statement locks, and the column type facts behind it, are the engine's lock model
(``Engine.lock_model()``); the state holds the one for the server linted for, PostgreSQL's by
default (the lint is offline, so no server is asked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType, ObjectType, TransactionStmtKind
from pglast.visitors import Visitor

from dbwright.changes.lint.names import default_constraint_name, default_index_name
from dbwright.changes.lint.psql import CONNECT
from dbwright.engines.base import ColumnType, Engine, LockModel
from dbwright.engines.postgres.parse_tree import dotted, qualified
from dbwright.engines.registry import default_engine
from dbwright.errors import RefusedError

_NOT_NULL_CHECK = re.compile(r'CHECK \(\(?"?([^\s"()]+)"? IS NOT NULL\)?\)')


@dataclass(frozen=True)
class HeldLock:
    """A lock the open transaction holds until COMMIT: on which table, in which mode, taken where."""

    table: str
    mode: str
    line: int
    file: str | None


def lock_model_of(engine: Engine | None = None) -> LockModel:
    """The lock model of ``engine`` (the default engine when None); RefusedError when it has none."""
    engine = engine or default_engine()
    model = engine.lock_model()
    if model is None:
        raise RefusedError(f"the {engine.name} engine does not support a lock model: cannot lint for it")
    return model


def bare(table: str) -> str:
    """A table's own name, without its schema (constraint names are built from it)."""
    return table.rsplit(".", 1)[-1].strip('"')


def _key(name: str) -> str:
    return name.lower().removeprefix("public.")


def _name(schema: str, relation: str) -> str:
    """A relation as migration SQL usually writes it: unqualified in public, else schema.relation."""
    return relation if schema == "public" else f"{schema}.{relation}"


@dataclass
class LintState:
    """Carried across statements of a file and across the files of a directory (see lint_files).

    Each file is one migration. A table created in this file is new (no lock warnings). A table
    created by an earlier file counts as existing, since that migration may have run long ago,
    unless ``earlier_files_unapplied`` says the files are deployed together. Column types and
    validated checks always carry over.

    ``timeouts_set_by_runner``: the runner (``dbwright migrate apply``) sets lock_timeout and
    statement_timeout itself, so the rules for missing timeouts stay quiet. ``lock_model`` is the
    engine's model of what statements lock (see ``lock_model_of``).
    """

    server_version: int = 150000
    timeouts_set_by_runner: bool = False
    earlier_files_unapplied: bool = False
    filename: str | None = None
    created_tables: set[str] = field(default_factory=set)
    earlier_tables: set[str] = field(default_factory=set)
    column_types: dict[tuple[str, str], ColumnType] = field(default_factory=dict)
    #: (table, column) proven NOT NULL by a validated CHECK (col IS NOT NULL).
    not_null_checks: set[tuple[str, str]] = field(default_factory=set)
    #: (table, constraint) -> column, for CHECK (col IS NOT NULL) NOT VALID awaiting VALIDATE.
    pending_not_null_checks: dict[tuple[str, str], str] = field(default_factory=dict)
    in_transaction_block: bool = False
    #: The line of the file's own BEGIN that is still open (None: no transaction, or the runner's).
    transaction_began_at: int | None = None
    #: The first statement of the file that ran on its own (outside a transaction) and would fail if
    #: the file is run again (a CREATE without IF NOT EXISTS …): its line.
    unguarded_ddl_line: int | None = None
    #: The file names a table with its schema somewhere: it expects schemas.
    schemas_named: bool = False
    #: Constraint and index names in use (the snapshot's and those the migration created), lower
    #: case: a rewrite that names an unnamed constraint picks the name PostgreSQL would (names.py).
    taken_names: set[str] = field(default_factory=set)
    #: Partitioned tables (from the snapshot or CREATE TABLE … PARTITION BY), keyed like column_types.
    partitioned_tables: set[str] = field(default_factory=set)
    #: Each file runs as one transaction (a runner wraps it: Django's and Rails' atomic migrations,
    #: synapse's delta runner), as if it began with BEGIN.
    atomic_files: bool = False
    #: psql's AUTOCOMMIT (``\\set AUTOCOMMIT off``: psql itself sends BEGIN before the next statement).
    psql_autocommit: bool = True
    #: table -> the strongest lock the open transaction holds on it, until COMMIT or ROLLBACK.
    transaction_locks: dict[str, HeldLock] = field(default_factory=dict)
    #: (table, constraint) -> line, for constraints added NOT VALID in the open transaction.
    not_valid_in_transaction: dict[tuple[str, str], int] = field(default_factory=dict)
    lock_timeout_set: bool = False
    statement_timeout_set: bool = False
    #: enum value -> enum type, added in the open transaction (or file).
    enum_values_added: dict[str, str] = field(default_factory=dict)
    enums_created: set[str] = field(default_factory=set)
    warned_once: set[str] = field(default_factory=set)
    #: index -> its table, and (table, constraint) -> the table a foreign key references: what the lock
    #: model needs for DROP INDEX, REINDEX and VALIDATE CONSTRAINT (from the migration and a snapshot).
    index_tables: dict[str, str] = field(default_factory=dict)
    foreign_keys: dict[tuple[str, str], str] = field(default_factory=dict)
    #: From a snapshot: each table's row estimate (reltuples) and its columns' null_frac and n_distinct,
    #: to judge how many rows an UPDATE or DELETE touches (rows.py).
    row_estimates: dict[str, float] = field(default_factory=dict)
    column_stats: dict[tuple[str, str], tuple[float | None, float | None]] = field(default_factory=dict)
    #: (table, column) added in this migration without a default: every existing row holds NULL there.
    columns_added: set[tuple[str, str]] = field(default_factory=set)
    lock_model: LockModel = field(default_factory=lock_model_of, repr=False, compare=False)
    #: The line of the statement ``observe`` is handling (where a NOT VALID constraint was added).
    observed_line: int = field(default=0, repr=False, compare=False)

    # --- queries the rules ask ---------------------------------------------------------------
    def is_new(self, table: str) -> bool:
        key = _key(table)
        return key in self.created_tables or (self.earlier_files_unapplied and key in self.earlier_tables)

    def all_new(self, tables) -> bool:
        return bool(tables) and all(self.is_new(t) for t in tables)

    def column_type(self, table: str, column: str) -> ColumnType | None:
        return self.column_types.get((_key(table), column.lower()))

    def table_rows(self, table: str) -> float | None:
        """The table's row estimate from the snapshot; None when unknown (no snapshot, never analyzed)."""
        return self.row_estimates.get(_key(table))

    def null_frac(self, table: str, column: str) -> float | None:
        return self.column_stats.get((_key(table), column.lower()), (None, None))[0]

    def n_distinct(self, table: str, column: str) -> float | None:
        return self.column_stats.get((_key(table), column.lower()), (None, None))[1]

    def added_in_migration(self, table: str, column: str) -> bool:
        return (_key(table), column.lower()) in self.columns_added

    def index_table(self, index: str) -> str | None:
        return self.index_tables.get(_key(index))

    def referenced_table(self, table: str, constraint: str) -> str | None:
        return self.foreign_keys.get((_key(table), constraint.lower()))

    def has_not_null_check(self, table: str, column: str) -> bool:
        return (_key(table), column.lower()) in self.not_null_checks

    def once(self, code: str) -> bool:
        """True the first time ``code`` asks in this file: file-level advice is given once."""
        if code in self.warned_once:
            return False
        self.warned_once.add(code)
        return True

    @classmethod
    def from_snapshot(cls, snapshot, **options) -> LintState:
        """A state that knows the live schema's column types and NOT NULL-proving checks."""
        state = cls(server_version=snapshot.server.version_num, **options)
        for column in snapshot.columns:
            typ = state.lock_model.catalog_type(column.type_name, column.data_type)
            state.column_types[(_key(f"{column.schema}.{column.table}"), column.name.lower())] = typ
            state.column_types.setdefault((column.table.lower(), column.name.lower()), typ)
        for table in snapshot.tables:
            if table.row_estimate >= 0:  # -1: never vacuumed or analyzed
                for name in (f"{table.schema}.{table.name}", table.name):
                    state.row_estimates.setdefault(_key(name), table.row_estimate)
        for column in snapshot.columns:
            if column.stats is not None:
                stats = (column.stats.null_frac, column.stats.n_distinct)
                for name in (f"{column.schema}.{column.table}", column.table):
                    state.column_stats.setdefault((_key(name), column.name.lower()), stats)
        state.taken_names |= {c.name.lower() for c in snapshot.constraints}
        state.taken_names |= {i.name.lower() for i in snapshot.indexes}
        for table in snapshot.tables:
            if table.kind == "p":
                state.partitioned_tables |= {_key(f"{table.schema}.{table.name}"), _key(table.name)}
        for index in snapshot.indexes:
            state.index_tables[_key(f"{index.schema}.{index.name}")] = _name(index.schema, index.table)
            state.index_tables.setdefault(index.name.lower(), _name(index.schema, index.table))
        for constraint in snapshot.constraints:
            if constraint.type == "f" and constraint.ref_table:
                target = _name(constraint.ref_schema or "public", constraint.ref_table)
                for table in (f"{constraint.schema}.{constraint.table}", constraint.table):
                    state.foreign_keys[(_key(table), constraint.name.lower())] = target
            match = _NOT_NULL_CHECK.fullmatch(constraint.definition)
            if constraint.type == "c" and constraint.validated and match:
                for table in (f"{constraint.schema}.{constraint.table}", constraint.table):
                    state.not_null_checks.add((_key(table), match[1].lower()))
        return state

    # --- bookkeeping -------------------------------------------------------------------------
    def start_file(self, filename: str | None) -> None:
        """A new migration file: a new session and transaction, the same schema history."""
        self.filename = filename
        self.earlier_tables |= self.created_tables
        self.created_tables.clear()
        self.columns_added.clear()
        self.in_transaction_block = self.atomic_files
        self.transaction_began_at = None
        self.unguarded_ddl_line = None
        self.schemas_named = False
        self.transaction_locks.clear()
        self.not_valid_in_transaction.clear()
        self.lock_timeout_set = self.statement_timeout_set = False
        self.enum_values_added.clear()
        self.enums_created.clear()
        self.warned_once.clear()

    def start_migration(self) -> None:
        """A new migration inside the same file (Alembic's offline SQL holds one per revision)."""
        self.earlier_tables |= self.created_tables
        self.created_tables.clear()
        self.warned_once.clear()

    def observe_psql(self, command) -> None:
        """After a psql meta-command: ``\\connect`` opens a new session (no transaction, no settings)."""
        if command.name == "set" and command.argument.split()[:1] == ["AUTOCOMMIT"]:
            value = (command.argument.split()[1:] or ["on"])[0].strip("'").lower()
            self.psql_autocommit = value not in ("off", "false", "0", "no")
        if command.name in CONNECT:
            self.in_transaction_block = False
            self.transaction_locks.clear()
            self.not_valid_in_transaction.clear()
            self.lock_timeout_set = self.statement_timeout_set = False
            self.enum_values_added.clear()

    def enter(self, node) -> None:
        """Before ``node`` runs: with psql's AUTOCOMMIT off, psql opens a transaction for it."""
        if (
            not self.psql_autocommit
            and not self.in_transaction_block
            and not isinstance(node, ast.TransactionStmt)
        ):
            self.in_transaction_block = True

    def held_locks(self) -> dict[str, HeldLock]:
        """What the open transaction holds now (nothing between transactions)."""
        return dict(self.transaction_locks)

    def hold(self, effects, line: int, file: str | None) -> None:
        """After a statement ran (and ``observe`` saw it): inside a transaction its locks are held to
        COMMIT, stronger modes replacing weaker; outside one they ended with the statement."""
        if not self.in_transaction_block:
            self.transaction_locks.clear()
            self.not_valid_in_transaction.clear()
            return
        for table, mode in effects.locks.items():
            key = _key(table)
            held = self.transaction_locks.get(key)
            if held is None or self.lock_model.strongest(held.mode, mode) != held.mode:
                self.transaction_locks[key] = HeldLock(table, mode, line, file)

    def observe(self, node, line: int = 0) -> None:
        """Update the state after ``node`` (at ``line`` of its file) ran."""
        self.observed_line = line
        relation = getattr(node, "relation", None)
        if isinstance(relation, ast.RangeVar) and relation.schemaname:
            self.schemas_named = True
        handler = getattr(self, f"_after_{type(node).__name__}", None)
        if handler is not None:
            handler(node)

    def _after_TransactionStmt(self, node: ast.TransactionStmt) -> None:
        kind = TransactionStmtKind(node.kind)
        if kind in (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START):
            if not self.in_transaction_block:
                self.transaction_began_at = self.observed_line
            self.in_transaction_block = True
        elif kind in (
            TransactionStmtKind.TRANS_STMT_COMMIT,
            TransactionStmtKind.TRANS_STMT_ROLLBACK,
            TransactionStmtKind.TRANS_STMT_COMMIT_PREPARED,
            TransactionStmtKind.TRANS_STMT_PREPARE,
        ):
            self.in_transaction_block = False
            self.transaction_began_at = None
            self.enum_values_added.clear()
            self.enums_created.clear()

    def _after_VariableSetStmt(self, node: ast.VariableSetStmt) -> None:
        name = (node.name or "").lower()
        value = _setting_value(node)
        enabled = value not in (None, "0", "0s", "0ms", "default")
        if name == "lock_timeout":
            self.lock_timeout_set = enabled
        elif name == "statement_timeout":
            self.statement_timeout_set = enabled

    def _after_CreateStmt(self, node: ast.CreateStmt) -> None:
        table = qualified(node.relation)
        self.created_tables.add(_key(table))
        if node.partspec is not None:
            self.partitioned_tables.add(_key(table))
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                self._remember_column(table, element)
                for constraint in element.constraints or ():
                    self._take_name(table, constraint, element.colname)
                    self._remember_constraint(table, constraint)
            elif isinstance(element, ast.Constraint):
                self._take_name(table, element)
                self._remember_constraint(table, element)

    def _take_name(self, table: str, constraint, column: str | None = None) -> None:
        """Record the name a constraint got (its own, or the one PostgreSQL chose for it)."""
        kinds = (
            ConstrType.CONSTR_CHECK,
            ConstrType.CONSTR_FOREIGN,
            ConstrType.CONSTR_PRIMARY,
            ConstrType.CONSTR_UNIQUE,
            ConstrType.CONSTR_EXCLUSION,
        )
        if isinstance(constraint, ast.Constraint) and constraint.contype in kinds:
            name = default_constraint_name(bare(table), constraint, self.taken_names, column)
            self.taken_names.add(name.lower())

    def _after_IndexStmt(self, node: ast.IndexStmt) -> None:
        name = node.idxname or default_index_name(node.relation.relname, node, self.taken_names)
        self.taken_names.add(name.lower())
        if node.idxname:
            schema = node.relation.schemaname  # an index lives in its table's schema
            table = qualified(node.relation)
            self.index_tables[_key(f"{schema}.{node.idxname}" if schema else node.idxname)] = table
            self.index_tables.setdefault(node.idxname.lower(), table)

    def _remember_constraint(self, table: str, constraint) -> None:
        if not isinstance(constraint, ast.Constraint) or not constraint.conname:
            return
        if constraint.contype == ConstrType.CONSTR_FOREIGN:
            self.foreign_keys[(_key(table), constraint.conname.lower())] = qualified(constraint.pktable)
        elif constraint.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
            self.index_tables[_key(constraint.indexname or constraint.conname)] = table

    def _after_CreateTableAsStmt(self, node: ast.CreateTableAsStmt) -> None:
        self.created_tables.add(_key(qualified(node.into.rel)))

    def _after_CreateEnumStmt(self, node: ast.CreateEnumStmt) -> None:
        self.enums_created.add(dotted(node.typeName).lower())

    def _after_AlterEnumStmt(self, node: ast.AlterEnumStmt) -> None:
        if node.newVal and not node.oldVal:
            self.enum_values_added[node.newVal] = dotted(node.typeName).lower()

    def _after_RenameStmt(self, node: ast.RenameStmt) -> None:
        if node.renameType == ObjectType.OBJECT_TABLE and self.is_new(qualified(node.relation)):
            schema = node.relation.schemaname
            self.created_tables.add(_key(f"{schema}.{node.newname}" if schema else node.newname))

    def _after_AlterTableStmt(self, node: ast.AlterTableStmt) -> None:
        table = qualified(node.relation)
        for cmd in node.cmds:
            if cmd.subtype == AT.AT_AddColumn:
                self._remember_column(table, cmd.def_)
                for constraint in cmd.def_.constraints or ():
                    self._take_name(table, constraint, cmd.def_.colname)
                if not _has_default(cmd.def_) and not self.lock_model.is_serial(cmd.def_):
                    self.columns_added.add((_key(table), cmd.def_.colname.lower()))
            elif cmd.subtype == AT.AT_AlterColumnType:
                typ = self.lock_model.sql_type(cmd.def_.typeName)
                if typ:
                    self.column_types[(_key(table), cmd.name.lower())] = typ
            if cmd.subtype == AT.AT_AddConstraint:
                self._take_name(table, cmd.def_)
                self._remember_constraint(table, cmd.def_)
                if cmd.def_.skip_validation and cmd.def_.conname:
                    self.not_valid_in_transaction[(_key(table), cmd.def_.conname.lower())] = (
                        self.observed_line
                    )
            if cmd.subtype == AT.AT_AddConstraint and cmd.def_.contype == ConstrType.CONSTR_CHECK:
                column = not_null_check_column(cmd.def_.raw_expr)
                if column and cmd.def_.skip_validation and cmd.def_.conname:
                    self.pending_not_null_checks[(_key(table), cmd.def_.conname.lower())] = column
                elif column:
                    self.not_null_checks.add((_key(table), column))
            elif cmd.subtype == AT.AT_ValidateConstraint:
                column = self.pending_not_null_checks.pop((_key(table), cmd.name.lower()), None)
                if column:
                    self.not_null_checks.add((_key(table), column))

    def _remember_column(self, table: str, column: ast.ColumnDef) -> None:
        typ = self.lock_model.sql_type(column.typeName)
        if typ:
            self.column_types[(_key(table), column.colname.lower())] = typ


def _has_default(column: ast.ColumnDef) -> bool:
    """A default (or identity, generated, serial) fills existing rows: they are not NULL."""
    kinds = {c.contype for c in column.constraints or ()}
    filled = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}
    return column.raw_default is not None or bool(kinds & filled)


def not_null_check_column(expr) -> str | None:
    """The column of ``CHECK (col IS NOT NULL)``, else None."""
    if isinstance(expr, ast.NullTest) and expr.nulltesttype == 1 and isinstance(expr.arg, ast.ColumnRef):
        return expr.arg.fields[-1].sval.lower()
    return None


def _setting_value(node: ast.VariableSetStmt) -> str | None:
    if not node.args:
        return None
    value = node.args[0]
    inner = getattr(value, "val", None)
    if isinstance(inner, ast.String):
        return inner.sval.strip().lower()
    if isinstance(inner, ast.Integer):
        return str(inner.ival)
    return "set"


class _Strings(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: set[str] = set()

    def visit_A_Const(self, ancestors, node) -> None:
        if isinstance(node.val, ast.String):
            self.found.add(node.val.sval)


def string_constants(node) -> set[str]:
    """Every string literal in a statement, e.g. to spot a freshly added enum value in use."""
    visitor = _Strings()
    visitor(node)
    return visitor.found
