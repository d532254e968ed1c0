"""The pre-commit hooks (.pre-commit-hooks.yaml) as a user's repository runs them, on the files of a
throwaway git repository: ``pre-commit try-repo`` (which installs dbwright from this repository's
HEAD into a fresh virtualenv) runs both hooks on an unsafe migration and a snapshot with high
findings; a ``.pre-commit-config.yaml`` naming this repository at HEAD runs them on clean files.
Commit before running these tests: pre-commit installs HEAD, not the working tree.

try-repo keeps its environment in a temporary store; the configured run's store is cached per
commit under ~/.cache/dbwright-tests/pre-commit/<sha> (other commits' stores unused for an hour are
removed first; a concurrent run on another commit keeps its own),
so a rerun on the same commit does not reinstall.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from dbwright import api
from dbwright.model.findings import Severity

ROOT = Path(__file__).resolve().parents[2]
DEMO_SNAPSHOT = ROOT / "tests" / "sitegen" / "demo_snapshot.json"
UNSAFE = "CREATE INDEX orders_status ON orders (status);\n"
SAFE = "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status ON orders (status);\n"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=_clean_env()
    ).stdout.strip()


def _clean_env() -> dict[str, str]:
    """The environment without an enclosing git hook's GIT_* variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


@pytest.fixture(scope="module")
def head() -> str:
    if _git(ROOT, "status", "--porcelain", "--", ".pre-commit-hooks.yaml"):
        pytest.fail(".pre-commit-hooks.yaml has uncommitted changes: commit it, try-repo installs HEAD")
    return _git(ROOT, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def pre_commit_home(head: str) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dbwright-tests" / "pre-commit"
    cache.mkdir(parents=True, exist_ok=True)
    for other in cache.iterdir():  # an hour unused: no run of another commit is installing there now
        if other.name != head and time.time() - other.stat().st_mtime > 3600:
            shutil.rmtree(other, ignore_errors=True)
    home = cache / head
    home.mkdir(exist_ok=True)
    os.utime(home)  # in use: another commit's run leaves it alone
    return home


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's repository with migrations and snapshots, their files staged."""
    _git(tmp_path, "init", "-q")
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "V2__unsafe.sql").write_text(UNSAFE)
    (tmp_path / "db" / "V3__safe.sql").write_text(SAFE)
    shutil.copy(DEMO_SNAPSHOT, tmp_path / "db" / "prod.snapshot.json")
    (tmp_path / "db" / "clean.snapshot.json").write_text(json.dumps(_clean_snapshot(), indent=1))
    _git(tmp_path, "add", ".")
    return tmp_path


def _clean_snapshot() -> dict:
    """The demo's snapshot with every object removed and pgcrypto available: nothing high to find."""
    data = json.loads(DEMO_SNAPSHOT.read_text())
    for key, value in data.items():
        if isinstance(value, list):
            data[key] = []
    data["server"]["database"] = "clean"
    data["server"]["extensions"] = [
        {"name": "pgcrypto", "default_version": "1.3", "installed_version": None, "schema": None}
    ]
    return data


def _run(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**_clean_env(), "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args, "--color", "never"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_hooks_manifest_is_valid_and_names_both_hooks():
    checked = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"dbwright-lint", "dbwright-review-snapshot"}
    assert hooks["dbwright-lint"]["files"] == r"\.sql$"
    assert (
        hooks["dbwright-lint"]["entry"] == "dbwright lint"
    )  # fails on high, or at the config's [lint] fail_on
    review = hooks["dbwright-review-snapshot"]
    assert (review["entry"], review["args"]) == ("dbwright review", ["--fail-on", "high"])


def test_the_documented_config_is_valid_and_names_the_shipped_hooks(tmp_path):
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "ci.md").read_text(), re.DOTALL)
    documented = next(block for block in blocks if "repos:" in block)
    (tmp_path / ".pre-commit-config.yaml").write_text(documented)
    checked = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(tmp_path / ".pre-commit-config.yaml")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    [repo] = yaml.safe_load(documented)["repos"]
    shipped = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert {hook["id"] for hook in repo["hooks"]} == shipped


def test_try_repo_fails_on_an_unsafe_migration_and_a_snapshot_with_high_findings(
    project, pre_commit_home, head
):
    tried = _run(
        project,
        pre_commit_home,  # try-repo itself installs into a temporary store of its own
        "try-repo",
        str(ROOT),
        "--ref",
        head,
        "--files",
        "db/V2__unsafe.sql",
        "db/V3__safe.sql",
        "db/prod.snapshot.json",
    )
    output = tried.stdout + tried.stderr
    assert tried.returncode == 1, output
    lint, review = output.split("dbwright review (committed snapshot)", 1)
    assert "dbwright lint (migration SQL)" in lint and "Failed" in lint
    assert "db/V2__unsafe.sql:1: DW701 [high] Index built without CONCURRENTLY" in lint
    assert "db/V3__safe.sql:" not in lint  # the safe migration has no finding
    assert "Failed" in review
    worst = max(api.review(project / "db" / "prod.snapshot.json").findings, key=lambda f: f.severity)
    assert worst.severity >= Severity.HIGH
    assert worst.check.code in review and worst.finding.object in review  # found offline by the hook too


def test_configured_hooks_pass_a_safe_migration_and_a_clean_snapshot(project, pre_commit_home, head):
    config = {
        "repos": [
            {
                "repo": str(ROOT),
                "rev": head,
                "hooks": [
                    {"id": "dbwright-lint"},
                    {"id": "dbwright-review-snapshot", "files": r"^db/clean\.snapshot\.json$"},
                ],
            }
        ]
    }
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    passed = _run(project, pre_commit_home, "run", "--files", "db/V3__safe.sql", "db/clean.snapshot.json")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert (
        "dbwright lint (migration SQL)" in passed.stdout
        and "dbwright review (committed snapshot)" in passed.stdout
    )
    assert passed.stdout.count("Passed") == 2

    failed = _run(project, pre_commit_home, "run", "dbwright-lint", "--files", "db/V2__unsafe.sql")
    assert failed.returncode == 1 and "DW701" in failed.stdout, failed.stdout + failed.stderr

    # the project's configuration file sets the lint's threshold: DW701 is high, below critical
    (project / "dbwright.toml").write_text('[lint]\nfail_on = "critical"\n')
    relaxed = _run(project, pre_commit_home, "run", "dbwright-lint", "--files", "db/V2__unsafe.sql")
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr
