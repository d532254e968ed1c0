"""Versioned migrations: one API for the CLI, the MCP server and tests.

    new_migration(dir, name)          -> Path        V<utc timestamp>__<name>.sql with up and down parts
    status(target, dir)               -> Status      applied, pending, out of order, partial
    applied_history(target)           -> [HistoryRow] the history table alone (no files needed)
    plan(target, dir)                 -> Plan        dry run: locks, rewrites, durations, lint
    apply(target, dir, options)       -> RunReport   the explicit write path, under the deploy lock
    rollback(target, dir, to_version) -> RunReport   down parts newest first, then a schema check
    verify(target, dir)               -> VerifyReport tampering (chained checksums) and drift
    baseline(target, dir, version)    -> HistoryRow  adopt an existing database

Everything but apply, rollback and baseline runs in a read-only session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dbwright.changes.migrations import fingerprint, history
from dbwright.changes.migrations import plan as _plan
from dbwright.changes.migrations.files import MigrationFile, discover, new_migration
from dbwright.changes.migrations.history import HistoryRow
from dbwright.changes.migrations.plan import Plan
from dbwright.changes.migrations.runner import (
    ApplyOptions,
    MigrationFailedError,
    RunReport,
    apply,
    baseline,
    rollback,
)
from dbwright.changes.migrations.verify import Problem, Status, VerifyReport
from dbwright.changes.migrations.verify import report as _verify_report
from dbwright.changes.migrations.verify import status as _status
from dbwright.engines.postgres.connect import open_session
from dbwright.engines.postgres.failures import StatementFailed, failures
from dbwright.engines.postgres.migrations import search_path
from dbwright.errors import ServerError
from dbwright.model.package import ChangePackage


@contextmanager
def _reading(what: str) -> Iterator[None]:
    """A failed read-only query (a lock wait past lock_timeout, a timeout) as one line, exit 20."""
    try:
        with failures():
            yield
    except StatementFailed as error:
        raise ServerError(f"{what}: {error.message}; try again") from None


def status(target: str | None, directory: Path) -> Status:
    files = discover(directory)
    with _reading("reading the migration history failed"), open_session(target) as conn:
        return _status(history.read(conn), files)


def applied_history(target: str | None) -> list[HistoryRow]:
    """The migration history recorded in the database, oldest first; empty before the first migration."""
    with _reading("reading the migration history failed"), open_session(target) as conn:
        return history.read(conn)


def verify(target: str | None, directory: Path) -> VerifyReport:
    """Files against the history (tampering), and the live schema against the history (drift)."""
    files = discover(directory)
    with _reading("reading the history and the schema failed"), open_session(target) as conn:
        rows = history.read(conn)
        with conn.transaction():
            live = fingerprint.read(conn)
    return _verify_report(rows, files, live, str(directory))


def plan(target: str | None, directory: Path) -> Plan:
    from dbwright.engines.postgres.introspect import snapshot

    files = discover(directory)
    with _reading("reading the history and the catalog failed"), open_session(target) as conn:
        rows = history.read(conn)
        snap = snapshot(conn)
        schemas = search_path(conn)
    state = _status(rows, files)
    by_version = {int(m.version): m for m in files}
    work: list[tuple[MigrationFile, HistoryRow | None]] = []
    partial = state.partial
    if partial is not None and partial.status == "partial" and int(partial.version) in by_version:
        work.append((by_version[int(partial.version)], partial))
    work += [(m, None) for m in state.pending]
    return _plan.build(snap, schemas, work, state.out_of_order)


def safe_plan(target: str | None, directory: Path) -> list[tuple[MigrationFile, list[ChangePackage]]]:
    """Each pending migration rewritten into its safe sequence (``migrate plan --safe``).

    Rewrites come from the lint's safe_rewrite, seeded with the live column types so a type
    change is judged against what the table holds now; state carries across the files, so a
    table created by an earlier pending file is new in the later ones.
    """
    from dbwright.changes.lint import LintState
    from dbwright.changes.lint.rewrite import safe_rewrite
    from dbwright.engines.postgres.introspect import snapshot

    files = discover(directory)
    with _reading("reading the history and the catalog failed"), open_session(target) as conn:
        pending = _status(history.read(conn), files).pending
        snap = snapshot(conn)
    state = LintState.from_snapshot(snap, timeouts_set_by_runner=True, earlier_files_unapplied=True)
    return [
        (m, safe_rewrite(m.up, snap.server.version_num, filename=m.filename, state=state)) for m in pending
    ]


__all__ = [
    "ApplyOptions",
    "HistoryRow",
    "MigrationFailedError",
    "MigrationFile",
    "Plan",
    "Problem",
    "RunReport",
    "Status",
    "VerifyReport",
    "apply",
    "baseline",
    "discover",
    "new_migration",
    "plan",
    "rollback",
    "safe_plan",
    "status",
    "verify",
]
