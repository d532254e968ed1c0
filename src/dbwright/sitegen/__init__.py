"""Generated documentation: a Markdown and/or self-contained HTML site, ER diagrams and a CSV dictionary.

``build_site(snapshot, out_dir)`` is the API; ``dbwright docs`` is its command.
"""

from dbwright.sitegen.build import FORMATS, build_site, find_implied, implied_relationships, render_site
from dbwright.sitegen.site import Relationship, Site

__all__ = [
    "FORMATS",
    "Relationship",
    "Site",
    "build_site",
    "find_implied",
    "implied_relationships",
    "render_site",
]
