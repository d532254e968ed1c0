"""Schema operations that know their SQL, their lock, their cost and their own reverse.

Like alembic's operations: a change package is an ordered list of these, and its rollback
is derived by reversing each one, never hand-written. Lock levels follow the PostgreSQL
docs ("Explicit Locking" and the ALTER TABLE page).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

# Throughput assumptions used for duration estimates, in bytes per second. They are rough
# on purpose: the estimate's job is to tell seconds from hours.
SCAN_RATE = 200 * 1024**2
BUILD_RATE = 40 * 1024**2
REWRITE_RATE = 30 * 1024**2


def ident(name: str) -> str:
    """Quote an identifier the way PostgreSQL would, only where needed."""
    if (
        name
        and (name[0].isalpha() or name[0] == "_")
        and all(ch.islower() or ch.isdigit() or ch in "_$" for ch in name)
        and name.upper() not in _RESERVED
    ):
        return name
    return '"' + name.replace('"', '""') + '"'


def qident(qname: str) -> str:
    """Quote a dotted ``schema.name`` (names must not contain dots themselves)."""
    return ".".join(ident(part) for part in qname.split(".", 1))


def literal(value: str) -> str:
    """A string constant, escaped as psycopg's ``sql.Literal`` writes it (E'' when it holds a backslash)."""
    quoted = "'" + value.replace("'", "''") + "'"
    if "\\" in value:
        return " E" + quoted.replace("\\", "\\\\")
    return quoted


_RESERVED = {
    "ALL",
    "ANALYSE",
    "ANALYZE",
    "AND",
    "ANY",
    "ARRAY",
    "AS",
    "ASC",
    "ASYMMETRIC",
    "BOTH",
    "CASE",
    "CAST",
    "CHECK",
    "COLLATE",
    "COLUMN",
    "CONSTRAINT",
    "CREATE",
    "CURRENT_CATALOG",
    "CURRENT_DATE",
    "CURRENT_ROLE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "DEFAULT",
    "DEFERRABLE",
    "DESC",
    "DISTINCT",
    "DO",
    "ELSE",
    "END",
    "EXCEPT",
    "FALSE",
    "FETCH",
    "FOR",
    "FOREIGN",
    "FROM",
    "GRANT",
    "GROUP",
    "HAVING",
    "IN",
    "INITIALLY",
    "INTERSECT",
    "INTO",
    "LATERAL",
    "LEADING",
    "LIMIT",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "NOT",
    "NULL",
    "OFFSET",
    "ON",
    "ONLY",
    "OR",
    "ORDER",
    "PLACING",
    "PRIMARY",
    "REFERENCES",
    "RETURNING",
    "SELECT",
    "SESSION_USER",
    "SOME",
    "SYMMETRIC",
    "TABLE",
    "THEN",
    "TO",
    "TRAILING",
    "TRUE",
    "UNION",
    "UNIQUE",
    "USER",
    "USING",
    "VARIADIC",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "AUTHORIZATION",
    "BINARY",
    "COLLATION",
    "CONCURRENTLY",
    "CROSS",
    "CURRENT_SCHEMA",
    "FREEZE",
    "FULL",
    "ILIKE",
    "INNER",
    "IS",
    "ISNULL",
    "JOIN",
    "LEFT",
    "LIKE",
    "NATURAL",
    "NOTNULL",
    "OUTER",
    "OVERLAPS",
    "RIGHT",
    "SIMILAR",
    "TABLESAMPLE",
    "VERBOSE",
}


@dataclass(frozen=True)
class Lock:
    """The heaviest lock a statement takes on its target, and what that blocks."""

    mode: str
    target: str | None = None

    @property
    def blocks_reads(self) -> bool:
        return self.mode == "ACCESS EXCLUSIVE"

    @property
    def blocks_writes(self) -> bool:
        return self.mode in {"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}

    @property
    def impact(self) -> str:
        if self.mode == "none":
            return "takes no table lock"
        if self.blocks_reads:
            return "blocks reads and writes"
        if self.blocks_writes:
            return "blocks writes, allows reads"
        return "allows reads and writes"


NO_LOCK = Lock("none")


@dataclass(frozen=True)
class Operation:
    """One statement of a change package."""

    kind: ClassVar[str] = "operation"
    #: True for statements like pg_reload_conf() whose reverse must still run last, after the
    #: reversed changes, rather than in mirrored order.
    reverse_runs_last: ClassVar[bool] = False
    #: Size of the table the statement works on, for the duration estimate.
    table_bytes: int = field(default=0, kw_only=True)

    def sql(self) -> str:
        raise NotImplementedError

    def reverse(self) -> Operation | None:
        """The operation that undoes this one, or None when nothing needs undoing."""
        raise NotImplementedError

    def lock(self) -> Lock:
        return NO_LOCK

    @property
    def rewrites(self) -> bool:
        return False

    @property
    def scans(self) -> bool:
        return False

    @property
    def transactional(self) -> bool:
        """False when the statement cannot run inside a transaction block (CONCURRENTLY, VACUUM)."""
        return True

    @property
    def destructive(self) -> bool:
        """True when the statement loses data or schema that the reverse cannot bring back."""
        return False

    @property
    def starts_transaction(self) -> bool:
        """True when the statement must not share a transaction with the ones before it.

        VALIDATE CONSTRAINT is the case in point: run in the same transaction as its ADD …
        NOT VALID, it would hold the ADD's stronger lock through the whole validating scan.
        """
        return False

    def estimated_seconds(self) -> float:
        if self.rewrites:
            return self.table_bytes / REWRITE_RATE
        if self.scans:
            return self.table_bytes / SCAN_RATE
        return 0.0


@dataclass(frozen=True)
class CreateIndex(Operation):
    kind: ClassVar[str] = "create_index"
    name: str
    table: str
    keys: tuple[str, ...]  # already-quoted column names or expressions in parentheses
    method: str = "btree"
    unique: bool = False
    include: tuple[str, ...] = ()
    where: str | None = None
    concurrently: bool = True

    @property
    def schema(self) -> str:
        return self.table.split(".", 1)[0]

    def sql(self) -> str:
        parts = ["CREATE", "UNIQUE INDEX" if self.unique else "INDEX"]
        if self.concurrently:
            parts.append("CONCURRENTLY")
        parts += ["IF NOT EXISTS", ident(self.name), "ON", qident(self.table)]
        if self.method != "btree":
            parts += ["USING", self.method]
        text = " ".join(parts) + f" ({', '.join(self.keys)})"
        if self.include:
            text += f" INCLUDE ({', '.join(ident(c) for c in self.include)})"
        if self.where:
            text += f" WHERE {self.where}"
        return text + ";"

    def reverse(self) -> Operation:
        return DropIndex(f"{self.schema}.{self.name}", concurrently=self.concurrently)

    def lock(self) -> Lock:
        return Lock("SHARE UPDATE EXCLUSIVE" if self.concurrently else "SHARE", self.table)

    @property
    def scans(self) -> bool:
        return True

    @property
    def transactional(self) -> bool:
        return not self.concurrently

    def estimated_seconds(self) -> float:
        factor = 2.0 if self.concurrently else 1.0  # two table scans for CONCURRENTLY
        return factor * self.table_bytes / BUILD_RATE


@dataclass(frozen=True)
class DropIndex(Operation):
    kind: ClassVar[str] = "drop_index"
    index: str  # schema.name
    concurrently: bool = True
    definition: str | None = None  # pg_get_indexdef output, so the drop can be reversed

    def sql(self) -> str:
        return f"DROP INDEX {'CONCURRENTLY ' if self.concurrently else ''}IF EXISTS {qident(self.index)};"

    def reverse(self) -> Operation | None:
        if self.definition is None:
            return None
        definition = self.definition
        if self.concurrently and " CONCURRENTLY " not in definition:
            definition = definition.replace(" INDEX ", " INDEX CONCURRENTLY ", 1)
        return RawSQL(
            definition.rstrip(";") + ";",
            transactional_=not self.concurrently,
            lock_=Lock("SHARE UPDATE EXCLUSIVE" if self.concurrently else "SHARE"),
            scans_=True,
            table_bytes=self.table_bytes,
        )

    def lock(self) -> Lock:
        return Lock("SHARE UPDATE EXCLUSIVE" if self.concurrently else "ACCESS EXCLUSIVE", self.index)

    @property
    def transactional(self) -> bool:
        return not self.concurrently

    @property
    def destructive(self) -> bool:
        return self.definition is None


@dataclass(frozen=True)
class AddForeignKey(Operation):
    """ADD CONSTRAINT … NOT VALID: a brief lock now, the scan later in ValidateConstraint."""

    kind: ClassVar[str] = "add_foreign_key"
    table: str
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]

    def sql(self) -> str:
        cols = ", ".join(ident(c) for c in self.columns)
        refs = ", ".join(ident(c) for c in self.ref_columns)
        return (
            f"ALTER TABLE {qident(self.table)} ADD CONSTRAINT {ident(self.name)} FOREIGN KEY ({cols}) "
            f"REFERENCES {qident(self.ref_table)} ({refs}) NOT VALID;"
        )

    def reverse(self) -> Operation:
        return DropConstraint(self.table, self.name)

    def lock(self) -> Lock:
        return Lock("SHARE ROW EXCLUSIVE", self.table)


@dataclass(frozen=True)
class AddCheck(Operation):
    kind: ClassVar[str] = "add_check"
    table: str
    name: str
    expression: str

    def sql(self) -> str:
        return (
            f"ALTER TABLE {qident(self.table)} ADD CONSTRAINT {ident(self.name)} "
            f"CHECK ({self.expression}) NOT VALID;"
        )

    def reverse(self) -> Operation:
        return DropConstraint(self.table, self.name)

    def lock(self) -> Lock:
        return Lock("ACCESS EXCLUSIVE", self.table)


@dataclass(frozen=True)
class ValidateConstraint(Operation):
    kind: ClassVar[str] = "validate_constraint"
    table: str
    name: str

    def sql(self) -> str:
        return f"ALTER TABLE {qident(self.table)} VALIDATE CONSTRAINT {ident(self.name)};"

    def reverse(self) -> None:
        return None  # validation changes no data; dropping the constraint reverses the ADD

    def lock(self) -> Lock:
        return Lock("SHARE UPDATE EXCLUSIVE", self.table)

    @property
    def scans(self) -> bool:
        return True

    @property
    def starts_transaction(self) -> bool:
        return True


@dataclass(frozen=True)
class DropConstraint(Operation):
    kind: ClassVar[str] = "drop_constraint"
    table: str
    name: str

    def sql(self) -> str:
        return f"ALTER TABLE {qident(self.table)} DROP CONSTRAINT IF EXISTS {ident(self.name)};"

    def reverse(self) -> None:
        return None

    def lock(self) -> Lock:
        return Lock("ACCESS EXCLUSIVE", self.table)


@dataclass(frozen=True)
class SetNotNull(Operation):
    """SET NOT NULL; fast when a validated CHECK (col IS NOT NULL) already exists (PG 12+)."""

    kind: ClassVar[str] = "set_not_null"
    table: str
    column: str
    proven_by_check: bool = True

    def sql(self) -> str:
        return f"ALTER TABLE {qident(self.table)} ALTER COLUMN {ident(self.column)} SET NOT NULL;"

    def reverse(self) -> Operation:
        return DropNotNull(self.table, self.column)

    def lock(self) -> Lock:
        return Lock("ACCESS EXCLUSIVE", self.table)

    @property
    def scans(self) -> bool:
        return not self.proven_by_check


@dataclass(frozen=True)
class DropNotNull(Operation):
    kind: ClassVar[str] = "drop_not_null"
    table: str
    column: str

    def sql(self) -> str:
        return f"ALTER TABLE {qident(self.table)} ALTER COLUMN {ident(self.column)} DROP NOT NULL;"

    def reverse(self) -> Operation:
        return SetNotNull(self.table, self.column, proven_by_check=False)

    def lock(self) -> Lock:
        return Lock("ACCESS EXCLUSIVE", self.table)


@dataclass(frozen=True)
class AlterColumnType(Operation):
    kind: ClassVar[str] = "alter_column_type"
    table: str
    column: str
    new_type: str
    old_type: str
    using: str | None = None
    rewrite: bool = True

    def sql(self) -> str:
        text = f"ALTER TABLE {qident(self.table)} ALTER COLUMN {ident(self.column)} TYPE {self.new_type}"
        if self.using:
            text += f" USING {self.using}"
        return text + ";"

    def reverse(self) -> Operation:
        return AlterColumnType(
            self.table,
            self.column,
            self.old_type,
            self.new_type,
            rewrite=self.rewrite,
            table_bytes=self.table_bytes,
        )

    def lock(self) -> Lock:
        return Lock("ACCESS EXCLUSIVE", self.table)

    @property
    def rewrites(self) -> bool:
        return self.rewrite


@dataclass(frozen=True)
class AlterSequenceType(Operation):
    kind: ClassVar[str] = "alter_sequence_type"
    sequence: str
    new_type: str
    old_type: str

    def sql(self) -> str:
        return f"ALTER SEQUENCE {qident(self.sequence)} AS {self.new_type};"

    def reverse(self) -> Operation:
        return AlterSequenceType(self.sequence, self.old_type, self.new_type)

    def lock(self) -> Lock:
        return Lock("SHARE ROW EXCLUSIVE", self.sequence)


@dataclass(frozen=True)
class SetReloption(Operation):
    kind: ClassVar[str] = "set_reloption"
    table: str
    option: str
    value: str
    previous: str | None = None

    def sql(self) -> str:
        return f"ALTER TABLE {qident(self.table)} SET ({self.option} = {self.value});"

    def reverse(self) -> Operation:
        if self.previous is None:
            return ResetReloption(self.table, self.option, self.value)
        return SetReloption(self.table, self.option, self.previous, self.value)

    def lock(self) -> Lock:
        return Lock("SHARE UPDATE EXCLUSIVE", self.table)


@dataclass(frozen=True)
class ResetReloption(Operation):
    kind: ClassVar[str] = "reset_reloption"
    table: str
    option: str
    previous: str

    def sql(self) -> str:
        return f"ALTER TABLE {qident(self.table)} RESET ({self.option});"

    def reverse(self) -> Operation:
        return SetReloption(self.table, self.option, self.previous)

    def lock(self) -> Lock:
        return Lock("SHARE UPDATE EXCLUSIVE", self.table)


@dataclass(frozen=True)
class Maintenance(Operation):
    """VACUUM / ANALYZE: no schema change, nothing to reverse, runs outside a transaction."""

    kind: ClassVar[str] = "maintenance"
    command: str  # "ANALYZE", "VACUUM (ANALYZE)", "VACUUM (FREEZE)"
    table: str | None = None

    def sql(self) -> str:
        return f"{self.command} {qident(self.table)};" if self.table else f"{self.command};"

    def reverse(self) -> None:
        return None

    def lock(self) -> Lock:
        return Lock("SHARE UPDATE EXCLUSIVE", self.table)

    @property
    def scans(self) -> bool:
        return True

    @property
    def transactional(self) -> bool:
        return not self.command.startswith("VACUUM")


@dataclass(frozen=True)
class AlterSystem(Operation):
    kind: ClassVar[str] = "alter_system"
    name: str
    value: str
    previous: str | None = None  # None: the setting came from the default or config file
    needs_restart: bool = False

    def sql(self) -> str:
        return f"ALTER SYSTEM SET {self.name} = {literal(self.value)};"

    def reverse(self) -> Operation:
        if self.previous is None:
            return RawSQL(f"ALTER SYSTEM RESET {self.name};", transactional_=False)
        return AlterSystem(self.name, self.previous, self.value, needs_restart=self.needs_restart)

    @property
    def transactional(self) -> bool:
        return False  # ALTER SYSTEM cannot run inside a transaction block


@dataclass(frozen=True)
class ReloadConfig(Operation):
    kind: ClassVar[str] = "reload_config"
    reverse_runs_last: ClassVar[bool] = True

    def sql(self) -> str:
        return "SELECT pg_reload_conf();"

    def reverse(self) -> Operation:
        return self


@dataclass(frozen=True)
class Grant(Operation):
    kind: ClassVar[str] = "grant"
    privilege: str
    object_type: str  # TABLE, SCHEMA, DATABASE, FUNCTION, SEQUENCE
    object_name: str  # already quoted where needed
    grantee: str
    revoke: bool = False

    def sql(self) -> str:
        grantee = self.grantee if self.grantee == "PUBLIC" else ident(self.grantee)
        if self.revoke:
            return f"REVOKE {self.privilege} ON {self.object_type} {self.object_name} FROM {grantee};"
        return f"GRANT {self.privilege} ON {self.object_type} {self.object_name} TO {grantee};"

    def reverse(self) -> Operation:
        return Grant(self.privilege, self.object_type, self.object_name, self.grantee, revoke=not self.revoke)


@dataclass(frozen=True)
class AlterRole(Operation):
    kind: ClassVar[str] = "alter_role"
    role: str
    option: str  # e.g. NOSUPERUSER
    inverse: str  # e.g. SUPERUSER

    def sql(self) -> str:
        return f"ALTER ROLE {ident(self.role)} {self.option};"

    def reverse(self) -> Operation:
        return AlterRole(self.role, self.inverse, self.option)


@dataclass(frozen=True)
class SetFunctionConfig(Operation):
    kind: ClassVar[str] = "set_function_config"
    signature: str  # schema.name(args), quoted where needed
    name: str
    value: str

    def sql(self) -> str:
        return f"ALTER FUNCTION {self.signature} SET {self.name} = {self.value};"

    def reverse(self) -> Operation:
        return RawSQL(f"ALTER FUNCTION {self.signature} RESET {self.name};")


@dataclass(frozen=True)
class CreateExtension(Operation):
    kind: ClassVar[str] = "create_extension"
    name: str

    def sql(self) -> str:
        return f"CREATE EXTENSION IF NOT EXISTS {ident(self.name)};"

    def reverse(self) -> Operation:
        return RawSQL(f"DROP EXTENSION IF EXISTS {ident(self.name)};")


@dataclass(frozen=True)
class RawSQL(Operation):
    """A statement dbwright does not model further; its lock and reverse are stated."""

    kind: ClassVar[str] = "raw_sql"
    text: str
    reverse_text: str | None = None
    lock_: Lock = NO_LOCK
    transactional_: bool = True
    scans_: bool = False
    rewrites_: bool = False
    destructive_: bool = False
    #: Whether the reverse statement may run in a transaction; None: the same as this one.
    reverse_transactional: bool | None = None
    #: Commit what came before and run this in a transaction of its own (a batch, a VALIDATE).
    starts_transaction_: bool = False

    def sql(self) -> str:
        return self.text

    def reverse(self) -> Operation | None:
        if self.reverse_text is None:
            return None
        reverse_transactional = (
            self.transactional_ if self.reverse_transactional is None else self.reverse_transactional
        )
        return dataclasses.replace(
            self,
            text=self.reverse_text,
            reverse_text=self.text,
            transactional_=reverse_transactional,
            reverse_transactional=self.transactional_,
            scans_=False,
            rewrites_=False,
            destructive_=False,
        )

    def lock(self) -> Lock:
        return self.lock_

    @property
    def transactional(self) -> bool:
        return self.transactional_

    @property
    def scans(self) -> bool:
        return self.scans_

    @property
    def rewrites(self) -> bool:
        return self.rewrites_

    @property
    def destructive(self) -> bool:
        return self.destructive_

    @property
    def starts_transaction(self) -> bool:
        return self.starts_transaction_
