"""`dbwright audit [DATABASE]`: the security and compliance audit, CIS-mapped, with fixes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dbwright import api
from dbwright.cli.common import (
    DbOpt,
    FailOnOpt,
    MinSeverityOpt,
    OutputOpt,
    SourceArg,
    check_output_path,
    emit,
    err,
    format_option,
    live_target,
    one_database,
)
from dbwright.cli.config import active_config
from dbwright.output import render


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)


def audit_command(
    database: SourceArg = None,
    db: DbOpt = None,
    format: Annotated[str, format_option("audit")] = "text",
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    min_severity: MinSeverityOpt = None,
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
    """Audit security and compliance: CIS-mapped checks, effective privileges and encryption.

    From a saved snapshot the audit runs offline, without the access matrix."""
    threshold = api.parse_severity(fail_on) if fail_on else None
    listed_from = api.parse_severity(min_severity) if min_severity else None
    for name in category or []:
        api.check_category(name, audit=True)
    api.check_codes(check, audit=True)
    check_output_path(output)
    database = one_database(database, db)
    if api.is_snapshot_path(database):
        result = api.audit(
            Path(database),  # type: ignore[arg-type]
            codes=check,
            categories=category,
            host=host,
            config=active_config(),
        )
    else:
        target = live_target(database, fail_on=fail_on)
        with err.status("auditing…") as status:
            result = api.audit(
                target,
                codes=check,
                categories=category,
                access=not no_access,
                host=host,
                pii=pii,
                progress=lambda step: status.update(f"auditing: {step}…"),
                config=active_config(),
            )
    source = database if api.is_snapshot_path(database) else None  # locates findings in SARIF and annotations
    emit(render(result, format, min_severity=listed_from, source=source), output)
    if threshold is not None and api.at_or_above(result.findings, threshold):
        raise typer.Exit(1)
