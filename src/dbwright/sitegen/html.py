"""The site as self-contained HTML: works from file:// with no network.

Mermaid draws the diagrams in the browser from the bundled ``assets/mermaid.min.js`` (MIT,
shipped with dbwright), copied once into the site; pages point to it relatively. Until it runs,
or without JavaScript, the diagram source shows as text.
"""

from __future__ import annotations

from html import escape
from importlib import resources

from dbwright.sitegen.pages import Code, Diagram, Grid, Heading, Link, Page, Para, all_pages
from dbwright.sitegen.paths import href, page_path, relative
from dbwright.sitegen.site import Site

INDEX = "index.html"
MERMAID_ASSET = "assets/mermaid.min.js"

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:75rem;padding:0 1rem;
color:#1f2328;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f6f8fa}code,pre{font-family:ui-monospace,monospace}
a{color:#0969da}pre.mermaid{background:#fff;overflow:auto}
""".strip()


def mermaid_js() -> bytes:
    return resources.files("dbwright.sitegen").joinpath(MERMAID_ASSET).read_bytes()


def _part(site: Site, page: Page, part: str | Link) -> str:
    if isinstance(part, Link):
        return f'<a href="{escape(href(site, page, part, "html", INDEX))}">{escape(part.text)}</a>'
    return escape(part)


def _cell(site: Site, page: Page, cell) -> str:
    parts = cell if isinstance(cell, tuple) else (cell,)
    return "".join(_part(site, page, p) for p in parts)


def render_page(site: Site, page: Page) -> str:
    here = page_path(site, page.kind, page.name, "html", INDEX)
    body: list[str] = [f"<h1>{escape(page.title)}</h1>"]
    has_diagram = False
    for block in page.blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{escape(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            body.append("<p>" + "".join(_part(site, page, p) for p in block.parts) + "</p>")
        elif isinstance(block, Grid):
            head = "".join(f"<th>{escape(h)}</th>" for h in block.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_cell(site, page, c)}</td>" for c in row) + "</tr>\n"
                for row in block.rows
            )
            body.append(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>")
        elif isinstance(block, Diagram):
            has_diagram = True
            body.append(f'<pre class="mermaid">\n{escape(block.source)}</pre>')
        elif isinstance(block, Code):
            body.append(f"<pre><code>{escape(block.text)}</code></pre>")
    scripts = ""
    if has_diagram:
        scripts = (
            f'\n<script src="{escape(relative(here, MERMAID_ASSET))}"></script>\n'
            "<script>mermaid.initialize({startOnLoad: true, securityLevel: 'strict', "
            "er: {useMaxWidth: false}});</script>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(page.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + scripts
        + "\n</body>\n</html>\n"
    )


def render_html(site: Site) -> dict[str, str]:
    """Relative path → page text, for every page (the Mermaid asset is written by the builder)."""
    return {page_path(site, p.kind, p.name, "html", INDEX): render_page(site, p) for p in all_pages(site)}
