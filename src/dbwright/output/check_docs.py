"""A check's own text (its docstring: what, why, how to fix, references) as HTML.

The HTML report carries the text of every check it shows, so its "why and how" works wherever
the file is moved or mailed: no link to a docs/ folder that only a source checkout has. The
docstrings use a small subset of Markdown: paragraphs, ``- `` lists, double-backtick code and a
closing "References:" paragraph of URLs; docs/checks/ is generated from the same text
(dbwright.docsgen), so the report and the docs pages say the same thing.
"""

from __future__ import annotations

import html
import re

from dbwright.checks.registry import Check

_REFERENCES = re.compile(r"^\s*References?:\s*(.*)$", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\[\],]+")
_CODE = re.compile(r"``(.+?)``|`([^`]+)`")


def split_references(doc: str) -> tuple[str, list[str]]:
    """The docstring without its "References:" paragraph, and the URLs that paragraph lists."""
    body: list[str] = []
    urls: list[str] = []
    in_references = False
    for line in doc.splitlines():
        match = _REFERENCES.match(line)
        if match:
            in_references = True
            urls += _urls(match.group(1))
        elif in_references and line.strip():
            urls += _urls(line)
        else:
            in_references = False
            body.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(body)).strip(), urls


def _urls(text: str) -> list[str]:
    return [_trim_url(url) for url in _URL.findall(text)]


def _trim_url(url: str) -> str:
    """Drop sentence punctuation after a URL, and a closing parenthesis the URL did not open."""
    url = url.rstrip(".;:")
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1].rstrip(".;:")
    return url


def references(check: Check) -> list[str]:
    """The URLs of the docstring's References paragraph, then the registry's own, once each."""
    _, urls = split_references(check.doc)
    return urls + [url for url in check.references if url not in urls]


def paragraphs(check: Check) -> list[str]:
    """The docstring's paragraphs (references left out), as plain text."""
    body, _ = split_references(check.doc)
    return [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]


def fix_paragraph(check: Check) -> str:
    """The paragraph that starts "Fix:" (the how), without the label; "" when there is none."""
    for paragraph in paragraphs(check):
        if paragraph.startswith("Fix:"):
            return paragraph.removeprefix("Fix:").strip()
    return ""


def why_paragraph(check: Check) -> str:
    """The paragraph after the summary (the why), unless it is a list, a rule set or the fix."""
    rest = paragraphs(check)[1:2]
    if rest and not rest[0].startswith(("Fix:", "- ")) and not rest[0].endswith(":"):
        return rest[0]
    return ""


def inline_html(text: str) -> str:
    """One paragraph's text as HTML: escaped, code spans as <code>, URLs as links; lines joined."""
    out: list[str] = []
    position = 0
    for match in _CODE.finditer(text):
        out.append(_linked(text[position : match.start()]))
        out.append(f"<code>{html.escape(match.group(1) or match.group(2))}</code>")
        position = match.end()
    out.append(_linked(text[position:]))
    return " ".join("".join(out).split())


def _linked(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = _trim_url(match.group(0))
        out.append(html.escape(text[position : match.start()]))
        out.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>')
        position = match.start() + len(url)
    out.append(html.escape(text[position:]))
    return "".join(out)


def doc_html(check: Check) -> str:
    """The whole text of the check (paragraphs and lists) and its references, as HTML."""
    parts: list[str] = []
    for paragraph in paragraphs(check):
        if paragraph.startswith("- "):
            items = re.split(r"\n\s*- ", paragraph.removeprefix("- "))
            parts.append("<ul>" + "".join(f"<li>{inline_html(item)}</li>" for item in items) + "</ul>")
        else:
            parts.append(f"<p>{inline_html(paragraph)}</p>")
    urls = references(check)
    if urls:
        links = "".join(
            f'<li><a href="{html.escape(url, quote=True)}">{html.escape(url)}</a></li>' for url in urls
        )
        parts.append(f'<p class="refs-head">References</p><ul class="refs">{links}</ul>')
    return "".join(parts)
