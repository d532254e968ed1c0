"""One family of errors, each with its own exit code and a one-line message.

A problem found *in* a database is a Finding, never an exception. These are for the
cases where dbwright cannot do what was asked: the CLI prints the line and exits
with the code; a traceback is a bug.
"""

from __future__ import annotations


class DbwrightError(Exception):
    """Base error: carries a one-line, password-free message and an exit code."""

    exit_code = 70
    label = "error"

    def __init__(self, message: str) -> None:
        from dbwright.redact import redact

        super().__init__(redact(message).splitlines()[0] if message else self.label)

    @property
    def message(self) -> str:
        return str(self)


class BadTargetError(DbwrightError):
    """The database URL, service or file could not be understood."""

    exit_code = 10
    label = "bad connection target"


class UnreachableError(DbwrightError):
    """No server answered at the given host and port or socket."""

    exit_code = 11
    label = "server unreachable"


class AuthenticationError(DbwrightError):
    """The server refused the credentials."""

    exit_code = 12
    label = "authentication failed"


class DatabaseMissingError(DbwrightError):
    """The server is up but the named database does not exist."""

    exit_code = 13
    label = "database does not exist"


class ServerTooOldError(DbwrightError):
    """The server is older than the oldest version dbwright supports."""

    exit_code = 14
    label = "server too old"


class PrivilegeError(DbwrightError):
    """A privilege needed for the whole task (not just one check) is missing."""

    exit_code = 15
    label = "insufficient privilege"


class SqlParseError(DbwrightError):
    """SQL given to dbwright does not parse."""

    exit_code = 16
    label = "malformed SQL"


class RefusedError(DbwrightError):
    """dbwright refused to do something unsafe or not asked for explicitly."""

    exit_code = 17
    label = "refused"


class InputFileError(DbwrightError):
    """A snapshot or other input file is missing or malformed."""

    exit_code = 18
    label = "bad input file"


class EmbeddedServerError(DbwrightError):
    """The embedded demo server could not be started or stopped."""

    exit_code = 19
    label = "embedded server failed"


class ServerError(DbwrightError):
    """The server failed a read-only analysis query (timeout, lost connection, lock wait)."""

    exit_code = 20
    label = "server error during analysis"


class QueryTimeoutError(ServerError):
    """A statement ran past statement_timeout or was cancelled: a caller may skip that one step."""


class LockTimeoutError(ServerError):
    """A statement waited past lock_timeout: a caller may retry it later."""


class ConnectionLostError(ServerError):
    """The session ended under a running task (server shutdown, terminated backend, network)."""


class ReadDeniedError(ServerError):
    """The session may not read an object one step needs (permission denied): a caller may skip that step."""


class MigrationFailedError(DbwrightError):
    """A migration statement failed on the server; its step was rolled back or is recorded as running."""

    exit_code = 21
    label = "migration failed"


class InvalidArgumentError(DbwrightError):
    """An option or argument has a value dbwright cannot use (a budget, category, severity or format)."""

    exit_code = 22
    label = "invalid argument"


class OutputPathError(DbwrightError):
    """A result cannot be written where -o/--output names: the folder is missing, or is not writable."""

    exit_code = 23
    label = "cannot write output"


class ConfigError(DbwrightError):
    """The configuration file (dbwright.toml, or [tool.dbwright] in pyproject.toml) cannot be used:
    not TOML, an unknown key, a value of the wrong type. The message names the file and the key."""

    exit_code = 24
    label = "bad configuration file"


class DiffIncompleteError(DbwrightError):
    """``dbwright diff --strict``: the schemas differ in something the diff cannot generate."""

    exit_code = 25
    label = "diff incomplete (--strict): a difference the diff cannot generate"


#: Exit codes, documented in docs/exit-codes.md and tested.
EXIT_CODES: dict[int, str] = {
    0: "success; no finding at or above --fail-on",
    1: "findings at or above --fail-on",
    2: "usage error (unknown option or command)",
    **{
        cls.exit_code: cls.label
        for cls in (
            BadTargetError,
            UnreachableError,
            AuthenticationError,
            DatabaseMissingError,
            ServerTooOldError,
            PrivilegeError,
            SqlParseError,
            RefusedError,
            InputFileError,
            EmbeddedServerError,
            ServerError,
            MigrationFailedError,
            InvalidArgumentError,
            OutputPathError,
            ConfigError,
            DiffIncompleteError,
        )
    },
    70: "internal error (a bug: please report it)",
}
