"""Why a statement failed, told by SQLSTATE: what the writing paths (migrations, backfills) act on.

A driver error leaves the engine as a :class:`StatementFailed` carrying a :class:`Failure`,
so generic code can retry a lock timeout or resume after a lost connection without knowing
the driver's exception classes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum

import psycopg

from dbwright.engines.base import Connection
from dbwright.engines.postgres.errors import LOCK_NOT_AVAILABLE, QUERY_CANCELED
from dbwright.errors import MigrationFailedError
from dbwright.redact import redact


class Failure(Enum):
    """Why a statement failed, as far as the caller's choices go."""

    LOCK_TIMEOUT = "lock timeout"  # lock_timeout reached: retry later
    CONFLICT = "conflict"  # a deadlock or serialization failure: the transaction may simply be retried
    STATEMENT_TIMEOUT = "statement timeout"  # statement_timeout reached (or the statement was cancelled)
    ALREADY_EXISTS = "already exists"  # the object was there already (an enum value added by a killed run)
    CONNECTION_LOST = "connection lost"  # the session is gone: only what committed stays
    REFUSED = "refused"  # any other error the server reported


DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"
DUPLICATE_OBJECT = "42710"
UNIQUE_VIOLATION = "23505"

_BY_SQLSTATE = {
    LOCK_NOT_AVAILABLE: Failure.LOCK_TIMEOUT,
    DEADLOCK_DETECTED: Failure.CONFLICT,
    SERIALIZATION_FAILURE: Failure.CONFLICT,
    QUERY_CANCELED: Failure.STATEMENT_TIMEOUT,
    DUPLICATE_OBJECT: Failure.ALREADY_EXISTS,
}


class StatementFailed(MigrationFailedError):
    """A statement the server failed; the message is the server's first line, ``where`` the statement's place."""

    def __init__(
        self, message: str, failure: Failure, sqlstate: str | None, where: str | None = None
    ) -> None:
        super().__init__(message)
        self.failure = failure
        self.sqlstate = sqlstate
        self.where = where


def statement_failed(
    error: psycopg.Error, conn: Connection | None, where: str | None = None
) -> StatementFailed:
    """The driver's ``error`` as a StatementFailed; given ``conn``, a lost session is told apart."""
    lines = str(error).strip().splitlines()
    message = redact(lines[0] if lines else type(error).__name__)
    failure = _BY_SQLSTATE.get(error.sqlstate or "", Failure.REFUSED)
    if failure is Failure.REFUSED and conn is not None and conn.closed:
        failure = Failure.CONNECTION_LOST
    return StatementFailed(message, failure, error.sqlstate, where)


@contextmanager
def failures(conn: Connection | None = None) -> Iterator[None]:
    """Driver errors raised in the block leave it as :class:`StatementFailed`."""
    try:
        yield
    except psycopg.Error as error:
        raise statement_failed(error, conn) from None
