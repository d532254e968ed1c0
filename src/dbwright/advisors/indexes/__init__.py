"""The index advisor: workload-driven index recommendations within a storage budget.

``advise_indexes(target, budget=..., ...)`` is the API; everything else in this package is
one step of it (workload, generic plans, candidates, what-if evaluation, sizes, selection,
existing indexes) or a renderer of its result.
"""

from dbwright.advisors.indexes.advise import IndexAdvice, advise_indexes, parse_budget

__all__ = ["IndexAdvice", "advise_indexes", "parse_budget"]
