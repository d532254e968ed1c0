"""JSON: each result's ``to_dict()`` as stable, indented text (the review's is in docs/json-format.md)."""

from __future__ import annotations

import json
from typing import Any

from dbwright.output.registry import Renderer, lazy


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def render(result: Any) -> str:
    """Any result with a ``to_dict()``: a review, an audit, a lint run, an advisor's report."""
    return dumps(result.to_dict())


def render_role_access(matrix: Any) -> str:
    from dbwright.output.audit import role_access_dict

    return dumps(role_access_dict(matrix))


RENDERERS: dict[str, Renderer] = {
    **{kind: render for kind in ("review", "audit", "lint", "index-advice", "explain", "design", "pii")},
    "role-access": lazy("dbwright.output.json:render_role_access"),
}
