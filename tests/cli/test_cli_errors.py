"""Every bad-input case: one line on stderr, its own exit code, no traceback, no password."""

import os
import subprocess
import sys

import pytest

from tests.pgcluster import APP_PASSWORD, free_port

SECRET = "Sup3rSecret-Do-Not-Print"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PGHOST", "PGDATABASE")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "dbwright", *args], capture_output=True, text=True, env=full_env, timeout=120
    )


def assert_clean_failure(result: subprocess.CompletedProcess, code: int, *phrases: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output
    assert SECRET not in output and APP_PASSWORD not in output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dbwright: error: ")
    for phrase in phrases:
        assert phrase in lines[0]


def test_malformed_url(cluster):
    result = run_cli("review", f"postgresql://alice:{SECRET}@localhost:notaport/db")
    assert_clean_failure(result, 10, "malformed connection target", "invalid port")


def test_unsupported_scheme():
    assert_clean_failure(
        run_cli("review", f"mysql://root:{SECRET}@localhost/db"), 10, "unsupported URL scheme"
    )


def test_unreachable_host():
    port = free_port()  # nothing listens there
    result = run_cli("review", f"postgresql://alice:{SECRET}@127.0.0.1:{port}/db")
    assert_clean_failure(result, 11, "cannot reach the server", "Connection refused")


def test_authentication_failure(pg):
    pg.role("app_user", f"LOGIN PASSWORD '{APP_PASSWORD}'")
    url = pg.cluster.url(pg.name, user="app_user", password=SECRET, tcp=True)
    result = run_cli("review", url)
    assert_clean_failure(result, 12, "authentication failed", "app_user")


def test_missing_database(cluster):
    result = run_cli("review", cluster.url("no_such_database"))
    assert_clean_failure(result, 13, "database does not exist", "no_such_database")


def test_server_too_old(pg):
    # No pre-13 server exists on this machine; raise the minimum past PostgreSQL 15 instead,
    # which drives the same code path against the real server.
    result = run_cli("review", pg.url, env={"DBWRIGHT_MIN_SERVER_VERSION": "990000"})
    assert_clean_failure(result, 14, "older than the oldest supported version 99", "PostgreSQL 15")


def test_bad_snapshot_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert_clean_failure(run_cli("review", str(path)), 18, "is not a dbwright snapshot")
    assert_clean_failure(run_cli("review", str(tmp_path / "missing.json")), 18, "not found")


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["advise", "indexes", "--weight-by", "vibes", "--query", "SELECT 1"], "unknown weighting 'vibes'"),
        (["advise", "indexes", "--objective", "fast", "--query", "SELECT 1"], "unknown objective 'fast'"),
        (
            ["audit-logging", "plan", "--table", "public.t", "--mode", "sometimes"],
            "unknown audit logging mode",
        ),
        (["roles", "plan", "--schema", "nope"], "schema does not exist: nope"),
    ],
)
def test_invalid_option_value_exits_22(pg, args, phrase):
    """An option value dbwright cannot use is exit 22 (invalid argument), not 10 (bad connection target)."""
    pg.execute("CREATE TABLE t (id int PRIMARY KEY)")
    result = run_cli(*args[:2], pg.url, *args[2:])
    assert_clean_failure(result, 22, phrase)


def test_usage_error_exit_code():
    result = run_cli("review", "--format", "bogus", "somedb")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "unknown format" in result.stderr


@pytest.mark.parametrize("args", [["exit-codes"], ["version"]])
def test_simple_commands(args):
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
