"""`dbwright audit [DATABASE]`: the security and compliance audit, CIS-mapped, with fixes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dbwright.output import formats_for


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)


def audit_command(
    database: Annotated[
        str | None,
        typer.Argument(
            help="postgresql:// URL, conninfo, database name, or a saved snapshot .json (then without the "
            "access matrix). Default: DATABASE_URL, the PG* variables, else the embedded demo."
        ),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help=f"Output format: {', '.join(formats_for('audit'))}.")
    ] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a finding is at or above this severity (info, low, medium, high, critical).",
        ),
    ] = None,
    check: Annotated[
        list[str] | None, typer.Option("--check", help="Only this check code (repeatable).")
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            "-c",
            help="Only this category (repeatable): access, authentication, encryption, logging, "
            "'data protection', configuration.",
        ),
    ] = None,
    host: Annotated[
        bool,
        typer.Option(
            "--host",
            help="dbwright runs on the database host: also look for a dm-crypt layer under the data "
            "directory.",
        ),
    ] = False,
    pii: Annotated[
        bool,
        typer.Option(
            "--pii",
            help="Also sample tables for PII (bounded, read-only, as dbwright pii) and report whether "
            "PII columns are stored encrypted.",
        ),
    ] = False,
    no_access: Annotated[
        bool,
        typer.Option(
            "--no-access", help="Skip the effective-privilege matrix (one query over roles × objects)."
        ),
    ] = False,
) -> None:
    """Audit security and compliance: CIS-mapped checks, effective privileges and encryption."""
    from dbwright.audit.run import audit_database, run_audit
    from dbwright.cli import _default_target, _is_snapshot_file, emit, err
    from dbwright.commands._common import check_format
    from dbwright.model.findings import Severity
    from dbwright.output import render
    from dbwright.review import load_snapshot

    check_format(format, formats_for("audit"))
    try:
        threshold = Severity.parse(fail_on) if fail_on else None
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--fail-on") from None
    from dbwright.checks.registry import AUDIT_CATEGORIES

    for name in category or []:
        if name not in AUDIT_CATEGORIES:
            raise typer.BadParameter(
                f"unknown category {name!r}; use one of {', '.join(AUDIT_CATEGORIES)}",
                param_hint="--category",
            )
    if _is_snapshot_file(database):
        result = run_audit(load_snapshot(Path(database)), codes=check, categories=category, host=host)
    else:
        target = _default_target(database)
        with err.status("auditing…") as status:
            result = audit_database(
                target,
                codes=check,
                categories=category,
                access=not no_access,
                host=host,
                pii=pii,
                progress=lambda step: status.update(f"auditing: {step}…"),
            )
    emit(render(result, format), output)
    if threshold is not None and any(f.severity >= threshold for f in result.findings):
        raise typer.Exit(1)
