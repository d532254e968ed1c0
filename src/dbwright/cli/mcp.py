"""`dbwright mcp [DATABASE]`: serve dbwright's tools to AI agents over MCP (stdio or streamable HTTP).

The server is the MCP face (``dbwright.mcp``); this command starts it with the options given.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from dbwright.cli.common import DatabaseArg, DbOpt, one_database
from dbwright.cli.config import active_config
from dbwright.errors import BadTargetError


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp_command)


def mcp_command(
    database: DatabaseArg = None,
    db: DbOpt = None,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="read-only (default): no tool writes; plan: dry-run planners with plan tokens; apply: "
            "also apply_plan, which runs exactly a planned change.",
        ),
    ] = "read-only",
    transport: Annotated[str, typer.Option("--transport", help="stdio or http (streamable HTTP).")] = "stdio",
    host: Annotated[
        str, typer.Option("--host", help="HTTP bind address; a non-loopback one needs --token-env.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="HTTP port.")] = 8765,
    token_env: Annotated[
        str | None,
        typer.Option(
            "--token-env",
            help="Name of an environment variable holding the bearer token HTTP clients must send.",
        ),
    ] = None,
    migrations: Annotated[
        Path | None,
        typer.Option(
            "--migrations", help="The project's migrations directory (plan_migrations; required for apply)."
        ),
    ] = None,
    audit_log: Annotated[
        Path | None, typer.Option("--audit-log", help="Append one JSON line per tool call to this file.")
    ] = None,
    statement_timeout_ms: Annotated[int, typer.Option("--statement-timeout-ms")] = 5000,
    max_rows: Annotated[int, typer.Option("--max-rows", help="Row cap of query results.")] = 500,
    max_bytes: Annotated[int, typer.Option("--max-bytes", help="Byte cap of query results (JSON).")] = 256
    * 1024,
) -> None:
    """Serve dbwright's tools to AI agents over MCP, read-only unless --mode says otherwise."""
    from dbwright.mcp import (  # the MCP SDK: only for this command
        Limits,
        build_server,
        check_bind,
        serve_http,
    )
    from dbwright.mcp.auditlog import AuditLog
    from dbwright.mcp.safety import open_guarded

    if transport not in ("stdio", "http"):
        raise typer.BadParameter("use stdio or http", param_hint="--transport")
    token = None
    if token_env:
        token = os.environ.get(token_env)
        if not token:
            raise BadTargetError(f"--token-env {token_env}: that environment variable is empty or not set")
    if transport == "http":
        check_bind(host, token)
    limits = Limits(statement_timeout_ms=statement_timeout_ms, max_rows=max_rows, max_bytes=max_bytes)
    target = one_database(database, db)
    server = build_server(
        target,
        mode=mode,
        limits=limits,
        migrations_dir=migrations,
        audit=AuditLog(path=audit_log),
        host=host,
        port=port,
        config=active_config(),  # dbwright.toml's ignores and severities, in review and audit
    )
    # Connect once before serving: a wrong password or a missing database fails here, with its
    # exit code (12, 13, 11), instead of a server that starts and then fails every call.
    open_guarded(target, limits).close()
    if transport == "stdio":
        server.run("stdio")
    else:
        serve_http(server, host, port, token)
