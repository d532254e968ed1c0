"""HTML: one self-contained file, everything escaped, working copy buttons, charts, collapsed findings,
a severity filter and each check's text in the file. In Chromium: tests/output/test_reports_in_chromium.py."""

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from dbwright.checks.registry import CATEGORIES
from dbwright.model.findings import Severity
from dbwright.output import check_docs, render
from dbwright.output.html import JS
from tests.output.conftest import HOSTILE_TABLE

VOID = {"meta", "br", "hr", "img", "input", "link", "rect", "wbr"}


class _Page(HTMLParser):
    """Collects tags, attributes and nesting problems of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.pre_text: dict[str, str] = {}
        self._pre: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "pre":
            self._pre = attributes.get("id")
            self.pre_text[self._pre] = ""
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()
        if tag == "pre":
            self._pre = None

    def handle_data(self, data):
        if self._pre is not None:
            self.pre_text[self._pre] += data


def _page(review) -> tuple[str, _Page]:
    text = render(review, "html")
    page = _Page()
    page.feed(text)
    page.close()
    return text, page


def test_html_is_well_formed_and_loads_nothing_from_the_network(review):
    text, page = _page(review)
    assert text.startswith("<!DOCTYPE html>")
    assert page.problems == [] and page.stack == []
    for tag, attrs in page.elements:
        assert "src" not in attrs, f"<{tag}> loads {attrs['src']}"
        assert tag != "link", "no external stylesheets"
        href = attrs.get("href") or ""
        if re.match(r"\s*(https?:)?//", href):  # a reference a reader may follow, never a load
            assert tag == "a" and href.startswith("https://"), f"<{tag}> points at the network: {href}"
    # outside the checks' own text (its references), every link stays inside the file
    before_checks = text.split('<section id="checks">', 1)[0]
    assert set(re.findall(r'href="([^"#][^"]*)"', before_checks)) == set()
    assert "@import" not in text and "url(" not in text
    assert len(re.findall(r"<style>", text)) == 1 and len(re.findall(r"<script>", text)) == 1


def test_html_escapes_names_and_sql_from_the_database(review):
    text, page = _page(review)
    assert "<script>alert" not in text  # the hostile table name never becomes markup
    assert html.escape(f"shop.{HOSTILE_TABLE}") in text
    [dw101] = [f for f in review.findings if f.check.code == "DW101"]
    assert html.escape(dw101.finding.fix.forward_sql) in text
    assert html.escape(dw101.finding.fix.rollback_sql) in text
    # what a reader copies is the SQL itself, unescaped
    assert dw101.finding.fix.forward_sql in page.pre_text.values()


def test_html_copy_buttons_target_their_sql_blocks(review):
    text, page = _page(review)
    buttons = [a for tag, a in page.elements if tag == "button" and "copy" in (a.get("class") or "")]
    with_fix = [f for f in review.findings if f.finding.fix]
    assert len(buttons) == 2 * len(with_fix) > 0  # forward and rollback for every fix
    assert {b["data-target"] for b in buttons} == set(page.pre_text)
    assert "navigator.clipboard.writeText" in text and 'execCommand("copy")' in text


def test_html_has_summary_areas_charts_and_skipped(review):
    text, page = _page(review)
    ids = {a.get("id") for _, a in page.elements}
    assert {"summary", "charts", "skipped"} <= ids
    assert {f"area-{c}" for c in CATEGORIES} <= ids
    charts = [a["aria-label"] for tag, a in page.elements if tag == "svg" or a.get("role") == "figure"]
    assert charts == ["score per area", "largest tables by size", "top queries by total time"]
    assert "shop.orders" in text.split('aria-label="largest tables by size"')[1].split("</section>")[0]
    assert "SELECT sum(total) FROM shop.orders" in text  # a top query, from pg_stat_statements
    for severity in ("critical", "high", "medium", "low", "info"):
        assert f'class="tally sev-{severity}"' in text
    skipped = text.split('<section id="skipped">', 1)[1]
    for check in review.skipped:
        assert f'<td data-label="Check">{check.check.code}</td>' in skipped
    for section in review.snapshot.skipped:
        assert f'<td data-label="Section">{section.section}</td>' in skipped
    assert page.elements.count(("table", {"class": "rows steps"})) == len(
        [f for f in review.findings if f.finding.fix]
    )


_NODE_HARNESS = r"""
const js = require('fs').readFileSync(0, 'utf8');
const results = [];
function run(clipboard) {
  let handler = null, label = null, copied = null;
  const pre = { textContent: "SELECT 'a<b>';" };
  const button = { dataset: { target: 'forward-1' }, set textContent(v) { label = v; }, closest: () => button };
  global.document = {
    addEventListener: (type, h) => { handler = h; },
    getElementById: id => (id === 'forward-1' ? pre : null),
    createElement: () => ({ style: {}, setAttribute() {}, select() {} }),
    createRange: () => ({ selectNodeContents() {} }),
    body: { appendChild() {}, removeChild() {} },
    execCommand: cmd => { copied = 'execCommand:' + pre.textContent; return cmd === 'copy'; },
  };
  global.window = { isSecureContext: true, getSelection: () => ({ removeAllRanges() {}, addRange() {} }) };
  global.navigator = clipboard ? { clipboard: { writeText: t => { copied = t; return Promise.resolve(); } } } : {};
  global.setTimeout = () => {};
  eval(js);
  handler({ target: button });
  return new Promise(resolve => setImmediate(() => resolve({ copied, label })));
}
run(true).then(r => { results.push(r); return run(false); })
  .then(r => { results.push(r); console.log(JSON.stringify(results)); });
"""


def test_html_copy_script_uses_the_clipboard_and_falls_back_without_it():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the copy script is exercised where it is")
    done = subprocess.run([node, "-e", _NODE_HARNESS], input=JS, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    with_clipboard, without_clipboard = json.loads(done.stdout)
    assert with_clipboard == {"copied": "SELECT 'a<b>';", "label": "Copied"}
    assert without_clipboard == {"copied": "execCommand:SELECT 'a<b>';", "label": "Copied"}


def test_findings_are_collapsed_with_the_fix_folded_and_a_severity_filter(review):
    text, page = _page(review)
    findings = [a for tag, a in page.elements if tag == "details" and "finding" in (a.get("class") or "")]
    assert len(findings) == len(review.findings)
    assert all("open" not in a for a in findings)  # collapsed by default: the headline only
    assert {a["data-severity"] for a in findings} == {f.severity.label for f in review.findings}
    fixes = [a for tag, a in page.elements if tag == "details" and a.get("class") == "fix"]
    assert len(fixes) == len([f for f in review.findings if f.finding.fix]) and all(
        "open" not in a for a in fixes
    )
    # the filter is hidden until the script shows it: without JS there is no control that does nothing
    [bar] = [a for tag, a in page.elements if a.get("id") == "filter"]
    assert "hidden" in bar
    options = [a["value"] for tag, a in page.elements if tag == "option"]
    assert options == ["critical", "high", "medium", "low", "info"]


def test_each_finding_carries_its_checks_why_and_how_in_the_file(review):
    text, page = _page(review)
    ids = {a.get("id") for _, a in page.elements}
    links = {a["href"] for tag, a in page.elements if tag == "a" and a.get("href", "").startswith("#check-")}
    codes = {f.check.code for f in review.findings}
    assert links == {f"#check-{code}" for code in codes}
    assert {f"check-{code}" for code in codes} <= ids  # every link lands in this same file
    assert "docs/checks/" not in text  # no path that only a source checkout has
    dw101 = next(f.check for f in review.findings if f.check.code == "DW101")
    article = text.split('id="check-DW101"', 1)[1].split("</details>", 1)[0]
    assert "A table with no primary key has no reliable way to address one row." in article
    assert "Fix:" in article and "References" in article
    urls = check_docs.references(dw101)
    assert urls and all(f'href="{html.escape(url)}"' in article for url in urls)


def test_the_filter_starts_at_the_lowest_severity_listed(review):
    def selected(result) -> list[str]:
        _, page = _page(result)
        return [a["value"] for tag, a in page.elements if tag == "option" and "selected" in a]

    assert selected(review) == [min(f.severity for f in review.findings).label]
    high = review.listing_at_or_above(Severity.HIGH)  # --min-severity high
    assert selected(high) == [min(f.severity for f in high.findings).label] if high.findings else ["info"]
    nothing = review.listing_at_or_above(Severity.CRITICAL)
    assert len(selected(nothing)) == 1  # one choice even with nothing listed
