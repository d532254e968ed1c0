"""The deploy lock and named locks are session-level advisory locks: one holder, told by pid."""

from __future__ import annotations

import time

from dbwright.engines.postgres.advisory_locks import (
    deploy_lock_holder,
    release_deploy_lock,
    release_named_lock,
    try_deploy_lock,
    try_named_lock,
)


def test_one_session_holds_the_deploy_lock_and_the_other_sees_its_pid(pg):
    first, second = pg.connect(autocommit=True), pg.connect(autocommit=True)
    assert deploy_lock_holder(first) is None
    assert try_deploy_lock(first)
    assert not try_deploy_lock(second)
    assert deploy_lock_holder(second) == first.info.backend_pid
    release_deploy_lock(first)
    assert try_deploy_lock(second)
    release_deploy_lock(second)


def test_releasing_on_a_closed_session_is_quiet(pg):
    conn = pg.connect(autocommit=True)
    assert try_deploy_lock(conn)
    conn.close()
    release_deploy_lock(conn)
    release_named_lock(conn, "job")
    # The closed session's backend lets go of its locks as it exits, a moment after close().
    deadline = time.monotonic() + 5
    while not try_deploy_lock(pg.conn):
        assert time.monotonic() < deadline, "the closed session's lock was never released"
        time.sleep(0.05)
    release_deploy_lock(pg.conn)


def test_named_locks_are_per_name(pg):
    first, second = pg.connect(autocommit=True), pg.connect(autocommit=True)
    assert try_named_lock(first, "dbwright backfill a")
    assert not try_named_lock(second, "dbwright backfill a")
    assert try_named_lock(second, "dbwright backfill b")
    release_named_lock(first, "dbwright backfill a")
    assert try_named_lock(second, "dbwright backfill a")
