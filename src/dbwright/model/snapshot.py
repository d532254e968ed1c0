"""PostgreSQL's catalog snapshot: frozen dataclasses that round-trip through JSON.

A snapshot is everything dbwright read from a server in one introspection pass. Checks
read only this, never a connection, so a saved snapshot can be reviewed offline and two
snapshots can be compared over time. Object names are fully qualified
(``schema.table`` and ``schema.table.column``).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

SNAPSHOT_FORMAT = 1


def qualify(*parts: str) -> str:
    """Join name parts with dots: the one spelling of an object name in dbwright's output."""
    return ".".join(parts)


@dataclass(frozen=True)
class Setting:
    name: str
    value: str
    unit: str | None = None
    source: str = "default"
    context: str = ""
    vartype: str = "string"
    boot_value: str | None = None
    pending_restart: bool = False
    sourcefile: str | None = None  # visible to superusers and pg_read_all_settings

    def as_bytes(self) -> int | None:
        """The value in bytes, for memory settings with units like 8kB or kB."""
        if self.vartype != "integer" or not self.unit:
            return None
        factors = {"B": 1, "kB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
        unit = self.unit
        multiplier = 1
        digits = "".join(ch for ch in unit if ch.isdigit())
        if digits:
            multiplier = int(digits)
            unit = unit[len(digits) :]
        if unit not in factors:
            return None
        return int(self.value) * multiplier * factors[unit]

    def as_milliseconds(self) -> int | None:
        factors = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
        if self.vartype not in ("integer", "real") or self.unit not in factors:
            return None
        return int(float(self.value) * factors[self.unit])


@dataclass(frozen=True)
class Extension:
    name: str
    default_version: str | None
    installed_version: str | None = None
    schema: str | None = None


@dataclass(frozen=True)
class DatabaseInfo:
    name: str
    owner: str
    encoding: str
    xid_age: int
    size_bytes: int | None = None
    connection_limit: int = -1
    allow_connections: bool = True
    acl: tuple[str, ...] | None = None
    numbackends: int | None = None
    blks_hit: int | None = None
    blks_read: int | None = None
    temp_files: int | None = None
    temp_bytes: int | None = None
    xact_commit: int | None = None
    xact_rollback: int | None = None
    deadlocks: int | None = None
    stats_reset: str | None = None


@dataclass(frozen=True)
class Server:
    version_num: int
    version: str
    database: str
    current_user: str
    is_superuser: bool
    settings: tuple[Setting, ...] = ()
    extensions: tuple[Extension, ...] = ()
    databases: tuple[DatabaseInfo, ...] = ()
    memory_bytes: int | None = None
    data_checksums: bool | None = None
    in_recovery: bool = False
    postmaster_start: str | None = None

    @cached_property
    def _settings_by_name(self) -> dict[str, Setting]:
        return {s.name: s for s in self.settings}

    def setting(self, name: str) -> Setting | None:
        return self._settings_by_name.get(name)

    def extension(self, name: str) -> Extension | None:
        return next((e for e in self.extensions if e.name == name), None)

    @property
    def current_database(self) -> DatabaseInfo | None:
        return next((d for d in self.databases if d.name == self.database), None)


@dataclass(frozen=True)
class Schema:
    name: str
    owner: str
    acl: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    kind: str  # r table, p partitioned, m matview, f foreign
    owner: str = ""
    persistence: str = "p"
    is_partition: bool = False
    parent: str | None = None
    partition_key: str | None = None
    row_estimate: float = 0
    heap_bytes: int = 0
    toast_bytes: int = 0
    index_bytes: int = 0
    seq_scan: int | None = None
    seq_tup_read: int | None = None
    idx_scan: int | None = None
    n_live_tup: int | None = None
    n_dead_tup: int | None = None
    n_tup_ins: int | None = None
    n_tup_upd: int | None = None
    n_tup_del: int | None = None
    n_tup_hot_upd: int | None = None
    n_mod_since_analyze: int | None = None
    last_vacuum: str | None = None
    last_autovacuum: str | None = None
    last_analyze: str | None = None
    last_autoanalyze: str | None = None
    frozen_xid_age: int | None = None
    reloptions: tuple[str, ...] = ()
    rls_enabled: bool = False
    rls_forced: bool = False
    acl: tuple[str, ...] | None = None

    @property
    def qname(self) -> str:
        return qualify(self.schema, self.name)

    @property
    def total_bytes(self) -> int:
        return self.heap_bytes + self.toast_bytes + self.index_bytes

    def reloption(self, name: str) -> str | None:
        for option in self.reloptions:
            key, _, value = option.partition("=")
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class ColumnStats:
    null_frac: float | None = None
    n_distinct: float | None = None
    correlation: float | None = None
    avg_width: int | None = None
    most_common_vals: tuple[str, ...] | None = None
    most_common_freqs: tuple[float, ...] | None = None
    #: Text columns only: up to 30 of ANALYZE's histogram bounds, each cut to 120 characters.
    histogram_bounds: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Column:
    schema: str
    table: str
    name: str
    position: int
    data_type: str  # format_type(), e.g. "character varying(20)"
    type_name: str  # base type name, e.g. "varchar", "int4", "timestamp"
    not_null: bool = False
    default: str | None = None
    identity: str | None = None  # 'a' always, 'd' by default
    generated: str | None = None  # 's' stored
    is_enum: bool = False
    stats: ColumnStats | None = None

    @property
    def table_qname(self) -> str:
        return qualify(self.schema, self.table)

    @property
    def qname(self) -> str:
        return qualify(self.schema, self.table, self.name)


@dataclass(frozen=True)
class Constraint:
    schema: str
    table: str
    name: str
    type: str  # p primary, f foreign, u unique, c check, x exclusion
    columns: tuple[str, ...] = ()
    definition: str = ""
    validated: bool = True
    deferrable: bool = False
    deferred: bool = False
    index: str | None = None
    ref_schema: str | None = None
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    on_update: str | None = None
    on_delete: str | None = None

    @property
    def table_qname(self) -> str:
        return qualify(self.schema, self.table)

    @property
    def ref_qname(self) -> str | None:
        return qualify(self.ref_schema, self.ref_table) if self.ref_table and self.ref_schema else None


@dataclass(frozen=True)
class Index:
    schema: str
    table: str
    name: str
    definition: str
    method: str = "btree"
    columns: tuple[str | None, ...] = ()  # key columns; None where the key is an expression
    include: tuple[str, ...] = ()
    expressions: str | None = None
    predicate: str | None = None
    opclasses: tuple[str, ...] = ()
    unique: bool = False
    primary: bool = False
    valid: bool = True
    ready: bool = True
    constraint: str | None = None
    bytes: int = 0
    scans: int | None = None
    tup_read: int | None = None

    @property
    def qname(self) -> str:
        return qualify(self.schema, self.name)

    @property
    def table_qname(self) -> str:
        return qualify(self.schema, self.table)

    @property
    def shape(self) -> tuple[Any, ...]:
        """What makes two indexes interchangeable: method, keys, expressions, predicate, opclasses."""
        return (self.table_qname, self.method, self.columns, self.expressions, self.predicate, self.opclasses)


@dataclass(frozen=True)
class Sequence:
    schema: str
    name: str
    data_type: str
    max_value: int
    min_value: int = 1
    increment: int = 1
    last_value: int | None = None
    cycle: bool = False
    owned_by: str | None = None  # schema.table.column

    @property
    def qname(self) -> str:
        return qualify(self.schema, self.name)

    @property
    def used_fraction(self) -> float | None:
        if self.last_value is None or self.max_value <= 0:
            return None
        return self.last_value / self.max_value


@dataclass(frozen=True)
class View:
    schema: str
    name: str
    materialized: bool
    owner: str
    definition: str = ""
    populated: bool = True

    @property
    def qname(self) -> str:
        return qualify(self.schema, self.name)


@dataclass(frozen=True)
class Function:
    schema: str
    name: str
    arguments: str
    kind: str  # f function, p procedure, a aggregate, w window
    language: str
    owner: str
    security_definer: bool = False
    volatility: str = "v"
    config: tuple[str, ...] = ()
    acl: tuple[str, ...] | None = None
    definition: str = ""  # pg_get_functiondef (CREATE OR REPLACE …); empty for aggregates

    @property
    def qname(self) -> str:
        return qualify(self.schema, self.name)

    @property
    def signature(self) -> str:
        return f"{self.qname}({self.arguments})"

    @property
    def search_path(self) -> str | None:
        for entry in self.config:
            key, _, value = entry.partition("=")
            if key == "search_path":
                return value
        return None


@dataclass(frozen=True)
class Trigger:
    schema: str
    table: str
    name: str
    function: str
    enabled: str
    definition: str

    @property
    def table_qname(self) -> str:
        return qualify(self.schema, self.table)


@dataclass(frozen=True)
class UserType:
    """A user-defined type: an enum (labels in order), a domain or a standalone composite type."""

    schema: str
    name: str
    kind: str  # e enum, d domain, c composite
    owner: str = ""
    labels: tuple[str, ...] = ()  # enum labels in sort order
    base_type: str | None = None  # domain: format_type() of the base type
    not_null: bool = False  # domain
    default: str | None = None  # domain
    checks: tuple[str, ...] = ()  # domain: "CONSTRAINT name CHECK (…)", by name
    attributes: tuple[str, ...] = ()  # composite: "name type" in order, names quoted where needed

    @property
    def qname(self) -> str:
        return qualify(self.schema, self.name)


@dataclass(frozen=True)
class Comment:
    """COMMENT ON an object; object_type is the COMMENT ON keyword (TABLE, COLUMN, FUNCTION, …)."""

    object_type: str
    object_name: str  # schema.name, schema.table.column|constraint|trigger, or schema.name(args)
    comment: str


@dataclass(frozen=True)
class Role:
    name: str
    superuser: bool = False
    inherit: bool = True
    createrole: bool = False
    createdb: bool = False
    login: bool = False
    replication: bool = False
    bypassrls: bool = False
    connection_limit: int = -1
    valid_until: str | None = None
    member_of: tuple[str, ...] = ()  # direct memberships
    member_of_all: tuple[str, ...] = ()  # transitive, resolved by the server
    password_type: str | None = None  # 'scram-sha-256', 'md5', 'plain', 'none', or None when not visible
    bootstrap: bool = False  # the superuser initdb created (OID 10)

    @property
    def is_builtin(self) -> bool:
        return self.name.startswith("pg_")


@dataclass(frozen=True)
class Privilege:
    object_type: str  # table, sequence, schema, database, function
    object_name: str
    grantee: str  # role name or PUBLIC
    privilege: str
    grantable: bool = False
    grantor: str | None = None


@dataclass(frozen=True)
class DefaultPrivilege:
    role: str
    schema: str | None
    object_type: str
    grantee: str
    privilege: str


@dataclass(frozen=True)
class HbaRule:
    line: int
    type: str
    database: tuple[str, ...]
    user_name: tuple[str, ...]
    address: str | None
    netmask: str | None
    auth_method: str
    options: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Statement:
    queryid: int
    query: str
    calls: int
    total_ms: float
    mean_ms: float
    rows: int
    shared_blks_hit: int = 0
    shared_blks_read: int = 0
    temp_blks_read: int = 0
    temp_blks_written: int = 0
    user: str | None = None
    database: str | None = None
    #: dbwright's own catalog query, marked by the engine that ran it: not part of the workload.
    own: bool = False


@dataclass(frozen=True)
class Session:
    pid: int
    user: str | None
    database: str | None
    application: str | None
    state: str | None
    backend_type: str | None
    xact_age_s: float | None
    query_age_s: float | None
    state_age_s: float | None
    wait_event_type: str | None
    blocked_by: tuple[int, ...] = ()
    query: str | None = None


@dataclass(frozen=True)
class Policy:
    """A row-level security policy (pg_policy)."""

    schema: str
    table: str
    name: str
    command: str = "*"  # r SELECT, a INSERT, w UPDATE, d DELETE, * ALL
    permissive: bool = True
    roles: tuple[str, ...] = ()

    @property
    def table_qname(self) -> str:
        return qualify(self.schema, self.table)


@dataclass(frozen=True)
class Language:
    """A procedural language; an untrusted one lets its functions reach the server's OS."""

    name: str
    trusted: bool
    owner: str = ""
    acl: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TlsSession:
    """A client backend and whether its connection uses TLS (pg_stat_ssl joined to pg_stat_activity)."""

    pid: int
    user: str | None
    database: str | None
    client_addr: str | None  # None: a unix socket connection
    ssl: bool | None  # None: hidden from this role (needs pg_read_all_stats); may be a background process
    version: str | None = None
    cipher: str | None = None
    bits: int | None = None


@dataclass(frozen=True)
class JsonKeys:
    """The top-level keys of a jsonb column's documents, counted over a bounded sample of its rows."""

    schema: str
    table: str
    column: str
    rows_sampled: int  # rows whose value is a JSON object
    keys: tuple[tuple[str, int], ...] = ()  # (key, rows with it), most frequent first, at most 50

    @property
    def table_qname(self) -> str:
        return qualify(self.schema, self.table)


@dataclass(frozen=True)
class ImpliedReference:
    """A column named like a reference to another table's key, with no foreign key, and what a
    bounded sample of its values showed: how many were read, how many distinct, how many have no
    parent row."""

    schema: str
    table: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]
    sampled: int
    distinct_values: int
    orphans: int

    @property
    def table_qname(self) -> str:
        return qualify(self.schema, self.table)

    @property
    def ref_qname(self) -> str:
        return qualify(self.ref_schema, self.ref_table)


@dataclass(frozen=True)
class Skipped:
    """A part of the snapshot that could not be read, and why."""

    section: str
    reason: str


@dataclass(frozen=True)
class Snapshot:
    server: Server
    taken_at: str
    dbwright_version: str
    format: int = SNAPSHOT_FORMAT
    schemas: tuple[Schema, ...] = ()
    tables: tuple[Table, ...] = ()
    columns: tuple[Column, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    views: tuple[View, ...] = ()
    functions: tuple[Function, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    roles: tuple[Role, ...] = ()
    privileges: tuple[Privilege, ...] = ()
    default_privileges: tuple[DefaultPrivilege, ...] = ()
    hba_rules: tuple[HbaRule, ...] = ()
    statements: tuple[Statement, ...] = ()
    statements_reset: str | None = None
    sessions: tuple[Session, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    introspection_ms: float = 0.0
    types: tuple[UserType, ...] = ()
    comments: tuple[Comment, ...] = ()
    policies: tuple[Policy, ...] = ()
    languages: tuple[Language, ...] = ()
    tls_sessions: tuple[TlsSession, ...] = ()
    json_keys: tuple[JsonKeys, ...] = ()
    implied_references: tuple[ImpliedReference, ...] = ()
    engine: str = "postgresql"

    @property
    def server_version(self) -> int:
        """The server's version as one number (PostgreSQL's server_version_num)."""
        return self.server.version_num

    # --- lookups, built once per snapshot -------------------------------------------------
    @cached_property
    def _tables(self) -> dict[str, Table]:
        return {t.qname: t for t in self.tables}

    @cached_property
    def _columns_by_table(self) -> dict[str, list[Column]]:
        grouped: dict[str, list[Column]] = defaultdict(list)
        for column in self.columns:
            grouped[column.table_qname].append(column)
        for cols in grouped.values():
            cols.sort(key=lambda c: c.position)
        return grouped

    @cached_property
    def _indexes_by_table(self) -> dict[str, list[Index]]:
        grouped: dict[str, list[Index]] = defaultdict(list)
        for index in self.indexes:
            grouped[index.table_qname].append(index)
        return grouped

    @cached_property
    def _constraints_by_table(self) -> dict[str, list[Constraint]]:
        grouped: dict[str, list[Constraint]] = defaultdict(list)
        for constraint in self.constraints:
            grouped[constraint.table_qname].append(constraint)
        return grouped

    @cached_property
    def _skipped_sections(self) -> dict[str, str]:
        return {s.section: s.reason for s in self.skipped}

    def table(self, qname: str) -> Table | None:
        return self._tables.get(qname)

    def columns_of(self, table_qname: str) -> list[Column]:
        return self._columns_by_table.get(table_qname, [])

    def column(self, table_qname: str, name: str) -> Column | None:
        return next((c for c in self.columns_of(table_qname) if c.name == name), None)

    def indexes_of(self, table_qname: str) -> list[Index]:
        return self._indexes_by_table.get(table_qname, [])

    def constraints_of(self, table_qname: str, type: str | None = None) -> list[Constraint]:
        found = self._constraints_by_table.get(table_qname, [])
        return [c for c in found if type is None or c.type == type]

    def foreign_keys(self) -> list[Constraint]:
        return [c for c in self.constraints if c.type == "f"]

    def index_leading_with(self, table_qname: str, columns: typing.Sequence[str]) -> Index | None:
        """A valid, non-partial index whose leading key columns are ``columns`` in any order."""
        wanted = set(columns)
        for index in self.indexes_of(table_qname):
            if not index.valid or index.predicate or index.method not in ("btree", "hash", "gist", "brin"):
                continue
            lead = index.columns[: len(wanted)]
            if len(lead) == len(wanted) and set(lead) == wanted:
                return index
        return None

    def skipped_reason(self, section: str) -> str | None:
        return self._skipped_sections.get(section)

    def workload_statements(self) -> list[Statement]:
        """pg_stat_statements' statements without dbwright's own (its catalog reads, what-if plans)."""
        return [s for s in self.statements if not s.own]

    def user_tables(self) -> list[Table]:
        """Ordinary and partitioned tables, the ones a design review is about."""
        return [t for t in self.tables if t.kind in ("r", "p")]

    # --- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return _to_plain(self)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        """Rebuild a snapshot from its JSON form; data of the wrong shape or type is a
        ``SnapshotFormatError`` naming the field (``tables[3].row_estimate: expected a number``)."""
        if not isinstance(data, dict):
            raise SnapshotFormatError(f"expected a JSON object, found {_json_kind(data)}")
        return _from_plain(cls, data, "")

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise SnapshotFormatError(
                f"not JSON ({error.msg} at line {error.lineno}, column {error.colno})"
            ) from None
        return cls.from_dict(data)


class SnapshotFormatError(ValueError):
    """Saved snapshot data that is not a snapshot: not JSON, or a field of the wrong shape or type."""


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    return value


_HINTS: dict[type, dict[str, Any]] = {}


_SCALARS: dict[type, tuple[type, ...]] = {int: (int,), float: (int, float), str: (str,), bool: (bool,)}
_SCALAR_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _json_kind(value: Any) -> str:
    """What a JSON value is, in words, for an error message."""
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _from_plain(annotation: Any, value: Any, where: str) -> Any:
    """Rebuild a value of the annotated type from JSON-plain data, checking its shape and scalar types
    on the way (``where`` names the field, for the error)."""
    if value is None:
        return None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _from_plain(options[0], value, where) if len(options) == 1 else value
    if origin is tuple:
        if not isinstance(value, list):
            raise SnapshotFormatError(f"{where}: expected a list, found {_json_kind(value)}")
        args = typing.get_args(annotation)
        item_type = args[0] if args else Any
        return tuple(_from_plain(item_type, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise SnapshotFormatError(f"{where}: expected an object, found {_json_kind(value)}")
        return dict(value)
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        if not isinstance(value, dict):
            raise SnapshotFormatError(f"{where or 'snapshot'}: expected an object, found {_json_kind(value)}")
        hints = _HINTS.get(annotation)
        if hints is None:
            hints = _HINTS[annotation] = typing.get_type_hints(annotation)
        fields = dataclasses.fields(annotation)
        required = [
            f.name
            for f in fields
            if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING  # type: ignore[misc]
        ]
        missing = [name for name in required if name not in value]
        if missing:
            prefix = f"{where}: " if where else ""
            raise SnapshotFormatError(f"{prefix}missing field {', '.join(repr(m) for m in missing)}")
        known = {f.name for f in fields if f.init}
        dot = f"{where}." if where else ""
        return annotation(**{k: _from_plain(hints[k], v, dot + k) for k, v in value.items() if k in known})
    expected = _SCALARS.get(annotation)
    if expected is not None:
        if not isinstance(value, expected) or (annotation is not bool and isinstance(value, bool)):
            raise SnapshotFormatError(
                f"{where}: expected {_SCALAR_NAMES[annotation]}, found {_json_kind(value)}"
            )
        return float(value) if annotation is float else value
    return value


__all__ = [
    name for name, obj in list(globals().items()) if isinstance(obj, type) and obj.__module__ == __name__
]
__all__ += ["qualify", "field", "SNAPSHOT_FORMAT"]
