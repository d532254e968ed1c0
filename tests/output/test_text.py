"""The terminal report: severity groups, scores, findings with SQL, and the skipped section."""

from rich.console import Console

from dbwright.output import print_review, render
from tests.output.conftest import HOSTILE_TABLE


def _printed(review) -> str:
    console = Console(record=True, width=100)
    print_review(review, console)
    return console.export_text()


def test_text_groups_by_severity_and_shows_scores_and_fix_sql(review):
    text = _printed(review)
    severities = sorted({f.severity for f in review.findings}, reverse=True)
    positions = [
        text.index(f" {s.label.upper()} ({sum(1 for f in review.findings if f.severity == s)}) ")
        for s in severities
    ]
    assert positions == sorted(positions)  # worst first
    for area, score in review.scores().items():
        assert any(line.lstrip().startswith(area) and f"{score}/100" in line for line in text.splitlines())
    assert f"shop.{HOSTILE_TABLE}" in text  # printed as itself: not parsed as markup
    assert "ADD COLUMN id bigint" in text and "BEGIN;" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_text_lists_skipped_checks_and_snapshot_sections_with_reasons(review):
    text = _printed(review)
    skipped = text.split("Skipped", 1)[1]
    assert review.skipped and review.snapshot.skipped
    for check in review.skipped:
        assert check.check.code in skipped
    for section in review.snapshot.skipped:
        assert f"section {section.section}" in skipped
        assert " ".join(section.reason.split()[:4]) in " ".join(skipped.split())


def test_text_format_renders_without_colour(review):
    text = render(review, "text")
    assert "\x1b[" not in text
    assert "dbwright review" in text and "report_renderers" in text
