"""Server-side limits: a heavy query is cut off by the server and leaves no backend behind."""

from __future__ import annotations

import time

from dbwright.mcp import Limits, build_server
from tests.mcp.conftest import call, text_of

CROSS_JOIN = "SELECT count(*) FROM generate_series(1, 200000) a CROSS JOIN generate_series(1, 200000) b"


def mcp_backends(pg) -> list[tuple]:
    return pg.execute(
        "SELECT pid, state, query FROM pg_stat_activity WHERE application_name = 'dbwright-mcp'"
    )


def wait_for_no_backend(pg, seconds: float = 2.0) -> list[tuple]:
    deadline = time.monotonic() + seconds
    while (left := mcp_backends(pg)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_heavy_cross_join_is_cut_off(pg):
    server = build_server(pg.url, limits=Limits(statement_timeout_ms=300))
    started = time.monotonic()
    result = call(server, "query", {"sql": CROSS_JOIN})
    elapsed = time.monotonic() - started
    assert result.isError
    assert "canceling statement due to statement timeout" in text_of(result)
    assert elapsed < 2.5
    assert wait_for_no_backend(pg) == []


def test_explain_analyze_is_cut_off_too(pg):
    server = build_server(pg.url, limits=Limits(statement_timeout_ms=300))
    result = call(server, "explain", {"sql": CROSS_JOIN, "analyze": True})
    assert result.isError and "statement timeout" in text_of(result)
    assert wait_for_no_backend(pg) == []


def test_cut_result_leaves_no_backend(pg):
    server = build_server(pg.url)
    result = call(server, "query", {"sql": "SELECT g FROM generate_series(1, 100000) g", "max_rows": 5})
    assert result.structuredContent["truncated"] is True
    assert wait_for_no_backend(pg) == []


def test_lock_wait_is_bounded(pg):
    pg.execute("CREATE TABLE busy (id int)")
    holder = pg.connect()
    holder.execute("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")  # held until the test ends
    server = build_server(pg.url, limits=Limits(lock_timeout_ms=200))
    started = time.monotonic()
    result = call(server, "query", {"sql": "SELECT * FROM busy"})
    assert result.isError and "lock timeout" in text_of(result)
    assert time.monotonic() - started < 2.0
    holder.rollback()
