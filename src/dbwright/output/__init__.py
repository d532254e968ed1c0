"""Every way dbwright presents a result: text, JSON, Markdown, HTML, SARIF and GitHub annotations.

    render(result, fmt)   -> str                the result in one format, chosen by the result's type
    formats_for(kind)     -> tuple[str, ...]    the formats a kind of result has ("review", "lint", …)
    kind_of(result)       -> str                the kind a result is

A renderer only presents; it decides nothing about the database. The registry
(output/registry.py) says which renderer presents which kind in which format; a format a
kind does not have raises ``UnsupportedFormatError`` (an ``InvalidArgumentError``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbwright.output.registry import (
    FORMATS,
    KINDS,
    Renderer,
    UnsupportedFormatError,
    formats_for,
    kind_of,
    render,
    renderers,
)

if TYPE_CHECKING:
    from rich.console import Console

    from dbwright.review import Review


def print_review(review: Review, console: Console) -> None:
    """The review on a (colour) terminal, as ``dbwright review`` prints it (text.py imports rich)."""
    from dbwright.output.text import print_review as print_to

    print_to(review, console)


__all__ = [
    "FORMATS",
    "KINDS",
    "Renderer",
    "UnsupportedFormatError",
    "formats_for",
    "kind_of",
    "print_review",
    "render",
    "renderers",
]
