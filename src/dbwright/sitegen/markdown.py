"""The site as Markdown: README.md, one page per schema and per table, diagrams as ```mermaid blocks.

GitHub and GitLab draw ```mermaid blocks, so the same files read well in a repository browser.
"""

from __future__ import annotations

from dbwright.sitegen.pages import Code, Diagram, Grid, Heading, Link, Page, Para, all_pages
from dbwright.sitegen.paths import href, page_path
from dbwright.sitegen.site import Site

INDEX = "README.md"


def _inline(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _part(site: Site, page: Page, part: str | Link) -> str:
    if isinstance(part, Link):
        return f"[{_inline(part.text)}]({href(site, page, part, 'md', INDEX)})"
    return _inline(part)


def _cell(site: Site, page: Page, cell) -> str:
    parts = cell if isinstance(cell, tuple) else (cell,)
    return "".join(_part(site, page, p) for p in parts)


def render_page(site: Site, page: Page) -> str:
    lines = [f"# {_inline(page.title)}", ""]
    for block in page.blocks:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + _inline(block.text), ""]
        elif isinstance(block, Para):
            lines += ["".join(_part(site, page, p) for p in block.parts), ""]
        elif isinstance(block, Grid):
            lines.append("| " + " | ".join(block.header) + " |")
            lines.append("|" + "---|" * len(block.header))
            lines += ["| " + " | ".join(_cell(site, page, c) for c in row) + " |" for row in block.rows]
            lines.append("")
        elif isinstance(block, Diagram):
            lines += ["```mermaid", block.source.rstrip("\n"), "```", ""]
        elif isinstance(block, Code):
            lines += ["```sql", block.text, "```", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def render_markdown(site: Site) -> dict[str, str]:
    """Relative path → file text, for every page."""
    return {page_path(site, p.kind, p.name, "md", INDEX): render_page(site, p) for p in all_pages(site)}
