"""Where each page lives, and relative links between pages (so the site works from any folder)."""

from __future__ import annotations

import posixpath

from dbwright.sitegen.pages import DICTIONARY_FILE, Link, Page
from dbwright.sitegen.site import Site


def page_path(site: Site, kind: str, name: str, ext: str, index_name: str) -> str:
    if kind == "index":
        return index_name
    if kind == "schema":
        return site.schema_page(name, ext)
    if kind == "table":
        return site.table_page(name, ext)
    if kind == "view":
        return site.view_page(name, ext)
    if kind == "function":
        return site.function_page(name, ext)
    if kind == "dictionary":
        return DICTIONARY_FILE
    raise ValueError(f"unknown page kind {kind!r}")


def relative(from_path: str, to_path: str) -> str:
    return posixpath.relpath(to_path, posixpath.dirname(from_path) or ".")


def href(site: Site, page: Page, link: Link, ext: str, index_name: str) -> str:
    here = page_path(site, page.kind, page.name, ext, index_name)
    return relative(here, page_path(site, link.kind, link.name, ext, index_name))
