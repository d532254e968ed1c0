"""Workload and capacity checks: statements, sessions, connections, cache and sequences.

Statement checks read pg_stat_statements (this database's statements, since its last reset).
Session checks read pg_stat_activity as the snapshot saw it: without pg_read_all_stats only
this role's own sessions show their state, so those checks still run on what is visible and
say so in their evidence. Thresholds are module constants, named for what they mean.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from dbwright.checks.registry import check, finding
from dbwright.model import Column, Sequence, Session, Snapshot, Statement, qualify
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import (
    AlterColumnType,
    AlterSequenceType,
    AlterSystem,
    Operation,
    RawSQL,
    ident,
)
from dbwright.model.package import ChangePackage

#: Slow queries: mean execution time at or above this, over at least SLOW_MIN_CALLS calls.
SLOW_MEAN_MS = 500.0
SLOW_MIN_CALLS = 2
#: Heavy queries: a statement using at least this share of all execution time...
HEAVY_SHARE = 0.2
#: ...and at least this much of it since the statistics were reset: the floor keeps a nearly idle
#: database, where one query is all there is, quiet. The share is the signal.
HEAVY_MIN_TOTAL_MS = 1_000.0
#: Temp-file spills: temporary blocks written per call at or above this (128 x 8 kB = 1 MiB).
TEMP_MIN_BLOCKS_PER_CALL = 128
WORK_MEM_CAP_BYTES = 1024**3
#: Cache hit ratio: flagged below this, once the database has read at least CACHE_MIN_READS blocks.
CACHE_HIT_MIN = 0.99
CACHE_MIN_READS = 10_000
#: The shared_buffers the fix proposes: a quarter of memory, at most this (as DW602 does).
SHARED_BUFFERS_CAP_BYTES = 64 * 1024**3
#: Connections: flagged when client backends use this share of the non-reserved slots.
CONNECTIONS_MAX_USE = 0.8
#: Sessions: idle in transaction this long, transactions open this long, lock waits this long.
IDLE_IN_TRANSACTION_S = 60.0
LONG_TRANSACTION_S = 300.0
BLOCKED_MIN_S = 10.0
#: Sequences: flagged when this share of the usable range (sequence and column type) is used.
SEQUENCE_USED_MEDIUM = 0.75
SEQUENCE_USED_HIGH = 0.9

QUERY_PREVIEW_CHARS = 300
PAGE_BYTES = 8192
MB = 1024**2
INTEGER_LIMITS = {"int2": (-(2**15), 2**15 - 1), "int4": (-(2**31), 2**31 - 1), "int8": (-(2**63), 2**63 - 1)}
SEQUENCE_TYPE_NAMES = {"smallint": "int2", "integer": "int4", "bigint": "int8"}
# Statements that plan and execute a query; utility commands (VACUUM, CREATE INDEX) are maintenance.
QUERY_KEYWORDS = {
    "select",
    "with",
    "insert",
    "update",
    "delete",
    "merge",
    "values",
    "table",
    "call",
    "execute",
}


# --- statements ------------------------------------------------------------------------------


def _is_workload_query(statement: Statement) -> bool:
    if statement.query.startswith("<insufficient privilege>"):
        return True  # another role's statement: its text is hidden, its cost is not
    words = statement.query.lstrip(" (\n\t").split(None, 1)
    return bool(words) and words[0].lower() in QUERY_KEYWORDS and not statement.own


def _workload(snap: Snapshot) -> Iterator[Statement]:
    return (s for s in snap.workload_statements() if _is_workload_query(s))


def _statement_object(statement: Statement) -> str:
    return f"queryid:{statement.queryid}"


def _statement_evidence(statement: Statement) -> dict[str, object]:
    calls = max(statement.calls, 1)
    return {
        "queryid": statement.queryid,
        "query": _preview(statement.query),
        "user": statement.user,
        "calls": statement.calls,
        "total_ms": round(statement.total_ms, 1),
        "mean_ms": round(statement.mean_ms, 1),
        "rows_per_call": round(statement.rows / calls, 1),
        "shared_blks_read_per_call": round(statement.shared_blks_read / calls, 1),
    }


def _preview(text: str | None) -> str | None:
    if text is None:
        return None
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= QUERY_PREVIEW_CHARS else collapsed[: QUERY_PREVIEW_CHARS - 1] + "…"


@check("DW401", category="workload", severity=Severity.MEDIUM, title="Slow query", requires=("statements",))
def slow_queries(snap: Snapshot) -> Iterator[Finding]:
    """A statement whose mean execution time is half a second or more, over repeated calls.

    A query that runs often and slowly holds connections, locks and snapshots for its whole
    duration, and its latency is what users feel. One slow call is an ad-hoc report; a repeated
    one is part of the application.

    Flagged from pg_stat_statements (this database, since its last reset): mean execution
    time at least 500 ms over at least 2 calls; HIGH from 5 s. dbwright's own introspection
    queries and utility commands (VACUUM, CREATE INDEX...) are left out.

    Fix: ``EXPLAIN (ANALYZE, BUFFERS)`` the query with representative parameters and look for
    sequential scans on large tables, misestimated row counts and sorts spilling to disk; an
    index, a rewrite or fresher statistics usually follow. dbwright's index advisor can propose
    indexes for it.

    References: https://www.postgresql.org/docs/current/pgstatstatements.html,
    https://www.postgresql.org/docs/current/using-explain.html
    """
    for statement in _workload(snap):
        if statement.calls < SLOW_MIN_CALLS or statement.mean_ms < SLOW_MEAN_MS:
            continue
        yield finding(
            _statement_object(statement),
            f"a query takes {statement.mean_ms:,.0f} ms on average over {statement.calls:,} calls",
            severity=Severity.HIGH if statement.mean_ms >= 10 * SLOW_MEAN_MS else None,
            **_statement_evidence(statement),
        )


@check(
    "DW402",
    category="workload",
    severity=Severity.LOW,
    title="Query dominating execution time",
    requires=("statements",),
)
def heavy_queries(snap: Snapshot) -> Iterator[Finding]:
    """A statement that accounts for a large share of all the time the database spends executing.

    Fast queries called millions of times can cost more than any slow one. The statement that
    takes a fifth or more of the total is where tuning pays off most: shaving it by half frees
    a tenth of the server.

    Flagged from pg_stat_statements: at least 20% of the total execution time of this database's
    statements (the 500 heaviest the snapshot keeps), and at least one second of it since the
    statistics were reset; MEDIUM at half or more.

    Fix: ``EXPLAIN (ANALYZE, BUFFERS)`` it; if each call is already fast, reduce the number of
    calls (caching, batching, avoiding N+1 patterns in the application).

    References: https://www.postgresql.org/docs/current/pgstatstatements.html
    """
    total = sum(s.total_ms for s in snap.workload_statements())  # dbwright's own time is not the database's
    if total <= 0:
        return
    for statement in _workload(snap):
        share = statement.total_ms / total
        if share < HEAVY_SHARE or statement.total_ms < HEAVY_MIN_TOTAL_MS:
            continue
        yield finding(
            _statement_object(statement),
            f"one query takes {share:.0%} of this database's execution time "
            f"({statement.total_ms / 1000:,.1f} s over {statement.calls:,} calls)",
            severity=Severity.MEDIUM if share >= 0.5 else None,
            share=round(share, 4),
            statistics_since=snap.statements_reset,
            **_statement_evidence(statement),
        )


@check(
    "DW403",
    category="workload",
    severity=Severity.MEDIUM,
    title="Query spilling to temporary files",
    requires=("statements",),
)
def temp_file_spills(snap: Snapshot) -> Iterator[Finding]:
    """A statement that writes temporary files because its sorts or hashes outgrow ``work_mem``.

    Spilled sorts and hash joins write and read back their data on disk: one to two orders of
    magnitude slower than in memory, and extra I/O for everyone else.

    Flagged from pg_stat_statements: at least 1 MiB (128 blocks) of temporary blocks written per
    call on average.

    Fix: raise ``work_mem`` for the role that runs the query (``ALTER ROLE ... SET work_mem``)
    rather than server-wide: every sort and hash node of every connection may use that much.
    The suggested value is twice the spilled size rounded up to a power of two, capped at 1 GB
    (in-memory sorts need more room than their on-disk form). Or make the query sort less: an
    index that delivers rows in order, or a narrower select list.

    References: https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-WORK-MEM,
    https://www.postgresql.org/docs/current/pgstatstatements.html
    """
    setting = snap.server.setting("work_mem")
    work_mem = setting.as_bytes() if setting else None
    for statement in _workload(snap):
        per_call = statement.temp_blks_written / max(statement.calls, 1)
        if per_call < TEMP_MIN_BLOCKS_PER_CALL:
            continue
        spill_bytes = int(per_call * PAGE_BYTES)
        suggested = _suggested_work_mem(spill_bytes, work_mem)
        yield finding(
            _statement_object(statement),
            f"a query writes {spill_bytes / MB:,.1f} MB of temporary files per call (work_mem is "
            f"{_mb(work_mem)})",
            fix=_work_mem_package(statement.user, suggested, work_mem) if statement.user else None,
            temp_blks_written=statement.temp_blks_written,
            temp_bytes_per_call=spill_bytes,
            work_mem_bytes=work_mem,
            suggested_work_mem_bytes=suggested,
            **_statement_evidence(statement),
        )


def _suggested_work_mem(spill_bytes: int, current: int | None) -> int:
    wanted = max(2 * spill_bytes, 2 * (current or 0), 4 * MB)
    power = 1 << (wanted - 1).bit_length()
    return min(power, WORK_MEM_CAP_BYTES)


def _mb(size: int | None) -> str:
    return "unknown" if size is None else f"{size // MB}MB" if size >= MB else f"{size // 1024}kB"


def _work_mem_package(role: str, suggested: int, current: int | None) -> ChangePackage:
    value = _mb(suggested)
    return ChangePackage.of(
        f"Raise work_mem for role {role} to {value}",
        [
            RawSQL(
                f"ALTER ROLE {ident(role)} SET work_mem = '{value}';",
                f"ALTER ROLE {ident(role)} RESET work_mem;",
            )
        ],
        f"Sessions of {role} started after this get work_mem = {value} (now {_mb(current)}); running "
        "sessions keep theirs. Only a catalog change, no lock on any table.",
        performance_notes=(
            f"Each sort or hash node of each of {role}'s queries may use up to {value}: check that "
            "connections x nodes x work_mem fits in the server's memory.",
        ),
        manual_steps=(
            f"If {role} already had a per-role work_mem (\\drds in psql), the rollback's RESET removes it: "
            "note the old value first.",
            "Alternatively set it only where the query runs: SET LOCAL work_mem inside its transaction.",
        ),
    )


# --- database statistics and capacity -------------------------------------------------------------


@check("DW404", category="workload", severity=Severity.MEDIUM, title="Low buffer cache hit ratio")
def cache_hit_ratio(snap: Snapshot) -> Iterator[Finding]:
    """The database reads a noticeable share of its blocks from outside shared buffers.

    Every ``blks_read`` is a trip to the operating system (its page cache, or the disk). A
    transactional workload whose working set fits in memory hits shared buffers 99% of the time
    or more; below that, either the working set outgrew ``shared_buffers`` or queries scan large
    tables they should reach through an index.

    Flagged: this database's ``blks_hit / (blks_hit + blks_read)`` below 0.99, once at least
    10,000 blocks (80 MB) were read since its statistics were reset. Analytical databases that
    scan by design will show this too; judge by the workload.

    Fix: find the statements with the most ``shared_blks_read`` (pg_stat_statements) and index
    or rewrite them; if the working set really is larger, raise ``shared_buffers`` towards a
    quarter of the server's memory, at most 64 GB (the package does that when memory is known;
    it needs a restart; DW602 sizes shared_buffers from memory alone).

    References: https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-DATABASE-VIEW,
    https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-SHARED-BUFFERS
    """
    database = snap.server.current_database
    if database is None or database.blks_read is None or database.blks_hit is None:
        return
    reads, hits = database.blks_read, database.blks_hit
    if reads < CACHE_MIN_READS:
        return
    ratio = hits / (hits + reads)
    if ratio >= CACHE_HIT_MIN:
        return
    setting = snap.server.setting("shared_buffers")
    shared_buffers = setting.as_bytes() if setting else None
    yield finding(
        database.name,
        f"database {database.name} finds only {ratio:.1%} of the blocks it reads in shared buffers",
        fix=_shared_buffers_package(snap, shared_buffers),
        hit_ratio=round(ratio, 4),
        blks_hit=hits,
        blks_read=reads,
        shared_buffers_bytes=shared_buffers,
        server_memory_bytes=snap.server.memory_bytes,
        statistics_since=database.stats_reset,
    )


def _shared_buffers_package(snap: Snapshot, current: int | None) -> ChangePackage | None:
    """Raise shared_buffers to a quarter of the server's memory, when known and currently below it."""
    memory = snap.server.memory_bytes
    setting = snap.server.setting("shared_buffers")
    if memory is None or current is None or setting is None:
        return None
    target = min(memory // 4, SHARED_BUFFERS_CAP_BYTES) // MB * MB
    if target <= current:
        return None
    previous = None if setting.source == "default" else _mb(current)
    return ChangePackage.of(
        f"Raise shared_buffers to {_mb(target)}",
        [AlterSystem("shared_buffers", _mb(target), previous, needs_restart=True)],
        f"shared_buffers is {_mb(current)} on a server with {memory / 1024**3:,.1f} GB of memory; a quarter of "
        "memory is the usual starting point. It takes effect after a restart.",
        requires_restart=True,
        performance_notes=(
            "Check first whether a few statements cause most of the reads: an index is cheaper than memory.",
        ),
        manual_steps=("Restart the server in a maintenance window for the new value to apply.",),
    )


@check("DW405", category="workload", severity=Severity.MEDIUM, title="Connections near max_connections")
def connections_near_limit(snap: Snapshot) -> Iterator[Finding]:
    """Client connections are using most of the slots ``max_connections`` leaves for ordinary roles.

    When the slots run out, new connections fail with "sorry, too many clients already"; the
    last ``superuser_reserved_connections`` slots are kept for superusers only. Many idle
    connections usually mean an application pool sized per process rather than per server.

    Flagged: client backends (including dbwright's own) at 80% or more of
    ``max_connections - superuser_reserved_connections``; HIGH from 95%. Without
    pg_read_all_stats other roles' sessions hide their type, so every session connected to a
    database counts as a client.

    Fix: put a connection pooler (PgBouncer in transaction mode) in front of the server, or
    shrink the applications' pools. Raising ``max_connections`` needs a restart and costs
    memory per slot; it treats the symptom.

    References: https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-MAX-CONNECTIONS
    """
    max_connections = _setting_int(snap, "max_connections")
    if not max_connections:
        return
    # PostgreSQL 16 adds reserved_connections (for pg_use_reserved_connections) to the superusers' slots.
    reserved = sum(
        _setting_int(snap, name) or 0 for name in ("superuser_reserved_connections", "reserved_connections")
    )
    available = max(max_connections - reserved, 1)
    clients = [s for s in snap.sessions if _is_client(s)]
    used = len(clients) + 1  # the snapshot's own session is not in the list
    usage = used / available
    if usage < CONNECTIONS_MAX_USE:
        return
    states = Counter(s.state or "hidden" for s in clients)
    yield finding(
        "max_connections",
        f"{used} client connections use {usage:.0%} of the {available} slots open to non-superusers",
        severity=Severity.HIGH if usage >= 0.95 else None,
        client_connections=used,
        max_connections=max_connections,
        reserved_connections=reserved,
        usage=round(usage, 3),
        by_state=dict(states.most_common()),
        by_user=dict(Counter(s.user or "unknown" for s in clients).most_common(10)),
        **_visibility(snap),
    )


def _setting_int(snap: Snapshot, name: str) -> int | None:
    setting = snap.server.setting(name)
    try:
        return int(setting.value) if setting else None
    except ValueError:
        return None


def _is_client(session: Session) -> bool:
    if session.backend_type is not None:
        return session.backend_type == "client backend"
    return session.database is not None  # type hidden: a session connected to a database


# --- sessions --------------------------------------------------------------------------------


def _visibility(snap: Snapshot) -> dict[str, object]:
    reason = snap.skipped_reason("other_sessions")
    return {"sessions_visible": "own role only" if reason else "all"}


def _session_evidence(session: Session) -> dict[str, object]:
    return {
        "pid": session.pid,
        "user": session.user,
        "database": session.database,
        "application": session.application,
        "state": session.state,
        "xact_age_s": _round(session.xact_age_s),
        "state_age_s": _round(session.state_age_s),
        "query": _preview(session.query),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _session_object(session: Session) -> str:
    return f"pid:{session.pid}"


def _terminate_package(pids: Iterable[int], why: str) -> ChangePackage:
    targets = sorted(set(pids))
    return ChangePackage.of(
        f"Terminate session{'s' if len(targets) > 1 else ''} {', '.join(map(str, targets))}",
        [RawSQL(f"SELECT pg_terminate_backend({pid});", destructive_=True) for pid in targets],
        f"{why} Terminating a session rolls back its open transaction and closes its connection; "
        "nothing can undo that, so confirm first that the pid still runs what the finding shows.",
        manual_steps=(
            "Find and fix the application code path that leaves the transaction open.",
            "Set idle_in_transaction_session_timeout (for the role or server-wide) so the server ends "
            "such sessions itself.",
        ),
    )


def _idle_in_transaction(session: Session) -> bool:
    return (session.state or "").startswith("idle in transaction") and (
        session.state_age_s or 0
    ) >= IDLE_IN_TRANSACTION_S


@check("DW406", category="workload", severity=Severity.MEDIUM, title="Session idle in transaction")
def idle_in_transaction(snap: Snapshot) -> Iterator[Finding]:
    """A session that opened a transaction and has been doing nothing in it for a minute or more.

    An idle transaction keeps its locks and its snapshot: it blocks DDL on every table it
    touched and stops VACUUM from removing any row version newer than its snapshot, in every
    table of the cluster. It is almost always an application bug — a missing commit, or work
    done between queries while a transaction is open.

    Flagged: ``state`` 'idle in transaction' (or aborted) for at least 60 s. Without
    pg_read_all_stats only this role's sessions are visible, which the evidence notes.

    Fix: fix the application; end the session with ``pg_terminate_backend``; set
    ``idle_in_transaction_session_timeout`` so the server ends such sessions itself.

    References: https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW,
    https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-IDLE-IN-TRANSACTION-SESSION-TIMEOUT
    """
    for session in snap.sessions:
        if not _idle_in_transaction(session):
            continue
        yield finding(
            _session_object(session),
            f"session {session.pid} ({session.user}) has been idle in a transaction for "
            f"{session.state_age_s:,.0f} s",
            fix=_terminate_package([session.pid], "Ends the idle transaction and releases its locks."),
            **_session_evidence(session),
            **_visibility(snap),
        )


@check("DW407", category="workload", severity=Severity.MEDIUM, title="Long-running transaction")
def long_transactions(snap: Snapshot) -> Iterator[Finding]:
    """A client transaction that has been open for five minutes or more.

    A long transaction holds its locks to the end and, like an idle one, holds back the xmin
    horizon: VACUUM cannot remove rows deleted after it started, anywhere in the cluster, so
    busy tables bloat while it runs. Reports and batch jobs are the usual suspects.

    Flagged: client backends whose transaction started at least 300 s ago; sessions idle in
    transaction long enough for DW406 are left to it. HIGH from one hour.

    Fix: split the work into shorter transactions, run reports on a replica, or end the session;
    ``statement_timeout`` and ``transaction_timeout`` (PostgreSQL 17) bound them.

    References: https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-SPACE-RECOVERY,
    https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW
    """
    for session in snap.sessions:
        age = session.xact_age_s
        if age is None or age < LONG_TRANSACTION_S or session.backend_type != "client backend":
            continue
        if _idle_in_transaction(session):
            continue
        yield finding(
            _session_object(session),
            f"session {session.pid} ({session.user}) has had a transaction open for {age:,.0f} s",
            fix=_terminate_package(
                [session.pid], "Ends the long transaction and releases its locks and snapshot."
            ),
            severity=Severity.HIGH if age >= 3600 else None,
            **_session_evidence(session),
            **_visibility(snap),
        )


@check("DW408", category="workload", severity=Severity.HIGH, title="Query blocked by another session")
def blocked_queries(snap: Snapshot) -> Iterator[Finding]:
    """A query waiting for a lock another session holds, for ten seconds or more.

    Lock queues grow behind the first waiter: one ``ALTER TABLE`` waiting behind a long
    transaction makes every later reader of that table wait too. The cure is at the root of the
    chain, the session that holds the lock and is not itself waiting.

    Flagged: sessions with ``pg_blocking_pids()`` not empty whose current query started at least
    10 s ago. The evidence names the blocking sessions and the roots of the chain.

    Fix: end (or let finish) the root blocker; then make DDL use ``lock_timeout`` and keep
    transactions short, so that one waiter cannot stall a table.

    References: https://www.postgresql.org/docs/current/explicit-locking.html,
    https://www.postgresql.org/docs/current/functions-info.html#FUNCTIONS-INFO-SESSION
    """
    by_pid = {s.pid: s for s in snap.sessions}
    for session in snap.sessions:
        if not session.blocked_by or (session.query_age_s or 0) < BLOCKED_MIN_S:
            continue
        roots = _root_blockers(session, by_pid)
        blockers = [by_pid[pid] for pid in session.blocked_by if pid in by_pid]
        terminable = [pid for pid in roots if pid > 0]  # 0: a prepared transaction, no session to end
        yield finding(
            _session_object(session),
            f"session {session.pid} ({session.user}) has waited {session.query_age_s:,.0f} s for a lock held by "
            f"session {', '.join(map(str, session.blocked_by))}",
            fix=_terminate_package(terminable, "Ends the session at the root of the lock queue.")
            if terminable
            else None,
            blocked_by=list(session.blocked_by),
            root_blockers=sorted(roots),
            waiting_s=_round(session.query_age_s),
            wait_event_type=session.wait_event_type,
            blockers=[_session_evidence(b) for b in blockers],
            **_session_evidence(session),
            **_visibility(snap),
        )


def _root_blockers(session: Session, by_pid: dict[int, Session]) -> set[int]:
    """Blocking sessions that are not waiting themselves, following the chain."""
    roots: set[int] = set()
    seen = {session.pid}
    todo = list(session.blocked_by)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        blocker = by_pid.get(pid)
        if blocker is not None and blocker.blocked_by:
            todo.extend(blocker.blocked_by)
        else:
            roots.add(pid)
    return roots


# --- sequences -------------------------------------------------------------------------------


@check("DW409", category="workload", severity=Severity.MEDIUM, title="Sequence near its limit")
def sequence_near_limit(snap: Snapshot) -> Iterator[Finding]:
    """A non-cycling sequence that has used most of its range: inserts fail when it runs out.

    The usable range is the smaller of the sequence's own limit and what the column it feeds
    can hold: a bigint sequence filling an ``integer`` column fails at 2,147,483,647, long
    before the sequence does. When it runs out, ``nextval`` errors (or the insert overflows the
    column) and every insert into the table stops.

    Flagged: 75% of the range used, HIGH from 90%, for ascending and descending sequences.
    Sequences whose value this role cannot see are skipped.

    Fix: widen the column to ``bigint`` (a table rewrite under an ACCESS EXCLUSIVE lock: plan it,
    or migrate through a new column and a trigger on large tables) and the sequence with
    ``ALTER SEQUENCE ... AS bigint``; foreign keys referencing the column need the same change.

    References: https://www.postgresql.org/docs/current/sql-altersequence.html,
    https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-INT
    """
    for sequence in snap.sequences:
        if sequence.last_value is None or sequence.cycle or sequence.increment == 0:
            continue
        column = _owning_column(snap, sequence)
        low, high = _usable_range(sequence, column)
        if high <= low:
            continue
        ascending = sequence.increment > 0
        used = ((sequence.last_value - low) if ascending else (high - sequence.last_value)) / (high - low)
        if used < SEQUENCE_USED_MEDIUM:
            continue
        limit = high if ascending else low
        column_limits = column is not None and limit != (
            sequence.max_value if ascending else sequence.min_value
        )
        yield finding(
            sequence.qname,
            f"sequence {sequence.qname} has used {used:.0%} of its range: {abs(limit - sequence.last_value):,} "
            f"values left before {limit:,}"
            + (f", the limit of column {column.qname}" if column_limits else ""),
            fix=_widen_package(snap, sequence, column),
            severity=Severity.HIGH if used >= SEQUENCE_USED_HIGH else None,
            last_value=sequence.last_value,
            limit=limit,
            used_fraction=round(used, 4),
            values_left=abs(limit - sequence.last_value),
            data_type=sequence.data_type,
            owned_by=sequence.owned_by,
            column_type=column.data_type if column else None,
            limited_by="column" if column_limits else "sequence",
        )


def _owning_column(snap: Snapshot, sequence: Sequence) -> Column | None:
    if not sequence.owned_by:
        return None
    table_qname, _, name = sequence.owned_by.rpartition(".")
    return snap.column(table_qname, name)


def _usable_range(sequence: Sequence, column: Column | None) -> tuple[int, int]:
    low, high = sequence.min_value, sequence.max_value
    if column is not None and column.type_name in INTEGER_LIMITS:
        column_low, column_high = INTEGER_LIMITS[column.type_name]
        low, high = max(low, column_low), min(high, column_high)
    return low, high


def _widen_package(snap: Snapshot, sequence: Sequence, column: Column | None) -> ChangePackage | None:
    operations: list[Operation] = []
    if column is not None and column.type_name in ("int2", "int4"):
        table = snap.table(column.table_qname)
        operations.append(
            AlterColumnType(
                column.table_qname,
                column.name,
                "bigint",
                column.data_type,
                table_bytes=table.total_bytes if table else 0,
            )
        )
    if SEQUENCE_TYPE_NAMES.get(sequence.data_type) in ("int2", "int4"):
        operations.append(AlterSequenceType(sequence.qname, "bigint", sequence.data_type))
    if not operations:
        return None
    target = qualify(column.table_qname, column.name) if column is not None else sequence.qname
    return ChangePackage.of(
        f"Widen {target} to bigint",
        operations,
        "Moves the column and its sequence to bigint, whose range will not run out. Changing the "
        "column's type rewrites the table and its indexes under an ACCESS EXCLUSIVE lock, which "
        "blocks reads and writes for the duration; ALTER SEQUENCE is instant.",
        manual_steps=(
            "Widen every foreign-key column that references this column too, in the same window.",
            "On a large table, avoid the long lock: add a bigint column, backfill it in batches, "
            "keep it in sync with a trigger, then swap it in.",
        ),
    )
