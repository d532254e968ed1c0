"""The deploy lock: one session-level advisory lock per database, so two deploys never interleave.

Session-level, not transaction-level: a migration spans several transactions when it has
CONCURRENTLY steps, and the lock must cover all of them. If the deploying process dies, its
session ends and PostgreSQL releases the lock by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import psycopg

from dbwright.errors import RefusedError

#: The two int4 halves of the key: 'dbwr' and 'migr'.
LOCK_KEY = (0x64627772, 0x6D696772)

_HOLDER = """
SELECT pid FROM pg_locks
 WHERE locktype = 'advisory' AND granted AND classid = %s AND objid = %s AND objsubid = 2
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
 LIMIT 1"""


def holder(conn: psycopg.Connection) -> int | None:
    """The backend pid holding the deploy lock, if any."""
    row = conn.execute(_HOLDER, LOCK_KEY).fetchone()
    return row[0] if row else None


@contextmanager
def deploy_lock(
    conn: psycopg.Connection,
    wait_s: float,
    progress: Callable[[str], None] | None = None,
    poll_s: float = 0.1,
) -> Iterator[None]:
    """Hold the deploy lock for the block; wait up to ``wait_s`` seconds for it, then refuse."""
    deadline = time.monotonic() + wait_s
    told = False
    while not conn.execute("SELECT pg_try_advisory_lock(%s, %s)", LOCK_KEY).fetchone()[0]:
        pid = holder(conn)
        if time.monotonic() >= deadline:
            raise RefusedError(
                f"another dbwright apply holds the deploy lock (pid {pid}); waited {wait_s:g}s "
                "(--lock-wait) and gave up; nothing was applied"
            )
        if progress and not told:
            progress(f"waiting up to {wait_s:g}s for the deploy lock held by pid {pid}")
            told = True
        time.sleep(poll_s)
    try:
        yield
    finally:
        # If the session is going away, PostgreSQL releases the lock with it.
        with suppress(psycopg.Error):
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", LOCK_KEY)
