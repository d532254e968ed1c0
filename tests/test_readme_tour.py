"""The README tour's machinery (tests/readme_tour.py) on text: which blocks, which excerpt, what is masked.

The tour itself, a fresh `dbwright demo` compared with the README, runs in tests/cli/test_demo_command.py.
"""

from __future__ import annotations

from tests.readme_tour import README, console_blocks, demo_excerpt, masked, splice, tour_problems

DEMO_STDOUT = """\
╭─ dbwright review · dbwright_demo · PostgreSQL 18.6 ─╮
│ 80 finding(s)  1 critical  17 high  32 medium        │
│ snapshot 2026-12-07T19:22:14+00:00 · 97 checks run   │
╰──────────────────────────────────────────────────────╯
 design          ██████████░░░░░░░░░░░░░░░░░░░░  34/100
 workload        █████████████████░░░░░░░░░░░░░  56/100

────────────  CRITICAL (1)  ────────────
design
  DW111  billing.invoices.number  Integer key running out of values

────────────  HIGH (17)  ────────────
design
  DW101  analytics.events  Table without a primary key
Index advice for dbwright_demo
  workload cost (estimated ms): 6,804.7 ms → 3,160.8 ms (54% lower)
HTML report: /tmp/x/project/dbwright-demo-report.html
Demo database: postgresql://postgres@/dbwright_demo?host=/tmp/x/pgdata&port=5432
"""


def test_the_readme_has_three_tour_blocks_run_as_written():
    blocks = console_blocks(README.read_text())
    assert [b.commands[0].split()[:2] for b in blocks] == [
        ["dbwright", "demo"],
        ["dbwright", "review"],
        ["dbwright", "fix"],
    ]
    assert blocks[0].commands == ["dbwright demo"] and blocks[2].commands[-1] == "cat migration.sql"


def test_the_demo_excerpt_keeps_the_summary_scores_first_section_and_the_last_lines():
    excerpt = demo_excerpt(DEMO_STDOUT, "· starting\n· enabling pg_stat_statements\n· loading 1%\n")
    assert excerpt[:3] == ["· starting", "· enabling pg_stat_statements", "…"]
    assert excerpt[excerpt.index("…", 3) - 1].endswith("Integer key running out of values")
    assert not any("HIGH" in line or "Index advice" in line for line in excerpt)
    assert excerpt[-2:] == [
        "HTML report: /tmp/x/project/dbwright-demo-report.html",
        "Demo database: postgresql://postgres@/dbwright_demo?host=/tmp/x/pgdata&port=5432",
    ]


def test_only_measured_time_is_masked():
    assert masked(DEMO_STDOUT) == masked(
        DEMO_STDOUT.replace("2026-12-07T19:22:14+00:00", "2027-01-01T00:00:00+00:00")
        .replace(
            "80 finding(s)  1 critical  17 high  32 medium", "81 finding(s)  1 critical  17 high  33 medium"
        )
        .replace("█████████████████░░░░░░░░░░░░░  56/100", "████████████████░░░░░░░░░░░░░░  53/100")
        .replace("6,804.7 ms → 3,160.8 ms", "6,900.1 ms → 3,200.0 ms")
    )
    for changed in (
        DEMO_STDOUT.replace("34/100", "35/100"),  # any other area's score
        DEMO_STDOUT.replace("97 checks run", "96 checks run"),
        DEMO_STDOUT.replace("/tmp/x/project/", "/tmp/x/"),
        DEMO_STDOUT.replace("port=5432", "port=5433"),
    ):
        assert masked(changed) != masked(DEMO_STDOUT)


def test_splice_replaces_block_bodies_and_the_check_shows_a_diff():
    readme = README.read_text()
    blocks = console_blocks(readme)
    bodies = [readme[b.start : b.end] for b in blocks]
    assert splice(readme, bodies) == readme
    assert tour_problems(readme, readme) == ""
    stale = splice(readme, [bodies[0].replace("34/100", "35/100"), *bodies[1:]])
    diff = tour_problems(readme, stale)
    assert "-" in diff and "35/100" in diff and diff.startswith("--- README.md")
