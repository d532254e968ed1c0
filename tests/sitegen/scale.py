"""Reading Chromium's rendering of a page with many Mermaid diagrams: one verdict per diagram."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from tests.sitegen.browser import dump_dom

#: What Mermaid draws instead of a diagram when it gives up.
MERMAID_ERRORS = ("Syntax error", "Maximum text size", "Parse error", "error in text")


@dataclass
class Drawn:
    role: str  # aria-roledescription: "er", or "error" when Mermaid failed
    width: float
    text: str


class _Svgs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.drawn: list[Drawn] = []
        self.sources = 0

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "pre" and "mermaid" in (values.get("class") or ""):
            self.sources += 1
        if tag == "svg":
            if self.depth == 0:
                self.drawn.append(Drawn(values.get("aria-roledescription", ""), _width(values), ""))
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "svg":
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.drawn[-1].text += data + " "


def _width(attrs: dict) -> float:
    """The SVG's drawn width: Mermaid writes it as ``width`` or ``max-width`` in the style."""
    for text in (attrs.get("width") or "", attrs.get("style") or ""):
        found = re.search(r"(?:max-width:\s*)?([0-9.]+)(?:px)?", text)
        if found:
            return float(found.group(1))
    return 0.0


def rendered(page: Path, profile: Path) -> tuple[int, list[Drawn]]:
    """How many diagram sources the page holds, and what Chromium drew for them."""
    parser = _Svgs()
    parser.feed(dump_dom(page.as_uri(), profile, timeout=300))  # a page of many diagrams
    return parser.sources, [d for d in parser.drawn if d.role in ("er", "error")]


def problems(page: Path, profile: Path, *, max_width: float) -> list[str]:
    """Every way the page's diagrams failed: not drawn, drawn as an error, or wider than ``max_width``.

    Before the split, a hub table's diagram was 15,000-57,000 px wide; a page is read at about 1,400.
    """
    sources, drawn = rendered(page, profile)
    found = []
    if len(drawn) != sources:
        found.append(f"{page.name}: {sources} diagram sources, {len(drawn)} drawn")
    for number, diagram in enumerate(drawn, 1):
        errors = [e for e in MERMAID_ERRORS if e in diagram.text]
        if diagram.role != "er" or errors:
            found.append(f"{page.name} diagram {number}: {diagram.role} {errors} {diagram.text[:200]}")
        if diagram.width > max_width:
            found.append(f"{page.name} diagram {number}: {diagram.width:.0f} px wide")
    return found
