"""Advisory locks: how dbwright keeps two deploys (or two runs of one backfill) from interleaving.

Session-level, not transaction-level: a migration spans several transactions when it has
CONCURRENTLY steps, and the lock must cover all of them. If the holding process dies, its
session ends and PostgreSQL releases the lock by itself, so releasing is best effort.
"""

from __future__ import annotations

from contextlib import suppress

import psycopg

from dbwright.engines.base import Connection

#: The deploy lock's two int4 halves: 'dbwr' and 'migr'.
DEPLOY_LOCK_KEY = (0x64627772, 0x6D696772)

_HOLDER = """
SELECT pid FROM pg_locks
 WHERE locktype = 'advisory' AND granted AND classid = %s AND objid = %s AND objsubid = 2
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
 LIMIT 1"""

#: A lock named by text: its 64-bit key is the name's hash.
_NAMED = "SELECT {}(hashtextextended(%s, 0))"


def try_deploy_lock(conn: Connection) -> bool:
    """Take the deploy lock if nobody holds it; True if this session holds it now."""
    return conn.execute("SELECT pg_try_advisory_lock(%s, %s)", DEPLOY_LOCK_KEY).fetchone()[0]


def deploy_lock_holder(conn: Connection) -> int | None:
    """The backend pid holding the deploy lock, if any."""
    row = conn.execute(_HOLDER, DEPLOY_LOCK_KEY).fetchone()
    return row[0] if row else None


def release_deploy_lock(conn: Connection) -> None:
    """Release the deploy lock; a session that is going away releases it with itself."""
    with suppress(psycopg.Error):
        if not conn.closed:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", DEPLOY_LOCK_KEY)


def try_named_lock(conn: Connection, name: str) -> bool:
    """Take the session-level lock called ``name`` if nobody holds it; True if this session does now."""
    return conn.execute(_NAMED.format("pg_try_advisory_lock"), (name,)).fetchone()[0]


def release_named_lock(conn: Connection, name: str) -> None:
    """Release the lock called ``name``; a session that is going away releases it with itself."""
    if not conn.closed:
        with suppress(psycopg.Error):
            conn.execute(_NAMED.format("pg_advisory_unlock"), (name,))
