"""`dbwright audit-logging plan`: pgaudit configuration, or a trigger-based audit log, as change packages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

audit_logging_app = typer.Typer(name="audit-logging", no_args_is_help=True,
                                help="Audit logging set-up: pgaudit or a trigger-based log, as change packages.")


@audit_logging_app.command("plan")
def plan(
    database: Annotated[str | None, typer.Argument(
        help="postgresql:// URL, conninfo or database name. Default: DATABASE_URL or the PG* variables.")] = None,
    table: Annotated[list[str] | None, typer.Option(
        "--table", help="schema.table to audit at object level (repeatable). Default: the PII tables that "
                        "dbwright pii finds.")] = None,
    mode: Annotated[str, typer.Option("--mode", help="auto, pgaudit or trigger.")] = "auto",
    auditor: Annotated[str, typer.Option("--auditor", help="NOLOGIN role used as pgaudit.role / log reader.")]
    = "auditor",
    scope: Annotated[str, typer.Option(
        "--scope", help="database (ALTER DATABASE … SET) or system (ALTER SYSTEM) for the pgaudit settings.")]
    = "database",
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    out: Annotated[Path | None, typer.Option(
        "--out", help="Also write the packages as one migration file (up and down).")] = None,
) -> None:
    """Plan audit logging: DDL and role changes, plus reads and writes of the PII tables."""
    from rich.console import Console

    from dbwright.audit.logging import plan_audit_logging, render_text
    from dbwright.changes.migration_file import render_migration

    if format not in ("text", "json"):
        raise typer.BadParameter(f"unknown format {format!r}; use text or json")
    result = plan_audit_logging(database, tables=table or None, mode=mode, auditor=auditor, scope=scope)
    typer.echo(json.dumps(result.to_dict(), indent=2) if format == "json" else render_text(result))
    if out is not None:
        out.write_text(render_migration(list(result.packages)))
        Console(stderr=True).print(f"wrote {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_logging_app, name="audit-logging")
