"""Reliability: SIGKILL at random points, two concurrent deploys, tampered files, malformed SQL.

The kill test runs `python -m dbwright migrate apply` in a subprocess, kills it with SIGKILL
after a random delay (seeded), and checks that the history and the live schema agree: a
completed step is in both, an interrupted transaction is in neither, and an interrupted
outside-transaction step is marked running, its only trace being its own index. Then a
rerun must finish the job, leaving the same schema as an uninterrupted run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from dbwright.changes.migrations import apply, status, verify
from dbwright.changes.migrations.fingerprint import differences
from tests.changes.migrations.conftest import FAST, live_schema, rows, write
from tests.changes.migrations.kill_set import INDEXES, write_set
from tests.cli.test_cli_errors import run_cli

KILL_RUNS = 20
WORKERS = 3
SEED = 20251124


def _spawn(url: str, directory: Path, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PGHOST", "PGDATABASE")}
    return subprocess.Popen(
        [sys.executable, "-m", "dbwright", "migrate", "apply", "-d", url, "--dir", str(directory), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _backend_pid(admin: psycopg.Connection, database: str, timeout: float = 15.0) -> int | None:
    """The pid of the apply's session once it has connected (None if it finished first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = 'dbwright migrate'",
            (database,),
        ).fetchone()
        if row:
            return row[0]
        time.sleep(0.01)
    return None


def _state_after_kill(url: str, directory: Path, empty: dict) -> str:
    """Assert the history and the schema agree; name the state the kill left."""
    history = rows(url)
    live = live_schema(url)
    if not history:
        assert live == empty, differences(empty, live)
        return "nothing applied"
    assert all(r.status == "applied" and r.step_running is None for r in history[:-1])
    last = history[-1]
    diff = differences(last.schema_doc, live)
    report = verify(url, directory)
    assert report.problems == []
    assert (report.partial is not None) == (last.status != "applied")
    if last.step_running is None:
        assert diff == [], diff  # every committed step is in the history, and nothing else is in the schema
        return "clean" if last.status == "applied" else "partial"
    # An outside-transaction step was running: its index may be half built, and nothing else differs.
    assert all(any(index in line for index in INDEXES) for line in diff), diff
    assert "was running when the run stopped" in report.partial
    return "partial, step running" + (" (INVALID index left)" if diff else "")


@pytest.mark.slow
def test_sigkill_at_random_points_never_splits_history_from_schema(pg, cluster, tmp_path):
    directory = tmp_path / "migrations"
    write_set(directory)
    empty = live_schema(pg.url)
    admin = psycopg.connect(cluster.url("postgres"), autocommit=True)
    # An uninterrupted run gives the reference schema and the window to kill in: connect to exit.
    process = _spawn(pg.url, directory)
    _backend_pid(admin, pg.name)
    started = time.monotonic()
    process.communicate(timeout=60)
    clean_seconds = time.monotonic() - started
    assert process.returncode == 0
    reference = live_schema(pg.url)
    rng = random.Random(SEED)
    delays = [rng.uniform(0, clean_seconds) for _ in range(KILL_RUNS)]
    names = [f"{pg.name}_kill{i}" for i in range(KILL_RUNS)]

    def run(i: int) -> str:
        url = cluster.url(names[i])
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as own_admin:
            own_admin.execute(f'CREATE DATABASE "{names[i]}" TEMPLATE template0')
            process = _spawn(url, directory)
            try:
                _backend_pid(own_admin, names[i])
                time.sleep(delays[i])
                process.send_signal(signal.SIGKILL)
            finally:
                process.wait(timeout=30)
        state = _state_after_kill(url, directory, empty)
        apply(url, directory, FAST)  # the rerun waits for the dead session's lock, then finishes
        assert verify(url, directory).ok
        assert live_schema(url) == reference
        assert [r.status for r in rows(url)] == ["applied"] * 3
        return state

    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            states = Counter(pool.map(run, range(KILL_RUNS)))
    finally:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    print(f"\nkill states over {KILL_RUNS} runs (clean apply {clean_seconds:.2f}s): {dict(states)}")
    assert sum(states.values()) == KILL_RUNS
    assert len(states) >= 2, states  # the kills landed in different kinds of step


def test_two_concurrent_applies_one_applies_the_other_waits(pg, tmp_path):
    directory = tmp_path / "migrations"
    write_set(directory)
    # Hold the deploy lock long enough that the second process (a fresh interpreter) always
    # arrives while the first still holds it, however loaded the machine is.
    write(directory, 4, "slow", "CREATE TABLE slow_marker (id int);\nSELECT pg_sleep(4);")
    first = _spawn(pg.url, directory)
    admin = pg.connect(autocommit=True)
    holder = _backend_pid(admin, pg.name)
    _wait_for_advisory_lock(admin, holder)
    second = _spawn(pg.url, directory, "--lock-wait", "30")
    out1, err1 = first.communicate(timeout=60)
    out2, err2 = second.communicate(timeout=60)
    assert (first.returncode, second.returncode) == (0, 0), err1 + err2
    assert "applied 4 migration(s)" in out1
    assert "nothing to apply" in out2
    assert f"waiting up to 30s for the deploy lock held by pid {holder}" in err2
    assert [r.version for r in rows(pg.url)] == ["1", "2", "3", "4"]


def test_two_concurrent_applies_the_other_gives_up_clearly(pg, tmp_path):
    directory = tmp_path / "migrations"
    write_set(directory)
    # Hold the deploy lock long enough that the second process (a fresh interpreter) always
    # arrives while the first still holds it, however loaded the machine is.
    write(directory, 4, "slow", "CREATE TABLE slow_marker (id int);\nSELECT pg_sleep(4);")
    first = _spawn(pg.url, directory)
    admin = pg.connect(autocommit=True)
    holder = _backend_pid(admin, pg.name)
    _wait_for_advisory_lock(admin, holder)
    second = subprocess.run(
        [
            sys.executable,
            "-m",
            "dbwright",
            "migrate",
            "apply",
            "-d",
            pg.url,
            "--dir",
            str(directory),
            "--lock-wait",
            "0.2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    first.communicate(timeout=60)
    assert first.returncode == 0
    assert second.returncode == 17
    assert second.stderr.strip().splitlines()[-1] == (
        f"dbwright: error: another dbwright apply holds the deploy lock (pid {holder}); "
        "waited 0.2s (--lock-wait) and gave up; nothing was applied"
    )
    assert [r.version for r in rows(pg.url)] == ["1", "2", "3", "4"]


def _wait_for_advisory_lock(admin: psycopg.Connection, pid: int | None, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if admin.execute(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = %s", (pid,)
        ).fetchone():
            return
        time.sleep(0.01)
    raise AssertionError(f"the first apply (pid {pid}) never took the deploy lock")


def test_malformed_sql_is_a_parse_error_with_file_and_line_and_nothing_applied(pg, mdir):
    write(mdir, 1, "good", "CREATE TABLE good (id int);")
    write(mdir, 2, "bad", "CREATE TABLE fine (id int);\n\nALTER TABLE fine ADD COLUMN;")
    result = run_cli("migrate", "apply", "-d", pg.url, "--dir", str(mdir))
    assert result.returncode == 16
    assert result.stderr.startswith("dbwright: error: V2__bad.sql:5: syntax error at or near")
    assert len(result.stderr.strip().splitlines()) == 1
    assert pg.value("SELECT to_regclass('public.good')") is None
    assert rows(pg.url) == []
    assert [m.filename for m in status(pg.url, mdir).pending] == ["V1__good.sql", "V2__bad.sql"]
