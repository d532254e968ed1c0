"""`dbwright audit-logging plan`: pgaudit configuration, or a trigger-based audit log, as change packages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dbwright import api
from dbwright.cli.common import (
    DatabaseArg,
    DbOpt,
    OutAliasOpt,
    TextOrJsonOpt,
    check_output_path,
    emit_plan,
    one_database,
    one_output,
)

audit_logging_app = typer.Typer(
    name="audit-logging",
    no_args_is_help=True,
    help="Audit logging set-up: pgaudit or a trigger-based log, as change packages.",
)


@audit_logging_app.command("plan")
def plan(
    database: DatabaseArg = None,
    db: DbOpt = None,
    table: Annotated[
        list[str] | None,
        typer.Option(
            "--table",
            help="schema.table to audit at object level (repeatable). Default: the PII tables that "
            "dbwright pii finds.",
        ),
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help="auto, pgaudit or trigger.")] = "auto",
    auditor: Annotated[
        str, typer.Option("--auditor", help="NOLOGIN role used as pgaudit.role / log reader.")
    ] = "auditor",
    scope: Annotated[
        str,
        typer.Option(
            "--scope",
            help="database (ALTER DATABASE … SET) or system (ALTER SYSTEM) for the pgaudit settings.",
        ),
    ] = "database",
    format: TextOrJsonOpt = "text",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Also write the packages as one migration file (up and down)."),
    ] = None,
    out: OutAliasOpt = None,
) -> None:
    """Plan audit logging: DDL and role changes, plus reads and writes of the PII tables."""
    path = check_output_path(one_output(output, out))
    result = api.plan_audit_logging(
        one_database(database, db), tables=table or None, mode=mode, auditor=auditor, scope=scope
    )
    emit_plan(result, format, api.audit_logging_plan_text, path)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_logging_app, name="audit-logging")
