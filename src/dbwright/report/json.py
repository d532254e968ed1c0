"""JSON: ``Review.to_dict()`` as stable, indented text (documented in docs/json-format.md)."""

from __future__ import annotations

import json

from dbwright.review import Review


def render(review: Review) -> str:
    return json.dumps(review.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
