"""Markdown: sections, findings with their fix SQL, and what was skipped."""

from dbwright.output import render
from tests.output.conftest import HOSTILE_TABLE


def test_markdown_has_summary_areas_findings_and_skipped(review):
    text = render(review, "markdown")
    assert text.startswith("# dbwright review of `report_renderers`")
    assert "## Summary" in text and "| Area | Score |" in text
    for category in {f.check.category for f in review.findings}:
        assert f"\n## {category.capitalize()}\n" in text
    [dw101] = [f for f in review.findings if f.check.code == "DW101"]
    assert f"· DW101 Table without a primary key · `shop.{HOSTILE_TABLE}`" in text
    assert f"```sql\n{dw101.finding.fix.forward_sql}\n```" in text
    assert f"```sql\n{dw101.finding.fix.rollback_sql}\n```" in text
    assert "| Step | Lock | Impact |" in text
    skipped = text.split("\n## Skipped\n", 1)[1]
    for check in review.skipped:
        assert f"| {check.check.code} |" in skipped
    for section in review.snapshot.skipped:
        assert f"| {section.section} |" in skipped


def test_markdown_inline_code_survives_backticks():
    from dbwright.output.markdown import code, fenced

    assert code("a`b") == "``a`b``"
    assert fenced("select '```'", "sql").startswith("````sql\n")


def test_markdown_makes_database_text_inert(review):
    from dbwright.output.markdown import cell, code, prose

    assert prose("t<script>*x*[a](b)") == "t&lt;script&gt;\\*x\\*\\[a\\](b)"
    assert cell("a|b\nc") == "a\\|b c"
    assert cell(code("x|y")) == "`x\\|y`"  # code spans keep their text; only the pipe is escaped
    text = render(review, "markdown")
    assert f"{HOSTILE_TABLE} has no primary key" not in text
    assert "\\[bold\\]&lt;script&gt;alert('x')&lt;/script&gt; has no primary key" in text


def test_markdown_links_each_check_to_its_page_by_absolute_url(review):
    """The report is read as a pull-request comment or job summary, where a relative docs path breaks."""
    from dbwright.output.sarif import DOCS_BASE_URI

    text = render(review, "markdown")
    for reviewed in review.findings:
        assert f"Docs: [{reviewed.check.code}]({DOCS_BASE_URI}docs/checks/{reviewed.check.code}.md)" in text
    assert "](docs/checks/" not in text
