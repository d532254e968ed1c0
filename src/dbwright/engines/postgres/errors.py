"""PostgreSQL and psycopg errors as dbwright errors, decided by SQLSTATE and driver facts.

Query-time errors carry their SQLSTATE (``error.sqlstate``), and that alone decides. Failed
connections carry none in psycopg 3.3 / libpq 18 (``sqlstate`` and ``diag.sqlstate`` are None:
libpq's connection API hands the server's ErrorResponse over as text only). So a failed connect
is decided, in this order, by:

1. driver facts: ``ProgrammingError`` (libpq could not parse the conninfo), ``ConnectionTimeout``,
   no ``pgconn`` at all (psycopg's own host lookup failed), ``pgconn.needs_password``;
2. the server's own SQLSTATE, read by ``refusal_codes.refusal_sqlstate``: one more bare attempt
   with libpq's verbose error mode, which writes the code into the text (``FATAL:  28P01: …``),
   in any server language. One refinement uses the text: 28000 is also sent for a role without
   LOGIN, which is a privilege (exit 15), not failed authentication;
3. only when the driver's libpq cannot be reached through ctypes: the backend's refusal
   formats, one anchored pattern per message (auth.c, postinit.c, miscinit.c), English only;
4. libpq's own option-validation messages (libpq has no codes for these);
5. otherwise the server was not reached (refused, no route, no socket, TLS negotiation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg

from dbwright.engines.postgres.refusal_codes import refusal_sqlstate
from dbwright.errors import (
    AuthenticationError,
    BadTargetError,
    ConnectionLostError,
    DatabaseMissingError,
    DbwrightError,
    LockTimeoutError,
    PrivilegeError,
    QueryTimeoutError,
    ServerError,
    UnreachableError,
)
from dbwright.redact import redact

INVALID_PASSWORD = "28P01"
INVALID_AUTHORIZATION = "28000"
INVALID_CATALOG_NAME = "3D000"
INSUFFICIENT_PRIVILEGE = "42501"
QUERY_CANCELED = "57014"
LOCK_NOT_AVAILABLE = "55P03"
ADMIN_SHUTDOWN = "57P01"
CRASH_SHUTDOWN = "57P02"
CANNOT_CONNECT_NOW = "57P03"
CONNECTION_EXCEPTION_CLASS = "08"

#: SQLSTATE → the dbwright error it means, whenever a code is known.
_BY_SQLSTATE: dict[str, type[DbwrightError]] = {
    INVALID_PASSWORD: AuthenticationError,
    INVALID_AUTHORIZATION: AuthenticationError,  # no pg_hba.conf entry, pg_hba rejects, unknown role
    INVALID_CATALOG_NAME: DatabaseMissingError,
    INSUFFICIENT_PRIVILEGE: PrivilegeError,
    QUERY_CANCELED: QueryTimeoutError,  # statement_timeout, or a cancel request
    LOCK_NOT_AVAILABLE: LockTimeoutError,  # lock_timeout, or NOWAIT
    ADMIN_SHUTDOWN: ConnectionLostError,  # the backend was terminated or the server shut down
    CRASH_SHUTDOWN: ConnectionLostError,
    CANNOT_CONNECT_NOW: UnreachableError,  # the server is starting up or shutting down
}


@dataclass(frozen=True)
class _ServerMessage:
    """A message the backend sends before a session starts, and the SQLSTATE it carries."""

    sqlstate: str
    pattern: re.Pattern[str]
    error: type[DbwrightError]


def _message(sqlstate: str, pattern: str, error: type[DbwrightError] | None = None) -> _ServerMessage:
    return _ServerMessage(sqlstate, re.compile(r"FATAL:\s+" + pattern), error or _BY_SQLSTATE[sqlstate])


#: The backend's connection-refusal formats (PostgreSQL 13–18), each with its SQLSTATE.
_SERVER_MESSAGES: tuple[_ServerMessage, ...] = (
    _message(INVALID_PASSWORD, r'password authentication failed for user "'),  # password, md5, scram
    _message(INVALID_AUTHORIZATION, r'\w+ authentication failed for user "'),  # ident, peer, ldap, cert…
    _message(INVALID_AUTHORIZATION, r'no pg_hba\.conf entry for (?:host|replication connection) "'),
    _message(INVALID_AUTHORIZATION, r'pg_hba\.conf rejects (?:connection|replication connection) for host "'),
    _message(INVALID_AUTHORIZATION, r'role "[^"]*" does not exist'),
    # Also 28000, but the role exists and authenticated: it lacks the LOGIN attribute, a privilege.
    _message(INVALID_AUTHORIZATION, r'role "[^"]*" is not permitted to log in', PrivilegeError),
    _message(INVALID_CATALOG_NAME, r'database "[^"]*" does not exist'),
    _message(INSUFFICIENT_PRIVILEGE, r'permission denied for database "'),
)

#: The one refinement of 28000 by text: a role that exists and authenticated but lacks LOGIN.
_NOLOGIN = re.compile(r'FATAL:\s+role "[^"]*" is not permitted to log in')

#: libpq's own checks of connection options, before any server is asked (no code exists for these).
_LIBPQ_OPTION_ERROR = re.compile(r"^invalid (?:\w+ value|integer value|port number)", re.MULTILINE)


def sqlstate_of(error: BaseException) -> str | None:
    """The SQLSTATE psycopg carries, else the one a failed connection's server message has."""
    code = getattr(error, "sqlstate", None)
    if code:
        return code
    message = _server_message(error)
    return message.sqlstate if message else None


def _server_message(error: BaseException) -> _ServerMessage | None:
    text = str(error)
    return next((m for m in _SERVER_MESSAGES if m.pattern.search(text)), None)


def classify_connect_error(error: BaseException, where: str, conninfo: str | None = None) -> DbwrightError:
    """A failed connect to ``where`` (a password-free description) as a one-line DbwrightError.

    With ``conninfo``, a server's refusal is classified by the SQLSTATE it sent (see the module doc).
    """
    text = first_line(error)
    if isinstance(error, psycopg.ProgrammingError):
        return BadTargetError(f"malformed connection target: {text}")
    kind = _connect_error_kind(error, conninfo)
    if kind is AuthenticationError:
        return AuthenticationError(f"authentication failed for {where}: {text}")
    if kind is DatabaseMissingError:
        return DatabaseMissingError(f"database does not exist: {where}")
    if kind is PrivilegeError:
        return PrivilegeError(f"not allowed to connect to {where}: {text}")
    if kind is BadTargetError:
        return BadTargetError(f"malformed connection target: {text}")
    return UnreachableError(f"cannot reach the server for {where}: {text}")


def _connect_error_kind(error: BaseException, conninfo: str | None) -> type[DbwrightError]:
    if isinstance(error, psycopg.errors.ConnectionTimeout):
        return UnreachableError
    pgconn = getattr(error, "pgconn", None)
    if pgconn is None:
        return UnreachableError  # psycopg resolves host names itself, before libpq starts
    if error_code := getattr(error, "sqlstate", None):
        return _BY_SQLSTATE.get(error_code, UnreachableError)
    if pgconn.needs_password:
        return AuthenticationError  # the server asked for a password and none was given
    if conninfo and (refused_with := refusal_sqlstate(conninfo)):
        if refused_with == INVALID_AUTHORIZATION and _NOLOGIN.search(str(error)):
            return PrivilegeError
        return _BY_SQLSTATE.get(refused_with, UnreachableError)
    if message := _server_message(error):
        return message.error
    if _LIBPQ_OPTION_ERROR.search(_libpq_message(error)):
        return BadTargetError
    return UnreachableError


def classify_error(error: BaseException, where: str) -> DbwrightError:
    """An error of a running task (``where`` says what it was doing) as the DbwrightError it means."""
    text = first_line(error)
    code = sqlstate_of(error)
    kind = _BY_SQLSTATE.get(code or "")
    if kind is None and code and code.startswith(CONNECTION_EXCEPTION_CLASS):
        kind = ConnectionLostError
    if kind is None and code is None and _connection_closed(error):
        kind = ConnectionLostError
    if kind is QueryTimeoutError:
        return QueryTimeoutError(f"{where}: the statement was cancelled or timed out: {text}")
    if kind is LockTimeoutError:
        return LockTimeoutError(f"{where}: waited too long for a lock: {text}")
    if kind is ConnectionLostError:
        return ConnectionLostError(f"{where}: lost the connection to the server: {text}")
    if kind is not None:
        return kind(f"{where}: {text}")
    return ServerError(f"{where}: {type(error).__name__}: {text}")


def _connection_closed(error: BaseException) -> bool:
    """An OperationalError without a code is the session going away (closed, or the socket broke)."""
    if not isinstance(error, psycopg.OperationalError):
        return False
    pgconn = getattr(error, "pgconn", None)
    return pgconn is None or pgconn.status == psycopg.pq.ConnStatus.BAD


def _libpq_message(error: BaseException) -> str:
    """libpq's message without psycopg's "connection is bad: " / "connection failed: " lead."""
    return re.sub(r"^connection (?:is bad|failed): ", "", str(error), flags=re.MULTILINE)


def first_line(error: BaseException) -> str:
    """The cause from a libpq message, without its "connection to server at … failed:" prefix."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    message = lines[0] if lines else type(error).__name__
    if "failed: " in message:
        message = message.rsplit("failed: ", 1)[1]
    for prefix in ("FATAL:", "ERROR:"):
        if message.startswith(prefix):
            message = message[len(prefix) :].strip()
    return redact(message)
