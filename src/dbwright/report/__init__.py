"""Renderers: the same ``Review`` presented as JSON, Markdown, HTML, SARIF or terminal text.

A renderer is a function ``(review) -> str`` that only presents; it decides nothing about
the database. A new format is one module with a ``render`` function plus one line in
``FORMATS``.
"""

from __future__ import annotations

from collections.abc import Callable

from dbwright.report import html, json, markdown, sarif, text
from dbwright.review import Review

Renderer = Callable[[Review], str]

FORMATS: dict[str, Renderer] = {
    "json": json.render,
    "markdown": markdown.render,
    "html": html.render,
    "sarif": sarif.render,
    "text": text.render,
}


def render(review: Review, fmt: str) -> str:
    """The review in format ``fmt`` (one of ``FORMATS``)."""
    try:
        renderer = FORMATS[fmt.lower()]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}") from None
    return renderer(review)


__all__ = ["FORMATS", "Renderer", "render", "print_review"]

print_review = text.print_review
