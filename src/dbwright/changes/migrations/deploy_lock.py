"""The deploy lock: one lock per database, held for a whole run, so two deploys never interleave.

The engine takes and releases it (a session-level advisory lock for PostgreSQL, see
:mod:`dbwright.engines.postgres.advisory_locks`); here is the waiting: poll until it is
free or ``--lock-wait`` runs out, saying once whom we wait for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dbwright.engines.base import Connection
from dbwright.engines.postgres.advisory_locks import (
    deploy_lock_holder,
    release_deploy_lock,
    try_deploy_lock,
)
from dbwright.errors import RefusedError


@contextmanager
def deploy_lock(
    conn: Connection,
    wait_s: float,
    progress: Callable[[str], None] | None = None,
    poll_s: float = 0.1,
) -> Iterator[None]:
    """Hold the deploy lock for the block; wait up to ``wait_s`` seconds for it, then refuse."""
    deadline = time.monotonic() + wait_s
    told = False
    while not try_deploy_lock(conn):
        pid = deploy_lock_holder(conn)
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
        release_deploy_lock(conn)
