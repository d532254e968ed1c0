"""The README's first command, end to end: `dbwright demo` at full scale, then a fast rerun.

Slow (the full 1.24M-row demo is generated and reviewed), but it is the main job, so CI runs it.
The first run is the README's tour (tests/readme_tour.py): every console block of the README is
run as written in a throwaway home folder, and the README must say what the run said (up to
timestamps and durations), else this fails with the diff and `scripts/update-readme-tour`
rewrites it. Both HTML reports the demo writes are then opened in Chromium at 1400 and 390 px.
"""

from __future__ import annotations

import json

import pytest

from tests.browser import check_layout, chromium_browser, problems
from tests.readme_tour import README, run_tour, sandbox, splice, tour_problems


@pytest.mark.slow
def test_dbwright_demo_is_the_readme_tour_then_a_fast_rerun_then_stop(screenshots):
    readme = README.read_text()
    with sandbox() as box:
        bodies, results = run_tour(box, readme)
        stale = tour_problems(readme, splice(readme, bodies))
        assert stale == "", f"{stale}\n\nThe README's tour is stale: run scripts/update-readme-tour"

        first, first_s = results["dbwright demo"], box.seconds["dbwright demo"]
        report = box.project / "dbwright-demo-report.html"
        advice = box.project / "dbwright-demo-report-index-advice.html"
        assert f"HTML report: {report}\n" in first.stdout and f"Index advice: {advice}\n" in first.stdout
        socket_dir = box.root / ".local" / "share" / "dbwright" / "demo" / "pgdata"
        assert box.env["DATABASE_URL"] == f"postgresql://postgres@/dbwright_demo?host={socket_dir}&port=5432"
        assert (socket_dir / "postmaster.pid").is_file()  # the printed socket folder is the server's
        html = report.read_text()
        for code in ("DW101", "DW102", "DW201", "DW303", "DW401", "DW502", "DW606"):
            assert f'id="check-{code}"' in html, code
        assert "left behind: hypothetical_indexes 0, real_indexes 0" in first.stdout

        with chromium_browser() as browser:
            for name, path in (("demo-review", report), ("demo-index-advice", advice)):
                assert problems(check_layout(browser, path, screenshots, name)) == [], name

        second = box.run("dbwright demo")
        assert second.returncode == 0, second.stderr[-2000:]
        assert "loading" not in second.stderr  # the data directory and data are reused
        assert box.seconds["dbwright demo"] < first_s

        # No database named: a command falls back to the running demo and says so on stderr; in CI
        # (CI set) it refuses instead (issue 16 §2)
        fallback = box.run("env -u DATABASE_URL -u CI dbwright review --check DW101 -f json")
        assert fallback.returncode == 0, fallback.stderr[-2000:]
        assert "no database named: using the embedded demo database" in fallback.stderr
        assert json.loads(fallback.stdout)["database"] == "dbwright_demo"
        refused = box.run("env -u DATABASE_URL CI=true dbwright review --check DW101")
        assert refused.returncode == 22, refused.stderr
        assert refused.stderr.startswith("dbwright: error: no database named and CI is set")

        stopped = box.run("dbwright demo --stop")
        assert stopped.returncode == 0 and "embedded server stopped" in stopped.stderr
