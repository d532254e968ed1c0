"""Index checks: duplicates, redundancy, unused, invalid and bloated indexes, and the scans
that show an index is missing — all read from the catalog, its statistics and its counters."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from dbwright.checks.registry import check, finding
from dbwright.model import Column, Index, Snapshot, Table
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import CreateIndex, DropIndex, Lock, Operation, RawSQL, ident, literal, qident
from dbwright.model.package import ChangePackage

# --- shared helpers ---------------------------------------------------------------------------

MAX_IDENTIFIER = 63
#: Statistics-based checks ignore tables smaller than this.
MIN_ROWS_FOR_STATS = 1000
#: Days the usage counters must cover before an index with no scans counts as unused: the review's
#: ``min_observed_days`` option (``--min-observed``) overrides it.
MIN_OBSERVED_DAYS = 7.0
#: Index methods that answer searches a B-tree cannot: full-text, containment, ranges, geometry.
SEARCH_METHODS = ("gin", "gist", "spgist", "brin")


def key_items(index: Index) -> tuple[str, ...]:
    """The key list of the index definition, one entry per key with its collation, opclass and
    ordering as PostgreSQL prints them: ``("a", "b DESC", "c text_pattern_ops")``."""
    return _parsekey_items(index.definition, index.method) or tuple(c or "" for c in index.columns)


@lru_cache(maxsize=65536)
def _parsekey_items(definition: str, method: str) -> tuple[str, ...]:
    marker = f" USING {method} ("
    start = definition.find(marker)
    if start < 0:
        return ()
    rest = definition[start + len(marker) :]
    end = rest.find(")")
    if end >= 0 and '"' not in rest and "(" not in rest[:end]:
        return tuple(item.strip() for item in rest[:end].split(","))  # plain columns: the common case
    items, depth, quoted, current = [], 0, False, []
    for ch in rest:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            if depth == 0:
                break
            depth -= 1
        elif not quoted and ch == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    items.append("".join(current).strip())
    return tuple(items)


def _indexes_by_table(snap: Snapshot) -> dict[str, list[Index]]:
    grouped: dict[str, list[Index]] = defaultdict(list)
    for index in snap.indexes:
        grouped[index.table_qname].append(index)
    return grouped


def _plain_btree(index: Index) -> bool:
    """A valid btree index on plain columns (no expressions)."""
    return index.valid and index.method == "btree" and bool(index.columns) and None not in index.columns


def _enforces_something(index: Index) -> bool:
    return index.unique or index.primary or index.constraint is not None


def _drop_package(index: Index, table: Table | None, title: str, explanation: str) -> ChangePackage:
    concurrently = not (table and table.kind == "p")
    drop = DropIndex(
        index.qname,
        concurrently=concurrently,
        definition=index.definition,
        table_bytes=table.heap_bytes if table else 0,
    )
    return ChangePackage.of(
        title,
        [drop],
        explanation + " Rollback recreates the index from its definition.",
        performance_notes=(f"Frees {index.bytes} bytes and the write cost of maintaining the index.",),
    )


def _fk_only_indexes(snap: Snapshot, table_qname: str) -> set[str]:
    """Indexes that are the only support of a foreign key on the table: dropping them hurts."""
    protected = set()
    indexes = [i for i in snap.indexes_of(table_qname) if i.valid and not i.predicate]
    for fk in snap.constraints_of(table_qname, "f"):
        wanted = set(fk.columns)
        covering = [i for i in indexes if set(i.columns[: len(wanted)]) == wanted]
        if len(covering) == 1:
            protected.add(covering[0].name)
    return protected


def _stat_columns(snap: Snapshot, index: Index) -> list[Column] | None:
    """The index's key and INCLUDE columns, or None when any of them lacks statistics."""
    found = []
    for name in (*index.columns, *index.include):
        column = snap.column(index.table_qname, name) if name else None
        if column is None or column.stats is None or column.stats.avg_width is None:
            return None
        found.append(column)
    return found


def _block_size(snap: Snapshot) -> int:
    setting = snap.server.setting("block_size")
    return int(setting.value) if setting else 8192


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


# --- DW201 -------------------------------------------------------------------------------------


def _keep_order(index: Index) -> tuple:
    """Which of two identical indexes to keep: the constraint-backed, unique, strictest, most used."""
    nulls_not_distinct = "NULLS NOT DISTINCT" in index.definition
    return (
        not index.primary,
        index.constraint is None,
        not index.unique,
        not nulls_not_distinct,
        -(index.scans or 0),
        index.name,
    )


@check("DW201", category="indexes", severity=Severity.MEDIUM, title="Duplicate index")
def duplicate_index(snap: Snapshot) -> Iterator[Finding]:
    """Two or more valid indexes on the same table with the same method, key columns (with
    their ordering, collation and operator classes), expressions, predicate and INCLUDE columns.

    Every copy is maintained on every write and takes space and cache, but only one is ever
    needed. The one kept is the one backing a primary key or constraint, else a unique one, else
    the most used. When two constraints own identical indexes (a primary key and a unique
    constraint on the same column), no automatic fix is offered: drop the redundant constraint
    by hand after checking no foreign key references it. Indexes of partitions are compared on
    their partitioned parent, since attached partition indexes cannot be dropped alone.

    Fix: ``DROP INDEX CONCURRENTLY`` of the extra copy; rollback recreates it from its definition.

    References: https://www.postgresql.org/docs/current/sql-dropindex.html,
    https://wiki.postgresql.org/wiki/Index_Maintenance#Duplicate_indexes
    """
    groups: dict[tuple, list[Index]] = defaultdict(list)
    partitions = {t.qname for t in snap.tables if t.is_partition}
    for index in snap.indexes:
        if index.valid and index.table_qname not in partitions:
            groups[(index.shape, index.include, key_items(index))].append(index)
    for group in groups.values():
        if len(group) < 2:
            continue
        keep, *extras = sorted(group, key=_keep_order)
        table = snap.table(keep.table_qname)
        for extra in extras:
            fix = None
            if extra.constraint is None and not extra.primary and (keep.unique or not extra.unique):
                fix = _drop_package(
                    extra,
                    table,
                    f"Drop duplicate index {extra.qname}",
                    f"{keep.qname} serves every query {extra.qname} serves.",
                )
            yield finding(
                extra.qname,
                f"{extra.qname} duplicates {keep.qname}",
                fix=fix,
                duplicate_of=keep.qname,
                bytes=extra.bytes,
                scans=extra.scans,
                definition=extra.definition,
                kept_definition=keep.definition,
                backs_constraint=extra.constraint,
            )


# --- DW202 -------------------------------------------------------------------------------------


def _covers(wider: Index, narrow: Index) -> bool:
    """True when ``wider`` serves every lookup ``narrow`` serves, and is not its exact duplicate."""
    if wider.name == narrow.name or not _plain_btree(wider) or wider.predicate != narrow.predicate:
        return False
    narrow_keys, wider_keys = key_items(narrow), key_items(wider)
    if wider_keys[: len(narrow_keys)] != narrow_keys:
        return False
    if not set(narrow.include) <= set(wider.columns) | set(wider.include):
        return False
    if len(wider_keys) > len(narrow_keys):
        return True
    return set(narrow.include) < set(wider.include)


@check("DW202", category="indexes", severity=Severity.LOW, title="Redundant index")
def redundant_index(snap: Snapshot) -> Iterator[Finding]:
    """A btree index whose key columns are the leading columns of another valid btree index on
    the same table, with the same predicate, ordering, collation and operator classes.

    The wider index answers every lookup, sort and foreign key check the narrower one does;
    the narrower one only costs writes, space and cache. The keys are compared as PostgreSQL
    prints them in the index definition, so two indexes on the same column differ when:

    - their collations differ (``name COLLATE "C"`` next to ``name``): each serves only the
      comparisons and sorts of its own collation;
    - their operator classes differ: under a collation other than C, only a
      ``text_pattern_ops`` or ``varchar_pattern_ops`` index serves ``LIKE 'abc%'``, and only
      the plain one serves ``<`` and ``ORDER BY``, so neither is redundant next to the other;
    - their predicates differ (a partial index next to a full one), or their order
      (``DESC``, ``NULLS FIRST``).

    The narrower index's INCLUDE columns must be in the wider index (as keys or INCLUDE). A
    unique or constraint-backed index is never redundant (it enforces something), and expression
    indexes are not compared. The narrower index is slightly smaller and faster to scan, so keep
    it only if a hot query measurably needs that. Partitions are reviewed through their
    partitioned parent.

    Fix: ``DROP INDEX CONCURRENTLY``; rollback recreates it from its definition.

    References: https://www.postgresql.org/docs/current/indexes-multicolumn.html,
    https://www.postgresql.org/docs/current/sql-dropindex.html
    """
    for table_qname, indexes in _indexes_by_table(snap).items():
        table = snap.table(table_qname)
        if table is None or table.is_partition:
            continue
        candidates = [i for i in indexes if _plain_btree(i)]
        for narrow in candidates:
            if _enforces_something(narrow):
                continue
            wider = next((w for w in candidates if _covers(w, narrow)), None)
            if wider is None:
                continue
            fix = _drop_package(
                narrow,
                table,
                f"Drop redundant index {narrow.qname}",
                f"{wider.qname} leads with the same columns and serves the same lookups.",
            )
            yield finding(
                narrow.qname,
                f"{narrow.qname} is a prefix of {wider.qname}",
                fix=fix,
                covered_by=wider.qname,
                columns=list(narrow.columns),
                covering_columns=list(wider.columns),
                bytes=narrow.bytes,
                scans=narrow.scans,
            )


# --- DW203 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObservationWindow:
    """How long the index usage counters have been counting, and since what."""

    since: str | None  # when the counters started: the last statistics reset, else the server start
    source: str  # "stats_reset", "server_start" or "unknown"
    days: float | None

    def describe(self) -> str:
        """The window in words, as the evidence states it."""
        if self.since is None or self.days is None:
            return (
                "over an unknown period (the statistics were never reset and the snapshot does not say "
                "when the server started)"
            )
        when = f"{self.since[:16]} ({self.days:.1f} days)"
        if self.source == "stats_reset":
            return f"since statistics were reset on {when}"
        return f"since the server started on {when}"

    def covers(self, min_days: float) -> bool:
        return self.days is not None and self.days >= min_days

    def evidence(self, min_days: float) -> dict[str, object]:
        return {
            "observed_since": self.since,
            "observed_from": self.source,
            "days_observed": round(self.days, 1) if self.days is not None else None,
            "min_observed_days": min_days,
        }


def observation_window(snap: Snapshot) -> ObservationWindow:
    """Since when the usage counters count: ``pg_stat_database.stats_reset`` when they were reset,
    else the server's start (the counters then run at least since it started)."""
    database = snap.server.current_database
    reset = database.stats_reset if database else None
    if reset:
        return ObservationWindow(reset, "stats_reset", _days_between(reset, snap.taken_at))
    started = snap.server.postmaster_start
    if started:
        return ObservationWindow(started, "server_start", _days_between(started, snap.taken_at))
    return ObservationWindow(None, "unknown", None)


def _preferred(alternatives: Iterable[Index]) -> Index:
    """Of indexes that can stand in for each other, the one to keep: enforcing, used, narrow."""
    return min(
        alternatives,
        key=lambda i: (not _enforces_something(i), -(i.scans or 0), len(key_items(i)), i.bytes, i.name),
    )


def foreign_key_keepers(snap: Snapshot, table_qname: str) -> dict[str, str]:
    """The index kept for each foreign key of the table, by index name: the foreign key it serves.

    An index supports a foreign key when its leading key columns are the key's columns (in any
    order), it is valid, complete (not partial) and a btree or hash. When several do, one is
    kept, so dropping the others still leaves one for the key's lookups."""
    supporting = [
        i
        for i in snap.indexes_of(table_qname)
        if i.valid and not i.predicate and i.method in ("btree", "hash")
    ]
    keepers: dict[str, str] = {}
    for fk in snap.constraints_of(table_qname, "f"):
        wanted = set(fk.columns)
        covering = [i for i in supporting if set(i.columns[: len(wanted)]) == wanted]
        if covering:
            keepers.setdefault(_preferred(covering).name, fk.name)
    return keepers


def search_keepers(indexes: Iterable[Index]) -> set[str]:
    """For GIN, GiST, SP-GiST and BRIN indexes: the one kept per method and leading key."""
    groups: dict[tuple[str, str], list[Index]] = defaultdict(list)
    for index in indexes:
        if index.valid and index.method in SEARCH_METHODS:
            keys = key_items(index)
            groups[(index.method, keys[0] if keys else "")].append(index)
    return {_preferred(group).name for group in groups.values()}


def unused_keep_reason(
    snap: Snapshot, index: Index, table: Table, fk_kept: dict[str, str], search_kept: set[str]
) -> str | None:
    """Why an index with no scans is still not a candidate to drop, or None when it is one."""
    if index.primary:
        return "it backs the primary key"
    if index.constraint:
        return f"it backs the constraint {index.constraint}"
    if index.unique:
        return "it enforces uniqueness"
    if index.name in fk_kept:
        return f"it supports the foreign key {fk_kept[index.name]} and no other index leads with its columns"
    if index.name in search_kept:
        return f"it is the only {index.method} index on its key: it answers searches no B-tree can"
    if table.row_estimate <= 0 and not table.n_live_tup:
        return "its table is empty"
    indexes = snap.indexes_of(table.qname)
    constraints = len(snap.constraints_of(table.qname, "f")) + len(snap.constraints_of(table.qname, "c"))
    if _never_read(table, len(indexes), constraints):
        return "no query has read its table yet, so its counters say nothing"
    return None


def _never_read(table: Table, index_count: int, validated_constraints: int) -> bool:
    """No query has read the table: none of its indexes was ever scanned, and its sequential scans
    read no row or are no more than its own index builds and constraint validations made (each
    ``CREATE INDEX`` and each validated foreign key or CHECK counts one)."""
    if table.idx_scan:
        return False
    return not table.seq_tup_read or (table.seq_scan or 0) <= index_count + validated_constraints


@check("DW203", category="indexes", severity=Severity.LOW, title="Unused index")
def unused_index(snap: Snapshot, *, min_observed_days: float = MIN_OBSERVED_DAYS) -> Iterator[Finding]:
    """A valid index that no query has scanned during an observation window long enough to cover
    the workload's cycle: by default 7 days (``--min-observed DAYS``).

    An unused index is paid for on every INSERT, on non-HOT UPDATEs and by VACUUM, and takes
    disk and cache. But "not scanned" means something only when the counters have counted long
    enough. The window runs from the last statistics reset (``pg_stat_database.stats_reset``)
    or, when they were never reset, from the server's start (the counters run at least that
    long); the evidence says which. When the window is shorter than the minimum, or unknown, the
    check says so once, as information, with the indexes that have no scans so far, instead of
    one finding per index.

    Never reported, because dropping them would do harm or the counters say nothing about them:

    - indexes that back a primary key, unique or exclusion constraint, or enforce uniqueness;
    - an index that supports a foreign key (its leading columns are the key's columns), unless
      another index leads with the same columns: that one serves the key's checks (see DW102);
    - the only GIN, GiST, SP-GiST or BRIN index on its key: full-text, containment and range
      searches run rarely (a search page, a monthly report) and nothing else answers them;
    - indexes on an empty table, or on a table no query has read in the window;
    - indexes of partitioned tables and their partitions, whose counters PostgreSQL keeps per
      partition.

    Counters are per server: an index used only on a replica looks unused here, and a
    ``pg_stat_reset_single_table_counters()`` shortens the window without changing the
    database's reset time. On PostgreSQL 16 and later, ``pg_stat_user_indexes.last_idx_scan``
    tells when an index was last used; the snapshot does not read it yet.

    Fix: ``DROP INDEX CONCURRENTLY``; rollback recreates it from its definition. Check the
    counters on the replicas first.

    References: https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ALL-INDEXES-VIEW,
    https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-DATABASE-VIEW
    """
    window = observation_window(snap)
    database = snap.server.current_database
    unused: list[tuple[Index, Table]] = []
    for table_qname, indexes in _indexes_by_table(snap).items():
        table = snap.table(table_qname)
        if table is None or table.kind != "r" or table.is_partition:
            continue
        fk_kept: dict[str, str] | None = None
        search_kept: set[str] = set()
        for index in indexes:
            if index.scans != 0 or not index.valid:
                continue
            if fk_kept is None:
                fk_kept, search_kept = foreign_key_keepers(snap, table_qname), search_keepers(indexes)
            if unused_keep_reason(snap, index, table, fk_kept, search_kept) is None:
                unused.append((index, table))
    if not unused:
        return
    if not window.covers(min_observed_days):
        verdict = "too short a window" if window.days is not None else "no known window"
        yield finding(
            snap.server.database,
            f"{len(unused)} index(es) have no scans {window.describe()}: {verdict} to call them "
            f"unused (at least {min_observed_days:g} days, --min-observed)",
            severity=Severity.INFO,
            indexes=[i.qname for i, _ in unused],
            stats_reset=database.stats_reset if database else None,
            **window.evidence(min_observed_days),
        )
        return
    for index, table in unused:
        fix = _drop_package(
            index,
            table,
            f"Drop unused index {index.qname}",
            f"No query has scanned {index.qname} {window.describe()}.",
        )
        writes = sum(n or 0 for n in (table.n_tup_ins, table.n_tup_upd, table.n_tup_del))
        yield finding(
            index.qname,
            f"{index.qname} has not been scanned {window.describe()}",
            fix=fix,
            scans=0,
            bytes=index.bytes,
            table_rows=int(table.row_estimate),
            table_writes=writes,
            stats_reset=database.stats_reset if database else None,
            **window.evidence(min_observed_days),
            definition=index.definition,
        )


def _days_between(start: str | None, end: str | None) -> float | None:
    started, ended = _parse_time(start), _parse_time(end)
    if started is None or ended is None:
        return None
    return max(0.0, (ended - started).total_seconds() / 86400)


# --- DW204 -------------------------------------------------------------------------------------

_REINDEX_LEFTOVER = re.compile(r"_cc(new|old)\d*$")


@check("DW204", category="indexes", severity=Severity.HIGH, title="Invalid index")
def invalid_index(snap: Snapshot) -> Iterator[Finding]:
    """An index marked invalid: the leftover of a ``CREATE INDEX CONCURRENTLY`` or ``REINDEX
    CONCURRENTLY`` that failed (a duplicate value for a unique index, a cancelled build, an
    error in an index expression).

    The planner never uses it, yet every write still maintains it, and for a unique index the
    uniqueness it was meant to enforce is not enforced. An index being built right now is
    also invalid; those (an active session's query names the index) are not reported.

    Fix: ``DROP INDEX CONCURRENTLY`` and build it again ``CONCURRENTLY``. For a unique index the
    build fails again until the duplicates are removed, so the rebuild is left as a manual
    step; leftovers of REINDEX CONCURRENTLY (``*_ccnew``, ``*_ccold``) are only dropped.

    References: https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
    """
    building = " ".join((s.query or "").lower() for s in snap.sessions if s.state == "active")
    for index in snap.indexes:
        if index.valid and index.ready:
            continue
        if index.name.lower() in building:
            continue
        table = snap.table(index.table_qname)
        yield finding(
            index.qname,
            f"{index.qname} is invalid: a failed concurrent build left it behind",
            fix=_rebuild_package(index, table),
            unique=index.unique,
            bytes=index.bytes,
            definition=index.definition,
        )


def _rebuild_package(index: Index, table: Table | None) -> ChangePackage:
    lock = Lock("SHARE UPDATE EXCLUSIVE", index.table_qname)
    table_bytes = table.heap_bytes if table else 0
    operations: list[Operation] = [
        RawSQL(f"DROP INDEX CONCURRENTLY IF EXISTS {qident(index.qname)};", lock_=lock, transactional_=False)
    ]
    create = index.definition.replace(" INDEX ", " INDEX CONCURRENTLY ", 1).rstrip(";") + ";"
    manual: tuple[str, ...] = ()
    leftover = _REINDEX_LEFTOVER.search(index.name) is not None
    if index.unique and not leftover:
        manual = (f"Remove the duplicate key values, then build the index again: {create}",)
    elif not leftover:
        operations.append(
            RawSQL(
                create,
                f"DROP INDEX CONCURRENTLY IF EXISTS {qident(index.qname)};",
                lock_=lock,
                transactional_=False,
                scans_=True,
                table_bytes=table_bytes,
            )
        )
    return ChangePackage.of(
        f"Drop the invalid index {index.qname}" + ("" if len(operations) == 1 else " and build it again"),
        operations,
        "Dropping an invalid index loses nothing: no query can use it.",
        manual_steps=manual,
    )


# --- DW205 -------------------------------------------------------------------------------------

#: Flag an index at least this many times its estimated compact size …
BLOAT_RATIO = 2.0
#: … and wasting at least this many bytes.
MIN_BLOAT_BYTES = 1024**2
_PAGE_HEADER = 24
_BTREE_OPAQUE = 16
_MAXALIGN = 8
_FILLFACTOR = re.compile(r"fillfactor\s*=\s*'?(\d+)")


def _align(width: float) -> float:
    remainder = int(width) % _MAXALIGN
    return width if width == 0 else width + _MAXALIGN - (remainder or _MAXALIGN)


def expected_btree_bytes(columns: list[Column], rows: float, block_size: int, fillfactor: int) -> int:
    """A freshly built btree's size from row count and column widths (the estimate behind the
    well-known btree bloat query): tuple header, null bitmap, aligned data, line pointer."""
    stats = [c.stats for c in columns if c.stats]
    has_nulls = any((s.null_frac or 0) > 0 for s in stats)
    header = 8 + (4 if has_nulls else 0)
    data = sum((1 - (s.null_frac or 0)) * (s.avg_width or 0) for s in stats)
    tuple_width = _align(header) + _align(data)
    per_page = math.floor(
        (block_size - _PAGE_HEADER - _BTREE_OPAQUE) * fillfactor / (100 * (4 + tuple_width))
    )
    pages = 1 + math.ceil(rows / max(per_page, 1))
    return pages * block_size


@check("DW205", category="indexes", severity=Severity.LOW, title="Bloated index")
def bloated_index(snap: Snapshot) -> Iterator[Finding]:
    """A btree index at least twice the size a fresh build would have, wasting 1 MB or more.

    Deletes and updates leave btree pages half empty, and PostgreSQL reuses them only for keys
    in the same range; the index then costs more cache, I/O and VACUUM time than it should. The
    expected size is estimated from the table's row count, the columns' average widths in
    ``pg_stats``, tuple and page overheads and the fillfactor. Indexes on expressions, partial
    indexes and indexes whose columns have no statistics are not estimated.

    Fix: ``REINDEX INDEX CONCURRENTLY``, which builds a compact copy without blocking reads or
    writes and needs free disk space for it. Nothing to roll back.

    References: https://www.postgresql.org/docs/current/sql-reindex.html,
    https://www.postgresql.org/docs/current/routine-reindex.html,
    https://github.com/ioguix/pgsql-bloat-estimation
    """
    block_size = _block_size(snap)
    for index in snap.indexes:
        if not _plain_btree(index) or index.predicate or index.bytes < MIN_BLOAT_BYTES:
            continue
        table = snap.table(index.table_qname)
        columns = _stat_columns(snap, index)
        if table is None or table.kind not in ("r", "m") or columns is None:
            continue
        rows = max(table.row_estimate, table.n_live_tup or 0)
        match = _FILLFACTOR.search(index.definition)
        expected = expected_btree_bytes(columns, rows, block_size, int(match.group(1)) if match else 90)
        wasted = index.bytes - expected
        if index.bytes < BLOAT_RATIO * expected or wasted < MIN_BLOAT_BYTES:
            continue
        fix = ChangePackage.of(
            f"Rebuild {index.qname}",
            [
                RawSQL(
                    f"REINDEX INDEX CONCURRENTLY {qident(index.qname)};",
                    lock_=Lock("SHARE UPDATE EXCLUSIVE", index.table_qname),
                    transactional_=False,
                    scans_=True,
                    table_bytes=table.heap_bytes,
                )
            ],
            "Builds a compact copy of the index next to the old one and swaps them; reads and writes continue.",
            performance_notes=(f"Needs about {expected} bytes of free disk space while it runs.",),
        )
        yield finding(
            index.qname,
            f"{index.qname} is {index.bytes / expected:.1f}× its expected size",
            fix=fix,
            severity=Severity.MEDIUM if wasted >= 1024**3 else None,
            bytes=index.bytes,
            expected_bytes=expected,
            wasted_bytes=wasted,
            bloat_ratio=round(index.bytes / expected, 2),
            rows=int(rows),
        )


# --- DW206 -------------------------------------------------------------------------------------

#: Tables this small are cheap to scan; a sequential scan is often the best plan for them.
SEQ_SCAN_MIN_ROWS = 10_000
#: Fewer sequential scans than this since the reset are occasional (a dump, a report), not a pattern.
SEQ_SCAN_MIN_COUNT = 100
#: Scans must read at least this share of the table on average: LIMIT-ed scans stop early.
SEQ_SCAN_MIN_READ_SHARE = 0.5


@check("DW206", category="indexes", severity=Severity.MEDIUM, title="Large table read by sequential scans")
def sequential_scans_on_large_table(snap: Snapshot) -> Iterator[Finding]:
    """A table of at least 10,000 rows that has had at least 100 sequential scans, more
    sequential scans than index scans, and whose scans read on average at least half of it.

    That is the signature of a query that filters or joins on an unindexed column: each run
    reads the whole table, evicts cache and gets slower as the table grows. Small tables,
    occasional full scans (a dump, a nightly report) and scans that stop early (``LIMIT``) are
    not reported. Counters are cumulative since the last statistics reset.

    Fix: no index is proposed here, because the right one depends on the queries: run
    ``dbwright advise indexes``, which reads pg_stat_statements and tests candidate indexes
    against the actual queries.

    References: https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ALL-TABLES-VIEW,
    https://www.postgresql.org/docs/current/indexes.html
    """
    for table in snap.user_tables():
        if table.kind != "r" or table.row_estimate < SEQ_SCAN_MIN_ROWS:
            continue
        seq_scan, seq_read, idx_scan = table.seq_scan or 0, table.seq_tup_read or 0, table.idx_scan or 0
        if seq_scan < SEQ_SCAN_MIN_COUNT or seq_scan <= idx_scan:
            continue
        average = seq_read / seq_scan
        if average < SEQ_SCAN_MIN_READ_SHARE * table.row_estimate:
            continue
        yield finding(
            table.qname,
            f"{table.qname} ({int(table.row_estimate)} rows) was read by {seq_scan} "
            f"sequential scans and {idx_scan} index scans; run `dbwright advise indexes`",
            seq_scan=seq_scan,
            seq_tup_read=seq_read,
            avg_rows_per_seq_scan=int(average),
            idx_scan=idx_scan,
            seq_scan_share=round(seq_scan / (seq_scan + idx_scan), 3),
            rows=int(table.row_estimate),
            heap_bytes=table.heap_bytes,
        )


# --- DW207 -------------------------------------------------------------------------------------

#: An index whose most common value covers more than this share of rows selects almost nothing else.
DOMINANT_VALUE_SHARE = 0.95


@check("DW207", category="indexes", severity=Severity.LOW, title="Index on a near-constant column")
def index_on_near_constant_column(snap: Snapshot) -> Iterator[Finding]:
    """A single-column, non-partial btree index on a column with one or two distinct values, or
    whose most common value covers more than 95% of the rows (per ``pg_stats``, tables of at
    least 1,000 rows).

    Looking up the common value reads most of the table anyway, so the planner scans the table
    instead; the index is maintained on every write for nothing. If queries look for the rare
    value (``WHERE NOT processed``), a partial index on the rare rows serves them at a fraction
    of the size. Unique indexes, and indexes that are the only support of a foreign key, are
    not reported.

    Fix: when one value dominates, ``CREATE INDEX CONCURRENTLY … WHERE col <> 'common'`` and drop
    the full index (queries must test the rare value, or NULL rows lose the index); otherwise
    drop it. Rollback recreates the original index.

    References: https://www.postgresql.org/docs/current/indexes-partial.html,
    https://www.postgresql.org/docs/current/view-pg-stats.html
    """
    for table_qname, indexes in _indexes_by_table(snap).items():
        table = snap.table(table_qname)
        if table is None or table.kind != "r" or table.row_estimate < MIN_ROWS_FOR_STATS:
            continue
        protected = None
        for index in indexes:
            if (
                not _plain_btree(index)
                or len(index.columns) != 1
                or index.predicate
                or _enforces_something(index)
            ):
                continue
            column = snap.column(table_qname, index.columns[0] or "")
            stats = column.stats if column else None
            if column is None or stats is None:
                continue
            distinct = (
                stats.n_distinct if (stats.n_distinct or 0) >= 0 else -stats.n_distinct * table.row_estimate
            )
            top_share = stats.most_common_freqs[0] if stats.most_common_freqs else 0.0
            if not (0 < (distinct or 0) <= 2 or top_share > DOMINANT_VALUE_SHARE):
                continue
            if protected is None:
                protected = _fk_only_indexes(snap, table_qname)
            if index.name in protected:
                continue
            yield finding(
                index.qname,
                f"{index.qname} indexes {column.qname}, which has "
                f"{int(distinct or 0)} distinct value(s), the commonest in {top_share:.0%} "
                "of rows",
                fix=_near_constant_fix(index, column, table, top_share),
                n_distinct=stats.n_distinct,
                most_common_vals=list(stats.most_common_vals or ()),
                most_common_freqs=list(stats.most_common_freqs or ()),
                bytes=index.bytes,
                scans=index.scans,
            )


def _near_constant_fix(index: Index, column: Column, table: Table, top_share: float) -> ChangePackage:
    drop = DropIndex(index.qname, definition=index.definition, table_bytes=table.heap_bytes)
    values = column.stats.most_common_vals if column.stats else None
    if top_share <= DOMINANT_VALUE_SHARE or not values:
        return ChangePackage.of(
            f"Drop {index.qname}",
            [drop],
            "The column has too few distinct values for the index to select anything.",
        )
    common = f"{literal(values[0])}::{column.data_type}"
    partial = CreateIndex(
        _index_name(table.name, column.name, "rare_idx"),
        table.qname,
        (ident(column.name),),
        where=f"{ident(column.name)} <> {common}",
        table_bytes=table.heap_bytes,
    )
    return ChangePackage.of(
        f"Replace {index.qname} with a partial index on the rare values",
        [partial, drop],
        f"Indexes only the rows where {column.name} is not {values[0]!r}: the lookups the index can help with, "
        "at a fraction of the size.",
    )


def _index_name(*parts: str) -> str:
    *stem, suffix = parts
    room = MAX_IDENTIFIER - len(suffix) - 1
    return f"{'_'.join(stem).encode()[:room].decode(errors='ignore')}_{suffix}"


# --- DW208 -------------------------------------------------------------------------------------

#: Average key width (bytes) from which a btree key counts as wide.
WIDE_KEY_BYTES = 512


def btree_max_item_bytes(block_size: int) -> int:
    """The largest btree entry: a third of a page minus overheads (2704 bytes on 8 kB pages)."""
    return block_size // 3 - 26


@check("DW208", category="indexes", severity=Severity.MEDIUM, title="B-tree index on wide values")
def btree_on_wide_values(snap: Snapshot) -> Iterator[Finding]:
    """A btree index whose key values average 512 bytes or more (long URLs, documents, JSON
    text), per ``pg_stats``.

    A btree entry cannot exceed about a third of a page (2,704 bytes on 8 kB pages): once one
    row's value is longer, its INSERT or UPDATE fails with "index row size exceeds btree
    maximum". Well before that, wide keys make a large, deep, cache-hungry index. Indexes whose
    columns have no statistics are skipped.

    Fix: for equality lookups, a hash index (any length, a fixed 4-byte hash per row); for a
    unique index, a unique index on a hash of the value, e.g. ``(md5(col))``, with queries
    changed to match, which is left as a manual step. Keep the btree if queries sort or range-scan
    the column. Rollback recreates the original index.

    References: https://www.postgresql.org/docs/current/btree-implementation.html,
    https://www.postgresql.org/docs/current/indexes-types.html#INDEXES-TYPES-HASH
    """
    limit = btree_max_item_bytes(_block_size(snap))
    for index in snap.indexes:
        if not _plain_btree(index):
            continue
        columns = _stat_columns(snap, index)
        key_columns = columns[: len(index.columns)] if columns else None
        if not key_columns:
            continue
        width = sum(c.stats.avg_width or 0 for c in key_columns if c.stats)
        if width < WIDE_KEY_BYTES:
            continue
        table = snap.table(index.table_qname)
        yield finding(
            index.qname,
            f"{index.qname} keys average {width} bytes; entries over {limit} bytes are rejected",
            fix=_hash_index_fix(index, table),
            avg_key_bytes=width,
            max_entry_bytes=limit,
            bytes=index.bytes,
            column_widths={c.name: c.stats.avg_width for c in key_columns if c.stats},
        )


def _hash_index_fix(index: Index, table: Table | None) -> ChangePackage | None:
    if (
        len(index.columns) != 1
        or index.unique
        or index.primary
        or index.constraint
        or index.predicate
        or index.include
        or table is None
    ):
        return None
    column = index.columns[0] or ""
    create = CreateIndex(
        _index_name(table.name, column, "hash_idx"),
        index.table_qname,
        (ident(column),),
        method="hash",
        table_bytes=table.heap_bytes,
    )
    drop = DropIndex(index.qname, definition=index.definition, table_bytes=table.heap_bytes)
    return ChangePackage.of(
        f"Replace {index.qname} with a hash index",
        [create, drop],
        "A hash index stores a 4-byte hash per row, so any value length fits and the index stays small. It "
        "serves only equality (=) lookups: keep the btree if queries sort or compare ranges on the column.",
    )


# --- DW209 -------------------------------------------------------------------------------------

#: Below this many rows the whole index stays in cache and random inserts cost little.
RANDOM_KEY_MIN_ROWS = 10_000
#: |pg_stats.correlation| below this: key order has nothing to do with insertion order.
RANDOM_KEY_MAX_CORRELATION = 0.1


@check("DW209", category="indexes", severity=Severity.LOW, title="Random UUID key scatters inserts")
def random_uuid_key(snap: Snapshot) -> Iterator[Finding]:
    """A primary key or unique key on a single ``uuid`` column whose values are random (version
    4: ``gen_random_uuid()``), on a table of at least 10,000 rows: per ``pg_stats`` the key's
    order has no correlation with the rows' physical order.

    Each insert lands on a random leaf page of the index, so once the index outgrows memory
    nearly every insert reads a page from disk, splits pages (the index ends up about a third
    larger) and writes a full-page image after each checkpoint; range scans by key touch pages
    all over the table. Time-ordered identifiers (UUID version 7, or a bigint identity) insert
    at the right edge of the index like a sequence does.

    Fix: no automatic fix, since changing a key touches the application and every referencing
    table: generate time-ordered UUIDs (UUIDv7, from the application or an extension) for new
    rows; the column type stays ``uuid``, so nothing else changes.

    References: https://www.postgresql.org/docs/current/datatype-uuid.html,
    https://www.postgresql.org/docs/current/view-pg-stats.html,
    https://www.rfc-editor.org/rfc/rfc9562#name-uuid-version-7
    """
    for constraint in snap.constraints:
        if constraint.type not in ("p", "u") or len(constraint.columns) != 1:
            continue
        table = snap.table(constraint.table_qname)
        if table is None or table.is_partition or table.row_estimate < RANDOM_KEY_MIN_ROWS:
            continue
        column = snap.column(table.qname, constraint.columns[0])
        stats = column.stats if column else None
        if column is None or column.type_name != "uuid" or stats is None or stats.correlation is None:
            continue
        if abs(stats.correlation) >= RANDOM_KEY_MAX_CORRELATION:
            continue
        index = next(
            (
                i
                for i in snap.indexes_of(table.qname)
                if i.qname == constraint.index or i.name == constraint.index
            ),
            None,
        )
        yield finding(
            column.qname,
            f"{column.qname} is a random uuid key (correlation "
            f"{stats.correlation:.2f}): inserts land all over its index",
            constraint=constraint.name,
            correlation=round(stats.correlation, 4),
            default=column.default,
            rows=int(table.row_estimate),
            index_bytes=index.bytes if index else None,
        )
