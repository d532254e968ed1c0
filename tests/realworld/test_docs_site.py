"""Docs at scale on real schemas nobody here wrote (issue 14, item 7): each corpus schema's site is
built, every link lands, and headless Chromium draws every diagram of the largest one without a
Mermaid error and at a readable width."""

from __future__ import annotations

import pytest

from dbwright.engines.registry import take_snapshot
from dbwright.sitegen import Site, build_site, mermaid
from tests.realworld.corpus import CORPUS
from tests.sitegen.links import broken_links, html_links, markdown_links
from tests.sitegen.scale import problems

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("schema", CORPUS, ids=lambda s: s.name)
def test_the_corpus_schemas_site_is_split_and_every_link_lands(pg, tmp_path, schema) -> None:
    schema.load(pg.url)
    snapshot = take_snapshot(pg.url)
    build_site(snapshot, tmp_path / "site", format="both")
    assert broken_links(tmp_path / "site", "*.html", html_links) == []
    assert broken_links(tmp_path / "site", "*.md", markdown_links) == []
    site = Site(snapshot)
    for name in site.schemas:
        diagrams = mermaid.schema_diagrams(site, name)
        drawn = sorted(t for d in diagrams for t in d.tables)
        assert drawn == sorted(t.qname for t in site.tables_in(name)), "each table drawn once with columns"


def test_chromium_draws_the_largest_corpus_schemas_diagrams(pg, tmp_path) -> None:
    largest = CORPUS[0]
    assert largest.name == "synapse"  # 138 tables in public at schema version 72
    largest.load(pg.url)
    snapshot = take_snapshot(pg.url)
    out = tmp_path / "site"
    build_site(snapshot, out)
    site = Site(snapshot)
    busiest = max(site.tables, key=lambda t: (len(site.neighbours(t)), t.qname))
    pages = [out / f"{name}.html" for name in site.schemas if site.tables_in(name)]
    pages.append(out / site.table_page(busiest.qname, "html"))
    found = [problem for page in pages for problem in problems(page, tmp_path / "profile", max_width=3000)]
    assert found == []
