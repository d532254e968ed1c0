"""Data-driven design review: profile the data, find what the catalog cannot show.

``design_review(target, ...)`` is the API. Dependencies that break third normal form, keys
and foreign keys nobody declared, never-NULL columns and over-wide types each become a
proposal with a change package. desbordante (AGPL-3.0, the optional ``design`` extra) adds
full discovery; without it, targeted candidates are tested in SQL.
"""

from dbwright.advisors.design.design import DesignReport, design_review
from dbwright.advisors.design.proposal import Proposal

__all__ = ["DesignReport", "Proposal", "design_review"]
