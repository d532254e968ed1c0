"""Driver errors of analysis queries, as the dbwright errors generic code catches.

A design review skips a table whose query ran past ``statement_timeout`` and one it may not
read, but stops on any other server failure. Generic code makes those choices by catching
``QueryTimeoutError``, ``ReadDeniedError`` and ``ServerError``; only this module knows the
psycopg exceptions behind them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import psycopg

from dbwright.errors import QueryTimeoutError, ReadDeniedError, ServerError

P = ParamSpec("P")
R = TypeVar("R")


def first_line(error: BaseException) -> str:
    """The server's message without its DETAIL/HINT lines."""
    return (str(error).splitlines() or [""])[0]


def message_line(error: BaseException) -> str:
    """The error's first non-blank line, or its class name when it has no text (what/where a plan failed)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def translated(error: psycopg.Error, *, named: bool = True) -> ServerError:
    """The dbwright error a driver error means.

    A cancelled statement and a missing privilege carry the server's first line as it is (callers
    put it in a skip reason); any other failure is a ServerError named after the driver's class
    ("UndefinedTable: relation … does not exist"), unless ``named`` is False.
    """
    line = first_line(error)
    if isinstance(error, psycopg.errors.QueryCanceled):
        return QueryTimeoutError(line)
    if isinstance(error, psycopg.errors.InsufficientPrivilege):
        return ReadDeniedError(line or "permission denied")
    return ServerError(f"{type(error).__name__}: {line}" if named else line)


@contextmanager
def translating(*, named: bool = True) -> Iterator[None]:
    """Driver errors raised in the block leave it as dbwright errors (see ``translated``)."""
    try:
        yield
    except psycopg.Error as error:
        raise translated(error, named=named) from None


def translate(function: Callable[P, R]) -> Callable[P, R]:
    """An engine function whose driver errors leave it as dbwright errors (see ``translated``)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except psycopg.Error as error:
            raise translated(error) from None

    return wrapper
