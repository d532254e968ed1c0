"""A check's docstring as HTML, for every registered check: lists stay lists, code stays code, links work."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from dbwright.checks.registry import all_checks, find_check
from dbwright.output import check_docs


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(tag)


@pytest.mark.parametrize("check", all_checks(), ids=lambda c: c.code)
def test_every_checks_text_renders_as_balanced_html(check):
    rendered = check_docs.doc_html(check)
    parser = _Balance()
    parser.feed(rendered)
    assert parser.problems == [] and parser.stack == [], check.code
    assert "``" not in rendered  # every code span became <code>
    assert not re.search(r"<p>- ", rendered)  # a list item never ends up as a paragraph
    assert check_docs.inline_html(check_docs.paragraphs(check)[0]) in rendered
    for url in check_docs.references(check):
        assert f'<a href="{url}">' in rendered.replace("&amp;", "&")


def test_lists_code_and_the_why_and_fix_paragraphs():
    check = find_check("DW101")
    rendered = check_docs.doc_html(check)
    assert "<ul><li>An existing unique index is a candidate key." in rendered
    assert "<code>NOT NULL</code>" in rendered
    assert check_docs.why_paragraph(check).startswith("Logical replication cannot replicate")
    assert check_docs.fix_paragraph(check).startswith("on an ordinary table, add a bigint identity column")


def test_text_from_a_docstring_is_escaped():
    assert check_docs.inline_html("a <b> & ``x < y`` see https://example.org/a?b=1&c=2.") == (
        "a &lt;b&gt; &amp; <code>x &lt; y</code> see "
        '<a href="https://example.org/a?b=1&amp;c=2">https://example.org/a?b=1&amp;c=2</a>.'
    )
