"""The documentation the product reads itself (MCP resources, check and lint-rule pages), as package data.

The pages live once, in the repository's ``docs/`` folder; ``src/dbwright/docs`` is a symlink to it, so
an editable checkout reads the files in place and a built wheel carries copies of them
(``[tool.setuptools.package-data]`` in pyproject.toml). Every reader goes through here, through
``importlib.resources``, so the pages are found wherever dbwright is installed.
"""

from __future__ import annotations

import re
from importlib.resources import files
from importlib.resources.abc import Traversable

#: A page name: a file stem under docs/ (``mcp``), docs/checks/ (``DW101``) or docs/lint-rules/ (``DW701``).
PAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,60}")
FOLDERS = ("", "checks", "lint-rules")


def docs_root() -> Traversable:
    """The folder holding the bundled pages (``docs/`` of a checkout, ``dbwright/docs`` in a wheel)."""
    return files("dbwright") / "docs"


def folder(name: str = "") -> Traversable:
    """One of the bundled folders: ``""`` (the guides), ``"checks"`` or ``"lint-rules"``."""
    if name not in FOLDERS:
        raise ValueError(f"no bundled docs folder {name!r}")
    return docs_root() / name if name else docs_root()


def page_names(name: str = "") -> list[str]:
    """The page stems of one bundled folder, sorted; empty when the docs are not installed."""
    where = folder(name)
    if not where.is_dir():
        return []
    return sorted(p.name[:-3] for p in where.iterdir() if p.name.endswith(".md") and p.is_file())


def read_page(page: str, name: str = "") -> str | None:
    """The Markdown of one page, or None when there is no such page (names are checked, never joined raw)."""
    if not PAGE_NAME.fullmatch(page):
        return None
    path = folder(name) / f"{page}.md"
    return path.read_text(encoding="utf-8") if path.is_file() else None
