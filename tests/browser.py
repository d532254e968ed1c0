"""The HTML reports in a real headless Chromium, driven by Playwright (PyPI ``playwright``).

The browser is Debian's ``chromium`` (found as tests/sitegen/browser.py finds it: skipped when
absent, a failure with ``CI=true``); Playwright's own browser download is never used. A page is
measured as a reader sees it: horizontal overflow of the document and of every element, text
clipped by its box (an HTML element that scrolls or hides what it holds, an SVG label cut by its
chart), and every console error or uncaught exception. Each check keeps a full-page screenshot.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.sitegen.browser import chromium

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: A desktop window and a phone.
WIDTHS = (1400, 390)

_MEASURE = """
() => {
  const width = document.documentElement.clientWidth;
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.getAttribute("class") ? "." + el.getAttribute("class").split(" ").join(".") : "")
    + " «" + (el.textContent || "").trim().slice(0, 60) + "»";
  const tooWide = [], clipped = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) { continue; }  // not rendered (display:none, closed details)
    if (box.right > width + 0.5 || box.left < -0.5) { tooWide.push(name(el) + " right=" + Math.round(box.right)); }
    if (el instanceof SVGElement) {
      if (el.tagName.toLowerCase() === "text") {
        const chart = el.ownerSVGElement.getBoundingClientRect();
        if (box.left < chart.left - 0.5 || box.right > chart.right + 0.5) { clipped.push(name(el)); }
      }
      continue;
    }
    const style = getComputedStyle(el);
    if (style.overflowX !== "visible" && el.scrollWidth > el.clientWidth + 1) { clipped.push(name(el)); }
  }
  // text that runs out of its (narrower) box: a long name with no place to break
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim() || node.parentElement.closest("svg")) { continue; }
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width && (box.right > width + 0.5 || box.left < -0.5)) {
      tooWide.push("text in " + name(node.parentElement) + " right=" + Math.round(box.right));
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: width, tooWide, clipped};
}
"""


@dataclass
class Layout:
    """What a page looked like at one width."""

    width: int
    scroll_width: int
    client_width: int
    too_wide: list[str]
    clipped: list[str]
    errors: list[str] = field(default_factory=list)
    screenshot: Path | None = None

    @property
    def overflows(self) -> bool:
        return self.scroll_width > self.client_width or bool(self.too_wide)


#: The screenshot folders this run used, printed in pytest's summary (tests/conftest.py).
ARTIFACT_FOLDERS: list[Path] = []


def artifacts_dir(name: str) -> Path:
    """Where screenshots are kept: ``$DBWRIGHT_TEST_ARTIFACTS/name`` (CI uploads that folder), else
    ``dbwright-test-artifacts/name`` in the system temp folder. Not pytest's numbered temp folders:
    other pytest runs on the machine prune those, and the screenshots must outlive the run."""
    root = Path(
        os.environ.get("DBWRIGHT_TEST_ARTIFACTS") or Path(tempfile.gettempdir()) / "dbwright-test-artifacts"
    )
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    if path not in ARTIFACT_FOLDERS:
        ARTIFACT_FOLDERS.append(path)
    return path


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """A headless Chromium (Debian's) under Playwright, closed afterwards."""
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        message = "playwright is not installed (pip install -e '.[test]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(FLAGS), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_page(browser: Any, path: Path, width: int) -> Iterator[tuple[Any, list[str]]]:
    """A page with ``path`` loaded at ``width`` px, and the list its console errors are collected in."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    try:
        page.goto(path.as_uri(), wait_until="load")
        yield page, errors
    finally:
        page.close()


def measure(page: Any, errors: list[str], width: int, screenshot: Path | None = None) -> Layout:
    """The page's layout now; a full-page screenshot to ``screenshot`` first, when given."""
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=True)
    found = page.evaluate(_MEASURE)
    return Layout(
        width,
        found["scrollWidth"],
        found["clientWidth"],
        found["tooWide"],
        found["clipped"],
        list(errors),
        screenshot,
    )


def open_every_details(page: Any) -> int:
    """Open every <details> (collapsed findings, fixes, note groups), so their content is laid out too."""
    return page.evaluate(
        "() => { const all = document.querySelectorAll('details'); all.forEach(d => { d.open = true; }); "
        "return all.length; }"
    )


def check_layout(browser: Any, path: Path, artifacts: Path, name: str) -> list[Layout]:
    """``path`` at every width, as loaded (screenshot kept) and with every <details> open."""
    layouts = []
    for width in WIDTHS:
        with open_page(browser, path, width) as (page, errors):
            layouts.append(measure(page, errors, width, artifacts / f"{name}-{width}.png"))
            open_every_details(page)
            layouts.append(measure(page, errors, width))
    return layouts


def problems(layouts: list[Layout]) -> list[str]:
    """Every overflow, clipped label and console error, one line each, for an assertion message."""
    found = []
    for layout in layouts:
        if layout.scroll_width > layout.client_width:
            found.append(
                f"{layout.width}px: document scrolls sideways ({layout.scroll_width} > {layout.client_width})"
            )
        found += [f"{layout.width}px: wider than the viewport: {item}" for item in layout.too_wide[:10]]
        found += [f"{layout.width}px: clipped: {item}" for item in layout.clipped[:10]]
        found += [f"{layout.width}px: console: {error}" for error in layout.errors]
    return sorted(set(found))
