"""``dbwright explain``: one statement's plan, annotated with what is wrong and which index would help.

``explain_query(target, sql, analyze=...)`` is the API; ``run`` runs EXPLAIN safely,
``readonly`` decides what may be run, ``annotate`` reads the plan, ``render`` spells it out.
"""

from dbwright.advisors.explain.annotate import Annotation, Thresholds
from dbwright.advisors.explain.api import Explanation, Suggestion, explain_query
from dbwright.advisors.explain.readonly import check_read_only, parse_one

__all__ = [
    "Annotation",
    "Explanation",
    "Suggestion",
    "Thresholds",
    "check_read_only",
    "explain_query",
    "parse_one",
]
