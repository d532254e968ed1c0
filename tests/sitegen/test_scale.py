"""Docs at scale: a 400-table schema with hub tables is split into diagrams Chromium draws, no
Mermaid error and no diagram tens of thousands of pixels wide; views and functions get pages."""

from __future__ import annotations

import pytest

from dbwright.engines.registry import take_snapshot
from dbwright.sitegen import Site, build_site, clusters, mermaid
from tests.sitegen.links import broken_links, html_links, markdown_links
from tests.sitegen.scale import problems

HUBS = ("accounts", "products", "regions")


def _large_schema_sql(tables: int = 400) -> str:
    """Three hub tables every other table references, chains of detail tables, and loners."""
    sql = ["CREATE SCHEMA big;"]
    for hub in HUBS:
        sql.append(
            f"CREATE TABLE big.{hub} (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz, "
            "note text, code varchar(20), status text, owner_name text, updated_at timestamptz);"
        )
    for n in range(tables - len(HUBS)):
        columns = ", ".join(f"attribute_{k} text" for k in range(12))
        refs = ""
        if n % 5 != 4:  # every fifth table stands alone
            refs = ", account_id bigint REFERENCES big.accounts, region_id bigint REFERENCES big.regions"
            if n % 2:
                refs += ", product_id bigint REFERENCES big.products"
            if n % 5 and n > 0 and (n - 1) % 5 != 4:
                refs += f", parent_id bigint REFERENCES big.detail_{n - 1:03d}"
        sql.append(f"CREATE TABLE big.detail_{n:03d} (id bigint PRIMARY KEY, {columns}{refs});")
    sql.append(
        "CREATE VIEW big.active_accounts AS SELECT id, name FROM big.accounts WHERE status = 'active';"
    )
    sql.append("COMMENT ON VIEW big.active_accounts IS 'Accounts that can log in';")
    sql.append(
        "CREATE MATERIALIZED VIEW big.account_counts AS SELECT region_id, count(*) FROM big.detail_000 GROUP BY 1;"
    )
    sql.append(
        "CREATE FUNCTION big.account_name(bigint) RETURNS text LANGUAGE sql STABLE "
        "AS 'SELECT name FROM big.accounts WHERE id = $1';"
    )
    sql.append("CREATE FUNCTION big.account_name(text) RETURNS text LANGUAGE sql STABLE AS 'SELECT $1';")
    sql.append("COMMENT ON FUNCTION big.account_name(bigint) IS 'Display name of an account';")
    return "\n".join(sql)


@pytest.fixture(scope="module")
def large_site(cluster, tmp_path_factory):
    import psycopg

    database = "docs_scale"
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}" TEMPLATE template0')
    try:
        with psycopg.connect(cluster.url(database), autocommit=True) as conn:
            conn.execute(_large_schema_sql())
        snapshot = take_snapshot(cluster.url(database))
    finally:
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    out = tmp_path_factory.mktemp("scale") / "site"
    build_site(snapshot, out, format="both")
    return snapshot, out


def test_a_large_schema_is_split_into_diagrams_that_each_fit(large_site):
    snapshot, _ = large_site
    site = Site(snapshot)
    diagrams = mermaid.schema_diagrams(site, "big")
    assert len(diagrams) > 1
    assert all(len(d.source) <= clusters.MAX_TEXT for d in diagrams)
    assert all(len(d.tables) <= clusters.MAX_TABLES for d in diagrams)
    # every table is drawn with its columns exactly once
    drawn = [t for d in diagrams for t in d.tables]
    assert sorted(drawn) == sorted(t.qname for t in site.tables_in("big"))
    hub_diagrams = [d for d in diagrams if d.kind == "hubs"]
    assert [d.tables for d in hub_diagrams] == [tuple(f"big.{h}" for h in HUBS)]
    # elsewhere a hub is a name-only stub: no column lines follow it
    other = next(d for d in diagrams if d.kind == "related")
    assert 't_big_2e_accounts["big.accounts"]\n' in other.source
    assert 't_big_2e_accounts["big.accounts"] {' not in other.source
    # chains stay together: a detail table and its parent share a diagram
    home = {t: d for d in diagrams for t in d.tables}
    assert home["big.detail_001"] is home["big.detail_000"]


def test_a_hub_tables_page_draws_its_neighbours_as_stubs_and_says_what_it_left_out(large_site):
    snapshot, out = large_site
    site = Site(snapshot)
    hub = site.table("big.accounts")
    drawn = mermaid.table_diagram_of(site, hub)
    assert len(site.neighbours(hub)) > mermaid.MAX_NEIGHBOURS
    assert drawn.left_out == len(site.neighbours(hub)) - mermaid.MAX_NEIGHBOURS
    assert "direction LR" in drawn.source
    assert drawn.source.count(" {\n") == 1  # only the hub itself has columns
    page = (out / "big/accounts.md").read_text()
    assert f"{drawn.left_out} more related tables are not drawn" in page


def test_views_materialized_views_and_functions_get_pages(large_site):
    _, out = large_site
    view = (out / "big/active_accounts.md").read_text()
    assert "Accounts that can log in" in view and "WHERE (accounts.status = 'active'::text)" in view
    assert "| name | text |" in view
    assert "count(*)" in (out / "big/account_counts.md").read_text()  # the matview's definition
    function = (out / "big/functions/account_name.md").read_text()
    assert "## account_name(bigint)" in function and "## account_name(text)" in function
    assert "Display name of an account" in function and "stable" in function
    schema = (out / "big.md").read_text()
    assert "[active_accounts](big/active_accounts.md)" in schema
    assert "[account_name](big/functions/account_name.md)" in schema
    assert broken_links(out, "*.html", html_links) == []
    assert broken_links(out, "*.md", markdown_links) == []


@pytest.mark.slow  # two Chromium runs of large pages, about 10 s
def test_chromium_draws_every_diagram_of_the_large_schema_without_error(large_site, tmp_path):
    _, out = large_site
    found = problems(out / "big.html", tmp_path / "profile", max_width=3000)
    found += problems(out / "big/accounts.html", tmp_path / "profile", max_width=3000)
    assert found == []
