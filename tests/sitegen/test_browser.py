"""The generated HTML in a real headless Chromium: Mermaid draws the ER diagram from file://, links work."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest

from dbwright.model import Snapshot
from dbwright.sitegen import Relationship, build_site
from tests.sitegen.browser import dump_dom
from tests.sitegen.links import broken_links, html_links, markdown_links


class _Dom(HTMLParser):
    """The rendered SVGs' text, and the links with their text."""

    def __init__(self) -> None:
        super().__init__()
        self.svg_depth = 0
        self.svgs: list[dict] = []
        self.links: dict[str, str] = {}
        self._href: str | None = None
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "svg":
            if self.svg_depth == 0:
                self.svgs.append({"attrs": values, "text": [], "classes": []})
            self.svg_depth += 1
        if self.svg_depth and values.get("class"):
            self.svgs[-1]["classes"].append(values["class"])
        if tag == "a":
            self._href = values.get("href")
        self._in_title = tag == "title" and not self.svg_depth

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg_depth -= 1
        if tag == "a":
            self._href = None
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self.svg_depth:
            self.svgs[-1]["text"].append(data)
        if self._href is not None and data.strip():
            self.links[data.strip()] = self._href
        if self._in_title:
            self.title += data


def _parse(dom: str) -> _Dom:
    parsed = _Dom()
    parsed.feed(dom)
    return parsed


@pytest.fixture
def html_site(shop_snapshot, tmp_path):
    implied = (
        Relationship(
            "shop.refunds",
            ("order_id",),
            "shop.orders",
            ("id",),
            "refunds_order_id_fkey",
            implied=True,
            evidence="150 values checked, 0 orphan rows",
        ),
    )
    build_site(shop_snapshot, tmp_path / "site", implied=implied, implied_source="test")
    return tmp_path / "site"


@pytest.mark.slow  # two Chromium runs, about 4 s
def test_schema_page_renders_the_er_diagram_and_its_links_lead_to_table_pages(html_site, tmp_path):
    schema_url = (html_site / "shop.html").as_uri()
    dom = _parse(dump_dom(schema_url, tmp_path / "profile"))
    assert dom.title == "Schema shop"
    diagrams = [s for s in dom.svgs if s["attrs"].get("aria-roledescription") == "er"]
    assert len(diagrams) == 1, "Mermaid did not draw the ER diagram"
    drawn = " ".join(diagrams[0]["text"])
    for name in ("shop.orders", "shop.order_lines", "shop.refunds", "crm.customers", "placed_at"):
        assert name in drawn
    assert "Syntax error" not in drawn
    assert any("dashed" in c for c in diagrams[0]["classes"]), "the implied relationship is not dashed"

    # follow the link from the schema page to the table page, as the browser resolves it
    table_url = urljoin(schema_url, dom.links["orders"])
    assert table_url.endswith("/shop/orders.html")
    table = _parse(dump_dom(table_url, tmp_path / "profile"))
    assert table.title == "Table shop.orders"
    around = " ".join(next(s for s in table.svgs if s["attrs"].get("aria-roledescription") == "er")["text"])
    assert {"shop.orders", "crm.customers", "shop.refunds"} <= set(re.findall(r"[a-z_]+\.[a-z_]+", around))
    assert urljoin(table_url, table.links["crm.customers.id"]).endswith("/crm/customers.html")


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    """The site for the embedded demo database (`dbwright demo`), from a catalog snapshot of it.

    demo_snapshot.json is a real snapshot of the demo (PostgreSQL 18, scale 1) cut to the sections
    the docs read; see docs/docs-site.md for how it was made. No demo server is started here.
    """
    snap = Snapshot.from_json((Path(__file__).parent / "demo_snapshot.json").read_text())
    out = tmp_path_factory.mktemp("demo") / "site"
    build_site(snap, out, format="both")
    return out


def test_demo_site_links_resolve(demo_site):
    assert broken_links(demo_site, "*.html", html_links) == []
    assert broken_links(demo_site, "*.md", markdown_links) == []
    assert len(list(demo_site.glob("*/*.html"))) == 15


@pytest.mark.slow  # two Chromium runs, about 4 s
def test_demo_schema_diagrams_render_in_chromium(demo_site, tmp_path):
    for schema, tables in (
        ("shop", ("shop.orders", "shop.customers", "shop.order_items", "shop.products")),
        ("auth", ("auth.users", "auth.sessions", "auth.api_keys")),
    ):
        dom = _parse(dump_dom((demo_site / f"{schema}.html").as_uri(), tmp_path / "profile"))
        diagrams = [s for s in dom.svgs if s["attrs"].get("aria-roledescription") == "er"]
        assert len(diagrams) == 1, f"{schema}: no ER diagram drawn"
        drawn = " ".join(diagrams[0]["text"])
        assert all(t in drawn for t in tables), (schema, drawn[:500])
        assert "Syntax error" not in drawn
        assert all(
            (demo_site / f"{schema}.html").parent.joinpath(dom.links[t.split(".")[1]]).is_file()
            for t in tables
        )


@pytest.mark.slow  # one Chromium run, about 2 s
def test_awkward_identifiers_still_draw_and_link(pg, tmp_path):
    pg.execute("""
        CREATE SCHEMA "Sales Ops";
        CREATE TABLE "Sales Ops"."Big Deals" ("deal id" int PRIMARY KEY, "2nd owner" text, price numeric(12,2));
        CREATE TABLE "Sales Ops"."deal/notes" (id int PRIMARY KEY,
            "deal id" int REFERENCES "Sales Ops"."Big Deals" ("deal id"), note text);
        COMMENT ON TABLE "Sales Ops"."Big Deals" IS 'Quotes "inside" and <b>markup</b>';
    """)
    from dbwright.engines.registry import take_snapshot

    out = tmp_path / "site"
    build_site(take_snapshot(pg.url), out, format="both")
    assert (out / "Sales~20~Ops/Big~20~Deals.html").is_file() and (
        out / "Sales~20~Ops/deal~2f~notes.html"
    ).is_file()
    assert broken_links(out, "*.html", html_links) == [] and broken_links(out, "*.md", markdown_links) == []
    page = (out / "Sales~20~Ops/Big~20~Deals.html").read_text()
    assert "Quotes &quot;inside&quot; and &lt;b&gt;markup&lt;/b&gt;" in page and "<b>markup" not in page
    dom = _parse(dump_dom((out / "Sales~20~Ops.html").as_uri(), tmp_path / "profile"))
    diagram = next(s for s in dom.svgs if s["attrs"].get("aria-roledescription") == "er")
    drawn = " ".join(diagram["text"])
    assert "Sales Ops.Big Deals" in drawn and "Sales Ops.deal/notes" in drawn and "Syntax error" not in drawn
