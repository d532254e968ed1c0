"""Opening sessions to PostgreSQL: target parsing, read-only sessions, one-line errors.

Every analysis session is read-only (``default_transaction_read_only``) with
``statement_timeout`` and ``lock_timeout`` set and ``application_name=dbwright``. Only the
apply path, given an explicit change package, opens a writable session.

Every statement dbwright sends begins with ``OWN_MARK`` (a comment): pg_stat_statements keeps it
in the statement's text, so the next snapshot knows which statements were dbwright's own and
leaves them out of the workload (``Statement.own``). The demo's simulated application and the
user's own migration statements are sent unmarked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import conninfo as _conninfo
from psycopg import sql as _sql

from dbwright.engines.postgres import ENGINE_NAME
from dbwright.engines.postgres.errors import classify_connect_error, first_line
from dbwright.engines.registry import engine_for_scheme, scheme_of
from dbwright.errors import BadTargetError, ServerTooOldError
from dbwright.redact import redact

#: Oldest server dbwright supports (PostgreSQL 13). Tests may raise it through
#: DBWRIGHT_MIN_SERVER_VERSION to exercise the refusal against the servers available here.
MIN_SERVER_VERSION = 130000

DEFAULT_STATEMENT_TIMEOUT = "30s"
DEFAULT_LOCK_TIMEOUT = "2s"
CONNECT_TIMEOUT_S = 5
#: The comment that starts every statement dbwright sends (see the module's docstring).
OWN_MARK = "/* dbwright */ "


@dataclass(frozen=True)
class SessionOptions:
    read_only: bool = True
    statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT
    application_name: str = "dbwright"
    #: Start every statement with OWN_MARK (False: the statements are the user's or an application's).
    mark_statements: bool = True


def marked(query: Any) -> Any:
    """``query`` (text, bytes or composed SQL) with OWN_MARK in front."""
    if isinstance(query, str):
        return OWN_MARK + query
    if isinstance(query, bytes):
        return OWN_MARK.encode() + query
    if isinstance(query, _sql.Composable):
        return _sql.SQL(OWN_MARK) + query
    return query


class MarkedCursor(psycopg.Cursor):
    """A cursor that sends every statement with OWN_MARK in front (``conn.execute`` uses it too)."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> MarkedCursor:
        return super().execute(marked(query), params, **kwargs)

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
        super().executemany(marked(query), params_seq, **kwargs)

    def stream(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        return super().stream(marked(query), params, **kwargs)

    def copy(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        return super().copy(marked(statement), params, **kwargs)


def resolve_target(target: str | None) -> str:
    """Turn a target string into a libpq conninfo string.

    Accepts a ``postgresql://`` URL, a ``key=value`` conninfo (including ``service=name``), a
    bare database name, or nothing: then ``DATABASE_URL``, else libpq's own ``PG*`` variables.
    Which engine a URL belongs to is the registry's call (``engines.targets`` resolves targets
    for the faces); a URL of another engine is refused here.
    """
    if target is None or target == "":
        return os.environ.get("DATABASE_URL", "")
    text = target.strip()
    scheme = scheme_of(text)
    if scheme is not None:
        engine = engine_for_scheme(scheme)
        if engine.name != ENGINE_NAME:
            raise BadTargetError(f"{scheme}:// is a {engine.name} target, not a PostgreSQL one")
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
        raise BadTargetError(f"malformed connection target: {first_line(error)}") from None
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
        conn = psycopg.connect(
            conninfo,
            autocommit=True,
            cursor_factory=MarkedCursor if options.mark_statements else psycopg.Cursor,
        )
    except (psycopg.OperationalError, psycopg.ProgrammingError) as error:
        raise classify_connect_error(error, describe_target(conninfo), conninfo) from None
    minimum = int(os.environ.get("DBWRIGHT_MIN_SERVER_VERSION", MIN_SERVER_VERSION))
    if conn.info.server_version < minimum:
        version = conn.info.parameter_status("server_version") or str(conn.info.server_version)
        conn.close()
        raise ServerTooOldError(
            f"PostgreSQL {version} at {describe_target(conninfo)} is older than the oldest supported "
            f"version {minimum // 10000}"
        )
    return conn
