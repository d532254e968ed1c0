"""Reading links out of generated pages, to check that each one lands on a file."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"])
        if tag == "script" and values.get("src"):
            self.scripts.append(values["src"])


def html_links(page: Path) -> list[str]:
    parser = _Hrefs()
    parser.feed(page.read_text())
    return parser.hrefs + parser.scripts


def markdown_links(page: Path) -> list[str]:
    return re.findall(r"\]\(([^)]+)\)", page.read_text())


def broken_links(root: Path, pattern: str, reader) -> list[tuple[str, str]]:
    """(page, href) for each relative link that does not resolve to an existing file."""
    broken = []
    for page in sorted(root.rglob(pattern)):
        for href in reader(page):
            assert "://" not in href, f"{page}: absolute link {href}"
            if not (page.parent / unquote(href)).resolve().is_file():
                broken.append((str(page.relative_to(root)), href))
    return broken
