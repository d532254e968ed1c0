"""Both HTML reports (the review and the index advice; the audit page too, which shares the review's
stylesheet) in headless Chromium at 1400 px and 390 px: no sideways scrolling, no element wider than
the window, no clipped label, no console error; the severity filter and the collapsed findings work.
Full-page screenshots are kept (their folder is printed at the end of the run).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dbwright import api
from dbwright.output import render
from tests.browser import WIDTHS, check_layout, chromium_browser, open_page, problems


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as running:
        yield running


@pytest.fixture(scope="module")
def pages(review, advices, cluster, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reports")
    written = {"review": folder / "review.html", "audit": folder / "audit.html"}
    written["review"].write_text(render(review, "html"))
    written["audit"].write_text(render(api.audit(cluster.url(review.snapshot.server.database)), "html"))
    for name, advice in advices.items():
        written[f"index-advice-{name}"] = folder / f"index-advice-{name}.html"
        written[f"index-advice-{name}"].write_text(render(advice, "html"))
    return written


@pytest.mark.slow  # 16 page loads in Chromium, about 15 s
@pytest.mark.parametrize(
    "name", ["review", "index-advice-ms", "index-advice-real", "index-advice-unverified", "audit"]
)
def test_report_fits_every_width_without_clipping_or_console_errors(browser, pages, name, screenshots):
    layouts = check_layout(browser, pages[name], screenshots, name)
    assert problems(layouts) == []
    assert len(layouts) == 2 * len(WIDTHS)
    for width in WIDTHS:
        shot = screenshots / f"{name}-{width}.png"
        assert shot.is_file() and shot.stat().st_size > 10_000, shot


@pytest.mark.slow  # Chromium
def test_findings_start_collapsed_and_the_fix_opens_on_a_click(browser, pages, review):
    with open_page(browser, pages["review"], 1400) as (page, errors):
        state = page.evaluate(
            "() => [...document.querySelectorAll('details.finding')].map(d => "
            "[d.open, d.querySelector('.msg').checkVisibility()])"
        )
        assert len(state) == len(review.findings) > 0
        assert all(not is_open and not visible for is_open, visible in state)  # collapsed: body not shown
        first_with_fix = page.locator("details.finding:has(details.fix)").first
        first_with_fix.locator("summary").first.click()
        assert first_with_fix.evaluate("d => d.open")
        fix = first_with_fix.locator("details.fix")
        assert not fix.evaluate("d => d.open")  # the fix stays folded until asked for
        fix.locator("summary").click()
        assert fix.evaluate("d => d.open") and fix.locator("pre").first.is_visible()
        assert errors == []


@pytest.mark.slow  # Chromium
def test_severity_filter_hides_findings_below_the_chosen_severity(browser, pages, review):
    severities = [f.severity for f in review.findings]
    floor = sorted(set(severities))[len(set(severities)) // 2]
    expected = sum(1 for s in severities if s >= floor)
    assert 0 < expected < len(severities), "the fixture needs findings on both sides of the floor"
    with open_page(browser, pages["review"], 390) as (page, errors):
        assert page.locator("#filter").is_visible()  # shown by the script; hidden without one
        page.select_option("#min-severity", floor.label)
        visible = page.evaluate(
            "() => [...document.querySelectorAll('details.finding')].filter(d => !d.hidden)"
            ".map(d => d.dataset.severity)"
        )
        assert len(visible) == expected
        assert page.locator("#shown").inner_text() == f"{expected} of {len(severities)} findings shown"
        page.click("#expand-all")
        opened = page.evaluate(
            "() => [...document.querySelectorAll('details.finding')].map(d => [d.hidden, d.open])"
        )
        assert all(
            is_open != hidden for hidden, is_open in opened
        )  # every shown finding opened, no hidden one
        page.select_option("#min-severity", "info")
        assert page.locator("details.finding:not([hidden])").count() == len(severities)
        assert errors == []


@pytest.mark.slow  # Chromium
def test_check_text_travels_with_the_file(browser, pages, review, tmp_path):
    """The why-and-how link is an anchor in the same file: it still works after the file is moved."""
    moved = tmp_path / "elsewhere" / "mailed-report.html"
    moved.parent.mkdir()
    moved.write_text(pages["review"].read_text())
    code = review.findings[0].check.code
    with open_page(browser, moved, 1400) as (page, errors):
        page.locator("details.finding").first.locator("summary").first.click()
        page.locator(f'details.finding a[href="#check-{code}"]').first.click()
        assert page.evaluate("() => location.hash") == f"#check-{code}"
        article = page.locator(f"#check-{code}")
        assert article.evaluate("d => d.open")  # the script opened the folded text it points at
        assert article.is_visible() and review.findings[0].check.title in article.inner_text()
        first_paragraph = article.locator("p").first
        assert first_paragraph.is_visible() and first_paragraph.inner_text().strip()
        assert article.evaluate("a => a.getBoundingClientRect().top") < 200  # scrolled to it
        assert errors == []
