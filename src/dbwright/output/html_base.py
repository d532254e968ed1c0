"""What dbwright's HTML pages share: escaping, the page shell, the base stylesheet, responsive tables.

Every page is one self-contained file: the CSS is inline and nothing loads from the network.
The stylesheet is written so that no element is wider than a 390 px phone: long names and SQL
wrap (``overflow-wrap: anywhere``, ``pre-wrap``), and tables with many columns become one card
per row on narrow screens, each cell labelled by its column (``data-label``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any


def e(value: Any) -> str:
    """Escape for HTML text and attribute values alike."""
    return html.escape(str(value), quote=True)


def page(title: str, body: str, css: str, script: str = "") -> str:
    """A complete HTML document with one inline stylesheet (``BASE_CSS`` plus the page's own) and at most one script."""
    script_tag = f"<script>{script}</script>\n" if script else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
        f"{script_tag}</body>\n</html>\n"
    )


def rows_table(
    headers: Iterable[str], rows: Iterable[Iterable[str]], css_class: str = "", escaped: bool = False
) -> str:
    """A table that turns into labelled cards on a narrow screen; cells are escaped unless ``escaped``."""
    headers = list(headers)
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td data-label="{e(label)}">{cell if escaped else e(cell)}</td>'
            for label, cell in zip(headers, row, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    classes = " ".join(filter(None, ("rows", css_class)))
    return f'<table class="{classes}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def kv_table(rows: Iterable[tuple[str, Any]], css_class: str) -> str:
    """Two columns, name and value, both escaped."""
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    return f'<table class="{css_class}"><tbody>{body}</tbody></table>'


BASE_CSS = """
:root{--fg:#1d2330;--muted:#5f6b7a;--bg:#f6f7f9;--card:#fff;--line:#dde1e7;--code:#f0f2f5;
--critical:#8b0000;--high:#d0342c;--medium:#c77700;--low:#2b7bb9;--info:#6b7785;
--good:#2e9d5b;--fair:#d89b00;--poor:#d0342c;--heap:#4c78a8;--toast:#f58518;--index:#54a24b;--time:#7b61c9;
--before:#9aa4ad;--after:#2f9e44;--note:#8a5a00}
@media (prefers-color-scheme:dark){:root{--fg:#e3e7ee;--muted:#9aa5b4;--bg:#15181d;--card:#1e2229;
--line:#343a44;--code:#262b33;--note:#e0b060}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
overflow-wrap:break-word}
main{max-width:1100px;margin:0 auto;padding:24px}
@media (max-width:600px){main{padding:12px}body{font-size:14px}}
h1{font-size:1.6em;margin:0 0 4px;overflow-wrap:anywhere}
h2{border-bottom:2px solid var(--line);padding-bottom:4px;margin-top:40px}
h3{font-size:1.05em;margin:18px 0 8px}
.meta,.empty,footer,.muted{color:var(--muted)}
code,pre,.obj,.q{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
code,.obj{overflow-wrap:anywhere}
.obj{font-weight:600}
pre{background:var(--code);border:1px solid var(--line);border-radius:6px;padding:10px;margin:4px 0;
font-size:.88em;white-space:pre-wrap;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:8px 0;background:var(--card);font-size:.92em;max-width:100%}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
td{overflow-wrap:break-word}
thead th{background:var(--code)}
td.num,th.num{text-align:right;white-space:nowrap}
.tallies{display:flex;gap:10px;flex-wrap:wrap;margin:12px 0}
.tally{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--line);border-radius:6px;
padding:6px 14px;min-width:110px}
.tally .n{font-size:1.6em;font-weight:700;margin-right:6px}
@media (max-width:700px){
table.rows,table.rows tbody,table.rows tr,table.rows td{display:block;width:100%}
table.rows thead{display:none}
table.rows tr{border:1px solid var(--line);border-radius:6px;margin:0 0 8px;padding:4px 0}
table.rows td{border:0;padding:2px 8px}
table.rows td::before{content:attr(data-label) ": ";color:var(--muted);font-family:system-ui,sans-serif}
}
footer{margin:40px 0 10px;font-size:.85em}
.legend{font-size:.9em;color:var(--muted)}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px}
.bars{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,3fr) minmax(0,1.2fr);gap:6px 12px;align-items:center;
margin:6px 0 14px}
.bar-row{display:contents}
.bar-label{font-size:.85em;min-width:0;overflow-wrap:anywhere}
.bar-label .q{color:var(--muted);font-size:.92em}
.bar-track{display:flex;flex-direction:column;gap:2px;min-width:0}
.bar{display:block;height:9px;border-radius:2px}
.bar-value{font-size:.85em;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
@media (max-width:700px){.bars{grid-template-columns:minmax(0,1fr);gap:3px}
.bar-value{margin-bottom:10px}}
"""
