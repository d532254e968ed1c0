"""The output registry: which renderer presents which kind of result in which format.

A *kind* is a result dbwright hands back (a review, an audit, a lint run, an advisor's
report); a *format* is one module of this package whose ``RENDERERS`` maps kinds to
functions ``(result, **options) -> str``. A new format is one module plus its name in
``FORMATS``; a new kind is one line in ``KINDS`` plus its renderers.

Renderers of heavy kinds (the advisors) are named by path and imported on first use, so
asking which formats exist, as every command does for its ``--format`` choices, stays cheap.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any

from dbwright.errors import InvalidArgumentError

Renderer = Callable[..., str]

#: The registered formats, each a module of this package with a ``RENDERERS`` table.
FORMATS: tuple[str, ...] = ("text", "json", "markdown", "html", "sarif", "github")

#: Each kind of result and the class (``module:qualname``) that is one.
KINDS: dict[str, str] = {
    "review": "dbwright.review:Review",
    "audit": "dbwright.audit.run:Audit",
    "lint": "dbwright.changes.lint.findings:LintReport",
    "index-advice": "dbwright.advisors.indexes.advise:IndexAdvice",
    "explain": "dbwright.advisors.explain.api:Explanation",
    "design": "dbwright.advisors.design.design:DesignReport",
    "pii": "dbwright.audit.pii.classify:PiiReport",
    "role-access": "dbwright.audit.access:AccessMatrix",
}


class UnsupportedFormatError(InvalidArgumentError, ValueError):
    """A format the kind of result has no renderer for (exit 22; the CLI refuses it earlier, exit 2)."""


class Lazy:
    """A renderer named ``module:function``, imported when it first renders."""

    def __init__(self, path: str) -> None:
        self.path = path

    @functools.cached_property
    def function(self) -> Renderer:
        module, _, name = self.path.partition(":")
        return getattr(importlib.import_module(module), name)

    def __call__(self, result: Any, **options: Any) -> str:
        return self.function(result, **options)


def lazy(path: str) -> Lazy:
    return Lazy(path)


@functools.cache
def renderers() -> dict[tuple[str, str], Renderer]:
    """Every (format, kind) pair with its renderer, in the order of ``FORMATS``."""
    table: dict[tuple[str, str], Renderer] = {}
    for fmt in FORMATS:
        module = importlib.import_module(f"dbwright.output.{fmt}")
        for kind, renderer in module.RENDERERS.items():
            if kind not in KINDS:
                raise AssertionError(f"dbwright.output.{fmt} renders an unregistered kind {kind!r}")
            table[(fmt, kind)] = renderer
    return table


def formats_for(kind: str) -> tuple[str, ...]:
    """The formats ``kind`` can be rendered in, e.g. ``formats_for("lint")``."""
    if kind not in KINDS:
        raise KeyError(f"unknown kind of result {kind!r}; known: {', '.join(KINDS)}")
    return tuple(fmt for fmt, k in renderers() if k == kind)


def kind_of(result: object) -> str:
    """The registered kind ``result`` is (its class or a base class), found without importing any."""
    names = {f"{cls.__module__}:{cls.__qualname__}" for cls in type(result).__mro__}
    for kind, class_path in KINDS.items():
        if class_path in names:
            return kind
    raise TypeError(f"dbwright.output has no renderers for a {type(result).__qualname__}")


def renderer_for(kind: str, fmt: str) -> Renderer:
    try:
        return renderers()[(fmt.lower(), kind)]
    except KeyError:
        raise UnsupportedFormatError(
            f"unknown {kind} format {fmt!r}; use one of {', '.join(formats_for(kind))}"
        ) from None


def render(result: object, fmt: str, **options: Any) -> str:
    """``result`` in format ``fmt``. Options a renderer does not take are left out (colour means
    nothing to JSON), so a caller can pass the same options whatever the format."""
    renderer = renderer_for(kind_of(result), fmt)
    function = renderer.function if isinstance(renderer, Lazy) else renderer
    accepted = inspect.signature(function).parameters
    return renderer(result, **{k: v for k, v in options.items() if k in accepted})
