"""The lint run as Markdown (a pull-request comment, the GitHub Action's job summary)."""

from pathlib import Path

from dbwright import api
from dbwright.output import render
from dbwright.output.sarif import DOCS_BASE_URI

UNSAFE = (
    "ALTER TABLE orders ADD COLUMN status text NOT NULL;\nCREATE INDEX orders_status ON orders (status);\n"
)
IGNORED = "-- dbwright:ignore DW701 reason: orders is empty until launch\nCREATE INDEX orders_day ON orders (day);\n"


def test_lint_markdown_lists_each_finding_with_its_rewrite_and_rule_link(tmp_path: Path):
    path = tmp_path / "V2__status.sql"
    path.write_text(UNSAFE)
    report = api.lint_report([path])
    text = render(report, "markdown")
    active = [f for f in report.findings if not f.ignored]
    assert text.startswith(f"# dbwright lint: {len(active)} finding(s) in 1 file(s)\n")
    assert "| File | Line | Rule | Severity | Lock | Finding |" in text
    for finding in active:
        assert f"[{finding.code}]({DOCS_BASE_URI}docs/lint-rules/{finding.code}.md)" in text
        assert f"| {finding.line} |" in text
    assert "| `" + str(path) + "` | 2 | [DW701]" in text
    assert (
        "## Safe rewrites" in text and "CREATE INDEX CONCURRENTLY orders_status ON orders (status);" in text
    )
    assert "```sql" in text


def test_lint_markdown_of_a_clean_file_and_of_an_ignored_finding(tmp_path: Path):
    clean = tmp_path / "V1__safe.sql"
    clean.write_text(
        "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_day ON orders (day);\n"
    )
    text = render(api.lint_report([clean]), "markdown")
    assert (
        text.startswith("# dbwright lint: 0 finding(s) in 1 file(s)") and "No unsafe statement found." in text
    )

    ignored = tmp_path / "V3__ignored.sql"
    ignored.write_text(IGNORED)
    report = api.lint_report([ignored])
    text = render(report, "markdown")
    assert [f.code for f in report.findings if f.ignored] == ["DW701"]
    assert "## Ignored with a reason" in text and "| 2 | DW701 | orders is empty until launch |" in text
