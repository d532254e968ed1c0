"""Configuration checks: server settings read from pg_settings, sized against the machine.

The memory checks share one baseline, ``memory_baseline(server)``, which other tools (the
tuning advisor, the report) reuse so every part of dbwright recommends the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from dbwright.checks.registry import check, finding
from dbwright.model import Server, Setting, Snapshot
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import AlterSystem, CreateExtension, Operation, RawSQL, ReloadConfig, literal
from dbwright.model.package import ChangePackage

MB = 1024**2
GB = 1024**3

#: Settings ALTER SYSTEM cannot override: a command-line option or an override wins over it.
_ALTER_SYSTEM_SOURCES = ("default", "configuration file")


# --- shared helpers ------------------------------------------------------------------------


@dataclass(frozen=True)
class AlterSystemList(Operation):
    """ALTER SYSTEM for a list setting (shared_preload_libraries, search_path…).

    These settings quote their items, so ``= 'a,b'`` would configure ONE library named "a,b" and
    the server would not start; each item must be its own literal: ``= 'a', 'b'``.
    """

    kind: ClassVar[str] = "alter_system"
    name: str
    values: tuple[str, ...]
    previous: tuple[str, ...] | None = None  # None: RESET, the value came from a file or the default

    def sql(self) -> str:
        items = ", ".join(literal(v) for v in self.values) or "''"
        return f"ALTER SYSTEM SET {self.name} = {items};"

    def reverse(self) -> Operation:
        if self.previous is None:
            return RawSQL(f"ALTER SYSTEM RESET {self.name};", transactional_=False)
        return AlterSystemList(self.name, self.previous, self.values)

    @property
    def transactional(self) -> bool:
        return False  # ALTER SYSTEM cannot run inside a transaction block


def alter_setting(setting: Setting, value: str, *, restart: bool = False) -> AlterSystem:
    """ALTER SYSTEM of ``setting`` to ``value``, reversible.

    When the current value comes from the default or a configuration file, the rollback is
    ``ALTER SYSTEM RESET``, which brings back exactly that value, unless it was itself set by an
    earlier ALTER SYSTEM (the snapshot does not record the source file: see the DW6xx notes).
    Otherwise the rollback sets the old value back explicitly.
    """
    previous = None if setting.source in _ALTER_SYSTEM_SOURCES else setting.value
    return AlterSystem(setting.name, value, previous, needs_restart=restart)


def setting_package(
    title: str,
    setting: Setting,
    value: str,
    explanation: str,
    *,
    restart: bool = False,
    extra: tuple[Operation, ...] = (),
    **notes,
) -> ChangePackage:
    """ALTER SYSTEM plus a reload (or a restart step for postmaster settings)."""
    operations: list[Operation] = [*extra, alter_setting(setting, value, restart=restart)]
    manual = list(notes.pop("manual_steps", ()))
    if restart:
        manual.append(
            f"Restart PostgreSQL at a quiet moment for {setting.name} to take effect "
            "(pg_ctl restart -m fast, or your service manager)."
        )
    else:
        operations.append(ReloadConfig())
    if setting.source not in _ALTER_SYSTEM_SOURCES:
        manual.append(
            f"{setting.name} currently comes from '{setting.source}', which overrides ALTER SYSTEM: "
            "change it there (command line, service unit, or role/database setting)."
        )
    return ChangePackage.of(
        title, operations, explanation, requires_restart=restart, manual_steps=tuple(manual), **notes
    )


def pretty_bytes(size: int) -> str:
    """A setting value PostgreSQL accepts, rounded down to whole megabytes: 16GB, 1536MB."""
    megabytes = max(1, size // MB)
    if megabytes % 1024 == 0:
        return f"{megabytes // 1024}GB"
    return f"{megabytes}MB"


def _bytes(server: Server, name: str) -> int | None:
    setting = server.setting(name)
    return setting.as_bytes() if setting else None


def _int(server: Server, name: str, default: int) -> int:
    setting = server.setting(name)
    try:
        return int(setting.value) if setting else default
    except ValueError:
        return default


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def memory_baseline(server: Server) -> dict[str, int]:
    """Starting-point memory settings, in bytes, for a dedicated database server; {} if RAM is unknown.

    - shared_buffers: 25% of RAM (the docs' "reasonable starting value"), at most 64 GiB, where
      a larger cache rarely pays off and makes checkpoints and restarts slower.
    - effective_cache_size: 75% of RAM, what shared_buffers plus the OS page cache can hold.
    - work_mem: (RAM − shared_buffers) / (max_connections × 3), clamped to [4 MiB, 256 MiB]:
      a query may run several sort or hash nodes at once, each allowed work_mem.
    - maintenance_work_mem: 5% of RAM, clamped to [64 MiB, 2 GiB]; VACUUM, CREATE INDEX and
      each autovacuum worker use up to this much.
    """
    ram = server.memory_bytes
    if not ram:
        return {}
    shared_buffers = min(ram // 4, 64 * GB)
    connections = max(1, _int(server, "max_connections", 100))
    return {
        "shared_buffers": shared_buffers,
        "effective_cache_size": ram * 3 // 4,
        "work_mem": _clamp((ram - shared_buffers) // (connections * 3), 4 * MB, 256 * MB),
        "maintenance_work_mem": _clamp(ram // 20, 64 * MB, 2 * GB),
    }


def _memory_evidence(server: Server, name: str, current: int, baseline: int, **more) -> dict:
    return {
        "value": pretty_bytes(current),
        "value_bytes": current,
        "baseline": pretty_bytes(baseline),
        "baseline_bytes": baseline,
        "server_memory_bytes": server.memory_bytes,
        **more,
    }


# --- pg_stat_statements --------------------------------------------------------------------


def _library_list(setting: Setting | None) -> list[str]:
    if setting is None:
        return []
    return [lib.strip().strip('"') for lib in setting.value.split(",") if lib.strip()]


@check("DW601", category="configuration", severity=Severity.MEDIUM, title="pg_stat_statements is not enabled")
def pg_stat_statements_missing(snap: Snapshot) -> Iterator[Finding]:
    """Without pg_stat_statements nobody can tell which queries use the server's time.

    It records calls, time, rows and buffer use per normalized query for a few percent of
    overhead, and the workload and index checks read it. It must be both loaded at server start
    (``shared_preload_libraries``) and created in the database (``CREATE EXTENSION``).

    Fix: ``CREATE EXTENSION pg_stat_statements``; when it is not preloaded, append it to
    ``shared_preload_libraries`` and restart. If the extension is not available at all, install
    the server's contrib package.

    References: https://www.postgresql.org/docs/current/pgstatstatements.html
    """
    server = snap.server
    extension = server.extension("pg_stat_statements")
    libraries_setting = server.setting("shared_preload_libraries")
    libraries = _library_list(libraries_setting)
    preloaded = "pg_stat_statements" in libraries
    installed = bool(extension and extension.installed_version)
    if preloaded and installed:
        return
    operations: list[Operation] = []
    manual: list[str] = []
    if extension is None:
        manual.append(
            "Install the contrib package on the server (e.g. postgresql-15 or postgresql-contrib): "
            "pg_stat_statements is not among the available extensions."
        )
    if not installed:
        operations.append(CreateExtension("pg_stat_statements"))
    if not preloaded and libraries_setting is not None:
        previous = None if libraries_setting.source in _ALTER_SYSTEM_SOURCES else tuple(libraries)
        operations.append(
            AlterSystemList("shared_preload_libraries", (*libraries, "pg_stat_statements"), previous)
        )
        manual.append("Restart PostgreSQL for shared_preload_libraries to take effect.")
    missing = [
        part
        for part, ok in (("CREATE EXTENSION", installed), ("shared_preload_libraries", preloaded))
        if not ok
    ]
    fix = ChangePackage.of(
        "Enable pg_stat_statements",
        operations,
        "Creates the extension's views in this database and makes sure the library is loaded at "
        "start. Query statistics start accumulating from then on.",
        requires_restart=not preloaded,
        manual_steps=tuple(manual),
        performance_notes=("Tracking costs a few percent of CPU on very high query rates.",),
    )
    yield finding(
        "pg_stat_statements",
        f"pg_stat_statements is not enabled: missing {' and '.join(missing)}",
        fix=fix,
        installed=installed,
        preloaded=preloaded,
        available=extension is not None,
        shared_preload_libraries=libraries,
    )


# --- memory --------------------------------------------------------------------------------


def _memory_inputs(server: Server, name: str) -> tuple[Setting, int, int] | None:
    """A memory setting, its value in bytes and its baseline; None when any is unknown."""
    setting, current = server.setting(name), _bytes(server, name)
    baseline = memory_baseline(server).get(name)
    if setting is None or current is None or baseline is None or server.memory_bytes is None:
        return None
    return setting, current, baseline


@check(
    "DW602",
    category="configuration",
    severity=Severity.MEDIUM,
    title="shared_buffers far from the memory",
    requires=("server_memory",),
)
def shared_buffers_sizing(snap: Snapshot) -> Iterator[Finding]:
    """shared_buffers is PostgreSQL's own page cache; its default (128 MB) suits a laptop, not a server.

    Flags a value below a quarter of the baseline (25% of RAM, see ``memory_baseline``): hot
    data then goes through the OS cache with extra copying and eviction churn. Also flags a
    value above 40% of RAM, which the docs say rarely helps, starves the OS cache and
    work_mem, and can make the server fail to start.

    Fix: ``ALTER SYSTEM SET shared_buffers = …`` and restart. Consider huge pages above ~8 GB.

    References: https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-SHARED-BUFFERS
    """
    server = snap.server
    inputs = _memory_inputs(server, "shared_buffers")
    if inputs is None:
        return
    setting, current, baseline = inputs
    if current < baseline // 4:
        problem = "too_small"
        message = f"shared_buffers is {pretty_bytes(current)}, under a quarter of the {pretty_bytes(baseline)} baseline"
    elif current > server.memory_bytes * 0.4:
        problem = "too_large"
        message = (
            f"shared_buffers is {pretty_bytes(current)}, over 40% of {pretty_bytes(server.memory_bytes)} RAM"
        )
    else:
        return
    fix = setting_package(
        f"Set shared_buffers to {pretty_bytes(baseline)}",
        setting,
        pretty_bytes(baseline),
        "Sizes PostgreSQL's buffer cache at 25% of RAM; the OS cache keeps the rest.",
        restart=True,
        performance_notes=("The cache is empty after the restart: expect a warm-up period.",),
    )
    yield finding(
        "shared_buffers",
        message,
        fix=fix,
        **_memory_evidence(server, "shared_buffers", current, baseline, problem=problem),
    )


@check(
    "DW603",
    category="configuration",
    severity=Severity.LOW,
    title="effective_cache_size far from the memory",
    requires=("server_memory",),
)
def effective_cache_size_sizing(snap: Snapshot) -> Iterator[Finding]:
    """effective_cache_size tells the planner how much data is likely cached; it allocates nothing.

    Too low (under 25% of RAM) makes index scans look expensive and pushes the planner toward
    sequential scans; above the machine's RAM it promises a cache that cannot exist. The
    baseline is 75% of RAM (``memory_baseline``).

    Fix: ``ALTER SYSTEM SET effective_cache_size = …`` and reload.

    References: https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-EFFECTIVE-CACHE-SIZE
    """
    server = snap.server
    inputs = _memory_inputs(server, "effective_cache_size")
    if inputs is None:
        return
    setting, current, baseline = inputs
    if current < server.memory_bytes // 4:
        problem, message = "too_small", f"effective_cache_size is {pretty_bytes(current)}, under 25% of RAM"
    elif current > server.memory_bytes:
        problem, message = "too_large", f"effective_cache_size is {pretty_bytes(current)}, more than the RAM"
    else:
        return
    fix = setting_package(
        f"Set effective_cache_size to {pretty_bytes(baseline)}",
        setting,
        pretty_bytes(baseline),
        "A planner estimate only: no memory is allocated.",
    )
    yield finding(
        "effective_cache_size",
        message,
        fix=fix,
        **_memory_evidence(server, "effective_cache_size", current, baseline, problem=problem),
    )


@check(
    "DW604",
    category="configuration",
    severity=Severity.MEDIUM,
    title="work_mem far from the memory",
    requires=("server_memory",),
)
def work_mem_sizing(snap: Snapshot) -> Iterator[Finding]:
    """work_mem is the memory each sort or hash step may use before spilling to temporary files.

    Too low (under a quarter of the baseline, see ``memory_baseline``) sends sorts, hash joins
    and aggregates to disk; low severity. Too high (above the baseline and either over four
    times it or work_mem × max_connections above the RAM) risks running the server out of
    memory under load, since one query can use several multiples of it. When even the 4 MiB
    floor overcommits (thousands of max_connections), the problem is max_connections, not
    work_mem, and this check stays quiet.

    Fix: ``ALTER SYSTEM SET work_mem = …`` and reload; raise it per role or per query
    (``SET LOCAL work_mem``) for the few reports that need more.

    References: https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-WORK-MEM
    """
    server = snap.server
    inputs = _memory_inputs(server, "work_mem")
    if inputs is None:
        return
    setting, current, baseline = inputs
    connections = _int(server, "max_connections", 100)
    worst_case = current * connections
    if current > baseline and (worst_case > server.memory_bytes or current > baseline * 4):
        problem, severity = "too_large", None
        message = (
            f"work_mem is {pretty_bytes(current)}: × {connections} connections = "
            f"{pretty_bytes(worst_case)} against {pretty_bytes(server.memory_bytes)} RAM"
        )
    elif current < baseline // 4:
        problem, severity = "too_small", Severity.LOW
        message = (
            f"work_mem is {pretty_bytes(current)}, under a quarter of the {pretty_bytes(baseline)} baseline"
        )
    else:
        return
    fix = setting_package(
        f"Set work_mem to {pretty_bytes(baseline)}",
        setting,
        pretty_bytes(baseline),
        "Sizes per-operation memory so that max_connections busy sessions fit in RAM.",
        performance_notes=("Check temp_files in pg_stat_database afterwards.",),
    )
    yield finding(
        "work_mem",
        message,
        fix=fix,
        severity=severity,
        **_memory_evidence(
            server,
            "work_mem",
            current,
            baseline,
            problem=problem,
            max_connections=connections,
            worst_case_bytes=worst_case,
        ),
    )


@check(
    "DW605",
    category="configuration",
    severity=Severity.LOW,
    title="maintenance_work_mem far from the memory",
    requires=("server_memory",),
)
def maintenance_work_mem_sizing(snap: Snapshot) -> Iterator[Finding]:
    """maintenance_work_mem sizes VACUUM, CREATE INDEX and ALTER TABLE ADD FOREIGN KEY memory.

    Too low (under a quarter of the baseline, 5% of RAM within [64 MiB, 2 GiB], see
    ``memory_baseline``) makes index builds spill and VACUUM scan indexes several times. Too
    high: each autovacuum worker may use it too (unless ``autovacuum_work_mem`` is set), so
    maintenance_work_mem × (autovacuum_max_workers + 1) above half the RAM is flagged, and the
    fix proposes the baseline or what fits in half the RAM, whichever is smaller.

    Fix: ``ALTER SYSTEM SET maintenance_work_mem = …`` and reload.

    References: https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-MAINTENANCE-WORK-MEM
    """
    server = snap.server
    inputs = _memory_inputs(server, "maintenance_work_mem")
    if inputs is None:
        return
    setting, current, baseline = inputs
    workers = (
        _int(server, "autovacuum_max_workers", 3) if _int(server, "autovacuum_work_mem", -1) == -1 else 0
    )
    worst_case = current * (workers + 1)
    fitting = min(baseline, (server.memory_bytes // 2) // (workers + 1))
    if worst_case > server.memory_bytes // 2 and fitting < current:
        problem, recommended = "too_large", fitting
        message = (
            f"maintenance_work_mem is {pretty_bytes(current)}: × {workers + 1} (autovacuum workers and "
            f"one maintenance command) = {pretty_bytes(worst_case)}, over half the RAM"
        )
    elif current < baseline // 4:
        problem, recommended = "too_small", baseline
        message = (
            f"maintenance_work_mem is {pretty_bytes(current)}, under a quarter of the "
            f"{pretty_bytes(baseline)} baseline"
        )
    else:
        return
    fix = setting_package(
        f"Set maintenance_work_mem to {pretty_bytes(recommended)}",
        setting,
        pretty_bytes(recommended),
        "Gives VACUUM and index builds room without letting autovacuum workers "
        "together exhaust memory. To keep more for manual index builds, set "
        "autovacuum_work_mem separately instead.",
    )
    yield finding(
        "maintenance_work_mem",
        message,
        fix=fix,
        **_memory_evidence(
            server,
            "maintenance_work_mem",
            current,
            baseline,
            problem=problem,
            recommended=pretty_bytes(recommended),
            worst_case_bytes=worst_case,
        ),
    )


# --- planner, checkpoints, logging ---------------------------------------------------------


def _float(setting: Setting | None) -> float | None:
    try:
        return float(setting.value) if setting else None
    except ValueError:
        return None


@check(
    "DW606",
    category="configuration",
    severity=Severity.LOW,
    title="random_page_cost tuned for spinning disks",
)
def random_page_cost_ssd(snap: Snapshot) -> Iterator[Finding]:
    """The default random_page_cost of 4 models spinning disks, where a random read costs four
    sequential ones. On SSDs and cloud volumes random reads cost about the same, and the default
    makes the planner prefer sequential scans over good index scans.

    Flags random_page_cost at least twice seq_page_cost. The disk type is not visible from SQL:
    this assumes SSD or cloud storage; ignore it on spinning disks. Tablespace-level overrides
    are not read.

    Fix: ``ALTER SYSTEM SET random_page_cost = 1.1`` and reload.

    References: https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-RANDOM-PAGE-COST
    """
    setting = snap.server.setting("random_page_cost")
    random_cost = _float(setting)
    seq_cost = _float(snap.server.setting("seq_page_cost")) or 1.0
    if setting is None or random_cost is None or random_cost < 2 * seq_cost:
        return
    fix = setting_package(
        "Set random_page_cost for SSD storage",
        setting,
        "1.1",
        "Tells the planner that random reads cost about as much as sequential ones.",
        performance_notes=("Plans change: watch the slowest queries after the reload.",),
    )
    yield finding(
        "random_page_cost",
        f"random_page_cost is {setting.value} (seq_page_cost {seq_cost:g})",
        fix=fix,
        value=random_cost,
        seq_page_cost=seq_cost,
        assumption="assumes SSD/cloud storage; ignore on spinning disks",
    )


@check("DW607", category="configuration", severity=Severity.LOW, title="max_wal_size at or below the default")
def max_wal_size_small(snap: Snapshot) -> Iterator[Finding]:
    """When more WAL than max_wal_size is written between checkpoints, PostgreSQL forces an early
    checkpoint. The 1 GB default forces frequent checkpoints under any real write load: more
    I/O, and more full-page images in the WAL after each one.

    Flags max_wal_size ≤ 1 GB. The snapshot does not include checkpoint counts; confirm with
    ``checkpoints_req`` against ``checkpoints_timed`` in pg_stat_bgwriter, or "checkpoints are
    occurring too frequently" in the log. The WAL directory needs room for the larger size.

    Fix: ``ALTER SYSTEM SET max_wal_size = '4GB'`` (or enough for one checkpoint_timeout of
    WAL) and reload.

    References: https://www.postgresql.org/docs/current/wal-configuration.html
    """
    setting = snap.server.setting("max_wal_size")
    size = setting.as_bytes() if setting else None
    if setting is None or size is None or size > GB:
        return
    fix = setting_package(
        "Raise max_wal_size to 4GB",
        setting,
        "4GB",
        "Lets checkpoints be spaced by checkpoint_timeout rather than forced by WAL volume.",
        manual_steps=("Make sure the WAL volume has at least 4GB free beyond today's use.",),
    )
    yield finding(
        "max_wal_size",
        f"max_wal_size is {pretty_bytes(size)}",
        fix=fix,
        value_bytes=size,
        note="checkpoint counts are not in the snapshot; check pg_stat_bgwriter.checkpoints_req",
    )


@check(
    "DW608", category="configuration", severity=Severity.LOW, title="Checkpoints too frequent or too bursty"
)
def checkpoint_settings(snap: Snapshot) -> Iterator[Finding]:
    """Each checkpoint flushes every dirty page and makes the next change to each page write a
    full-page image to WAL. A checkpoint_timeout of 5 minutes (the default) repeats that often;
    15–30 minutes is the usual production choice, at the cost of longer crash recovery.
    checkpoint_completion_target below 0.9 squeezes the writes into a shorter burst.

    Fix: ``ALTER SYSTEM SET checkpoint_timeout = '15min'`` and/or
    ``checkpoint_completion_target = 0.9``, then reload.

    References: https://www.postgresql.org/docs/current/wal-configuration.html,
    https://www.postgresql.org/docs/current/runtime-config-wal.html#RUNTIME-CONFIG-WAL-CHECKPOINTS
    """
    timeout = snap.server.setting("checkpoint_timeout")
    timeout_ms = timeout.as_milliseconds() if timeout else None
    if timeout is not None and timeout_ms is not None and timeout_ms <= 5 * 60_000:
        fix = setting_package(
            "Space checkpoints 15 minutes apart",
            timeout,
            "15min",
            "Fewer checkpoints: less write I/O and fewer full-page images in WAL.",
            performance_notes=(
                "Crash recovery may take longer, up to one checkpoint interval of WAL to replay.",
            ),
        )
        yield finding(
            "checkpoint_timeout",
            f"checkpoint_timeout is {timeout_ms // 1000}s",
            fix=fix,
            value_seconds=timeout_ms // 1000,
        )
    target = snap.server.setting("checkpoint_completion_target")
    target_value = _float(target)
    if target is not None and target_value is not None and target_value < 0.9:
        fix = setting_package(
            "Spread checkpoint writes",
            target,
            "0.9",
            "Checkpoint writes are spread over 90% of the interval instead of a burst.",
        )
        yield finding(
            "checkpoint_completion_target",
            f"checkpoint_completion_target is {target.value}",
            fix=fix,
            value=target_value,
        )


@check(
    "DW609",
    category="configuration",
    severity=Severity.LOW,
    title="Slow statements are not logged",
    audit_category="logging",
    aliases=("DWA039",),
    requires=("setting:log_min_duration_statement",),
)
def slow_statement_logging_off(snap: Snapshot) -> Iterator[Finding]:
    """With ``log_min_duration_statement = -1`` a slow query leaves no trace with its parameters and
    time in the log; pg_stat_statements aggregates, it does not keep the individual outliers.

    Fix: ``ALTER SYSTEM SET log_min_duration_statement = '1s'`` (or your latency objective) and
    reload. Log volume stays small because only statements slower than that are logged.

    References: https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-MIN-DURATION-STATEMENT
    """
    setting = snap.server.setting("log_min_duration_statement")
    if setting is None or setting.value != "-1":
        return
    fix = setting_package(
        "Log statements slower than one second",
        setting,
        "1s",
        "Each statement running longer than a second is logged with its duration.",
        security_notes=("Logged statements may include literal values; protect the logs.",),
    )
    yield finding(
        "log_min_duration_statement", "slow statements are not logged", fix=fix, value=setting.value
    )


@check("DW611", category="configuration", severity=Severity.LOW, title="I/O timing is not tracked")
def track_io_timing_off(snap: Snapshot) -> Iterator[Finding]:
    """Without track_io_timing, pg_stat_statements, EXPLAIN (ANALYZE, BUFFERS) and
    pg_stat_database show how many blocks were read but not how long the reads took, so a query
    slow on I/O cannot be told from one slow on CPU.

    The cost is a clock read per I/O: negligible on modern Linux (check with ``pg_test_timing``).

    Fix: ``ALTER SYSTEM SET track_io_timing = on`` and reload.

    References: https://www.postgresql.org/docs/current/runtime-config-statistics.html#GUC-TRACK-IO-TIMING
    """
    setting = snap.server.setting("track_io_timing")
    if setting is None or setting.value != "off":
        return
    fix = setting_package(
        "Track I/O timing",
        setting,
        "on",
        "Read and write times appear in the statistics.",
        performance_notes=("Run pg_test_timing first on virtual machines with slow clocks.",),
    )
    yield finding("track_io_timing", "track_io_timing is off", fix=fix, value=setting.value)


@check(
    "DW612",
    category="configuration",
    severity=Severity.MEDIUM,
    title="Setting changed but waiting for a restart",
)
def settings_pending_restart(snap: Snapshot) -> Iterator[Finding]:
    """A postmaster setting was changed in the configuration but the server has not been restarted:
    the running value is not the configured one.

    The change takes effect at the next restart, planned or not (a crash, a failover), when
    nobody expects it; a wrong value (too much shared_buffers, a missing library) then stops
    the server from starting at the worst moment.

    Fix (manual): restart at a planned moment, or revert the configuration change.

    References: https://www.postgresql.org/docs/current/view-pg-settings.html
    """
    for setting in snap.server.settings:
        if not setting.pending_restart:
            continue
        fix = ChangePackage.of(
            f"Apply the pending change to {setting.name}",
            [],
            "The configured value is applied at the next start; a restart at a planned moment makes "
            "that moment yours. Otherwise revert it (ALTER SYSTEM RESET or edit the file).",
            requires_restart=True,
            manual_steps=(
                f"Check the configured value: SELECT * FROM pg_file_settings WHERE name = '{setting.name}';",
                "Restart at a quiet moment (pg_ctl restart -m fast, or your service manager).",
            ),
        )
        yield finding(
            setting.name,
            f"{setting.name} was changed and waits for a restart (running: "
            f"{setting.value}{setting.unit or ''})",
            fix=fix,
            running_value=setting.value,
            unit=setting.unit,
            context=setting.context,
        )
