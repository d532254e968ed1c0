"""Opening sessions to PostgreSQL: target parsing, read-only sessions, one-line errors.

Every analysis session is read-only (``default_transaction_read_only``) with
``statement_timeout`` and ``lock_timeout`` set and ``application_name=dbwright``. Only the
apply path, given an explicit change package, opens a writable session.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psycopg
from psycopg import conninfo as _conninfo

from dbwright.errors import (
    AuthenticationError,
    BadTargetError,
    DatabaseMissingError,
    DbwrightError,
    PrivilegeError,
    ServerTooOldError,
    UnreachableError,
)
from dbwright.redact import redact

#: Oldest server dbwright supports (PostgreSQL 13). Tests may raise it through
#: DBWRIGHT_MIN_SERVER_VERSION to exercise the refusal against the servers available here.
MIN_SERVER_VERSION = 130000

DEFAULT_STATEMENT_TIMEOUT = "30s"
DEFAULT_LOCK_TIMEOUT = "2s"
CONNECT_TIMEOUT_S = 5


@dataclass(frozen=True)
class SessionOptions:
    read_only: bool = True
    statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT
    application_name: str = "dbwright"


def resolve_target(target: str | None) -> str:
    """Turn what the user typed into a libpq conninfo string.

    Accepts a ``postgresql://`` URL, a ``key=value`` conninfo (including ``service=name``), a
    bare database name, or nothing: then ``DATABASE_URL``, else libpq's own ``PG*`` variables.
    """
    if target is None or target == "":
        return os.environ.get("DATABASE_URL", "")
    text = target.strip()
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme not in ("postgresql", "postgres"):
            raise BadTargetError(f"unsupported URL scheme {scheme!r}: use postgresql://user@host:port/dbname")
        return text
    if "=" in text:
        return text
    if any(ch in text for ch in "/@: "):
        raise BadTargetError(
            f"cannot understand {text!r}: use a postgresql:// URL, key=value or a database name"
        )
    return _conninfo.make_conninfo(dbname=text)


def describe_target(conninfo: str) -> str:
    """A password-free, human description of where a conninfo points."""
    try:
        params = _conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return redact(conninfo)
    host = params.get("host") or os.environ.get("PGHOST") or "local socket"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    db = params.get("dbname") or os.environ.get("PGDATABASE") or params.get("user") or "default"
    service = params.get("service") or os.environ.get("PGSERVICE")
    where = f"service {service}" if service else f"{host}:{port}"
    return f"{db} on {where}"


def _options_with(conninfo: str, options: SessionOptions) -> str:
    try:
        params = _conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as error:
        raise BadTargetError(f"malformed connection target: {_first_line(error)}") from None
    if "port" in params and not str(params["port"]).isdigit():
        raise BadTargetError(f"malformed connection target: invalid port {params['port']!r}")
    settings = [
        f"-c statement_timeout={options.statement_timeout}",
        f"-c lock_timeout={options.lock_timeout}",
    ]
    if options.read_only:
        settings.append("-c default_transaction_read_only=on")
    existing = params.get("options", "")
    params["options"] = " ".join(filter(None, [existing, *settings]))
    params["application_name"] = options.application_name
    params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
    return _conninfo.make_conninfo(**params)


def open_session(target: str | None, options: SessionOptions | None = None) -> psycopg.Connection:
    """Connect, classify any failure into a DbwrightError, and check the server version."""
    options = options or SessionOptions()
    conninfo = _options_with(resolve_target(target), options)
    try:
        conn = psycopg.connect(conninfo, autocommit=True)
    except psycopg.OperationalError as error:
        raise classify_connect_error(error, conninfo) from None
    except psycopg.ProgrammingError as error:
        raise BadTargetError(f"malformed connection target: {_first_line(error)}") from None
    minimum = int(os.environ.get("DBWRIGHT_MIN_SERVER_VERSION", MIN_SERVER_VERSION))
    if conn.info.server_version < minimum:
        version = conn.info.parameter_status("server_version") or str(conn.info.server_version)
        conn.close()
        raise ServerTooOldError(
            f"PostgreSQL {version} at {describe_target(conninfo)} is older than the oldest supported "
            f"version {minimum // 10000}"
        )
    return conn


def classify_connect_error(error: Exception, conninfo: str) -> DbwrightError:
    text = _first_line(error)
    lower = str(error).lower()
    where = describe_target(conninfo)
    if (
        "password authentication failed" in lower
        or "no password supplied" in lower
        or "authentication failed" in lower
        or "no pg_hba.conf entry" in lower
        or ("role" in lower and "does not exist" in lower)
    ):
        return AuthenticationError(f"authentication failed for {where}: {text}")
    if "does not exist" in lower and "database" in lower:
        return DatabaseMissingError(f"database does not exist: {where}")
    if "permission denied for database" in lower or "not permitted to log in" in lower:
        return PrivilegeError(f"not allowed to connect to {where}: {text}")
    if "invalid" in lower and ("option" in lower or "uri" in lower or "integer" in lower or "port" in lower):
        return BadTargetError(f"malformed connection target: {text}")
    return UnreachableError(f"cannot reach the server for {where}: {text}")


def _first_line(error: Exception) -> str:
    """The cause from a libpq message, without its "connection to server at … failed:" prefix."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    message = lines[0] if lines else type(error).__name__
    if "failed: " in message:
        message = message.rsplit("failed: ", 1)[1]
    for prefix in ("FATAL:", "ERROR:"):
        if message.startswith(prefix):
            message = message[len(prefix) :].strip()
    return redact(message)
