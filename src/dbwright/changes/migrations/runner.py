"""Applying and rolling back migrations: the one place dbwright writes a schema.

A writable session is opened only here, on an explicit `apply` or `rollback`. The deploy
lock is held for the whole run. Each step (see statements.py) commits together with its
history row, and records the schema fingerprint it left, so after a crash at any point
the history says exactly how far the run got. Statements outside a transaction are marked
``step_running`` before they start: a rerun knows it must check, clean up (an INVALID index
from an interrupted CONCURRENTLY build) and redo that step.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbwright.changes.migrations import fingerprint, history
from dbwright.changes.migrations.deploy_lock import deploy_lock
from dbwright.changes.migrations.files import MigrationFile, checksum, discover, version_key
from dbwright.changes.migrations.history import HistoryRow
from dbwright.changes.migrations.statements import Statement, Step, parse_one, statements_of, steps_of
from dbwright.changes.migrations.verify import status, tampering
from dbwright.engines.base import Connection
from dbwright.engines.postgres import migrations as engine
from dbwright.engines.postgres.failures import Failure, StatementFailed, failures
from dbwright.errors import MigrationFailedError, RefusedError

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ApplyOptions:
    lock_timeout: str = "2s"
    statement_timeout: str = "1h"
    retries: int = 5
    backoff_s: float = 0.5
    lock_wait_s: float = 60.0
    allow_out_of_order: bool = False
    allow_drift: bool = False
    to_version: str | None = None


@dataclass
class StepReport:
    version: str
    step: int
    steps_total: int
    transactional: bool
    statements: int
    seconds: float
    retries: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "step": self.step,
            "steps_total": self.steps_total,
            "in_transaction": self.transactional,
            "statements": self.statements,
            "seconds": round(self.seconds, 3),
            "retries": self.retries,
            "notes": self.notes,
        }


@dataclass
class RunReport:
    action: str  # apply, rollback
    migrations: list[str] = field(default_factory=list)
    steps: list[StepReport] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)  # after a rollback: live schema vs the one before
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "migrations": self.migrations,
            "steps": [s.to_dict() for s in self.steps],
            "drift": self.drift,
            "seconds": round(self.seconds, 3),
        }


def writable_session(target: str | None, options: ApplyOptions) -> Connection:
    """The explicit apply path: a writable session, with both timeouts set."""
    return engine.migration_session(
        target, statement_timeout=options.statement_timeout, lock_timeout=options.lock_timeout
    )


# --- apply -------------------------------------------------------------------------------------------


@contextmanager
def server_errors(what: str) -> Iterator[None]:
    """Server errors outside a step (reading the history, the fingerprint) as one-line errors."""
    try:
        with failures():
            yield
    except StatementFailed as error:
        raise MigrationFailedError(
            f"{what}: {error.message}; every completed step is recorded in the history: rerun to resume"
        ) from None


def apply(
    target: str | None, directory: Path, options: ApplyOptions | None = None, progress: Progress | None = None
) -> RunReport:
    """Apply every pending migration (resuming a partial one first), oldest version first."""
    with server_errors("apply failed"):
        return _apply(target, directory, options, progress)


def _apply(
    target: str | None, directory: Path, options: ApplyOptions | None = None, progress: Progress | None = None
) -> RunReport:
    options = options or ApplyOptions()
    say = progress or (lambda _line: None)
    started = time.monotonic()
    files = discover(directory)
    report = RunReport("apply")
    with writable_session(target, options) as conn, deploy_lock(conn, options.lock_wait_s, say):
        server_version = engine.server_version(conn)
        parsed = {m.version: steps_of(statements_of(m, "up", server_version)) for m in files}
        rows = history.read(conn)
        _refuse_tampering(rows, files, directory, options)
        _refuse_drift(conn, rows, options)
        history.ensure(conn)
        for migration, row in _work(rows, files, options):
            steps = parsed[migration.version]
            if row is None:
                say(f"applying {migration.filename} ({len(steps)} step{'s' if len(steps) != 1 else ''})")
            else:
                say(f"resuming {migration.filename} at step {row.steps_done + 1} of {len(steps)}")
            report.migrations.append(migration.filename)
            _apply_migration(conn, migration, steps, row, options, report, say)
    report.seconds = time.monotonic() - started
    return report


def _refuse_tampering(
    rows: list[HistoryRow], files: list[MigrationFile], directory: Path, options: ApplyOptions
) -> None:
    problems = tampering(rows, files, str(directory), include_out_of_order=not options.allow_out_of_order)
    if problems:
        more = (
            f" (and {len(problems) - 1} more: dbwright migrate verify lists them)"
            if len(problems) > 1
            else ""
        )
        raise RefusedError(f"{problems[0].message}{more}; nothing was applied")


def _refuse_drift(conn: Connection, rows: list[HistoryRow], options: ApplyOptions) -> None:
    if not rows or options.allow_drift or rows[-1].step_running is not None:
        return  # an interrupted outside-transaction step explains any difference; the rerun redoes it
    with conn.transaction():
        differences = fingerprint.differences(rows[-1].schema_doc, fingerprint.read(conn))
    if differences:
        raise RefusedError(
            f"the live schema differs from what the history records after {rows[-1].filename} "
            f"({len(differences)} object(s), first: {differences[0]}); someone changed it by "
            "hand: dbwright migrate verify lists the differences; pass --allow-drift to apply "
            "anyway; nothing was applied"
        )


def _work(
    rows: list[HistoryRow], files: list[MigrationFile], options: ApplyOptions
) -> list[tuple[MigrationFile, HistoryRow | None]]:
    by_version = {int(m.version): m for m in files}
    state = status(rows, files)
    work: list[tuple[MigrationFile, HistoryRow | None]] = []
    if state.partial is not None:
        if state.partial.status == "rolling back":
            raise RefusedError(
                f"{state.partial.filename} was being rolled back when a run stopped; "
                "finish that first with dbwright migrate rollback"
            )
        work.append((by_version[int(state.partial.version)], state.partial))
    limit = version_key(options.to_version) if options.to_version else None
    work += [(m, None) for m in state.pending if limit is None or m.sort_key <= limit]
    return work


def _apply_migration(
    conn: Connection,
    migration: MigrationFile,
    steps: list[Step],
    row: HistoryRow | None,
    options: ApplyOptions,
    report: RunReport,
    say: Progress,
) -> None:
    rows = history.read(conn)
    recorder = _UpRecorder(conn, migration, len(steps), row, rows)
    first = row.steps_done + 1 if row else 1
    resuming_step = row.step_running if row else None
    if not steps:  # an empty up part still gets its history row
        with conn.transaction():
            recorder.done(0, 0.0)
        return
    for step in steps[first - 1 :]:
        step_report = _run_step(
            conn, migration, step, len(steps), recorder, options, say, resuming=resuming_step == step.number
        )
        report.steps.append(step_report)


class _UpRecorder:
    """Writes the history row of one migration as its steps complete."""

    def __init__(
        self,
        conn: Connection,
        migration: MigrationFile,
        total: int,
        row: HistoryRow | None,
        rows: list[HistoryRow],
    ) -> None:
        self.conn = conn
        self.migration = migration
        self.total = total
        self.exists = row is not None
        self.duration_ms = row.duration_ms if row else 0
        self.chain = history.chain_of(
            history.last_chain(rows), migration.version, migration.name, migration.checksum
        )
        self.before: fingerprint.Document | None = None

    def _insert(
        self, steps_done: int, step_running: int | None, doc: fingerprint.Document, status: str
    ) -> None:
        before = self.before if self.before is not None else doc
        history.insert(
            self.conn,
            version=self.migration.version,
            name=self.migration.name,
            filename=self.migration.filename,
            checksum=self.migration.checksum,
            chain=self.chain,
            status=status,
            steps_total=self.total,
            steps_done=steps_done,
            step_running=step_running,
            fingerprint=fingerprint.digest(doc),
            doc=doc,
            fingerprint_before=fingerprint.digest(before),
            doc_before=before,
            duration_ms=self.duration_ms,
        )
        self.exists = True

    def remember_before(self) -> None:
        """The schema before the first step: rollback verifies against it."""
        if not self.exists and self.before is None:
            self.before = fingerprint.read(self.conn)

    def running(self, step: int) -> None:
        """Mark an outside-transaction step as started (its own committed transaction)."""
        if self.exists:
            history.update(self.conn, self.migration.version, step_running=step)
        else:
            self._insert(step - 1, step, fingerprint.read(self.conn), "partial")

    def done(self, step: int, seconds: float) -> None:
        """Record step ``step`` as complete, inside the transaction that holds its statements."""
        self.duration_ms += round(seconds * 1000)
        doc = fingerprint.read(self.conn)
        status = "applied" if step >= self.total else "partial"
        if self.exists:
            history.update(
                self.conn,
                self.migration.version,
                steps_done=step,
                step_running=None,
                status=status,
                fingerprint=fingerprint.digest(doc),
                schema_doc=doc,
                duration_ms=self.duration_ms,
            )
        else:
            self._insert(step, None, doc, status)


# --- steps -------------------------------------------------------------------------------------------


def _run_step(
    conn: Connection,
    migration: MigrationFile,
    step: Step,
    total: int,
    recorder: Any,
    options: ApplyOptions,
    say: Progress,
    resuming: bool,
) -> StepReport:
    """Run one step with lock_timeout retries and exponential backoff, then record it."""
    report = StepReport(migration.version, step.number, total, step.transactional, len(step.statements), 0.0)
    for attempt in range(options.retries + 1):
        started = time.monotonic()
        try:
            with failures(conn):
                if step.transactional:
                    with conn.transaction():
                        recorder.remember_before()
                        _set_timeouts(conn, options, local=True)
                        for statement in step.statements:
                            _execute(conn, statement)
                        recorder.done(step.number, time.monotonic() - started)
                else:
                    _run_alone(
                        conn,
                        step.first,
                        recorder,
                        step.number,
                        options,
                        report,
                        resuming=resuming or attempt > 0,
                    )
            report.seconds += time.monotonic() - started
            say(
                f"  step {step.number}/{total} done in {report.seconds:.2f}s"
                f"{'' if step.transactional else ' (outside a transaction)'}"
            )
            return report
        except StatementFailed as error:
            if error.failure is not Failure.LOCK_TIMEOUT:
                raise _step_failed(step, error, options) from None
            report.retries += 1
            report.seconds += time.monotonic() - started
            if attempt == options.retries:
                raise MigrationFailedError(
                    f"{step.first.where}: lock_timeout {options.lock_timeout} reached {attempt + 1} times "
                    f"waiting for a lock; the step was {_undone(step)}; retry later or raise --lock-timeout"
                ) from None
            pause = options.backoff_s * (2**attempt) * random.uniform(0.8, 1.2)
            say(
                f"  step {step.number}/{total}: lock_timeout {options.lock_timeout} reached; "
                f"retry {attempt + 1}/{options.retries} in {pause:.2f}s"
            )
            time.sleep(pause)
    raise AssertionError("unreachable")


def _step_failed(step: Step, error: StatementFailed, options: ApplyOptions) -> MigrationFailedError:
    """What a step's failure means for the run, in one line."""
    if error.failure is Failure.STATEMENT_TIMEOUT:
        return MigrationFailedError(
            f"{step.first.where}: statement_timeout {options.statement_timeout} reached; "
            f"the step was {_undone(step)}"
        )
    if error.failure is Failure.CONNECTION_LOST:
        return MigrationFailedError(
            f"{step.first.where}: lost the connection to the server ({error.message}); the history "
            "records every step that completed: rerun to resume"
        )
    return MigrationFailedError(
        f"{error.where or step.first.where}: {error.message}; the step was {_undone(step)}"
    )


def _undone(step: Step) -> str:
    if step.transactional:
        return "rolled back and nothing of it was applied"
    return "left marked as running; a rerun cleans up and redoes it"


def _set_timeouts(conn: Connection, options: ApplyOptions, local: bool) -> None:
    engine.set_timeouts(
        conn, lock_timeout=options.lock_timeout, statement_timeout=options.statement_timeout, local=local
    )


def _execute(conn: Connection, statement: Statement) -> None:
    engine.execute(conn, statement.sql, statement.where)


def _run_alone(
    conn: Connection,
    statement: Statement,
    recorder: Any,
    number: int,
    options: ApplyOptions,
    report: StepReport,
    resuming: bool,
) -> None:
    """A statement that cannot run in a transaction: mark it running, clean up, run it, record it."""
    started = time.monotonic()
    with conn.transaction():
        recorder.remember_before()
        recorder.running(number)
    already_done = _prepare_rerun(conn, statement, report) if resuming else False
    _set_timeouts(conn, options, local=False)
    if not already_done:
        try:
            _execute(conn, statement)
        except StatementFailed as error:
            enum_value_added = (
                error.failure is Failure.ALREADY_EXISTS
                and resuming
                and type(parse_one(statement)).__name__ == "AlterEnumStmt"
            )
            if not enum_value_added:
                raise
            report.notes.append("the enum value was already added by the interrupted run")
    with conn.transaction():
        recorder.done(number, time.monotonic() - started)


def _prepare_rerun(conn: Connection, statement: Statement, report: StepReport) -> bool:
    """Before redoing an interrupted step: is it done already, and is there debris to clear?"""
    node = parse_one(statement)
    kind = type(node).__name__
    if kind == "IndexStmt":
        index = engine.index_state(conn, node.relation.schemaname, node.relation.relname, node.idxname)
        if index is None:
            return False
        name, valid = index
        if valid:
            report.notes.append(f"index {name} was already built by the interrupted run")
            return True
        report.notes.append(f"dropped INVALID index {name} left by the interrupted CONCURRENTLY build")
        engine.drop_index_concurrently(conn, name)
        return False
    if kind == "DropStmt" and getattr(node, "concurrent", False):
        names = [".".join(part.sval for part in obj) for obj in node.objects]
        if not any(engine.relation_exists(conn, n) for n in names):
            report.notes.append("the index was already dropped by the interrupted run")
            return True
    return False


# --- rollback ----------------------------------------------------------------------------------------


def rollback(
    target: str | None,
    directory: Path,
    to_version: str | None = None,
    options: ApplyOptions | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Run the down parts, newest first, down to (not including) ``to_version``; default: the last one."""
    with server_errors("rollback failed"):
        return _rollback(target, directory, to_version, options, progress)


def _rollback(
    target: str | None,
    directory: Path,
    to_version: str | None = None,
    options: ApplyOptions | None = None,
    progress: Progress | None = None,
) -> RunReport:
    options = options or ApplyOptions()
    say = progress or (lambda _line: None)
    started = time.monotonic()
    files = discover(directory)
    by_version = {int(m.version): m for m in files}
    report = RunReport("rollback")
    with writable_session(target, options) as conn, deploy_lock(conn, options.lock_wait_s, say):
        rows = history.read(conn)
        _refuse_tampering(rows, files, directory, options)
        chosen = _to_roll_back(rows, to_version)
        plans = []
        for row in chosen:
            migration = by_version[int(row.version)]
            steps = steps_of(statements_of(migration, "down", engine.server_version(conn)))
            if not steps:
                raise RefusedError(
                    f"{migration.filename} has an empty down part: nothing to roll it back with; "
                    "nothing was rolled back"
                )
            plans.append((row, migration, steps))
        for row, migration, steps in plans:
            say(f"rolling back {migration.filename} ({len(steps)} step{'s' if len(steps) != 1 else ''})")
            report.migrations.append(migration.filename)
            recorder = _DownRecorder(conn, row, len(steps))
            first = row.steps_done + 1 if row.status == "rolling back" else 1
            for step in steps[first - 1 :]:
                report.steps.append(
                    _run_step(
                        conn,
                        migration,
                        step,
                        len(steps),
                        recorder,
                        options,
                        say,
                        resuming=row.step_running == step.number,
                    )
                )
        if chosen:
            with conn.transaction():
                live = fingerprint.read(conn)
            report.drift = fingerprint.differences(chosen[-1].schema_doc_before, live)
    report.seconds = time.monotonic() - started
    return report


def _to_roll_back(rows: list[HistoryRow], to_version: str | None) -> list[HistoryRow]:
    if not rows:
        raise RefusedError("nothing to roll back: no migration has been applied")
    if to_version is None:
        chosen = [rows[-1]]
    elif to_version.isdigit() and int(to_version) == 0:
        chosen = rows[::-1]  # --to 0: every migration
    else:
        ranks = [i for i, r in enumerate(rows) if int(r.version) == int(to_version)]
        if not ranks:
            raise RefusedError(
                f"version {to_version} is not in the history; dbwright migrate status lists them"
            )
        chosen = rows[ranks[0] + 1 :][::-1]
    for row in chosen:
        if row.kind == "baseline":
            raise RefusedError(
                f"cannot roll back past the baseline {row.version}: it was never applied by dbwright"
            )
        if row.status == "partial":
            raise RefusedError(
                f"{row.filename} is partially applied ({row.steps_done} of {row.steps_total} "
                "steps); finish it with dbwright migrate apply before rolling back"
            )
    return chosen


class _DownRecorder:
    """Records rollback progress; the last step deletes the history row in its own transaction."""

    def __init__(self, conn: Connection, row: HistoryRow, total: int) -> None:
        self.conn = conn
        self.row = row
        self.total = total

    def remember_before(self) -> None:
        pass

    def running(self, step: int) -> None:
        history.update(
            self.conn,
            self.row.version,
            status="rolling back",
            steps_total=self.total,
            steps_done=step - 1,
            step_running=step,
        )

    def done(self, step: int, seconds: float) -> None:
        if step >= self.total:
            history.delete(self.conn, self.row.version)
            return
        doc = fingerprint.read(self.conn)
        history.update(
            self.conn,
            self.row.version,
            status="rolling back",
            steps_total=self.total,
            steps_done=step,
            step_running=None,
            fingerprint=fingerprint.digest(doc),
            schema_doc=doc,
        )


# --- baseline ----------------------------------------------------------------------------------------


def baseline(
    target: str | None,
    directory: Path,
    version: str,
    options: ApplyOptions | None = None,
    progress: Progress | None = None,
) -> HistoryRow:
    """Adopt an existing database: record ``version`` as applied, with today's schema; run nothing."""
    options = options or ApplyOptions()
    if not version.isdigit():
        raise RefusedError(
            f"baseline version {version!r} is not a number; use a migration version such as 20240101000000"
        )
    files = discover(directory) if directory.is_dir() else []
    with writable_session(target, options) as conn, deploy_lock(conn, options.lock_wait_s, progress):
        if history.read(conn):
            raise RefusedError(
                "this database already has a migration history; baseline adopts only a database without one"
            )
        history.ensure(conn)
        covered = [m for m in files if int(m.version) <= int(version)]
        name = "baseline"
        with conn.transaction():
            doc = fingerprint.read(conn)
            digest = fingerprint.digest(doc)
            history.insert(
                conn,
                version=version,
                name=name,
                filename=f"baseline {version}",
                kind="baseline",
                checksum=checksum(""),
                chain=history.chain_of(history.GENESIS, version, name, checksum("")),
                status="applied",
                steps_total=0,
                steps_done=0,
                step_running=None,
                fingerprint=digest,
                doc=doc,
                fingerprint_before=digest,
                doc_before=doc,
            )
        if progress:
            progress(
                f"baseline {version} recorded; {len(covered)} migration file(s) at or below it count as applied"
            )
        return history.read(conn)[-1]
