"""The README's first command, end to end: `dbwright demo` at full scale, then a fast rerun.

Slow (the full 1.24M-row demo is generated and reviewed), but it is the main job, so CI runs it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.cli.test_cli_errors import run_cli

README = Path(__file__).resolve().parents[2] / "README.md"


def _tour_facts(text: str) -> tuple[tuple[str, ...], list[str]]:
    """What the README's tour shows that does not depend on timing: checks run and skipped, the areas."""
    checks = re.search(r"(\d+) checks run, (\d+) skipped", text)
    assert checks, text[:2000]
    return checks.groups(), re.findall(r"^ (\w+) +[█░]+ +\d+/100", text, re.M)


@pytest.mark.slow
def test_dbwright_demo_end_to_end_then_fast_rerun_then_stop():
    # Not pytest's tmp_path: the embedded server's own system user must reach the directory.
    root = Path(tempfile.mkdtemp(prefix="dbwright-demo-cli-"))
    root.chmod(0o755)
    env = {"DBWRIGHT_DEMO_DIR": str(root / "demo")}
    report = root / "report.html"
    try:
        started = time.monotonic()
        first = run_cli("demo", "-o", str(report), env=env)
        first_s = time.monotonic() - started
        assert first.returncode == 0, first.stderr[-2000:]
        assert f"HTML report: {report}" in first.stdout
        html = report.read_text()
        assert _tour_facts(first.stdout) == _tour_facts(README.read_text())  # regenerate the tour if not
        for code in ("DW101", "DW102", "DW201", "DW303", "DW401", "DW502", "DW606"):
            assert code in html, code
        assert "Index advice:" in first.stdout
        assert "left behind: hypothetical_indexes 0, real_indexes 0" in first.stdout

        started = time.monotonic()
        second = run_cli("demo", "-o", str(report), env=env)
        assert second.returncode == 0, second.stderr[-2000:]
        assert "loading" not in second.stderr  # the data directory and data are reused
        assert time.monotonic() - started < first_s

        stopped = run_cli("demo", "--stop", env=env)
        assert stopped.returncode == 0 and "embedded server stopped" in stopped.stderr
    finally:
        run_cli("demo", "--stop", env=env)
        shutil.rmtree(root, ignore_errors=True)
