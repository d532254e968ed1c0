"""The SQLSTATE a server sent when it refused a connection, read from libpq's verbose error form.

psycopg hands over a failed connect as message text only: libpq's connection API has no result
to read error fields from. But libpq writes the SQLSTATE into that text itself when the
connection's error verbosity is VERBOSE (``FATAL:  28P01: password authentication failed …``),
whatever language the server speaks. psycopg does not wrap ``PQsetErrorVerbosity``, so this
module calls it through ctypes on the very libpq psycopg uses, on a second, bare connection
attempt made only after the first one failed, and reads the code. It sends no query: the
attempt ends when the server refuses (or accepts) the session.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import glob
import os
import re
import select
import time

import psycopg
from psycopg import pq

PQERRORS_VERBOSE = 2
_CODE = re.compile(r"\b(?:FATAL|ERROR|PANIC):\s+([0-9A-Z]{5}):")


@functools.cache
def _libpq() -> ctypes.CDLL | None:
    """The libpq psycopg itself runs on: its wheel's bundled copy, or the system's."""
    candidates: list[str] = []
    if pq.__impl__ == "binary":
        import psycopg_binary

        wheel_libs = os.path.join(os.path.dirname(psycopg_binary.__file__), os.pardir, "psycopg_binary.libs")
        candidates += sorted(glob.glob(os.path.join(wheel_libs, "libpq*.so*")))
    elif pq.__impl__ == "python":
        from psycopg.pq import _pq_ctypes

        return _with_signature(_pq_ctypes.pq)
    if found := ctypes.util.find_library("pq"):
        candidates.append(found)
    for path in candidates:
        try:
            return _with_signature(ctypes.CDLL(path))
        except OSError:
            continue
    return None


def _with_signature(lib: ctypes.CDLL) -> ctypes.CDLL | None:
    if not hasattr(lib, "PQsetErrorVerbosity"):
        return None
    lib.PQsetErrorVerbosity.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.PQsetErrorVerbosity.restype = ctypes.c_int
    return lib


def refusal_sqlstate(conninfo: str, timeout_s: float = 5.0) -> str | None:
    """Connect once more with verbose errors and return the SQLSTATE of the refusal, if any.

    None when the server accepted the session this time, sent no code (it was never reached),
    or the driver's libpq cannot be reached through ctypes.
    """
    lib = _libpq()
    if lib is None:
        return None
    try:
        pgconn = pq.PGconn.connect_start(conninfo.encode())
    except psycopg.Error:
        return None
    try:
        lib.PQsetErrorVerbosity(pgconn.pgconn_ptr, PQERRORS_VERBOSE)
        deadline = time.monotonic() + timeout_s
        status = pgconn.connect_poll()
        while status not in (pq.PollingStatus.OK, pq.PollingStatus.FAILED):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            socket = pgconn.socket
            if status == pq.PollingStatus.READING:
                select.select([socket], [], [], remaining)
            else:
                select.select([], [socket], [], remaining)
            status = pgconn.connect_poll()
        match = _CODE.search(pgconn.error_message.decode("utf-8", "replace"))
        return match[1] if match else None
    except (psycopg.Error, OSError, ValueError):
        return None
    finally:
        pgconn.finish()
