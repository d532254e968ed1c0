"""Plan tokens: apply runs exactly the planned statements, through the migration runner, or nothing."""

from __future__ import annotations

import psycopg

from dbwright.changes.migrations.files import parse_file
from dbwright.mcp import build_server
from tests.mcp.conftest import call, call_many, text_of

CHANGE = "CREATE INDEX CONCURRENTLY canary_note ON canary (note);"
UNDO = "DROP INDEX CONCURRENTLY canary_note;"


def test_plan_change_is_a_dry_run_with_a_token(fresh_canary):
    result = call(
        build_server(fresh_canary.url, mode="plan"), "plan_change", {"sql": CHANGE, "down_sql": UNDO}
    )
    assert not result.isError, text_of(result)
    data = result.structuredContent
    assert data["plan_token"].startswith("dwp1-")
    [statement] = data["statements"]
    assert statement["lock"] == "SHARE UPDATE EXCLUSIVE" and statement["in_transaction"] is False
    assert "SHARE UPDATE EXCLUSIVE" in text_of(result)
    fresh_canary.assert_intact()


def test_changed_plan_is_refused(fresh_canary, tmp_path):
    server = build_server(fresh_canary.url, mode="apply", migrations_dir=tmp_path)
    token = call(server, "plan_change", {"sql": CHANGE, "down_sql": UNDO}).structuredContent["plan_token"]
    changed, forged, other_down = call_many(
        server,
        [
            ("apply_plan", {"plan_token": token, "sql": "DROP TABLE canary;", "down_sql": UNDO}),
            ("apply_plan", {"plan_token": "dwp1-" + "0" * 64, "sql": CHANGE, "down_sql": UNDO}),
            ("apply_plan", {"plan_token": token, "sql": CHANGE, "down_sql": "DROP TABLE canary;"}),
        ],
    )
    for result in (changed, forged, other_down):
        assert result.isError and "plan token does not match" in text_of(result)
    fresh_canary.assert_intact()
    assert list(tmp_path.iterdir()) == []


def test_token_from_another_server_is_refused(fresh_canary, tmp_path):
    token = call(
        build_server(fresh_canary.url, mode="plan"), "plan_change", {"sql": CHANGE, "down_sql": UNDO}
    ).structuredContent["plan_token"]
    result = call(
        build_server(fresh_canary.url, mode="apply", migrations_dir=tmp_path),
        "apply_plan",
        {"plan_token": token, "sql": CHANGE, "down_sql": UNDO},
    )
    assert result.isError and "plan token does not match" in text_of(result)
    fresh_canary.assert_intact()


def test_apply_runs_exactly_the_plan_through_the_runner(fresh_canary, tmp_path):
    server = build_server(fresh_canary.url, mode="apply", migrations_dir=tmp_path)
    token = call(
        server, "plan_change", {"sql": CHANGE, "down_sql": UNDO, "name": "note index"}
    ).structuredContent["plan_token"]
    result = call(
        server, "apply_plan", {"plan_token": token, "sql": CHANGE, "down_sql": UNDO, "name": "note index"}
    )
    assert not result.isError, text_of(result)
    assert result.structuredContent["action"] == "apply"
    [written] = list(tmp_path.glob("V*__note_index.sql"))
    migration = parse_file(written)  # the file `dbwright migrate new` writes, with both parts filled
    assert (migration.up.strip(), migration.down.strip()) == (CHANGE, UNDO)
    with psycopg.connect(fresh_canary.url) as conn:
        assert conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'canary_note'::regclass"
        ).fetchone() == (True,)
        assert conn.execute("SELECT filename, status FROM dbwright.schema_history").fetchall() == [
            (written.name, "applied")
        ]
    assert fresh_canary.read_rows() == fresh_canary.rows


def test_pending_directory_plan_changed_after_planning_is_refused(fresh_canary, tmp_path):
    (tmp_path / "V1__note.sql").write_text(f"-- migrate:up\n{CHANGE}\n-- migrate:down\n{UNDO}\n")
    server = build_server(fresh_canary.url, mode="apply", migrations_dir=tmp_path)
    token = call(server, "plan_migrations").structuredContent["plan_token"]
    (tmp_path / "V1__note.sql").write_text("-- migrate:up\nDROP TABLE canary;\n-- migrate:down\n")
    result = call(server, "apply_plan", {"plan_token": token})
    assert result.isError and "plan token does not match" in text_of(result)
    fresh_canary.assert_intact()


def test_apply_mode_needs_a_migrations_directory(pg):
    import pytest

    from dbwright.errors import RefusedError

    with pytest.raises(RefusedError, match="migrations directory"):
        build_server(pg.url, mode="apply")


def test_apply_waits_for_the_deploy_lock_and_gives_up(fresh_canary, tmp_path):
    from dbwright.changes.migrations import ApplyOptions
    from dbwright.engines.postgres.advisory_locks import DEPLOY_LOCK_KEY

    server = build_server(fresh_canary.url, mode="apply", migrations_dir=tmp_path)
    server.dbwright_context.apply_options = ApplyOptions(lock_wait_s=0.5)
    token = call(server, "plan_change", {"sql": CHANGE, "down_sql": UNDO}).structuredContent["plan_token"]
    with psycopg.connect(fresh_canary.url, autocommit=True) as other_deploy:
        other_deploy.execute("SELECT pg_advisory_lock(%s, %s)", DEPLOY_LOCK_KEY)
        result = call(server, "apply_plan", {"plan_token": token, "sql": CHANGE, "down_sql": UNDO})
    assert result.isError and "another dbwright apply holds the deploy lock" in text_of(result)
    fresh_canary.assert_intact()
    assert list(tmp_path.iterdir()) == []


def test_apply_retries_lock_timeouts(fresh_canary, tmp_path):
    import threading

    from dbwright.changes.migrations import ApplyOptions

    change = "ALTER TABLE canary ADD COLUMN added int;"
    server = build_server(fresh_canary.url, mode="apply", migrations_dir=tmp_path)
    server.dbwright_context.apply_options = ApplyOptions(lock_timeout="100ms", retries=10, backoff_s=0.1)
    token = call(server, "plan_change", {"sql": change}).structuredContent["plan_token"]
    holder = psycopg.connect(fresh_canary.url)
    holder.execute("LOCK TABLE canary IN ACCESS SHARE MODE")  # a long reader: ALTER TABLE must wait
    threading.Timer(0.6, holder.rollback).start()
    try:
        result = call(server, "apply_plan", {"plan_token": token, "sql": change})
    finally:
        holder.close()
    assert not result.isError, text_of(result)
    assert sum(step["retries"] for step in result.structuredContent["steps"]) >= 1
    assert fresh_canary.read_rows() == [(i, n, None) for i, n in fresh_canary.rows]
