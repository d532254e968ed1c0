"""Every lint rule has a current docs page generated from its docstring and cases."""

from __future__ import annotations

from pathlib import Path

from dbwright.changes.lint import all_rules
from dbwright.changes.lint.docs import default_dir, problems, rule_page

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_every_rule_has_a_current_page():
    assert default_dir().resolve() == DOCS / "lint-rules"  # the bundled folder is the checkout's own
    assert problems(default_dir()) == [], "run: python -m dbwright.changes.lint.docs"
    for rule in all_rules():
        page = (DOCS / "lint-rules" / f"{rule.code}.md").read_text()
        assert rule.title in page and rule.doc.splitlines()[0] in page


def test_page_shows_flagged_and_clean_sql():
    rule = next(r for r in all_rules() if r.code == "DW701")
    page = rule_page(rule)
    assert "## Flagged" in page and "## Not flagged" in page and "CONCURRENTLY" in page


def test_lint_guide_lists_every_rule():
    guide = (DOCS / "lint.md").read_text()
    for rule in all_rules():
        assert rule.code in guide, rule.code
