"""`dbwright migrate …`: versioned migrations. A thin shell over dbwright.changes.migrations."""

from __future__ import annotations

import contextlib
import io
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from dbwright import api
from dbwright.cli.common import (
    DatabaseArg,
    DbOpt,
    FailOnOpt,
    MinSeverityOpt,
    OutAliasOpt,
    TextOrJsonOpt,
    check_output_path,
    emit_json,
    err,
    one_database,
    one_output,
    write_file,
)
from dbwright.model.findings import Severity

DirOpt = Annotated[Path, typer.Option("--dir", help="The migrations directory.")]
LockTimeoutOpt = Annotated[
    str,
    typer.Option("--lock-timeout", help="lock_timeout for every step; a step that waits longer is retried."),
]
StatementTimeoutOpt = Annotated[
    str, typer.Option("--statement-timeout", help="statement_timeout for every step.")
]
RetriesOpt = Annotated[
    int, typer.Option("--retries", help="Retries of a step after lock_timeout, with exponential backoff.")
]
LockWaitOpt = Annotated[
    float, typer.Option("--lock-wait", help="Seconds to wait for another deploy's lock before giving up.")
]

DEFAULT_DIR = Path("migrations")
app = typer.Typer(
    name="migrate",
    no_args_is_help=True,
    add_completion=False,
    help="Versioned migrations: new, status, plan, apply, rollback, verify, baseline.",
)


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="migrate")


def _progress(line: str) -> None:
    err.print(f"[dim]{line}[/dim]", highlight=False, soft_wrap=True)


def _options(lock_timeout: str, statement_timeout: str, retries: int, lock_wait: float, **extra: Any):
    return api.apply_options(
        lock_timeout=lock_timeout,
        statement_timeout=statement_timeout,
        retries=retries,
        lock_wait_s=lock_wait,
        **extra,
    )


@app.command()
def new(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="What the migration does, e.g. add_orders_status.")
    ],
    dir: DirOpt = DEFAULT_DIR,
) -> None:
    """Write a new migration file V<UTC timestamp>__NAME.sql with an up and a down part."""
    print(api.migrate_new(dir, name))


@app.command()
def status(
    database: DatabaseArg = None, db: DbOpt = None, dir: DirOpt = DEFAULT_DIR, format: TextOrJsonOpt = "text"
) -> None:
    """Applied, pending and out-of-order migrations."""
    state = api.migrate_status(one_database(database, db), dir)
    if format == "json":
        emit_json(state.to_dict())
        return
    out_of_order = {m.filename for m in state.out_of_order}
    for row in state.applied:
        progress = "" if row.status == "applied" else f" ({row.steps_done}/{row.steps_total} steps)"
        print(
            f"{row.status:<10} {row.filename}  {row.applied_at} by {row.applied_by}, {row.duration_ms} ms{progress}"
        )
    for migration in state.pending:
        label = "OUT OF ORDER" if migration.filename in out_of_order else "pending"
        print(f"{label:<10} {migration.filename}")
    print(
        f"{len(state.applied)} applied, {len(state.pending)} pending, {len(state.out_of_order)} out of order"
        + (f", {state.partial.filename} {state.partial.status}" if state.partial else "")
    )


@app.command()
def plan(
    database: DatabaseArg = None,
    db: DbOpt = None,
    dir: DirOpt = DEFAULT_DIR,
    format: TextOrJsonOpt = "text",
    safe: Annotated[
        bool,
        typer.Option(
            "--safe", help="Rewrite each unsafe statement into its safe sequence, as change packages."
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the plan to this file; with --safe, the rewritten migration (up and down).",
        ),
    ] = None,
    out: OutAliasOpt = None,
    fail_on: FailOnOpt = None,
    min_severity: MinSeverityOpt = None,
) -> None:
    """Dry run: each pending statement with its lock, rewrite/scan, estimated duration and transaction; lint."""
    output = check_output_path(one_output(output, out))
    threshold = api.parse_severity(fail_on) if fail_on else None
    listed_from = api.parse_severity(min_severity) if min_severity else None
    if safe:
        _safe_plan(one_database(database, db), dir, format, output)
        return
    result = api.migrate_plan(one_database(database, db), dir)
    if output is None:
        _print_plan(result, format, listed_from)
    else:
        with contextlib.redirect_stdout(io.StringIO()) as text:
            _print_plan(result, format, listed_from)
        write_file(output, text.getvalue())
    if threshold is not None and api.at_or_above(result.findings, threshold):
        raise typer.Exit(1)


def _print_plan(result: Any, format: str, listed_from: Severity | None = None) -> None:
    """The plan as text or JSON; ``listed_from`` (--min-severity) lists only lint findings at or above it."""
    if listed_from is not None:
        result = replace(result, findings=[f for f in result.findings if f.severity >= listed_from])
    if format == "json":
        emit_json(result.to_dict())
        return
    if result.resumes:
        print(f"resumes {result.resumes} where it stopped")
    for name in result.out_of_order:
        print(f"OUT OF ORDER: {name} is older than the newest applied migration; apply refuses it")
    current = None
    for s in result.statements:
        if s.filename != current:
            current = s.filename
            print(f"\n{current}")
        flags = [flag for flag, on in (("REWRITES", s.rewrites), ("scans", s.scans and not s.rewrites)) if on]
        where = "in transaction" if s.in_transaction else "OUTSIDE transaction"
        print(f"  step {s.step} line {s.line}: {_one_line(s.sql)}")
        cost = f"~{s.estimated_seconds:.1f}s on {_size(s.table_bytes)}" if s.estimated_seconds else "instant"
        print(f"      lock {s.lock} ({s.impact}); {', '.join(flags) or 'no scan'}; {where}; {cost}")
    if not result.statements:
        print("nothing to apply")
    live = [f for f in result.findings if not f.ignored]
    if live:
        print(f"\nlint: {len(live)} finding(s)")
        for f in live:
            print(f"  {f.file}:{f.line} {f.code} [{f.severity.label}] {f.message}")
            if f.safe_rewrite:
                print(f"      safe rewrite: {_one_line(f.safe_rewrite)}")
    print(f"\n{len(result.statements)} statement(s), estimated {result.estimated_seconds:.1f}s")


def _safe_plan(target: str | None, directory: Path, format: str, out: Path | None) -> None:
    rewritten = api.migrate_safe_plan(target, directory)
    if format == "json":
        emit_json(
            [{"file": m.filename, "packages": [p.to_dict() for p in packages]} for m, packages in rewritten]
        )
    else:
        for migration, packages in rewritten:
            print(f"\n{migration.filename}")
            for package in packages:
                print(f"  {package.title}")
                for step in package.steps():
                    where = "in transaction" if step["in_transaction"] else "OUTSIDE transaction"
                    print(f"      {_one_line(step['sql'])}")
                    print(f"        lock {step['lock']} ({step['impact']}); {where}")
        if not rewritten:
            print("nothing to apply")
    if out is not None and rewritten:
        write_file(out, api.render_migration([p for _, packages in rewritten for p in packages]))


@app.command()
def apply(
    database: DatabaseArg = None,
    db: DbOpt = None,
    dir: DirOpt = DEFAULT_DIR,
    format: TextOrJsonOpt = "text",
    lock_timeout: LockTimeoutOpt = "2s",
    statement_timeout: StatementTimeoutOpt = "1h",
    retries: RetriesOpt = 5,
    lock_wait: LockWaitOpt = 60.0,
    to: Annotated[str | None, typer.Option("--to", help="Apply up to and including this version.")] = None,
    allow_out_of_order: Annotated[
        bool,
        typer.Option("--allow-out-of-order", help="Apply pending files older than the newest applied one."),
    ] = False,
    allow_drift: Annotated[
        bool,
        typer.Option("--allow-drift", help="Apply even though the live schema differs from the history."),
    ] = False,
) -> None:
    """Apply pending migrations under the deploy lock; resume a partial one first."""
    options = _options(
        lock_timeout,
        statement_timeout,
        retries,
        lock_wait,
        to_version=to,
        allow_out_of_order=allow_out_of_order,
        allow_drift=allow_drift,
    )
    report = api.migrate_apply(
        one_database(database, db), dir, options, progress=None if format == "json" else _progress
    )
    if format == "json":
        emit_json(report.to_dict())
        return
    retried = sum(s.retries for s in report.steps)
    for step in report.steps:
        for note in step.notes:
            print(f"note: {note}")
    if report.migrations:
        print(
            f"applied {len(report.migrations)} migration(s) in {report.seconds:.2f}s"
            + (f" after {retried} lock_timeout retries" if retried else "")
        )
    else:
        print("nothing to apply: the database is up to date")


@app.command()
def rollback(
    database: DatabaseArg = None,
    db: DbOpt = None,
    dir: DirOpt = DEFAULT_DIR,
    format: TextOrJsonOpt = "text",
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="Roll back every migration newer than this version (default: the last one)."
        ),
    ] = None,
    lock_timeout: LockTimeoutOpt = "2s",
    statement_timeout: StatementTimeoutOpt = "1h",
    retries: RetriesOpt = 5,
    lock_wait: LockWaitOpt = 60.0,
) -> None:
    """Run down parts, newest first; then check the schema against the one recorded before them."""
    report = api.migrate_rollback(
        one_database(database, db),
        dir,
        to=to,
        options=_options(lock_timeout, statement_timeout, retries, lock_wait),
        progress=None if format == "json" else _progress,
    )
    if format == "json":
        emit_json(report.to_dict())
    elif not report.migrations:
        print(f"nothing to roll back: no migration is newer than {to}")
    else:
        print(f"rolled back {len(report.migrations)} migration(s) in {report.seconds:.2f}s")
        if report.drift:
            print("the schema does not match the one recorded before them:")
            for line in report.drift:
                print(f"  {line}")
        else:
            print("schema verified: it matches the one recorded before them")
    if report.drift:
        raise typer.Exit(1)


@app.command()
def verify(
    database: DatabaseArg = None, db: DbOpt = None, dir: DirOpt = DEFAULT_DIR, format: TextOrJsonOpt = "text"
) -> None:
    """Tampering (edited, renamed, reordered, removed applied files) and drift; exit 1 on any."""
    result = api.migrate_verify(one_database(database, db), dir)
    if format == "json":
        emit_json(result.to_dict())
    else:
        for problem in result.problems:
            print(f"TAMPERED ({problem.kind}): {problem.message}")
        if result.partial:
            print(f"PARTIAL: {result.partial}")
        for line in result.drift:
            print(f"DRIFT: {line}")
        if result.ok:
            against = f" after {result.compared_with}" if result.compared_with else ""
            print(f"ok: files match the history, and the schema matches the one recorded{against}")
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def baseline(
    version: Annotated[
        str, typer.Argument(metavar="VERSION", help="The version the existing schema stands for.")
    ],
    database: DatabaseArg = None,
    db: DbOpt = None,
    dir: DirOpt = DEFAULT_DIR,
    format: TextOrJsonOpt = "text",
    lock_wait: LockWaitOpt = 60.0,
) -> None:
    """Adopt an existing database: record VERSION as applied with today's schema; run nothing."""
    row = api.migrate_baseline(
        one_database(database, db),
        dir,
        version,
        options=api.apply_options(lock_wait_s=lock_wait),
        progress=None if format == "json" else _progress,
    )
    if format == "json":
        emit_json(row.to_dict())
    else:
        print(f"baseline {row.version} recorded (schema fingerprint {row.fingerprint[:12]})")


def _one_line(sql: str, width: int = 100) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
