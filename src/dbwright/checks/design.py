"""Design checks: keys, types and normal forms, read from the catalog and its statistics."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from dbwright.checks.indexes import MIN_OBSERVED_DAYS, observation_window
from dbwright.checks.registry import check, finding
from dbwright.model import Column, ColumnStats, Constraint, Index, Sequence, Snapshot, Table, qualify
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import (
    AddCheck,
    AlterColumnType,
    AlterSequenceType,
    CreateIndex,
    DropConstraint,
    Lock,
    Operation,
    RawSQL,
    SetNotNull,
    ValidateConstraint,
    ident,
    literal,
    qident,
)
from dbwright.model.package import ChangePackage

#: Table names (any underscore-separated word) that say rows pass through rather than live there.
_TRANSIENT_WORDS = {
    "queue",
    "queues",
    "queued",
    "job",
    "jobs",
    "task",
    "tasks",
    "outbox",
    "inbox",
    "staging",
    "stage",
    "stg",
    "import",
    "imports",
    "load",
    "tmp",
    "temp",
    "scratch",
    "buffer",
    "pending",
    "cache",
    "caches",
}
#: Parts of a run-together table name (``querycache``, ``jobqueue``) that say the same.
_TRANSIENT_STEMS = ("cache", "queue")
_PARTITION_KEY = re.compile(r"^\s*(?:RANGE|LIST|HASH)\s*\((?P<columns>.*)\)\s*$", re.IGNORECASE)


@check("DW101", category="design", severity=Severity.HIGH, title="Table without a primary key")
def table_without_primary_key(snap: Snapshot) -> Iterator[Finding]:
    """A table with no primary key has no reliable way to address one row.

    Logical replication cannot replicate its UPDATEs and DELETEs (they fail on a published
    table without a replica identity), ORMs cannot map it, and duplicates creep in unnoticed.

    Precision rules:

    - An existing unique index is a candidate key. On plain ``NOT NULL`` columns it can become
      the primary key at once (medium). A unique index on expressions (``lower(name)``) or on
      nullable columns already keeps rows apart but cannot be a primary key or a replica
      identity; the finding names it and drops to low.
    - Queue, staging and cache tables (named like ``job_queue``, ``outbox``, ``staging_orders``,
      ``tmp_import``, ``query_cache``) and unlogged tables drop to low: rows pass through them. It still
      matters for logical replication: without a key, every UPDATE and DELETE of a published
      table fails.
    - A partitioned table's primary key must include the partition key columns, and an
      identity column cannot be added to a table that has partitions. A partitioned parent
      gets no automatic fix; the finding names the partition key its key has to include.
    - Every fix applies to the object it is made for.

    Fix: on an ordinary table, add a bigint identity column as the primary key, or promote a
    unique index on ``NOT NULL`` columns with ``ADD PRIMARY KEY USING INDEX`` (a brief lock, no
    scan). An index that backs a UNIQUE constraint cannot be handed over: the same unique index
    is built CONCURRENTLY and promoted, and the UNIQUE constraint is dropped unless a foreign
    key references it.

    References: https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-PRIMARY-KEYS,
    https://www.postgresql.org/docs/current/logical-replication-publication.html,
    https://www.postgresql.org/docs/current/ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-LIMITATIONS
    """
    for table in snap.user_tables():
        if table.is_partition or snap.constraints_of(table.qname, "p"):
            continue
        promotable, candidate = _candidate_keys(snap, table)
        transient = _transient_reason(table)
        notes: list[str] = []
        severity = None
        if promotable is not None:
            severity = Severity.MEDIUM
            notes.append(f"unique index {promotable.name} on NOT NULL columns can become its primary key")
        elif candidate is not None:
            severity = Severity.LOW
            notes.append(
                f"unique index {candidate.name} keeps rows apart but cannot be a primary key or replica identity"
            )
        if transient:
            severity = Severity.LOW
            notes.append(
                f"{transient}; without a key its UPDATEs and DELETEs fail once it is published "
                "for logical replication"
            )
        partition_columns = None
        if table.kind == "p":
            partition_columns = _partition_key_text(table)
            notes.append(
                f"a key on this partitioned table must include its partition key ({partition_columns})"
            )
            fix = None
        elif promotable is not None:
            fix = _promote_index_package(snap, table, promotable)
        else:
            fix = _identity_key_package(snap, table)
        message = f"{table.qname} has no primary key" + (f" ({'; '.join(notes)})" if notes else "")
        yield finding(
            table.qname,
            message,
            fix=fix,
            severity=severity,
            row_estimate=int(table.row_estimate),
            size_bytes=table.total_bytes,
            candidate_key=(promotable or candidate).definition if (promotable or candidate) else None,
            transient=transient,
            partition_key=partition_columns,
        )


def _candidate_keys(snap: Snapshot, table: Table) -> tuple[Index | None, Index | None]:
    """A unique index that can become the primary key, and one that only keeps rows apart."""
    promotable = candidate = None
    for index in snap.indexes_of(table.qname):
        if not index.unique or not index.valid or index.predicate:
            continue
        columns = [snap.column(table.qname, name) for name in index.columns if name is not None]
        plain = len(columns) == len(index.columns) and not index.include
        if plain and index.method == "btree" and all(c is not None and c.not_null for c in columns):
            promotable = promotable or index
        else:
            candidate = candidate or index
    return promotable, candidate


def _transient_reason(table: Table) -> str | None:
    if table.persistence == "u":
        return "an unlogged table, whose rows do not survive a crash"
    words = set(table.name.lower().split("_"))
    if words & _TRANSIENT_WORDS or any(stem in word for word in words for stem in _TRANSIENT_STEMS):
        return "a queue or staging table (or a cache), whose rows pass through"
    return None


def _partition_key_text(table: Table) -> str:
    match = _PARTITION_KEY.match(table.partition_key or "")
    return match["columns"] if match else (table.partition_key or "unknown")


def _promote_index_package(snap: Snapshot, table: Table, index: Index) -> ChangePackage:
    """ADD PRIMARY KEY USING INDEX, named like the index so nothing is renamed.

    An index that backs a UNIQUE constraint cannot be handed to another constraint: a twin is
    built CONCURRENTLY and promoted, and the UNIQUE constraint is dropped unless a foreign key
    references it."""
    if index.constraint is None:
        return ChangePackage.of(
            f"Promote {index.name} to the primary key of {table.qname}",
            [
                RawSQL(
                    f"ALTER TABLE {qident(table.qname)} ADD CONSTRAINT {ident(index.name)} PRIMARY KEY "
                    f"USING INDEX {ident(index.name)};",
                    f"ALTER TABLE {qident(table.qname)} DROP CONSTRAINT {ident(index.name)};\n{index.definition};",
                    lock_=_access_exclusive(table.qname),
                )
            ],
            f"Makes the existing unique index {index.name} the primary key; its columns are already NOT NULL, "
            "so nothing is scanned and the lock is brief. The rollback drops the key and rebuilds the index.",
        )
    name = _free_index_name(table.schema, _object_name(table.name, suffix="pkey"), _index_names(snap))
    keys = tuple(ident(c) for c in index.columns if c is not None)
    operations: list[Operation] = [
        CreateIndex(name, table.qname, keys, unique=True, concurrently=True, table_bytes=table.heap_bytes),
        RawSQL(
            f"ALTER TABLE {qident(table.qname)} ADD CONSTRAINT {ident(name)} PRIMARY KEY USING INDEX {ident(name)};",
            f"ALTER TABLE {qident(table.qname)} DROP CONSTRAINT {ident(name)};",
            lock_=_access_exclusive(table.qname),
        ),
    ]
    unique = next((c for c in snap.constraints_of(table.qname, "u") if c.name == index.constraint), None)
    referenced = any(fk.ref_qname == table.qname and fk.index == index.name for fk in snap.foreign_keys())
    keeps_unique = unique is None or referenced
    if not keeps_unique:
        operations.append(
            RawSQL(
                f"ALTER TABLE {qident(table.qname)} DROP CONSTRAINT {ident(unique.name)};",
                f"ALTER TABLE {qident(table.qname)} ADD CONSTRAINT {ident(unique.name)} {unique.definition};",
                lock_=_access_exclusive(table.qname),
            )
        )
    return ChangePackage.of(
        f"Promote the key of {index.constraint} to the primary key of {table.qname}",
        operations,
        f"{index.name} backs the constraint {index.constraint}, so it cannot become the primary key itself: "
        "builds the same unique index CONCURRENTLY, makes it the primary key (its columns are already NOT "
        "NULL, so nothing is scanned), then "
        + (
            f"keeps {index.constraint}, which foreign keys reference."
            if keeps_unique
            else f"drops {index.constraint}, which the primary key now enforces."
        ),
    )


def _identity_key_package(snap: Snapshot, table: Table) -> ChangePackage:
    column = "id" if snap.column(table.qname, "id") is None else "row_id"
    sql = (
        f"ALTER TABLE {qident(table.qname)} ADD COLUMN {ident(column)} bigint "
        "GENERATED ALWAYS AS IDENTITY PRIMARY KEY;"
    )
    return ChangePackage.of(
        f"Add an identity primary key to {table.qname}",
        [
            RawSQL(
                sql,
                f"ALTER TABLE {qident(table.qname)} DROP COLUMN {ident(column)};",
                lock_=_access_exclusive(table.qname),
                rewrites_=True,
                table_bytes=table.heap_bytes,
            )
        ],
        "Adds a bigint identity column and makes it the primary key. Filling the column rewrites "
        "the table under an ACCESS EXCLUSIVE lock; on a large table prefer promoting an existing "
        "unique natural key through a concurrently built unique index.",
    )


# --- shared helpers ---------------------------------------------------------------------------

#: PostgreSQL truncates identifiers to 63 bytes; generated names must fit.
MAX_IDENTIFIER = 63
#: Statistics-based checks ignore tables smaller than this: a sample of a few rows proves nothing.
MIN_ROWS_FOR_STATS = 1000


def _access_exclusive(target: str) -> Lock:
    return Lock("ACCESS EXCLUSIVE", target)


def _object_name(*parts: str, suffix: str) -> str:
    """A generated object name like ``orders_customer_id_idx``, trimmed to 63 bytes."""
    stem = "_".join(parts)
    room = MAX_IDENTIFIER - len(suffix) - 1
    return f"{stem.encode()[:room].decode(errors='ignore')}_{suffix}"


def _column_map(snap: Snapshot) -> dict[str, Column]:
    """Every column by its qualified name, built once per check run."""
    return {column.qname: column for column in snap.columns}


def _table_rows(table: Table | None) -> float:
    return table.row_estimate if table else 0.0


def _constrained_columns(snap: Snapshot, table_qname: str, *types: str) -> set[str]:
    return {name for c in snap.constraints_of(table_qname) if c.type in types for name in c.columns}


def _alter_type_package(
    column: Column,
    new_type: str,
    table: Table | None,
    *,
    title: str,
    explanation: str,
    using: str | None = None,
    reverse_using: str | None = None,
    rewrite: bool = True,
) -> ChangePackage:
    op = AlterColumnTypeUsing(
        column.table_qname,
        column.name,
        new_type,
        column.data_type,
        using=using,
        rewrite=rewrite,
        reverse_using=reverse_using,
        table_bytes=table.heap_bytes + table.toast_bytes if table else 0,
    )
    notes = (
        (
            "Rewrites the table and rebuilds its indexes under an ACCESS EXCLUSIVE lock: reads and writes "
            "wait for the whole rewrite.",
        )
        if rewrite
        else ()
    )
    return ChangePackage.of(title, [op], explanation, performance_notes=notes)


@dataclass(frozen=True)
class AlterColumnTypeUsing(AlterColumnType):
    """ALTER COLUMN TYPE whose reverse needs its own USING clause (timestamptz back to timestamp)."""

    reverse_using: str | None = None

    def reverse(self) -> Operation:
        return AlterColumnTypeUsing(
            self.table,
            self.column,
            self.old_type,
            self.new_type,
            using=self.reverse_using,
            rewrite=self.rewrite,
            reverse_using=self.using,
            table_bytes=self.table_bytes,
        )


# --- DW102 -------------------------------------------------------------------------------------

#: A parent at most this big, whose keys pg_stat saw neither deleted nor changed, is a lookup table.
LOOKUP_TABLE_MAX_ROWS = 10_000


@check("DW102", category="design", severity=Severity.MEDIUM, title="Foreign key without a supporting index")
def foreign_key_without_index(snap: Snapshot) -> Iterator[Finding]:
    """A foreign key whose columns lead no index on the referencing (child) table.

    Every DELETE of a parent row, and every UPDATE of its key, must look for child rows; with
    no index that is a sequential scan of the child table per parent row, holding locks the
    whole time. Joins from parent to child pay the same price. An index whose leading key
    columns are the foreign key's columns, in any order, is enough — a multi-column index, a
    unique index or a unique constraint alike; a partial or invalid index is not.

    Precision rules:

    - The parent's size and write pattern are weighed. A small lookup table (at most 10,000
      rows) on which ``pg_stat_user_tables`` counted no DELETE and no update that could have
      changed its key (a HOT update never changes an indexed column, so only non-HOT updates
      count) drops to info, with that reason: its keys are not deleted or updated, so the
      missing index costs nothing on the parent's side. Zero counts mean something only over
      an observation window that covers the workload's cycle: the counters must have run for
      at least 7 days (since ``stats_reset``, else since the server started), like the
      unused-index check's. When the counters cannot be read, or have not run that long, the
      finding keeps its severity.
    - A partitioned table is judged per partition: it is fine when every partition has a
      supporting index of its own, even if the partitioned parent has none, and then nothing is
      reported. Otherwise the finding is on the partitioned parent and names the partitions
      without one.
    - No fix duplicates an existing index, and generated names never collide with one.

    Fix: ``CREATE INDEX CONCURRENTLY`` on the foreign key columns. On a partitioned table,
    where CONCURRENTLY is not supported, each partition without a supporting index gets one
    ``CONCURRENTLY``; when no partition had one, a final ``CREATE INDEX`` on the parent then
    only attaches those indexes (no rebuild) and gives future partitions the index. Rollback
    drops the indexes again.

    References: https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK,
    https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY,
    https://www.postgresql.org/docs/current/ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-MAINTENANCE
    """
    index_names = _index_names(snap)
    window = observation_window(snap)
    observed = window.covers(MIN_OBSERVED_DAYS)
    for fk in snap.foreign_keys():
        if not fk.columns or snap.index_leading_with(fk.table_qname, fk.columns):
            continue
        child = snap.table(fk.table_qname)
        partitions: list[Table] = []
        if child is not None and child.kind == "p":
            leaves = _leaf_partitions(snap, child.qname)
            partitions = [p for p in leaves if not snap.index_leading_with(p.qname, fk.columns)]
            if leaves and not partitions:
                continue
            fix = _partitioned_fk_index_package(snap, fk, child, partitions, len(leaves), index_names)
        else:
            fix = _fk_index_package(fk, child, index_names)
        parent = snap.table(fk.ref_qname or "")
        lookup_reason = _lookup_table_reason(parent) if observed else None
        message = (
            f"foreign key {fk.name} ({', '.join(fk.columns)}) on {fk.table_qname} "
            f"has no index leading with its columns"
        )
        if partitions:
            message += f" on {len(partitions)} partition(s)"
        if lookup_reason:
            message += f"; info only: {lookup_reason}"
        yield finding(
            fk.table_qname,
            message,
            fix=fix,
            severity=Severity.INFO if lookup_reason else None,
            constraint=fk.name,
            columns=list(fk.columns),
            referenced_table=fk.ref_qname,
            on_delete=fk.on_delete,
            child_rows=int(_table_rows(child)),
            child_bytes=child.heap_bytes if child else 0,
            partitions_without_index=[p.qname for p in partitions],
            parent_rows=int(_table_rows(parent)),
            parent_deletes=parent.n_tup_del if parent else None,
            parent_key_updates=_possible_key_updates(parent),
            lookup_table=lookup_reason,
            parent_writes_observed=window.describe(),
        )


def _possible_key_updates(parent: Table | None) -> int | None:
    """Updates that may have changed the key: the non-HOT ones (a HOT update changes no indexed column)."""
    if parent is None or parent.n_tup_upd is None:
        return None
    return parent.n_tup_upd - (parent.n_tup_hot_upd or 0)


def _lookup_table_reason(parent: Table | None) -> str | None:
    """Why the parent counts as a small lookup table whose keys stay put, or None."""
    if parent is None or parent.n_tup_del is None or parent.kind != "r":
        return None
    rows = max(parent.row_estimate, float(parent.n_live_tup or 0))
    key_updates = _possible_key_updates(parent)
    if rows > LOOKUP_TABLE_MAX_ROWS or parent.n_tup_del or key_updates:
        return None
    return (
        f"{parent.qname} is a small lookup table ({int(rows)} rows) whose keys were never deleted "
        "or updated since its statistics began"
    )


def _index_names(snap: Snapshot) -> set[str]:
    """Every relation name taken per schema, as schema.name: an index name must not collide."""
    return (
        {index.qname for index in snap.indexes}
        | {t.qname for t in snap.tables}
        | {v.qname for v in snap.views}
        | {s.qname for s in snap.sequences}
    )


def _free_index_name(schema: str, stem: str, taken: set[str]) -> str:
    """An index name of stem's shape that no relation in the schema has; reserved in ``taken``."""
    name, counter = stem, 2
    while qualify(schema, name) in taken:
        name = _object_name(stem, suffix=str(counter))
        counter += 1
    taken.add(qualify(schema, name))
    return name


def _leaf_partitions(snap: Snapshot, table_qname: str) -> list[Table]:
    """The partitions that hold rows, through every level of sub-partitioning."""
    leaves: list[Table] = []
    for table in snap.tables:
        if table.parent == table_qname:
            leaves.extend(_leaf_partitions(snap, table.qname) if table.kind == "p" else [table])
    return leaves


def _fk_index_package(fk: Constraint, child: Table | None, taken: set[str]) -> ChangePackage:
    schema = fk.schema
    index = CreateIndex(
        _free_index_name(schema, _object_name(fk.table, *fk.columns, suffix="idx"), taken),
        fk.table_qname,
        tuple(ident(c) for c in fk.columns),
        concurrently=True,
        table_bytes=child.heap_bytes if child else 0,
    )
    return ChangePackage.of(
        f"Index the foreign key {fk.name} on {fk.table_qname}",
        [index],
        "Builds an index on the foreign key columns so parent deletes and key updates find child "
        "rows without scanning the child table.",
    )


def _partitioned_fk_index_package(
    snap: Snapshot, fk: Constraint, parent: Table, partitions: list[Table], leaves: int, taken: set[str]
) -> ChangePackage:
    keys = tuple(ident(c) for c in fk.columns)
    operations: list[Operation] = [
        CreateIndex(
            _free_index_name(p.schema, _object_name(p.name, *fk.columns, suffix="idx"), taken),
            p.qname,
            keys,
            concurrently=True,
            table_bytes=p.heap_bytes,
        )
        for p in partitions
    ]
    explanation = (
        "Builds an index on the foreign key columns of each partition that has none, CONCURRENTLY (which "
        "a partitioned table does not support, but its partitions do), so parent deletes and key updates "
        "find child rows without scanning."
    )
    if len(partitions) == leaves:
        operations.append(
            CreateIndex(
                _free_index_name(parent.schema, _object_name(parent.name, *fk.columns, suffix="idx"), taken),
                parent.qname,
                keys,
                concurrently=False,
            )
        )
        explanation += (
            " The last statement creates the index on the partitioned table itself: it finds the "
            "partitions' equivalent indexes and attaches them without rebuilding, and future "
            "partitions get the index when they are created."
        )
    else:
        explanation += (
            " Other partitions already have a supporting index, so no index is created on the partitioned "
            "table (it would build a second one where theirs differ); give new partitions one too."
        )
    return ChangePackage.of(f"Index the foreign key {fk.name} on {parent.qname}", operations, explanation)


# --- DW103 -------------------------------------------------------------------------------------

# Type changes that PostgreSQL does without rewriting the table (binary-coercible).
_NO_REWRITE = {("varchar", "text"), ("text", "varchar"), ("varchar", "varchar")}


@check(
    "DW103",
    category="design",
    severity=Severity.MEDIUM,
    title="Foreign key column type differs from the referenced column",
)
def foreign_key_type_mismatch(snap: Snapshot) -> Iterator[Finding]:
    """A foreign key column whose type is not the type of the column it references.

    PostgreSQL accepts, say, an ``integer`` column referencing a ``bigint`` key, but every
    foreign key check and every join casts across the types, and the narrower side overflows
    first: when the parent's bigint ids pass 2^31 the child can no longer hold them. Mixed text
    types (``varchar`` against ``text``) are harmless but show the schema drifted.

    Fix: change the referencing column to the referenced column's type. Between integer types
    this rewrites the child table under an ACCESS EXCLUSIVE lock.

    References: https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK,
    https://www.postgresql.org/docs/current/sql-altertable.html
    """
    columns = _column_map(snap)
    for fk in snap.foreign_keys():
        if not fk.ref_qname:
            continue
        for name, ref_name in zip(fk.columns, fk.ref_columns, strict=False):
            child = columns.get(qualify(fk.table_qname, name))
            parent = columns.get(qualify(fk.ref_qname, ref_name))
            if child is None or parent is None or child.type_name == parent.type_name:
                continue
            table = snap.table(fk.table_qname)
            fix = _alter_type_package(
                child,
                parent.data_type,
                table,
                rewrite=(child.type_name, parent.type_name) not in _NO_REWRITE,
                title=f"Make {child.qname} {parent.data_type} like {parent.qname}",
                explanation="Changes the referencing column to the referenced column's type, so foreign key "
                "checks and joins compare like with like and the child cannot overflow first.",
            )
            yield finding(
                child.qname,
                f"{child.qname} is {child.data_type} but references {parent.qname}, "
                f"which is {parent.data_type}",
                fix=fix,
                constraint=fk.name,
                column_type=child.data_type,
                referenced_column=parent.qname,
                referenced_type=parent.data_type,
            )


# --- DW104 -------------------------------------------------------------------------------------

_MONEY_WORDS = {
    "price",
    "prices",
    "amount",
    "amounts",
    "cost",
    "costs",
    "total",
    "subtotal",
    "balance",
    "fee",
    "fees",
    "salary",
    "wage",
    "wages",
    "payment",
    "revenue",
    "tax",
    "vat",
    "discount",
    "charge",
    "credit",
    "debit",
    "refund",
    "budget",
    "income",
    "profit",
    "spend",
    "spent",
    "paid",
    "payout",
    "invoice",
    "money",
    "cash",
    "usd",
    "eur",
    "gbp",
    "cents",
    "tip",
    "rent",
    "deposit",
    "fare",
    "premium",
}
# Tokens that make a money-sounding name a measurement instead: tax_rate, credit_score, total_distance.
_NOT_MONEY_WORDS = {
    "rate",
    "ratio",
    "pct",
    "percent",
    "percentage",
    "score",
    "distance",
    "weight",
    "duration",
    "time",
    "seconds",
    "minutes",
    "hours",
    "days",
    "ms",
    "count",
    "km",
    "kg",
    "lat",
    "lon",
    "latitude",
    "longitude",
    "temperature",
    "temp",
    "factor",
    "share",
    "probability",
    "prob",
    "avg",
    "mean",
    "stddev",
    "volume",
    "size",
    "length",
    "height",
    "width",
    "speed",
    "energy",
    "calories",
}
_FLOAT_TYPES = {"float4", "float8"}
MONEY_TYPE = "numeric(19,4)"


def _looks_like_money(name: str) -> bool:
    words = set(name.lower().split("_"))
    return bool(words & _MONEY_WORDS) and not words & _NOT_MONEY_WORDS


@check("DW104", category="design", severity=Severity.HIGH, title="Money stored in a floating-point column")
def money_in_float(snap: Snapshot) -> Iterator[Finding]:
    """A column named like an amount of money (price, amount, cost, total, balance, fee, salary, …)
    stored as ``real`` or ``double precision``. Names that also say they measure something else
    (``tax_rate``, ``credit_score``, ``total_distance``) are not flagged.

    Floating-point types are inexact: 0.1 + 0.2 is not 0.3, sums drift by fractions of a cent,
    and equality comparisons fail. Money needs an exact type.

    Fix: ``numeric(19,4)`` (exact, up to 10^15 with four decimals), converting existing values
    with ``round(col::numeric, 4)``. This rewrites the table under an ACCESS EXCLUSIVE lock.

    References: https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-FLOAT,
    https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_money
    """
    for column in snap.columns:
        if column.type_name not in _FLOAT_TYPES or not _looks_like_money(column.name):
            continue
        table = snap.table(column.table_qname)
        if table is None or table.kind not in ("r", "p") or table.is_partition:
            continue
        fix = _alter_type_package(
            column,
            MONEY_TYPE,
            table,
            using=f"round({ident(column.name)}::numeric, 4)",
            title=f"Store {column.qname} as {MONEY_TYPE}",
            explanation="Converts the column to an exact decimal type; existing values are rounded to four "
            "decimals, which is below any currency's smallest unit.",
        )
        yield finding(
            column.qname,
            f"{column.qname} looks like money but is {column.data_type}, an inexact floating-point type",
            fix=fix,
            data_type=column.data_type,
            suggested_type=MONEY_TYPE,
        )


# --- DW105 -------------------------------------------------------------------------------------

_EVENT_SUFFIXES = ("_at", "_time", "_ts", "_timestamp", "_datetime", "_on")
_EVENT_NAMES = {"timestamp", "ts", "time", "created", "updated", "modified", "deleted", "datetime"}


def _looks_like_event_time(name: str) -> bool:
    lowered = name.lower()
    return lowered in _EVENT_NAMES or lowered.endswith(_EVENT_SUFFIXES)


@check("DW105", category="design", severity=Severity.LOW, title="Event time stored without a time zone")
def event_timestamp_without_time_zone(snap: Snapshot) -> Iterator[Finding]:
    """A ``timestamp without time zone`` column that records when something happened
    (``created_at``, ``updated_at``, ``*_at``, ``*_time``, ``timestamp``).

    Such a column stores wall-clock readings with no zone: the same instant is stored
    differently by clients in different zones, and values around a daylight-saving change are
    ambiguous. ``timestamptz`` stores the instant itself and converts on display.

    Fix: ``ALTER COLUMN … TYPE timestamptz USING col AT TIME ZONE 'UTC'``, which assumes the
    stored values are UTC; if they were written in another zone, use that zone instead. The
    USING clause makes PostgreSQL rewrite the table under an ACCESS EXCLUSIVE lock. Columns of
    other names (a wall-clock appointment time, say) are not flagged.

    References: https://www.postgresql.org/docs/current/datatype-datetime.html,
    https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_timestamp_.28without_time_zone.29
    """
    for column in snap.columns:
        if column.type_name != "timestamp" or not _looks_like_event_time(column.name):
            continue
        table = snap.table(column.table_qname)
        if table is None or table.kind not in ("r", "p") or table.is_partition:
            continue
        using = f"{ident(column.name)} AT TIME ZONE 'UTC'"
        fix = _alter_type_package(
            column,
            "timestamptz",
            table,
            using=using,
            reverse_using=using,
            title=f"Store {column.qname} as timestamptz",
            explanation="Reinterprets the stored wall-clock values as UTC instants. Check first that the "
            "application wrote UTC; otherwise replace 'UTC' with the zone it used.",
        )
        yield finding(
            column.qname,
            f"{column.qname} records an event time as {column.data_type}",
            fix=fix,
            data_type=column.data_type,
            assumed_zone="UTC",
        )


# --- DW106 -------------------------------------------------------------------------------------


@check("DW106", category="design", severity=Severity.LOW, title="json column where jsonb fits")
def json_instead_of_jsonb(snap: Snapshot) -> Iterator[Finding]:
    """A column of type ``json``.

    ``json`` stores the input text and re-parses it on every access; it has no equality
    operator (so no DISTINCT, GROUP BY or UNIQUE), and no GIN indexing. ``jsonb`` is parsed once,
    is usually faster and supports containment operators and indexes. Keep ``json`` only when
    the exact text matters: key order, duplicate keys and whitespace, which ``jsonb`` drops.

    Fix: ``ALTER COLUMN … TYPE jsonb USING col::jsonb``, a table rewrite under an ACCESS
    EXCLUSIVE lock. It fails if a stored document is not valid jsonb (e.g. a ``\\u0000``).

    References: https://www.postgresql.org/docs/current/datatype-json.html
    """
    for column in snap.columns:
        if column.type_name != "json":
            continue
        table = snap.table(column.table_qname)
        if table is None or table.kind not in ("r", "p") or table.is_partition:
            continue
        fix = _alter_type_package(
            column,
            "jsonb",
            table,
            using=f"{ident(column.name)}::jsonb",
            title=f"Store {column.qname} as jsonb",
            explanation="Converts the documents to jsonb. Key order, duplicate keys and insignificant "
            "whitespace are not kept.",
        )
        yield finding(
            column.qname,
            f"{column.qname} is json; jsonb is faster and indexable",
            fix=fix,
            data_type=column.data_type,
            avg_width=column.stats.avg_width if column.stats else None,
        )


# --- DW107 -------------------------------------------------------------------------------------


#: The most common values must cover this share of the sampled non-null rows to speak for them all.
SAMPLE_COVERAGE = 0.999


@check("DW107", category="design", severity=Severity.LOW, title="Fixed-length char(n) column")
def fixed_length_char(snap: Snapshot) -> Iterator[Finding]:
    """A ``character(n)`` (``char(n)``) column holding values of varying length.

    ``char(n)`` pads values with spaces to n characters, ignores trailing spaces when comparing
    and strips them when casting to text, which surprises clients; it is no faster than
    ``varchar`` or ``text`` in PostgreSQL, and takes more space for short values. (The internal
    one-byte ``"char"`` type is a different type and is not flagged.)

    Precision rules: a fixed-length code (an ISO country or currency code, an ISRC, a disc ID)
    is what ``char(n)`` is for, and is not flagged when the schema or the data says so:

    - a CHECK constraint on the column holds its length (``length(code) = 2``,
      ``char_length``, ``octet_length``), its shape with a regular expression (``code ~ …``),
      or its values, each n characters long (``lock = 'X'``, ``kind IN ('AB', 'CD')``);
    - or the planner's statistics show every sampled value has length n: the most common values
      (``pg_stats.most_common_vals``) and, when those do not cover the sample (all values
      distinct, say), the histogram's bounds (``histogram_bounds``, drawn from the same sample
      across the whole distribution) are each n characters long once the padding is removed.
      ``avg_width`` cannot tell, as it counts the padding. A column without statistics is
      flagged.

    Fix: ``varchar(n)``, keeping the length limit; trailing padding is removed by the cast. The
    change rewrites the table under an ACCESS EXCLUSIVE lock.

    References: https://www.postgresql.org/docs/current/datatype-character.html,
    https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_char.28n.29,
    https://www.postgresql.org/docs/current/view-pg-stats.html
    """
    for column in snap.columns:
        match = re.fullmatch(r"character\((\d+)\)", column.data_type)
        if column.type_name != "bpchar" or match is None:
            continue
        table = snap.table(column.table_qname)
        if table is None or table.kind not in ("r", "p") or table.is_partition:
            continue
        length = int(match.group(1))
        if _length_checked(snap, column, length) or _sampled_lengths(column) == {length}:
            continue
        new_type = f"character varying({length})"
        fix = _alter_type_package(
            column,
            new_type,
            table,
            title=f"Store {column.qname} as {new_type}",
            explanation="Converts the column to varchar with the same length limit; trailing padding spaces "
            "are removed.",
        )
        yield finding(
            column.qname,
            f"{column.qname} is {column.data_type}, which pads values with spaces",
            fix=fix,
            data_type=column.data_type,
            suggested_type=new_type,
            sampled_lengths=sorted(_sampled_lengths(column) or ()),
        )


def _length_checked(snap: Snapshot, column: Column, length: int) -> bool:
    """Whether a CHECK constraint on the column alone holds its length, its shape or its values."""
    name = re.escape(ident(column.name))
    holds = re.compile(
        rf"\b(?:char_length|character_length|length|octet_length)\(\s*\(?{name}\)?(?:::[\w ]+)?\)\s*=\s*{length}\b"
        rf"|(?<![\w$]){name}\s*!?~"
    )
    for constraint in snap.constraints_of(column.table_qname, "c"):
        if constraint.columns != (column.name,):
            continue
        if holds.search(constraint.definition) or _pins_values_of_length(constraint.definition, length):
            return True
    return False


_LITERAL = re.compile(r"'((?:[^']|'')*)'")


def _pins_values_of_length(definition: str, length: int) -> bool:
    """A CHECK that only compares with literals (= 'X', IN (…)), all of the given length."""
    if "=" not in definition or re.search(r"<|>|\bLIKE\b|~|\bOR\b|\bNOT\b", definition, re.IGNORECASE):
        return False
    literals = [value.replace("''", "'") for value in _LITERAL.findall(definition)]
    return bool(literals) and all(len(value.rstrip(" ")) == length for value in literals)


def _sampled_lengths(column: Column) -> set[int] | None:
    """The lengths, padding removed, of the values in the statistics, when they cover the whole sample:
    the most common values, and the histogram's bounds for the rest of the distribution (ANALYZE
    draws both from its sample, so a length missing from both is rare in the data)."""
    stats = column.stats
    if stats is None:
        return None
    common = stats.most_common_vals or ()
    bounds = stats.histogram_bounds or ()
    non_null = 1.0 - (stats.null_frac or 0.0)
    if non_null <= 0 or not (common or bounds):
        return None
    covered = sum(stats.most_common_freqs or ()) >= non_null * SAMPLE_COVERAGE
    if not covered and len(bounds) < 2:
        return None
    return {len(value.rstrip(" ")) for value in (*common, *bounds)}


# --- DW108 -------------------------------------------------------------------------------------

#: A repeated group needs at least this many numbered columns (two is too often x1/x2 or line1/line2).
MIN_REPEATED_COLUMNS = 3
_NUMBERED = re.compile(r"^(?P<stem>.*?[a-z].*?)_?(?P<number>\d+)$", re.IGNORECASE)


def _repeated_groups(columns: list[Column]) -> list[tuple[str, list[Column]]]:
    """Groups of columns named stem1, stem2, stem3 … with consecutive numbers and one type."""
    groups: dict[tuple[str, str], list[tuple[int, Column]]] = defaultdict(list)
    for column in columns:
        match = _NUMBERED.match(column.name) if column.name[-1:].isdigit() else None
        if match:
            groups[(match["stem"], column.data_type)].append((int(match["number"]), column))
    found = []
    for (stem, _type), members in groups.items():
        numbers = sorted(n for n, _ in members)
        consecutive = numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        if len(members) >= MIN_REPEATED_COLUMNS and consecutive and numbers[0] in (0, 1):
            found.append((stem.rstrip("_"), [c for _, c in sorted(members, key=lambda m: m[0])]))
    return found


@check("DW108", category="design", severity=Severity.LOW, title="Repeated group of numbered columns")
def repeated_column_group(snap: Snapshot) -> Iterator[Finding]:
    """Three or more columns that share a stem and differ only by a consecutive number, with the
    same type: ``phone1, phone2, phone3``. A repeating group in one row breaks first normal form.

    The schema caps how many values a row can have, queries must test every column
    (``WHERE phone1 = $1 OR phone2 = $1 OR …``), no single index serves the lookup, and most
    columns sit empty. Pairs such as ``address_line1, address_line2`` or ``x1, x2`` are not
    flagged.

    Fix: a child table with one row per value, keyed by the parent's primary key and the
    position, filled from the existing columns. The old columns stay until the application
    reads the new table; dropping them is a manual, later step. Rollback drops the new table.
    Tables without a primary key get no automatic fix.

    References: https://www.postgresql.org/docs/current/ddl-constraints.html,
    https://en.wikipedia.org/wiki/First_normal_form
    """
    for table in snap.user_tables():
        if table.is_partition:
            continue
        for stem, members in _repeated_groups(snap.columns_of(table.qname)):
            names = [c.name for c in members]
            yield finding(
                table.qname,
                f"{table.qname} repeats {stem} in {len(members)} columns ({', '.join(names)})",
                fix=_child_table_package(snap, table, stem, members),
                stem=stem,
                columns=names,
                data_type=members[0].data_type,
                null_fractions=[c.stats.null_frac if c.stats else None for c in members],
            )


def _child_table_package(
    snap: Snapshot, table: Table, stem: str, members: list[Column]
) -> ChangePackage | None:
    primary = next(iter(snap.constraints_of(table.qname, "p")), None)
    if primary is None:
        return None
    child_name = _object_name(table.name, stem, suffix="values")
    while snap.table(qualify(table.schema, child_name)):
        child_name = _object_name(child_name, suffix="new")
    child = qualify(table.schema, child_name)
    key_columns = [snap.column(table.qname, name) for name in primary.columns]
    key_defs = ", ".join(f"{ident(c.name)} {c.data_type} NOT NULL" for c in key_columns if c)
    keys = ", ".join(ident(name) for name in primary.columns)
    create = (
        f"CREATE TABLE {qident(child)} ({key_defs}, position smallint NOT NULL, "
        f"value {members[0].data_type} NOT NULL, PRIMARY KEY ({keys}, position), "
        f"FOREIGN KEY ({keys}) REFERENCES {qident(table.qname)} ({keys}) ON DELETE CASCADE);"
    )
    pairs = ", ".join(f"({position}, t.{ident(c.name)})" for position, c in enumerate(members, start=1))
    insert = (
        f"INSERT INTO {qident(child)} ({keys}, position, value) "
        f"SELECT {', '.join(f't.{ident(n)}' for n in primary.columns)}, v.position, v.value "
        f"FROM {qident(table.qname)} t CROSS JOIN LATERAL (VALUES {pairs}) AS v(position, value) "
        f"WHERE v.value IS NOT NULL;"
    )
    operations = [
        RawSQL(
            create, f"DROP TABLE IF EXISTS {qident(child)};", lock_=Lock("SHARE ROW EXCLUSIVE", table.qname)
        ),
        RawSQL(insert, lock_=Lock("ACCESS SHARE", table.qname), scans_=True, table_bytes=table.heap_bytes),
    ]
    return ChangePackage.of(
        f"Move {stem} values of {table.qname} into {child}",
        operations,
        f"Creates {child} with one row per non-null {stem} value and copies the existing values. The old "
        "columns are kept so the application keeps working while it moves to the new table.",
        manual_steps=(
            f"Once the application reads and writes {child}, drop "
            f"{', '.join(c.name for c in members)} from {table.qname}.",
        ),
    )


# --- DW109 -------------------------------------------------------------------------------------

#: At most this many distinct values make a text column enum-like.
MAX_ENUM_VALUES = 10
#: One value is no set: a CHECK on it would refuse the second kind of row the application writes.
MIN_ENUM_VALUES = 2
#: The most common values must cover this share of non-null rows: the list is then complete.
ENUM_COVERAGE = 0.999
#: The last word of a column name that says its values come from a closed list.
_CLOSED_SET_WORDS = {
    "status",
    "state",
    "kind",
    "type",
    "category",
    "level",
    "priority",
    "severity",
    "mode",
    "phase",
    "stage",
    "gender",
    "sex",
    "tier",
    "direction",
    "visibility",
    "outcome",
}
#: Words that make a kind open-ended: new values come with new code, plugins or providers.
_OPEN_SET_WORDS = {
    "action",
    "event",
    "activity",
    "operation",
    "provider",
    "plugin",
    "backend",
    "handler",
    "source",
    "vendor",
    "integration",
    "app",
    "module",
    "class",
    "model",
    "service",
    "component",
    "driver",
    "engine",
    "adapter",
    "extension",
    "content",
    "object",
    "entity",
    "target",
    "resource",
    "subject",
    "owner",
    "parent",
    "media",
    "mime",
    "file",
    "notification",
    "message",
    "job",
    "task",
    "auth",
}
#: A value of a closed set is a short token, not a sentence or a dotted class path.
_TOKEN_VALUE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[_-][A-Za-z0-9]+)*$")
MAX_TOKEN_LENGTH = 32


def _distinct_values(stats: ColumnStats, rows: float) -> float | None:
    if stats.n_distinct is None:
        return None
    return stats.n_distinct if stats.n_distinct >= 0 else -stats.n_distinct * rows


@check("DW109", category="design", severity=Severity.LOW, title="Enum-like text column without a constraint")
def enum_like_text_column(snap: Snapshot) -> Iterator[Finding]:
    """A ``text`` or ``varchar`` column that, per the planner's statistics, holds a handful of
    distinct values (2 to 10) over at least 1,000 non-null rows, whose name and values say it is
    a closed set, and that has neither a CHECK constraint nor a foreign key limiting it.

    Nothing stops a typo (``'shiped'``) from becoming a new status that no query expects. The
    values are taken from ``pg_stats.most_common_vals`` and must cover all non-null rows of the
    sample. Columns without statistics (never analyzed, or hidden from this role) are skipped.

    Precision rules:

    - One distinct value is no set: a CHECK on it would refuse the next kind of row (``CHECK
      (type IN ('entry'))`` blocks every exit scan). At least two values over at least 1,000
      non-null rows are needed.
    - The name must say it is a closed list: its last word is one of status, state, kind, type,
      category, level, priority, severity, mode, phase, stage, gender, sex, tier, direction,
      visibility, outcome.
    - Open-ended kinds are not flagged: a name with a word such as action, event, activity,
      operation, provider, plugin, backend, handler, source, vendor, integration, app, module,
      class, model, service, content, object, entity, target, resource, media, notification or
      job (``action_type``, ``auth_provider``, ``content_type``): new values arrive with new
      code, plugins or providers.
    - Every value must be a short token (a letter, then letters, digits, ``_`` or ``-``, at
      most 32 characters): free text and dotted class paths are not a closed set.

    Fix: ``ADD CONSTRAINT … CHECK (col IN (…)) NOT VALID`` (a brief lock), then ``VALIDATE
    CONSTRAINT``, which scans the table without blocking writes. Validation fails if a value
    outside the sample exists; add it to the list. A lookup table with a foreign key, or an enum
    type, are alternatives.

    References: https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-CHECK-CONSTRAINTS,
    https://www.postgresql.org/docs/current/view-pg-stats.html
    """
    for table in snap.user_tables():
        if not _reviewable_for_stats(table):
            continue
        constrained = None
        for column in snap.columns_of(table.qname):
            if not _is_plain_text(column) or not _names_closed_set(column.name):
                continue
            values = _enum_values(column, table)
            if values is None:
                continue
            if constrained is None:
                constrained = _constrained_columns(snap, table.qname, "c", "f", "u", "p")
            if column.name in constrained:
                continue
            yield finding(
                column.qname,
                f"{column.qname} holds only {len(values)} distinct values but nothing constrains them",
                fix=_check_values_package(table, column, values),
                values=list(values),
                frequencies=list(column.stats.most_common_freqs or ()),
                null_frac=column.stats.null_frac,
                rows=int(table.row_estimate),
            )


def _names_closed_set(name: str) -> bool:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().split("_")
    return words[-1] in _CLOSED_SET_WORDS and not set(words) & _OPEN_SET_WORDS


def _check_values_package(table: Table, column: Column, values: tuple[str, ...]) -> ChangePackage:
    name = _object_name(table.name, column.name, suffix="check")
    expression = f"{ident(column.name)} IN ({', '.join(literal(v) for v in values)})"
    return ChangePackage.of(
        f"Limit {column.qname} to its {len(values)} values",
        [
            AddCheck(table.qname, name, expression),
            ValidateConstraint(table.qname, name, table_bytes=table.heap_bytes),
        ],
        "Adds the CHECK constraint without checking existing rows (a brief ACCESS EXCLUSIVE lock), then "
        "validates it with a scan that allows reads and writes.",
    )


def _reviewable_for_stats(table: Table | None) -> bool:
    """A table (or partitioned parent, not a partition) big enough for its statistics to mean something."""
    return (
        table is not None
        and table.kind in ("r", "p")
        and not table.is_partition
        and table.row_estimate >= MIN_ROWS_FOR_STATS
    )


def _is_plain_text(column: Column) -> bool:
    """text or varchar, not a domain (whose own CHECK may already limit it) and not an enum."""
    return column.data_type == "text" or column.data_type.startswith("character varying")


def _enum_values(column: Column, table: Table | None) -> tuple[str, ...] | None:
    """The column's values, when the statistics show a small, complete set of short tokens."""
    stats = column.stats
    if stats is None or not _reviewable_for_stats(table):
        return None
    distinct = _distinct_values(stats, table.row_estimate)
    values, freqs = stats.most_common_vals, stats.most_common_freqs
    if not distinct or not MIN_ENUM_VALUES <= round(distinct) <= MAX_ENUM_VALUES:
        return None
    if not values or not freqs or len(values) < max(round(distinct), MIN_ENUM_VALUES):
        return None
    non_null = 1.0 - (stats.null_frac or 0.0)
    if non_null * table.row_estimate < MIN_ROWS_FOR_STATS or sum(freqs) < non_null * ENUM_COVERAGE:
        return None
    if not all(len(v) <= MAX_TOKEN_LENGTH and _TOKEN_VALUE.match(v) for v in values):
        return None
    return tuple(sorted(values))


# --- DW110 -------------------------------------------------------------------------------------


#: In an exclusive arc the other references' non-null shares add up to (about) nothing.
ARC_TOLERANCE = 0.05
#: Words in a column name that say NULL means "unknown", "not yet" or "none": nullable by design.
_OPTIONAL_WORDS = {
    "deleted",
    "archived",
    "cancelled",
    "canceled",
    "closed",
    "completed",
    "finished",
    "ended",
    "end",
    "expires",
    "expired",
    "expiry",
    "resolved",
    "processed",
    "revoked",
    "confirmed",
    "verified",
    "approved",
    "rejected",
    "terminated",
    "last",
    "next",
    "previous",
    "birth",
    "death",
    "middle",
    "maiden",
    "nickname",
    "alias",
    "optional",
    "unknown",
    "note",
    "notes",
    "comment",
    "comments",
    "remark",
    "remarks",
    "parent",
    "referrer",
    "manager",
}


@check("DW110", category="design", severity=Severity.LOW, title="Nullable column that holds no NULLs")
def nullable_without_nulls(snap: Snapshot) -> Iterator[Finding]:
    """A nullable column in which the planner's statistics found no NULL at all
    (``pg_stats.null_frac = 0``) over a table of at least 1,000 rows.

    If the column is never NULL by intent, say so: the constraint documents it, guards against
    bad writes, and lets the planner and ORMs rely on it. Statistics come from a sample, so
    the fix proves the claim before it relies on it. Columns without statistics are skipped.

    Precision rules: a column that is nullable by design stays info, with no fix.

    - A reference to one of several parents (an exclusive arc): a nullable foreign key column
      next to other foreign key or ``*_id`` columns that hold NULLs and are (nearly) never set
      where this one is, like an answer that belongs to a cart, a session or an
      order (``cart_id``, ``session_id``, ``order_id``), each row having one of them.
    - A name that says NULL means "unknown", "not yet" or "none": ``deleted_at``,
      ``finished_at``, ``expires_at``, ``birth_date``, ``middle_name``, ``parent_id``, ``notes``.
    - No fix without a sample large enough to matter: tables under 1,000 rows are not reported
      at all, and a column is judged only on statistics ANALYZE took.

    Fix, the way that avoids a long ACCESS EXCLUSIVE scan: ``ADD CONSTRAINT … CHECK (col IS NOT
    NULL) NOT VALID``; ``VALIDATE CONSTRAINT`` (scans without blocking writes); ``SET NOT NULL``,
    which PostgreSQL 12+ proves from the validated check without scanning; then drop the check.

    References: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DROP-NOT-NULL,
    https://www.postgresql.org/docs/current/view-pg-stats.html
    """
    for table in snap.user_tables():
        if not _reviewable_for_stats(table):
            continue
        proven = _not_null_checks(snap, table.qname)
        columns = snap.columns_of(table.qname)
        references = _reference_columns(snap, table.qname, columns)
        foreign_keys = {c.columns[0] for c in snap.constraints_of(table.qname, "f") if len(c.columns) == 1}
        for column in columns:
            stats = column.stats
            if column.not_null or stats is None or stats.null_frac != 0 or column.name in proven:
                continue
            reason = _nullable_by_design(column, columns, references, foreign_keys)
            message = f"{column.qname} is nullable but holds no NULLs"
            yield finding(
                column.qname,
                message + (f"; info only: {reason}" if reason else ""),
                fix=None if reason else _set_not_null_package(table, column),
                severity=Severity.INFO if reason else None,
                null_frac=stats.null_frac,
                rows=int(table.row_estimate),
                nullable_by_design=reason,
            )


def _reference_columns(snap: Snapshot, table_qname: str, columns: list[Column]) -> set[str]:
    """Columns that point at another row: single-column foreign keys and ``*_id`` columns."""
    found = {c.columns[0] for c in snap.constraints_of(table_qname, "f") if len(c.columns) == 1}
    return found | {c.name for c in columns if c.name.lower().endswith("_id")}


def null_means_something(name: str) -> bool:
    """A column whose name says NULL is a value (unknown, not yet, none): ``deleted_at``, ``expiry``."""
    words = set(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().split("_"))
    return bool(words & _OPTIONAL_WORDS)


def _nullable_by_design(
    column: Column, columns: list[Column], references: set[str], foreign_keys: set[str]
) -> str | None:
    """Why NULL is a meaningful value of this column, or None."""
    if column.name in foreign_keys:
        siblings = [
            c
            for c in columns
            if c.name in references and c.name != column.name and c.stats and (c.stats.null_frac or 0.0) > 0
        ]
        # An exclusive arc: each row points at one parent at most, so the set shares sum to at most one.
        shares = sum(1.0 - (c.stats.null_frac or 0.0) for c in siblings if c.stats)
        if siblings and shares <= ARC_TOLERANCE:
            names = ", ".join(c.name for c in [column, *siblings])
            return f"a reference to one of several parents: each row sets at most one of {names}"
    if null_means_something(column.name):
        return "its name says NULL means unknown, not yet or none"
    return None


def _not_null_checks(snap: Snapshot, table_qname: str) -> set[str]:
    """Columns already guarded by a validated ``CHECK (col IS NOT NULL)``."""
    guarded = set()
    for constraint in snap.constraints_of(table_qname, "c"):
        if constraint.validated and len(constraint.columns) == 1:
            expected = f"CHECK (({ident(constraint.columns[0])} IS NOT NULL))"
            if constraint.definition.startswith(expected):
                guarded.add(constraint.columns[0])
    return guarded


def _set_not_null_package(table: Table, column: Column) -> ChangePackage:
    name = _object_name(table.name, column.name, suffix="not_null")
    operations = [
        AddCheck(table.qname, name, f"{ident(column.name)} IS NOT NULL"),
        ValidateConstraint(table.qname, name, table_bytes=table.heap_bytes),
        SetNotNull(table.qname, column.name, proven_by_check=True),
        DropConstraint(table.qname, name),
    ]
    return ChangePackage.of(
        f"Make {column.qname} NOT NULL",
        operations,
        "Proves the column has no NULLs with a NOT VALID check validated under a lock that allows writes, "
        "sets NOT NULL (no scan: the validated check proves it), then drops the helper check.",
    )


# --- DW111 -------------------------------------------------------------------------------------

#: Warn when a sequence feeding a 32-bit (or 16-bit) column has used this share of the range.
SEQUENCE_WARN_FRACTION = 0.5
SEQUENCE_CRITICAL_FRACTION = 0.85
_INT_LIMITS = {"int2": 32767, "int4": 2147483647}
_NEXTVAL = re.compile(r"nextval\('(?P<name>(?:[^']|'')+)'::regclass\)")


@check("DW111", category="design", severity=Severity.HIGH, title="Integer key running out of values")
def integer_key_exhaustion(snap: Snapshot) -> Iterator[Finding]:
    """An ``integer`` (or ``smallint``) column fed by a sequence — ``serial``, identity, or a
    ``nextval()`` default — whose sequence has used at least half of the column's range
    (2,147,483,647 for integer).

    When it reaches the limit every INSERT fails. Widening the column later, under pressure,
    means a full table rewrite under an ACCESS EXCLUSIVE lock, plus every foreign key column
    referencing it. Severity rises to critical past 85%. Sequences whose value this role cannot
    read are skipped.

    Fix: ``ALTER COLUMN … TYPE bigint`` on the key and on the integer columns referencing it,
    and ``ALTER SEQUENCE … AS bigint`` for a non-identity sequence (an identity column's
    sequence follows its column). Plan the rewrite for a maintenance window, or migrate online
    through a new column.

    References: https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-INT,
    https://www.postgresql.org/docs/current/sql-altersequence.html
    """
    columns = _column_map(snap)
    fed_by = _sequence_columns(snap, columns)
    referencing = _referencing_columns(snap)
    for sequence in snap.sequences:
        column = fed_by.get(sequence.qname)
        if column is None or column.type_name not in _INT_LIMITS or sequence.last_value is None:
            continue
        limit = _INT_LIMITS[column.type_name]
        used = sequence.last_value / limit if sequence.increment > 0 else sequence.last_value / -limit
        if used < SEQUENCE_WARN_FRACTION:
            continue
        children = [
            c
            for c in (columns.get(name) for name in referencing.get(column.qname, ()))
            if c is not None and c.type_name in _INT_LIMITS
        ]
        severity = Severity.CRITICAL if used >= SEQUENCE_CRITICAL_FRACTION else None
        yield finding(
            column.qname,
            f"{column.qname} ({column.data_type}) has used {used:.0%} of its range through {sequence.qname}",
            severity=severity,
            fix=_widen_key_package(snap, column, sequence, children),
            sequence=sequence.qname,
            last_value=sequence.last_value,
            limit=limit,
            used_fraction=round(used, 4),
            referencing_columns=[c.qname for c in children],
        )


def _sequence_columns(snap: Snapshot, columns: dict[str, Column]) -> dict[str, Column]:
    """Sequence qname → the column it feeds, via OWNED BY / identity, then nextval() defaults."""
    fed_by: dict[str, Column] = {}
    for column in snap.columns:
        match = _NEXTVAL.search(column.default or "")
        if match:
            name = match["name"].replace("''", "'").replace('"', "")
            fed_by.setdefault(name if "." in name else qualify(column.schema, name), column)
    for sequence in snap.sequences:
        owner = columns.get(sequence.owned_by or "")
        if owner is not None:
            fed_by[sequence.qname] = owner
    return fed_by


def _referencing_columns(snap: Snapshot) -> dict[str, list[str]]:
    """Referenced column qname → qualified names of the foreign key columns pointing at it."""
    found: dict[str, list[str]] = defaultdict(list)
    for fk in snap.foreign_keys():
        if fk.ref_qname:
            for name, ref in zip(fk.columns, fk.ref_columns, strict=False):
                found[qualify(fk.ref_qname, ref)].append(qualify(fk.table_qname, name))
    return found


def _widen_key_package(
    snap: Snapshot, column: Column, sequence: Sequence, children: list[Column]
) -> ChangePackage:
    operations: list[Operation] = []
    for target in [column, *children]:
        table = snap.table(target.table_qname)
        operations.append(
            AlterColumnType(
                target.table_qname,
                target.name,
                "bigint",
                target.data_type,
                table_bytes=table.heap_bytes + table.index_bytes if table else 0,
            )
        )
    if column.identity is None and sequence.data_type in ("integer", "smallint"):
        operations.append(AlterSequenceType(sequence.qname, "bigint", sequence.data_type))
    return ChangePackage.of(
        f"Widen {column.qname} to bigint",
        operations,
        "Changes the key, and the integer columns that reference it, to bigint, and lets the sequence run "
        "past the integer range. Each ALTER rewrites its table and indexes under an ACCESS EXCLUSIVE lock.",
        performance_notes=(
            "Every statement rewrites a whole table; on a large table plan a maintenance "
            "window or an online migration through a new bigint column.",
        ),
    )


# --- DW112 -------------------------------------------------------------------------------------


@check("DW112", category="design", severity=Severity.INFO, title="Identifier that needs quoting")
def identifier_needs_quoting(snap: Snapshot) -> Iterator[Finding]:
    """A table or column whose name must be double-quoted in SQL: it has upper-case letters,
    spaces or other special characters, or is a reserved word (``user``, ``order``, ``end``).

    Every hand-written query and tool must quote it exactly, and forgetting once produces
    "relation does not exist" or a syntax error. Columns of partitions are reviewed on their
    partitioned parent.

    Precision rule: info only, and no rename is ever proposed. The name is often owned by
    something else: an ORM maps ``default``, ``end`` or ``to`` to its fields and quotes them
    itself, and a rename breaks every client, view, report and stored query that uses the old
    name. The finding only says how the name must be written.

    Fix: none generated. Quote the name where SQL is written by hand. Rename it only together
    with the application (or the ORM model) that owns the schema, in the same deployment.

    References: https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS,
    https://www.postgresql.org/docs/current/sql-keywords-appendix.html
    """
    for table in snap.user_tables():
        if ident(table.name) != table.name:
            yield finding(
                table.qname,
                f"table {table.qname} must be quoted as {ident(table.name)}",
                quoted=ident(table.name),
            )
        if table.is_partition:
            continue
        for column in snap.columns_of(table.qname):
            if ident(column.name) != column.name:
                yield finding(
                    column.qname,
                    f"column {column.qname} must be quoted as {ident(column.name)}",
                    quoted=ident(column.name),
                )
