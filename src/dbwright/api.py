"""dbwright's public library API: the one module the faces call (CLI, MCP server, reports, docs site).

Each function is a stable, typed entry point. It checks its option values first (a value dbwright
cannot use raises ``InvalidArgumentError``, exit 22, before any connection is opened), then hands
the work to the library module that does it; nothing here reads a catalog or plans a statement.

A *target* is a ``postgresql://`` URL, a ``key=value`` conninfo (``service=NAME``), a database name,
or ``None`` for ``DATABASE_URL`` and the ``PG*`` variables. Analysis opens read-only sessions; only
the ``migrate_apply``/``migrate_rollback``/``migrate_baseline`` and ``backfill`` functions write.
docs/api.md shows every function with an example that runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from dbwright.errors import InvalidArgumentError
from dbwright.model import Snapshot
from dbwright.model.findings import Severity
from dbwright.model.package import ChangePackage

if TYPE_CHECKING:
    from dbwright.advisors.design import DesignReport
    from dbwright.advisors.explain import Explanation
    from dbwright.advisors.indexes import IndexAdvice
    from dbwright.advisors.indexes.verify import Verification
    from dbwright.audit.access import AccessMatrix
    from dbwright.audit.logging import AuditLoggingPlan
    from dbwright.audit.pii.classify import PiiReport
    from dbwright.audit.roles import AppUser, RolesPlan
    from dbwright.audit.run import Audit
    from dbwright.changes.backfill import BackfillOptions, BackfillReport
    from dbwright.changes.diff import DiffPlan
    from dbwright.changes.lint import LintFinding, LintReport, Rule
    from dbwright.changes.migrations import (
        ApplyOptions,
        HistoryRow,
        MigrationFile,
        Plan,
        RunReport,
        Status,
        VerifyReport,
    )
    from dbwright.checks.registry import Check
    from dbwright.config import Config, Setting
    from dbwright.engines.base import Connection
    from dbwright.engines.postgres.replication import ReplicationStatus
    from dbwright.engines.targets import Target as ResolvedTarget
    from dbwright.review import Review

#: A connection target: URL, conninfo or database name; None means DATABASE_URL, else the PG* variables.
Target = str | None
#: What a review or audit reads: a live target, a saved snapshot file (``*.json``) or a Snapshot.
Source = Snapshot | Path | str | None
#: A callback for progress lines ("reading the catalog: tables", "check DW101 …").
Progress = Callable[[str], None]
#: A callback for the demo's stages: a line and, while loading, the fraction done.
StageProgress = Callable[[str, "float | None"], None]

DEFAULT_SERVER_VERSION = 150000


class _Graded(Protocol):
    @property
    def severity(self) -> Severity: ...


GradedT = TypeVar("GradedT", bound=_Graded)


# --- option values ----------------------------------------------------------------------------------


def parse_severity(value: str | Severity) -> Severity:
    """``"high"`` -> Severity.HIGH; an unknown name raises InvalidArgumentError."""
    if isinstance(value, Severity):
        return value
    try:
        return Severity.parse(value)
    except ValueError as error:
        raise InvalidArgumentError(str(error)) from None


def parse_size(value: str | int | None) -> int | None:
    """Bytes from ``512MB``, ``16GB``, ``1.5 GiB`` or a plain number; None stays None."""
    from dbwright.model.units import parse_bytes

    if value is None or isinstance(value, int):
        return value
    try:
        return parse_bytes(value)
    except ValueError as error:
        raise InvalidArgumentError(str(error)) from None


def parse_server_version(value: str | int) -> int:
    """A server_version_num from ``15``, ``"9.6"``, ``"150004"`` or 150004."""
    raw = str(value).strip()
    try:
        if "." in raw:
            major, minor = (int(part) for part in raw.split(".", 1))
            return major * 10000 + (minor * 100 if major < 10 else minor)
        number = int(raw)
    except ValueError:
        raise InvalidArgumentError(f"cannot read server version {value!r}; use e.g. 15 or 150004") from None
    if number <= 0:
        raise InvalidArgumentError(f"cannot read server version {value!r}; use e.g. 15 or 150004")
    return number * 10000 if number < 100 else number


def check_category(name: str, *, audit: bool = False) -> str:
    """``name`` if it is a review category (or, with ``audit``, an audit category)."""
    if audit:
        from dbwright.checks.registry import AUDIT_CATEGORIES as known
    else:
        from dbwright.checks.registry import CATEGORIES as known
    if name not in known:
        kind = "audit category" if audit else "category"
        raise InvalidArgumentError(f"unknown {kind} {name!r}; use one of {', '.join(known)}")
    return name


def check_budget(value: str | int | None) -> str | int | None:
    """``value`` if it reads as an index budget: ``500MB``, ``2GB``, ``10%`` (of the database) or bytes."""
    from dbwright.advisors.indexes import parse_budget

    if isinstance(value, str):
        parse_budget(value, 1)
    return value


def check_codes(codes: Iterable[str] | None, *, audit: bool = False) -> list[str]:
    """``codes`` if every one names a registered check (by code or alias) and, with ``audit``, one
    the audit runs; otherwise InvalidArgumentError (exit 22), never a review of nothing."""
    from dbwright.checks.registry import refuse_unknown

    wanted = list(codes or ())
    refuse_unknown(wanted, audit=audit)
    return wanted


def check_min_observed(days: float | None) -> float | None:
    """``days`` if it can be DW203's observation window (``--min-observed``): none, or 0 or more."""
    if days is not None and days < 0:
        raise InvalidArgumentError(f"min_observed_days must be 0 or more, not {days:g}")
    return days


def at_or_above(findings: Iterable[GradedT], severity: str | Severity) -> list[GradedT]:
    """The findings at or above ``severity`` (what ``--fail-on`` tests); ignored lint findings left out."""
    threshold = parse_severity(severity)
    return [f for f in findings if f.severity >= threshold and not getattr(f, "ignored", False)]


def is_snapshot_path(source: Source) -> bool:
    """A saved snapshot file rather than a connection target: a Path, or a name ending in .json."""
    from dbwright.engines.targets import is_snapshot_file

    return isinstance(source, Path) or (isinstance(source, str) and is_snapshot_file(source))


def resolve_target(text: str | None, *, demo: Callable[[], str] | None = None) -> ResolvedTarget:
    """What ``text`` names: a URL, a conninfo, a database name or a saved snapshot file; with nothing
    named, the server ``DATABASE_URL`` or the engine's variables (``PG*``) name, else, when given,
    ``demo()``, which starts the embedded demo and returns its URL."""
    from dbwright.engines.targets import resolve_target as resolve

    return resolve(text, demo=demo)


# --- snapshots ---------------------------------------------------------------------------------------


def snapshot(
    target: Target = None, *, server_memory: str | int | None = None, progress: Progress | None = None
) -> Snapshot:
    """Read the catalog and statistics of ``target`` in one read-only session.

    ``server_memory`` (``"16GB"`` or bytes) is the server's RAM for the memory-setting checks, when
    the role may not read it from the server.
    """
    from dbwright.engines.registry import take_snapshot

    return take_snapshot(target, server_memory_bytes=parse_size(server_memory), progress=progress)


def load_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """A snapshot saved with ``save_snapshot`` (or ``dbwright snapshot``); a bad file is InputFileError."""
    from dbwright.engines.targets import load_snapshot as load

    return load(Path(path))


def save_snapshot(snap: Snapshot, path: str | os.PathLike[str]) -> Path:
    """Write ``snap`` as JSON, to review or audit offline later."""
    written = Path(path)
    written.write_text(snap.to_json(indent=1))
    return written


def _snapshot_of(source: Source, server_memory: str | int | None, progress: Progress | None) -> Snapshot:
    if isinstance(source, Snapshot):
        return source
    if is_snapshot_path(source):
        return load_snapshot(Path(source))  # type: ignore[arg-type]
    return snapshot(source, server_memory=server_memory, progress=progress)  # type: ignore[arg-type]


# --- review and audit --------------------------------------------------------------------------------


def review(
    source: Source = None,
    *,
    categories: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    server_memory: str | int | None = None,
    min_observed_days: float | None = None,
    progress: Progress | None = None,
    config: Config | None = None,
) -> Review:
    """Run the review's checks over a database, a saved snapshot file or a Snapshot.

    ``categories`` and ``codes`` narrow it to some areas or check codes. ``min_observed_days``
    is how many days of usage statistics DW203 needs before it calls an index unused (default 7).
    Each finding carries its evidence and, where there is one, its fix as a change package.

    ``config`` (from ``load_config``) applies a project's decisions: checks it turns off are not run
    unless ``codes`` names them, its severities and thresholds apply (arguments given here win), and
    findings its ignores match are listed in ``suppressed``, with the reason, instead of counted. With
    no ``source`` and no server in the environment, its ``target`` is reviewed.
    """
    from dbwright.review import NO_POLICY, run_review

    for category in categories or ():
        check_category(category)
    check_min_observed(min_observed_days)
    options = {} if min_observed_days is None else {"min_observed_days": min_observed_days}
    snap = _snapshot_of(_configured_source(source, config), server_memory, progress)
    return run_review(
        snap,
        categories=categories,
        codes=codes,
        progress=(lambda check: progress(f"check {check.code} {check.title}")) if progress else None,
        options=options,
        policy=config.policy() if config else NO_POLICY,
    )


def _configured_source(source: Source, config: Config | None) -> Source:
    """``source``; when it is None, the configuration's target, unless the environment names a server."""
    if source is not None or config is None or config.target is None:
        return source
    from dbwright.config import target_setting

    return config.target if target_setting(config).source == "file" else None


def fix_packages(result: Review) -> list[ChangePackage]:
    """The change packages of a review's findings, most severe first (what ``dbwright fix`` writes)."""
    return [f.finding.fix for f in result.findings if f.finding.fix is not None]


def render_migration(packages: Sequence[ChangePackage]) -> str:
    """Change packages as one migration file: ``-- migrate:up`` applies them, ``-- migrate:down`` undoes."""
    from dbwright.changes.migration_file import render_migration as render

    return render(packages)


def audit(
    source: Source = None,
    *,
    categories: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    access: bool = True,
    host: bool = False,
    pii: bool = False,
    progress: Progress | None = None,
    config: Config | None = None,
) -> Audit:
    """The security and compliance audit (CIS-mapped checks, effective privileges, encryption).

    From a saved snapshot (a file or a Snapshot) the audit runs offline, without the access matrix
    and without PII sampling. ``access`` computes the roles × objects privilege matrix; ``host`` says
    dbwright runs on the database host; ``pii`` samples tables for PII first (bounded, read-only).
    ``config`` applies a project's decisions as for ``review`` (turned-off checks, severities, ignores).
    """
    from dbwright.audit.run import audit_database, run_audit
    from dbwright.review import NO_POLICY

    for category in categories or ():
        check_category(category, audit=True)
    chosen_categories, chosen_codes = list(categories or []) or None, list(codes or []) or None
    policy = config.policy() if config else NO_POLICY
    source = _configured_source(source, config)
    if isinstance(source, Snapshot) or is_snapshot_path(source):
        snap = _snapshot_of(source, None, None)
        return run_audit(snap, codes=chosen_codes, categories=chosen_categories, host=host, policy=policy)
    return audit_database(
        source,  # type: ignore[arg-type]
        codes=chosen_codes,
        categories=chosen_categories,
        access=access,
        host=host,
        pii=pii,
        progress=progress,
        policy=policy,
    )


# --- configuration -----------------------------------------------------------------------------------


def load_config(
    path: str | os.PathLike[str] | None = None, *, start: str | os.PathLike[str] | None = None
) -> Config:
    """The project's configuration: ``dbwright.toml``, or ``[tool.dbwright]`` in ``pyproject.toml``.

    ``path`` names the file; else ``DBWRIGHT_CONFIG`` does; else the first found from ``start``
    (default: the current folder) upward. No file gives an empty Config. A file that is not TOML, or
    has an unknown key or a value of the wrong type, raises ConfigError (exit 24) naming the file and
    the key. Pass the result to ``review`` and ``audit`` as ``config=``.
    """
    from dbwright.config import load_config as load

    return load(path, start=start)


def config_settings(config: Config) -> list[Setting]:
    """Every effective setting of ``config``, each with where its value came from (the file and key,
    the environment, or dbwright's default): what ``dbwright config show`` prints."""
    from dbwright.config import effective_settings

    return effective_settings(config)


def checks() -> list[Check]:
    """Every review check, by code."""
    from dbwright.checks.registry import all_checks

    return all_checks()


def lint_rules() -> list[Rule]:
    """Every migration lint rule, by code."""
    from dbwright.changes.lint import all_rules

    return all_rules()


def find_check(code: str) -> Check | Rule:
    """The review check or lint rule with this code (``DW102``, ``dw701``)."""
    from dbwright.changes.lint import get_rule

    wanted = code.strip().upper()
    for check in checks():
        if check.code == wanted:
            return check
    try:
        return get_rule(wanted)
    except KeyError:
        raise InvalidArgumentError(f"no check or lint rule {code!r}") from None


# --- changes -----------------------------------------------------------------------------------------


def lint(
    sql_or_paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    server_version: int | str = DEFAULT_SERVER_VERSION,
    unapplied: bool = False,
    filename: str = "<sql>",
    database: Source | None = None,
    atomic: bool = False,
) -> list[LintFinding]:
    """Lint migration SQL: each unsafe statement with the lock it takes and its safe rewrite.

    A ``str`` is SQL text (named ``filename`` in findings); a path, or a list of paths, is files
    and directories of migrations, linted in order with state carried from file to file.
    ``unapplied`` says the files deploy together (a table an earlier file creates is still new).
    ``database`` (a target, a saved snapshot file or a ``Snapshot``) gives the live schema: its column
    types, the tables behind indexes and foreign keys, and the statistics a backfill is judged by
    (rows, ``null_frac``); its server version replaces ``server_version``. ``atomic`` says a runner
    wraps each file in one transaction (Django's and Rails' atomic migrations).
    Findings marked ``ignored`` (by a ``-- dbwright:ignore`` comment) are included.
    """
    from dbwright.changes.lint import LintState, lint_files
    from dbwright.changes.lint import lint as lint_sql

    options = {"earlier_files_unapplied": unapplied, "atomic_files": atomic}
    if database is not None:
        state = LintState.from_snapshot(_snapshot_of(database, None, None), **options)
        version = state.server_version
    else:
        version = parse_server_version(server_version)
        state = LintState(server_version=version, **options)
    if isinstance(sql_or_paths, str):
        return lint_sql(sql_or_paths, server_version=version, filename=filename, state=state)
    paths = [sql_or_paths] if isinstance(sql_or_paths, os.PathLike) else list(sql_or_paths)
    return lint_files([Path(p) for p in paths], server_version=version, state=state)


def lint_report(
    sql_or_paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    server_version: int | str = DEFAULT_SERVER_VERSION,
    unapplied: bool = False,
    filename: str = "<sql>",
    database: Source | None = None,
    atomic: bool = False,
) -> LintReport:
    """``lint``'s findings with the files it read: what ``dbwright.output.render`` presents."""
    from dbwright.changes.lint import LintReport, migration_files

    findings = lint(
        sql_or_paths,
        server_version=server_version,
        unapplied=unapplied,
        filename=filename,
        database=database,
        atomic=atomic,
    )
    if isinstance(sql_or_paths, str):
        files = [filename]
    else:
        paths = [sql_or_paths] if isinstance(sql_or_paths, os.PathLike) else list(sql_or_paths)
        files = [str(path) for path in migration_files(paths)]
    return LintReport(tuple(findings), tuple(files))


def diff(
    target: Target,
    desired: str | os.PathLike[str],
    *,
    allow_destructive: bool = False,
    rename_tables: Sequence[str] = (),
    rename_columns: Sequence[str] = (),
    scratch_server: str | None = None,
    strict: bool = False,
) -> DiffPlan:
    """The migration from the live database ``target`` to the schema in the SQL file ``desired``.

    Renames are hints like ``shop.users=customers`` (tables) and ``shop.users.mail=email`` (columns);
    ``scratch_server`` is where the file is loaded (a server URL or ``"embedded"``; default: the
    target's server when its role may create databases, else the embedded server). ``strict``: a
    difference the diff cannot generate raises DiffIncompleteError (exit 25) instead of being listed.
    ``DiffPlan.migration()`` is the migration file, up and down.
    """
    from dbwright.changes.diff import diff as plan_diff
    from dbwright.changes.diff import parse_hint

    renames = [parse_hint("table", hint) for hint in rename_tables]
    renames += [parse_hint("column", hint) for hint in rename_columns]
    return plan_diff(
        target,
        Path(desired),
        allow_destructive=allow_destructive,
        renames=renames,
        scratch_server=scratch_server,
        strict=strict,
    )


def diff_summary(plan: DiffPlan, written_to: str | os.PathLike[str] | None = None) -> str:
    """The plan in words: what changes, what is destructive, and where the migration was written."""
    from dbwright.changes.diff.summary import text_summary

    return text_summary(plan, None if written_to is None else Path(written_to))


def backfill(
    target: Target,
    table: str,
    set_sql: str,
    *,
    where: str | None = None,
    options: BackfillOptions | None = None,
    progress: Callable[..., None] | None = None,
) -> BackfillReport:
    """Fill a column in batches by primary-key range: throttled, resumable, one short transaction each.

    This writes: ``UPDATE table SET set_sql WHERE where``, batch by batch.
    """
    from dbwright.changes.backfill import backfill as run_backfill

    return run_backfill(target, table, set_sql, where, options, progress=progress)


def backfill_options(
    *,
    batch_size: int = 10_000,
    sleep_s: float = 0.05,
    lock_timeout: str = "1s",
    statement_timeout: str = "1min",
    retries: int = 5,
    resume: bool = False,
    restart: bool = False,
    max_batches: int | None = None,
    max_batch_s: float | None = None,
) -> BackfillOptions:
    """The backfill's pacing and protections: batch size, pause, timeouts, retries, resume or restart."""
    from dbwright.changes.backfill import BackfillOptions

    return BackfillOptions(
        batch_size=batch_size,
        sleep_s=sleep_s,
        lock_timeout=lock_timeout,
        statement_timeout=statement_timeout,
        retries=retries,
        resume=resume,
        restart=restart,
        max_batches=max_batches,
        max_batch_s=max_batch_s,
    )


# --- migrations --------------------------------------------------------------------------------------


def migrate_new(directory: str | os.PathLike[str], name: str, *, up: str = "", down: str = "") -> Path:
    """Write ``V<UTC timestamp>__<name>.sql`` with an up and a down part (empty unless given)."""
    from dbwright.changes.migrations import new_migration

    return new_migration(Path(directory), name, up=up, down=down)


def migrate_status(target: Target, directory: str | os.PathLike[str]) -> Status:
    """Applied, pending and out-of-order migrations, and a partly applied one."""
    from dbwright.changes.migrations import status

    return status(target, Path(directory))


def migrate_history(target: Target) -> list[HistoryRow]:
    """The migrations recorded as applied in the database, oldest first (read-only; no files needed)."""
    from dbwright.changes.migrations import applied_history

    return applied_history(target)


def migrate_plan(target: Target, directory: str | os.PathLike[str]) -> Plan:
    """A dry run of the pending migrations: each statement's lock, rewrite or scan, duration; the lint."""
    from dbwright.changes.migrations import plan

    return plan(target, Path(directory))


def migrate_safe_plan(
    target: Target, directory: str | os.PathLike[str]
) -> list[tuple[MigrationFile, list[ChangePackage]]]:
    """Each pending migration rewritten into its safe sequence of change packages."""
    from dbwright.changes.migrations import safe_plan

    return safe_plan(target, Path(directory))


def migrate_apply(
    target: Target,
    directory: str | os.PathLike[str],
    options: ApplyOptions | None = None,
    *,
    progress: Progress | None = None,
) -> RunReport:
    """Apply the pending migrations under the deploy lock (resuming a partial one first). Writes."""
    from dbwright.changes.migrations import apply

    return apply(target, Path(directory), _checked(options), progress=progress)


def migrate_rollback(
    target: Target,
    directory: str | os.PathLike[str],
    *,
    to: str | None = None,
    options: ApplyOptions | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Run the down parts newest first, down to (not including) version ``to``; default the last one."""
    from dbwright.changes.migrations import rollback

    return rollback(target, Path(directory), to, _checked(options), progress=progress)


def migrate_verify(target: Target, directory: str | os.PathLike[str]) -> VerifyReport:
    """Tampering (edited, renamed, reordered, removed applied files) and drift of the live schema."""
    from dbwright.changes.migrations import verify

    return verify(target, Path(directory))


def migrate_baseline(
    target: Target,
    directory: str | os.PathLike[str],
    version: str,
    *,
    options: ApplyOptions | None = None,
    progress: Progress | None = None,
) -> HistoryRow:
    """Adopt an existing database: record ``version`` as applied with today's schema; run nothing."""
    from dbwright.changes.migrations import baseline

    return baseline(target, Path(directory), version, _checked(options), progress=progress)


def apply_options(
    *,
    lock_timeout: str = "2s",
    statement_timeout: str = "1h",
    retries: int = 5,
    lock_wait_s: float = 60.0,
    to_version: str | None = None,
    allow_out_of_order: bool = False,
    allow_drift: bool = False,
) -> ApplyOptions:
    """The runner's protections: lock_timeout and statement_timeout per step, retries, deploy-lock wait."""
    from dbwright.changes.migrations import ApplyOptions

    return _checked(
        ApplyOptions(
            lock_timeout=lock_timeout,
            statement_timeout=statement_timeout,
            retries=retries,
            lock_wait_s=lock_wait_s,
            to_version=to_version,
            allow_out_of_order=allow_out_of_order,
            allow_drift=allow_drift,
        )
    )


def _checked(options: ApplyOptions | None) -> ApplyOptions | None:
    if options is not None and (options.retries < 0 or options.lock_wait_s < 0):
        raise InvalidArgumentError("retries and the deploy-lock wait must be 0 or more")
    return options


# --- advisors ----------------------------------------------------------------------------------------


def explain(
    target: Target | Connection,
    sql: str,
    *,
    analyze: bool = False,
    suggest: bool = True,
    allow_real_indexes: bool = False,
    snapshot: Snapshot | None = None,
    progress: Progress | None = None,
) -> Explanation:
    """One statement's plan, annotated (misestimates, large scans, spills, stale statistics), with the
    indexes that would help it. ``analyze`` runs it, read-only and rolled back (SELECTs only).
    Suggestions are priced with HypoPG; without it they are unverified candidates, unless
    ``allow_real_indexes`` allows rolled-back real builds (SHARE locks)."""
    from dbwright.advisors.explain import explain_query

    return explain_query(
        target,  # type: ignore[arg-type]
        sql,
        analyze=analyze,
        suggest=suggest,
        allow_real_indexes=allow_real_indexes,
        snapshot=snapshot,
        progress=progress,
    )


def advise_indexes(
    target: Target | Connection,
    *,
    budget: str | int | None = None,
    workload_files: Sequence[str | os.PathLike[str]] = (),
    log_files: Sequence[str | os.PathLike[str]] = (),
    query: str | None = None,
    min_calls: int = 0,
    min_time_ms: float = 0.0,
    weight_by: str = "total_time",
    objective: str = "auto",
    what_if: str = "auto",
    allow_real_indexes: bool = False,
    real_index_limit: int | None = None,
    snapshot: Snapshot | None = None,
    progress: Progress | None = None,
    min_observed_days: float | None = None,
) -> IndexAdvice:
    """The indexes that lower the workload's cost most within ``budget`` (``"500MB"``, ``"10%"`` of
    the database or bytes; default 10%, at least 64 MB), and the existing indexes to drop.

    The workload is the files, logs and ``query`` given, else pg_stat_statements. ``weight_by`` is
    total_time, calls_x_mean or cost; ``objective`` total, per-query or auto; ``what_if`` auto,
    hypopg, real or none. Nothing is built unless ``allow_real_indexes`` (rolled-back real builds
    under SHARE locks, when HypoPG is not installed); without HypoPG and without it the advice is
    unverified candidates with a ``hint``. ``target`` may be an open session, used as is and left open.
    ``min_observed_days`` is how long usage statistics must cover before an index with no scans
    is proposed for a drop (DW203's window; default 7).
    """
    from dbwright.advisors.indexes import advise_indexes as advise

    check_budget(budget)  # a budget that cannot be read fails before any connection
    if min_calls < 0 or min_time_ms < 0:
        raise InvalidArgumentError("min_calls and min_time_ms must be 0 or more")
    check_min_observed(min_observed_days)
    extra: dict[str, Any] = {} if real_index_limit is None else {"real_index_limit": real_index_limit}
    if min_observed_days is not None:
        extra["min_observed_days"] = min_observed_days
    return advise(
        target,  # type: ignore[arg-type]
        budget=budget,
        workload_files=[Path(f) for f in workload_files],
        log_files=[Path(f) for f in log_files],
        query=query,
        min_calls=min_calls,
        min_time_ms=min_time_ms,
        weight_by=weight_by,
        objective=objective,
        what_if=what_if,
        allow_real_indexes=allow_real_indexes,
        snapshot=snapshot,
        progress=progress,
        **extra,
    )


def verify_index_advice(
    target: Target,
    advice: IndexAdvice,
    *,
    scratch: bool = True,
    confirmed: bool = False,
    progress: Progress | None = None,
) -> Verification:
    """Build the advised indexes and measure the read-only workload statements before and after.

    With ``scratch`` (the default) on a copy of the database, dropped afterwards; without it the
    indexes are built on the target and stay, which needs ``confirmed``.
    """
    from dbwright.advisors.indexes.verify import verify_advice

    return verify_advice(target, advice, scratch=scratch, confirmed=confirmed, progress=progress)


def index_build_statements(advice: IndexAdvice, *, scratch: bool) -> list[str]:
    """The CREATE INDEX statements ``verify_index_advice`` runs (to show before building on the target)."""
    from dbwright.advisors.indexes.verify import build_statements

    return build_statements(advice, scratch)


def render_index_verification(
    advice_text: str, advice: IndexAdvice, verification: Verification, fmt: str
) -> str:
    """The advice as ``dbwright.output.render`` spelled it in ``fmt``, with the verification added."""
    from dbwright.advisors.indexes.verify import render_with_advice

    return render_with_advice(advice_text, advice, verification, fmt)


def advise_design(
    target: Target,
    *,
    sample_rows: int = 20_000,
    time_budget_s: float = 120.0,
    max_error: float = 0.01,
    use_desbordante: bool | None = None,
    min_partition_rows: int = 1_000_000,
    estimate_pruning: bool = True,
    shard_bytes: int = 64 * 1024**3,
    snapshot: Snapshot | None = None,
    progress: Progress | None = None,
) -> DesignReport:
    """Profile the data: dependencies breaking 3NF, undeclared keys and foreign keys, over-wide types,
    partitioning and sharding advice, each a proposal with a change package."""
    from dbwright.advisors.design import design_review

    if sample_rows < 1 or time_budget_s <= 0 or not 0 <= max_error <= 0.5:
        raise InvalidArgumentError(
            "sample_rows must be 1 or more, time_budget_s above 0 and max_error between 0 and 0.5"
        )
    if min_partition_rows < 1 or shard_bytes < 0:
        raise InvalidArgumentError("min_partition_rows must be 1 or more and shard_bytes 0 or more")
    return design_review(
        target,
        sample_rows=sample_rows,
        time_budget_s=time_budget_s,
        max_error=max_error,
        use_desbordante=use_desbordante,
        min_partition_rows=min_partition_rows,
        estimate_pruning=estimate_pruning,
        shard_bytes=shard_bytes,
        snapshot=snapshot,
        progress=progress,
    )


def change_statements(sql: str, down_sql: str = "", *, server_version: int) -> list[list[object]]:
    """An ad-hoc change's statements as the migration runner would run them on ``server_version``:
    ``["up", step, transactional, sql]`` rows, then ``["down", 0, True, sql]`` rows."""
    from dbwright.changes.migrations.statements import change_statements as statements

    return statements(sql, down_sql, server_version=server_version)


def what_if_available(target: Target, conn: Connection) -> tuple[bool, str]:
    """Whether the target's engine can price hypothetical indexes on ``conn`` (HypoPG), and why not."""
    from dbwright.engines.registry import engine_for_target

    what_if = engine_for_target(target).what_if()
    if what_if is None:
        return False, "this engine has no hypothetical indexes"
    return what_if.hypopg_available(conn)


def replication_status(target: Target) -> ReplicationStatus:
    """Primary or standby, the standbys streaming from it (pg_stat_replication), its replication slots
    and its WAL receiver, read in a read-only session."""
    from dbwright.engines.postgres.replication import replication_status as read

    return read(target)


# --- security ----------------------------------------------------------------------------------------


def role_access(target: Target, role: str) -> AccessMatrix:
    """What ``role`` can read, write, own and execute in the database, through role inheritance."""
    from dbwright.audit.access import role_access as access
    from dbwright.engines.postgres.connect import open_session

    with open_session(target) as conn:
        return access(conn, role)


def discover_pii(
    target: Target,
    *,
    schemas: Sequence[str] = (),
    sample_rows: int = 1000,
    table_timeout: str = "5s",
    recommend: bool = True,
) -> PiiReport:
    """Columns holding personal data, from names, types and a bounded sample; values masked."""
    from dbwright.audit.pii import discover_pii as discover

    if not 1 <= sample_rows <= 100_000:
        raise InvalidArgumentError(f"sample_rows must be between 1 and 100000, not {sample_rows}")
    return discover(
        target, schemas=schemas, sample_rows=sample_rows, table_timeout=table_timeout, recommend=recommend
    )


def plan_roles(
    target: Target,
    *,
    schemas: Sequence[str] = (),
    app_users: Sequence[AppUser | str] = (),
    prefix: str = "",
) -> RolesPlan:
    """Least-privilege group roles (readonly, readwrite, migrator), login users, default privileges and
    PUBLIC revokes, as change packages. App users are ``NAME`` or ``NAME:readonly|readwrite|migrator``."""
    from dbwright.audit.roles import AppUser
    from dbwright.audit.roles import plan_roles as plan

    users = [
        AppUser.parse(user) if isinstance(user, str) else user for user in app_users
    ]  # before connecting
    return plan(target, schemas=schemas, app_users=users, prefix=prefix)


def roles_plan_text(plan: RolesPlan) -> str:
    """A roles plan in words, package by package, with its SQL."""
    from dbwright.audit.roles import render_text

    return render_text(plan)


def plan_audit_logging(
    target: Target,
    *,
    tables: Sequence[str] | None = None,
    mode: str = "auto",
    auditor: str = "auditor",
    scope: str = "database",
) -> AuditLoggingPlan:
    """pgaudit settings (or a trigger-based audit log) for DDL, role changes and the PII tables.

    ``mode`` is auto, pgaudit or trigger; ``scope`` database or system; ``tables`` default to the
    PII tables that ``discover_pii`` finds.
    """
    from dbwright.audit.logging import plan_audit_logging as plan

    return plan(target, tables=tables, mode=mode, auditor=auditor, scope=scope)


def audit_logging_plan_text(plan: AuditLoggingPlan) -> str:
    """An audit logging plan in words, package by package, with its SQL."""
    from dbwright.audit.logging import render_text

    return render_text(plan)


# --- the embedded demo -------------------------------------------------------------------------------


def start_demo(*, reset: bool = False, progress: StageProgress | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL with the demo database; its URL. ``reset`` rebuilds it."""
    from dbwright import demo

    return demo.prepare(reset=reset, progress=progress)


def stop_demo() -> bool:
    """Stop the embedded demo server; True if it was running."""
    from dbwright import demo

    return demo.stop()


__all__ = [
    "DEFAULT_SERVER_VERSION",
    "Progress",
    "Source",
    "StageProgress",
    "Target",
    "advise_design",
    "change_statements",
    "what_if_available",
    "advise_indexes",
    "apply_options",
    "at_or_above",
    "audit",
    "audit_logging_plan_text",
    "backfill",
    "backfill_options",
    "check_budget",
    "config_settings",
    "check_category",
    "check_codes",
    "checks",
    "diff",
    "diff_summary",
    "discover_pii",
    "explain",
    "find_check",
    "fix_packages",
    "index_build_statements",
    "is_snapshot_path",
    "lint",
    "lint_report",
    "lint_rules",
    "load_config",
    "load_snapshot",
    "migrate_apply",
    "migrate_baseline",
    "migrate_history",
    "migrate_new",
    "migrate_plan",
    "migrate_rollback",
    "migrate_safe_plan",
    "migrate_status",
    "migrate_verify",
    "parse_server_version",
    "parse_severity",
    "parse_size",
    "plan_audit_logging",
    "plan_roles",
    "render_index_verification",
    "render_migration",
    "replication_status",
    "resolve_target",
    "review",
    "role_access",
    "roles_plan_text",
    "save_snapshot",
    "snapshot",
    "start_demo",
    "stop_demo",
    "verify_index_advice",
]
