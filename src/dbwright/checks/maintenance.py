"""Maintenance checks: freezing, vacuuming and analyzing, read from the statistics the server keeps.

Thresholds follow the server's own autovacuum settings (and per-table reloptions, which
override them) wherever one exists, so a finding means "autovacuum should have handled this
and did not", not "this differs from a number we like".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from dbwright.checks.registry import check, finding
from dbwright.model import DatabaseInfo, Setting, Snapshot, Table
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import AlterSystem, Maintenance, ReloadConfig, ResetReloption, SetReloption
from dbwright.model.package import ChangePackage

#: Transaction IDs are 32-bit and compared modulo 2^31: an XID older than this wraps around.
WRAPAROUND_HORIZON = 2**31
#: A relation is "overdue" once its age passes this multiple of its effective
#: autovacuum_freeze_max_age: anti-wraparound autovacuum starts at 1.0, so past 1.25 it is
#: failing or blocked rather than merely queued.
FREEZE_OVERDUE_FACTOR = 1.25
#: Fractions of the wraparound horizon at which an overdue relation becomes HIGH, then CRITICAL.
WRAPAROUND_HIGH_FRACTION = 0.5
WRAPAROUND_CRITICAL_FRACTION = 0.75
DEFAULT_FREEZE_MAX_AGE = 200_000_000

#: Dead tuples: a table is flagged when at least this share of its tuples is dead...
DEAD_RATIO_THRESHOLD = 0.2
#: ...and at least this many are, so a ten-row table with two dead rows stays quiet.
MIN_DEAD_TUPLES = 1_000
#: From this many rows the default scale factor (0.2) lets too many dead rows pile up.
LARGE_TABLE_ROWS = 1_000_000
LARGE_TABLE_VACUUM_SCALE_FACTOR = "0.02"

#: Never-analyzed tables with at least this many rows are MEDIUM, smaller ones LOW.
NEVER_ANALYZED_MEDIUM_ROWS = 1_000
#: Statistics are stale once modifications pass this multiple of the autoanalyze trigger point.
STALE_STATS_FACTOR = 2.0

PAGE_BYTES = 8192


# --- helpers ---------------------------------------------------------------------------------


def parse_bool(text: str | None) -> bool | None:
    """A boolean the way PostgreSQL reads one (on/off, true/false, yes/no, 1/0 and their prefixes)."""
    if text is None:
        return None
    value = text.strip().lower()
    if not value:
        return None
    if value in ("on", "1") or "true".startswith(value) or "yes".startswith(value):
        return True
    if value in ("of", "off", "0") or "false".startswith(value) or "no".startswith(value):
        return False
    return None


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _setting_number(snap: Snapshot, name: str, default: float) -> float:
    setting = snap.server.setting(name)
    value = _number(setting.value) if setting else None
    return default if value is None else value


def _table_option(table: Table, name: str, server_value: float) -> float:
    """A per-table autovacuum reloption when set, else the server's value."""
    value = _number(table.reloption(name))
    return server_value if value is None else value


def effective_freeze_max_age(snap: Snapshot, table: Table) -> tuple[int, str]:
    """The age at which autovacuum force-freezes ``table``, and where that number comes from.

    A per-table autovacuum_freeze_max_age can only lower the server-wide value; larger values
    are ignored by the server, so the smaller of the two applies.
    """
    server_value = int(_setting_number(snap, "autovacuum_freeze_max_age", DEFAULT_FREEZE_MAX_AGE))
    table_value = _number(table.reloption("autovacuum_freeze_max_age"))
    if table_value is not None and table_value < server_value:
        return int(table_value), "table reloption autovacuum_freeze_max_age"
    return server_value, "server setting autovacuum_freeze_max_age"


def _wraparound_severity(age: int) -> Severity:
    used = age / WRAPAROUND_HORIZON
    if used >= WRAPAROUND_CRITICAL_FRACTION:
        return Severity.CRITICAL
    if used >= WRAPAROUND_HIGH_FRACTION:
        return Severity.HIGH
    return Severity.MEDIUM


def _wraparound_evidence(age: int, freeze_max_age: int) -> dict[str, object]:
    return {
        "xid_age": age,
        "freeze_max_age": freeze_max_age,
        "overdue_by_xids": age - freeze_max_age,
        "wraparound_used": round(age / WRAPAROUND_HORIZON, 6),
        "xids_until_wraparound": WRAPAROUND_HORIZON - age,
    }


def _analyze_bytes(snap: Snapshot, table_bytes: int) -> int:
    """What ANALYZE reads: a sample of 300 x default_statistics_target pages, not the whole table."""
    target = _setting_number(snap, "default_statistics_target", 100)
    return min(table_bytes, int(300 * target * PAGE_BYTES))


def _analyze_package(snap: Snapshot, table: Table, table_bytes: int, why: str) -> ChangePackage:
    return ChangePackage.of(
        f"Analyze {table.qname}",
        [Maintenance("ANALYZE", table.qname, table_bytes=_analyze_bytes(snap, table_bytes))],
        f"{why} ANALYZE reads a random sample of the table (at most 300 x default_statistics_target "
        "pages) and takes a SHARE UPDATE EXCLUSIVE lock, which blocks neither reads nor writes. "
        "Nothing is changed that needs undoing.",
    )


def _autovacuum_disabled(table: Table) -> bool:
    return parse_bool(table.reloption("autovacuum_enabled")) is False


def _heap_tables(snap: Snapshot) -> Iterator[Table]:
    """Tables and materialized views: the relations that have heap pages, dead tuples and XIDs."""
    return (t for t in snap.tables if t.kind in ("r", "m"))


# --- checks ----------------------------------------------------------------------------------


@check(
    "DW301",
    category="maintenance",
    severity=Severity.MEDIUM,
    title="Table approaching transaction ID wraparound",
)
def table_xid_wraparound(snap: Snapshot) -> Iterator[Finding]:
    """A table whose oldest unfrozen transaction ID is older than autovacuum should ever allow.

    PostgreSQL compares 32-bit transaction IDs modulo 2^31, so every row must be *frozen*
    before its inserting transaction is about two billion transactions old. Autovacuum forces an
    anti-wraparound vacuum once ``age(relfrozenxid)`` passes ``autovacuum_freeze_max_age`` (or the
    table's own, lower, ``autovacuum_freeze_max_age`` reloption). A table well past that point
    means the freeze is failing: a long-running transaction, an abandoned prepared transaction
    or replication slot holds back the xmin horizon, autovacuum is cancelled again and again, or
    it cannot keep up. Near the horizon the server first warns, then refuses to assign new
    transaction IDs until a manual VACUUM has run — an outage.

    Flagged when the age passes 1.25 x the effective freeze max age. Severity is MEDIUM, HIGH
    past half of the 2^31 horizon and CRITICAL past three quarters of it.

    Fix: ``VACUUM (FREEZE)`` the table, after removing whatever holds back the horizon (check
    ``pg_stat_activity.backend_xmin``, ``pg_prepared_xacts`` and ``pg_replication_slots``).
    The TOAST table's own age is not in the snapshot and is not checked here.

    References: https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-WRAPAROUND,
    https://www.postgresql.org/docs/current/runtime-config-autovacuum.html#GUC-AUTOVACUUM-FREEZE-MAX-AGE
    """
    for table in _heap_tables(snap):
        age = table.frozen_xid_age
        if age is None:
            continue
        freeze_max_age, source = effective_freeze_max_age(snap, table)
        if age < FREEZE_OVERDUE_FACTOR * freeze_max_age:
            continue
        fix = ChangePackage.of(
            f"Freeze {table.qname}",
            [Maintenance("VACUUM (FREEZE)", table.qname, table_bytes=table.heap_bytes + table.toast_bytes)],
            "VACUUM (FREEZE) rewrites no data but reads the whole table and freezes every visible row, "
            "which resets its relfrozenxid age. It takes a SHARE UPDATE EXCLUSIVE lock (reads and "
            "writes continue) and cannot run inside a transaction block.",
            manual_steps=(
                "If the age does not drop afterwards, find what holds back the xmin horizon: "
                "long transactions (pg_stat_activity.backend_xmin), prepared transactions "
                "(pg_prepared_xacts) and stale replication slots (pg_replication_slots.xmin).",
            ),
        )
        yield finding(
            table.qname,
            f"{table.qname} has not been frozen for {age:,} transactions, past the {freeze_max_age:,} at "
            f"which autovacuum must freeze it",
            fix=fix,
            severity=_wraparound_severity(age),
            freeze_max_age_source=source,
            size_bytes=table.total_bytes,
            **_wraparound_evidence(age, freeze_max_age),
        )


@check(
    "DW302",
    category="maintenance",
    severity=Severity.MEDIUM,
    title="Database approaching transaction ID wraparound",
)
def database_xid_wraparound(snap: Snapshot) -> Iterator[Finding]:
    """A database whose ``datfrozenxid`` is older than autovacuum should ever allow.

    A database's age is that of its least recently frozen relation, system catalogs and TOAST
    tables included, so it catches what the per-table check cannot see — and it covers every
    database on the server, not just the one being reviewed. When the oldest database reaches
    the wraparound horizon the whole server stops assigning transaction IDs.

    Flagged when ``age(datfrozenxid)`` passes 1.25 x ``autovacuum_freeze_max_age``; MEDIUM, HIGH
    past half of the 2^31 horizon, CRITICAL past three quarters.

    Fix: ``VACUUM (FREEZE)`` in that database (``vacuumdb --freeze --dbname=...`` or
    ``vacuumdb --all --freeze``), after clearing whatever holds back the xmin horizon.

    References: https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-WRAPAROUND
    """
    freeze_max_age = int(_setting_number(snap, "autovacuum_freeze_max_age", DEFAULT_FREEZE_MAX_AGE))
    for database in snap.server.databases:
        if database.xid_age < FREEZE_OVERDUE_FACTOR * freeze_max_age:
            continue
        here = database.name == snap.server.database
        yield finding(
            database.name,
            f"database {database.name} has not been frozen for {database.xid_age:,} transactions, past the "
            f"{freeze_max_age:,} at which autovacuum must freeze it",
            fix=_freeze_database_package(database) if here else None,
            severity=_wraparound_severity(database.xid_age),
            reviewed_database=here,
            size_bytes=database.size_bytes,
            **_wraparound_evidence(database.xid_age, freeze_max_age),
        )


def _freeze_database_package(database: DatabaseInfo) -> ChangePackage:
    return ChangePackage.of(
        f"Freeze database {database.name}",
        [Maintenance("VACUUM (FREEZE)", table_bytes=database.size_bytes or 0)],
        "A database-wide VACUUM (FREEZE) freezes every relation, catalogs included, and advances "
        "datfrozenxid. It reads the whole database but locks each table only in SHARE UPDATE "
        "EXCLUSIVE mode, so reads and writes continue; it cannot run inside a transaction block.",
        manual_steps=(
            "If datfrozenxid does not advance, clear what holds back the xmin horizon: long "
            "transactions, pg_prepared_xacts and stale pg_replication_slots.",
        ),
    )


@check("DW303", category="maintenance", severity=Severity.MEDIUM, title="Many dead tuples")
def dead_tuples(snap: Snapshot) -> Iterator[Finding]:
    """A table where a large share of the tuples are dead: deleted or updated rows not yet vacuumed.

    Dead tuples still take space, so every sequential scan reads them, indexes point at them and
    the table and its indexes bloat. Autovacuum removes them once they pass
    ``autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor x rows``; a table well beyond
    that has autovacuum disabled, blocked by a long transaction, or too slow for its churn.

    Flagged when at least 20% of the tuples are dead and there are at least 1,000 of them.

    Fix: ``VACUUM (ANALYZE)`` the table now. On a table of a million rows or more, also lower its
    ``autovacuum_vacuum_scale_factor`` (to 0.02) so autovacuum runs before 20% of it is dead.

    References: https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-SPACE-RECOVERY,
    https://www.postgresql.org/docs/current/runtime-config-autovacuum.html#GUC-AUTOVACUUM-VACUUM-SCALE-FACTOR
    """
    for table in _heap_tables(snap):
        dead = table.n_dead_tup or 0
        live = table.n_live_tup or 0
        if dead < MIN_DEAD_TUPLES:
            continue
        ratio = dead / (dead + live)
        if ratio < DEAD_RATIO_THRESHOLD:
            continue
        yield finding(
            table.qname,
            f"{ratio:.0%} of the tuples in {table.qname} are dead ({dead:,} dead, {live:,} live)",
            fix=_vacuum_package(table, live),
            n_dead_tup=dead,
            n_live_tup=live,
            dead_ratio=round(ratio, 4),
            last_vacuum=table.last_vacuum,
            last_autovacuum=table.last_autovacuum,
            autovacuum_enabled=not _autovacuum_disabled(table),
            heap_bytes=table.heap_bytes,
        )


def _vacuum_package(table: Table, live: int) -> ChangePackage:
    operations = []
    rows = max(live, int(table.row_estimate))
    tune = rows >= LARGE_TABLE_ROWS and table.reloption("autovacuum_vacuum_scale_factor") is None
    if tune:
        operations.append(
            SetReloption(table.qname, "autovacuum_vacuum_scale_factor", LARGE_TABLE_VACUUM_SCALE_FACTOR)
        )
    operations.append(Maintenance("VACUUM (ANALYZE)", table.qname, table_bytes=table.heap_bytes))
    explanation = (
        "VACUUM (ANALYZE) makes the dead tuples' space reusable and refreshes the statistics. "
        "It reads the table under a SHARE UPDATE EXCLUSIVE lock (reads and writes continue) and "
        "cannot run in a transaction block; it does not shrink the file (only VACUUM FULL or "
        "pg_repack do, at a much higher cost)."
    )
    if tune:
        explanation += (
            f" With {rows:,} rows the default scale factor lets {int(rows * 0.2):,} dead rows "
            f"pile up before autovacuum starts; {LARGE_TABLE_VACUUM_SCALE_FACTOR} makes it start "
            "ten times sooner."
        )
    return ChangePackage.of(f"Vacuum {table.qname}", operations, explanation)


@check("DW304", category="maintenance", severity=Severity.MEDIUM, title="Table never analyzed")
def never_analyzed(snap: Snapshot) -> Iterator[Finding]:
    """A table that holds rows but has never been analyzed, manually or by autovacuum.

    Without statistics the planner guesses row counts and value distributions, and plans built
    on guesses pick the wrong join orders and scans. Autovacuum analyzes a table only after
    ``autovacuum_analyze_threshold`` (50) modifications, and it never analyzes partitioned
    tables at all: a partitioned table's own statistics, used when queries span partitions,
    exist only after a manual ANALYZE.

    Flagged: ordinary tables and materialized views with rows or modifications and no
    ``last_analyze``/``last_autoanalyze``; partitioned tables never analyzed whose partitions
    hold rows. LOW below 1,000 rows.

    Fix: ``ANALYZE`` the table; for partitioned tables, schedule it (cron, pg_cron) since
    autovacuum will not.

    References: https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-STATISTICS,
    https://www.postgresql.org/docs/current/sql-analyze.html
    """
    partition_rows, partition_bytes = _partition_totals(snap)
    for table in snap.tables:
        if table.kind not in ("r", "m", "p") or table.last_analyze or table.last_autoanalyze:
            continue
        if table.kind == "p":
            rows, size, modified = partition_rows.get(table.qname, 0), partition_bytes.get(table.qname, 0), 0
        else:
            rows, size = max(table.n_live_tup or 0, int(table.row_estimate)), table.heap_bytes
            modified = table.n_mod_since_analyze or 0
        if rows == 0 and modified == 0:
            continue
        partitioned = table.kind == "p"
        why = (
            "Autovacuum never analyzes partitioned tables."
            if partitioned
            else "Gives the planner real row counts and value distributions."
        )
        yield finding(
            table.qname,
            f"{table.qname} has {'partitions holding ' if partitioned else ''}{max(rows, modified):,} rows "
            "but has never been analyzed",
            fix=_analyze_package(snap, table, size, why),
            severity=Severity.MEDIUM if partitioned or rows >= NEVER_ANALYZED_MEDIUM_ROWS else Severity.LOW,
            rows=rows,
            n_mod_since_analyze=modified,
            partitioned=partitioned,
        )


def _partition_totals(snap: Snapshot) -> tuple[dict[str, int], dict[str, int]]:
    """Live rows and heap bytes of every partitioned table's leaf partitions, summed up the tree."""
    parent_of = {t.qname: t.parent for t in snap.tables if t.is_partition and t.parent}
    rows: dict[str, int] = defaultdict(int)
    size: dict[str, int] = defaultdict(int)
    for table in snap.tables:
        if not table.is_partition or table.kind == "p":
            continue
        leaf_rows = max(table.n_live_tup or 0, int(table.row_estimate))
        ancestor, seen = table.parent, set()
        while ancestor and ancestor not in seen:
            seen.add(ancestor)
            rows[ancestor] += leaf_rows
            size[ancestor] += table.heap_bytes
            ancestor = parent_of.get(ancestor)
    return rows, size


@check("DW305", category="maintenance", severity=Severity.MEDIUM, title="Autovacuum disabled on a table")
def autovacuum_disabled_on_table(snap: Snapshot) -> Iterator[Finding]:
    """A table with the reloption ``autovacuum_enabled = false``.

    Autovacuum then neither removes its dead tuples nor refreshes its statistics; only the
    anti-wraparound vacuum still runs, late and aggressive. Switching autovacuum off is
    sometimes done during a bulk load and forgotten. Tuning it (scale factors, cost limits) is
    almost always the better answer than disabling it.

    Fix: ``ALTER TABLE ... RESET (autovacuum_enabled)``. The TOAST table's own
    ``toast.autovacuum_enabled`` lives on the TOAST relation, which the snapshot does not read.

    References: https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-STORAGE-PARAMETERS
    """
    for table in snap.tables:
        if table.kind not in ("r", "m", "p") or not _autovacuum_disabled(table):
            continue
        previous = table.reloption("autovacuum_enabled") or "false"
        fix = ChangePackage.of(
            f"Re-enable autovacuum on {table.qname}",
            [ResetReloption(table.qname, "autovacuum_enabled", previous)],
            "Resets the reloption so the server-wide autovacuum settings apply again. The statement "
            "changes only the catalog, under a SHARE UPDATE EXCLUSIVE lock.",
        )
        yield finding(
            table.qname,
            f"autovacuum is disabled on {table.qname}",
            fix=fix,
            reloption=f"autovacuum_enabled={previous}",
            n_dead_tup=table.n_dead_tup,
            n_mod_since_analyze=table.n_mod_since_analyze,
            last_vacuum=table.last_vacuum,
            last_analyze=table.last_analyze,
        )


@check("DW306", category="maintenance", severity=Severity.LOW, title="Stale table statistics")
def stale_statistics(snap: Snapshot) -> Iterator[Finding]:
    """A table analyzed before, but modified far more since than autovacuum should have allowed.

    Autovacuum re-analyzes a table once ``n_mod_since_analyze`` passes
    ``autovacuum_analyze_threshold + autovacuum_analyze_scale_factor x reltuples`` (table
    reloptions override both). Twice that many modifications means autoanalyze is disabled,
    starved or too slow, and the planner's row counts and histograms no longer describe the data.

    Fix: ``ANALYZE`` the table; if it recurs, look at why autovacuum falls behind on it.

    References: https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM,
    https://www.postgresql.org/docs/current/runtime-config-autovacuum.html#GUC-AUTOVACUUM-ANALYZE-SCALE-FACTOR
    """
    base_threshold = _setting_number(snap, "autovacuum_analyze_threshold", 50)
    scale_factor = _setting_number(snap, "autovacuum_analyze_scale_factor", 0.1)
    for table in _heap_tables(snap):
        if not (table.last_analyze or table.last_autoanalyze):
            continue
        modified = table.n_mod_since_analyze or 0
        trigger = (
            _table_option(table, "autovacuum_analyze_threshold", base_threshold)
            + _table_option(table, "autovacuum_analyze_scale_factor", scale_factor) * table.row_estimate
        )
        if modified <= STALE_STATS_FACTOR * trigger:
            continue
        yield finding(
            table.qname,
            f"{table.qname} has had {modified:,} row modifications since it was last analyzed; autoanalyze "
            f"should have run after {int(trigger):,}",
            fix=_analyze_package(snap, table, table.heap_bytes, "Refreshes the planner's statistics."),
            n_mod_since_analyze=modified,
            autoanalyze_trigger=int(trigger),
            row_estimate=int(table.row_estimate),
            last_analyze=table.last_analyze,
            last_autoanalyze=table.last_autoanalyze,
            autovacuum_enabled=not _autovacuum_disabled(table),
        )


@check("DW307", category="maintenance", severity=Severity.HIGH, title="Autovacuum is switched off")
def autovacuum_off(snap: Snapshot) -> Iterator[Finding]:
    """Autovacuum is off for the whole server: ``autovacuum = off``, or ``track_counts = off``.

    Without autovacuum no table is vacuumed or analyzed unless someone does it by hand: dead
    tuples accumulate, statistics go stale, and only the emergency anti-wraparound vacuum still
    runs. ``track_counts = off`` has the same effect, because autovacuum decides what to do from
    the counters it disables.

    Fix: ``ALTER SYSTEM SET autovacuum = on`` (and ``track_counts = on``) and reload; neither
    needs a restart.

    References: https://www.postgresql.org/docs/current/runtime-config-autovacuum.html#GUC-AUTOVACUUM,
    https://www.postgresql.org/docs/current/runtime-config-statistics.html#GUC-TRACK-COUNTS
    """
    for name in ("autovacuum", "track_counts"):
        setting = snap.server.setting(name)
        if setting is None or parse_bool(setting.value) is not False:
            continue
        yield finding(
            name,
            f"{name} is off, so autovacuum does not run",
            fix=_switch_on_package(setting),
            value=setting.value,
            source=setting.source,
        )


def _switch_on_package(setting: Setting) -> ChangePackage:
    previous = None if setting.source == "default" else setting.value
    return ChangePackage.of(
        f"Switch {setting.name} on",
        [AlterSystem(setting.name, "on", previous), ReloadConfig()],
        f"Writes {setting.name} = on to postgresql.auto.conf and reloads the configuration; no restart "
        "is needed. Expect autovacuum to start working through a backlog of tables at once.",
    )
