"""HTML: one self-contained file (inline CSS, a little inline JS, inline SVG charts).

Nothing is loaded from the network, so the report opens offline and can be mailed or
attached to a ticket. Every string that came from the database (names, messages, SQL,
query texts) goes through ``html.escape``.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from dbwright.checks.registry import CATEGORIES
from dbwright.model import Statement, Table
from dbwright.model.package import ChangePackage
from dbwright.model.units import format_bytes
from dbwright.output.common import (
    by_category,
    docs_path,
    evidence_value,
    human_seconds,
    largest_tables,
    one_line,
    server_version_label,
    severity_counts,
    top_statements,
)
from dbwright.output.registry import Renderer, lazy
from dbwright.review import Review, ReviewedFinding

CHART_WIDTH = 900
BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 260
VALUE_WIDTH = 150


def e(value: Any) -> str:
    """Escape for HTML text and attribute values alike."""
    return html.escape(str(value), quote=True)


def render(review: Review) -> str:
    ids = itertools.count(1)
    server = review.snapshot.server
    title = f"dbwright review · {server.database}"
    body = "\n".join(
        [
            _header(review),
            _nav(review),
            _summary(review),
            _charts(review),
            *(_area(review, category, findings, ids) for category, findings in _areas(review)),
            _skipped(review),
            _footer(review),
        ]
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
        f"<script>{JS}</script>\n</body>\n</html>\n"
    )


def _areas(review: Review) -> list[tuple[str, list[ReviewedFinding]]]:
    grouped = by_category(review.findings)
    return [(category, grouped.get(category, [])) for category in CATEGORIES]


# --- page parts -------------------------------------------------------------------------------


def _header(review: Review) -> str:
    server = review.snapshot.server
    return (
        f'<header><h1>dbwright review of <span class="obj">{e(server.database)}</span></h1>'
        f'<p class="meta">PostgreSQL {e(server_version_label(server.version_num))} · snapshot taken '
        f"{e(review.snapshot.taken_at)} · {review.checks_run} checks run, {len(review.skipped)} skipped"
        "</p></header>"
    )


def _nav(review: Review) -> str:
    counts = {c: len(f) for c, f in _areas(review)}
    links = ['<a href="#summary">Summary</a>', '<a href="#charts">Charts</a>']
    links += [
        f'<a href="#area-{e(c)}">{e(c.capitalize())} <span class="count">{n}</span></a>'
        for c, n in counts.items()
    ]
    links.append(
        f'<a href="#skipped">Skipped <span class="count">'
        f"{len(review.skipped) + len(review.snapshot.skipped)}</span></a>"
    )
    return f"<nav>{''.join(links)}</nav>"


def _summary(review: Review) -> str:
    server = review.snapshot.server
    badges = "".join(
        f'<div class="tally sev-{s.label}"><span class="n">{n}</span><span class="label">{s.label}</span></div>'
        for s, n in severity_counts(review).items()
    )
    facts = _kv_table(
        [
            ("Database", server.database),
            ("Server version", f"{server_version_label(server.version_num)} ({server.version})"),
            ("Connected as", server.current_user + (" (superuser)" if server.is_superuser else "")),
            ("Snapshot taken", review.snapshot.taken_at),
            ("Checks run / skipped", f"{review.checks_run} / {len(review.skipped)}"),
            ("Findings", len(review.findings)),
            (
                "Introspection / review time",
                f"{review.snapshot.introspection_ms:,.0f} ms / {review.review_ms:,.0f} ms",
            ),
        ],
        "facts",
    )
    return (
        f'<section id="summary"><h2>Summary</h2><div class="tallies">{badges}</div>'
        f'<div class="cols"><div>{facts}</div><div><h3>Score per area</h3>{_score_chart(review)}</div>'
        "</div></section>"
    )


def _charts(review: Review) -> str:
    parts = ['<section id="charts"><h2>Charts</h2>', "<h3>Largest tables</h3>"]
    tables = largest_tables(review)
    parts.append(_tables_chart(tables) if tables else '<p class="empty">No tables with data.</p>')
    parts.append("<h3>Top queries by total time</h3>")
    statements = top_statements(review)
    if statements:
        parts.append(_statements_chart(statements))
    else:
        reason = review.snapshot.skipped_reason("statements")
        parts.append(
            f'<p class="empty">{e("Not available: " + reason if reason else "No statements recorded.")}</p>'
        )
    parts.append("</section>")
    return "".join(parts)


def _area(review: Review, category: str, findings: list[ReviewedFinding], ids: Iterator[int]) -> str:
    score = review.scores()[category]
    head = (
        f'<section id="area-{e(category)}" class="area"><h2>{e(category.capitalize())} '
        f'<span class="score {_score_class(score)}">{score}/100</span></h2>'
    )
    if not findings:
        return head + '<p class="empty">No findings in this area.</p></section>'
    return head + "".join(_finding(f, next(ids)) for f in findings) + "</section>"


def _finding(reviewed: ReviewedFinding, number: int) -> str:
    finding = reviewed.finding
    severity = reviewed.severity.label
    parts = [
        f'<article class="finding" id="finding-{number}">',
        f'<h3><span class="badge sev-{severity}">{severity}</span> <code class="code">{e(finding.code)}</code> '
        f'{e(reviewed.check.title)} <span class="on">on</span> <span class="obj">{e(finding.object)}</span></h3>',
        f'<p class="msg">{e(finding.message)}</p>',
    ]
    if finding.evidence:
        parts.append(_kv_table([(k, evidence_value(v, k)) for k, v in finding.evidence.items()], "evidence"))
    if finding.fix:
        parts.append(_fix(finding.fix, number))
    parts.append(
        f'<p class="docs">Why and how: <a href="{e(docs_path(finding.code))}">'
        f"{e(docs_path(finding.code))}</a></p></article>"
    )
    return "".join(parts)


def _fix(fix: ChangePackage, number: int) -> str:
    flags = [
        f"~{human_seconds(fix.estimated_seconds)}",
        "one transaction" if fix.transactional else "not all in one transaction",
    ]
    if fix.destructive:
        flags.append("destructive")
    if fix.requires_restart:
        flags.append("needs a restart")
    notes = (
        [("Security", n) for n in fix.security_notes]
        + [("Performance", n) for n in fix.performance_notes]
        + [("Manual step", n) for n in fix.manual_steps]
    )
    notes_html = (
        '<ul class="notes">' + "".join(f"<li><b>{e(k)}:</b> {e(v)}</li>" for k, v in notes) + "</ul>"
        if notes
        else ""
    )
    return (
        f'<details class="fix" open><summary>Fix: {e(fix.title)} <span class="flags">'
        f"{e(' · '.join(flags))}</span></summary>"
        f"<p>{e(fix.explanation)}</p>{notes_html}"
        f"{_sql_block('Forward SQL', fix.forward_sql, f'forward-{number}')}"
        f"{_sql_block('Rollback SQL', fix.rollback_sql or '-- nothing to undo', f'rollback-{number}')}"
        f"{_steps_table(fix.steps())}</details>"
    )


def _sql_block(label: str, sql: str, block_id: str) -> str:
    return (
        f'<div class="sql"><div class="sqlhead"><span>{e(label)}</span>'
        f'<button type="button" class="copy" data-target="{e(block_id)}">Copy</button></div>'
        f'<pre id="{e(block_id)}"><code>{e(sql)}</code></pre></div>'
    )


def _steps_table(steps: list[dict[str, Any]]) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in ("Statement", "Lock", "On", "Impact", "Rewrites", "Scans", "In transaction", "Estimate")
    )
    rows = "".join(
        f"<tr><td><code>{e(one_line(s['sql'], 90))}</code></td><td>{e(s['lock'])}</td>"
        f"<td>{e(s['lock_target'] or '')}</td><td>{e(s['impact'])}</td><td>{_yes(s['rewrites_table'], warn=True)}</td>"
        f"<td>{_yes(s['scans_table'], warn=True)}</td><td>{_yes(s['in_transaction'])}</td>"
        f"<td>{e(human_seconds(s['estimated_seconds']))}</td></tr>"
        for s in steps
    )
    return f'<table class="steps"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _skipped(review: Review) -> str:
    parts = ['<section id="skipped"><h2>Skipped</h2>']
    if review.skipped:
        parts.append("<h3>Checks not run</h3>")
        parts.append(
            _rows_table(
                ("Check", "Title", "Why"),
                [(s.check.code, s.check.title, "; ".join(s.reasons)) for s in review.skipped],
            )
        )
    if review.snapshot.skipped:
        parts.append("<h3>Snapshot sections not read</h3>")
        parts.append(
            _rows_table(("Section", "Why"), [(s.section, s.reason) for s in review.snapshot.skipped])
        )
    if not review.skipped and not review.snapshot.skipped:
        parts.append('<p class="empty">Nothing was skipped: every check ran on a complete snapshot.</p>')
    parts.append("</section>")
    return "".join(parts)


def _footer(review: Review) -> str:
    return (
        f"<footer>Generated by dbwright {e(review.snapshot.dbwright_version)} from a snapshot of "
        f"{e(review.snapshot.server.database)}. This file loads nothing from the network.</footer>"
    )


# --- tables ---------------------------------------------------------------------------------


def _kv_table(rows: Iterable[tuple[str, Any]], css_class: str) -> str:
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    return f'<table class="{css_class}"><tbody>{body}</tbody></table>'


def _rows_table(headers: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _yes(flag: bool, warn: bool = False) -> str:
    """yes/no; a "yes" that costs something (a rewrite, a full scan) stands out."""
    return ('<span class="warn">yes</span>' if warn else "yes") if flag else "no"


# --- SVG charts -----------------------------------------------------------------------------


def _svg(height: int, content: str, label: str, width: int = CHART_WIDTH) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{e(label)}">{content}</svg>'
    )


def _row_y(index: int, top: int = 0) -> int:
    return top + index * (BAR_HEIGHT + BAR_GAP)


def _label(x: int, y: int, text: str, anchor: str = "start", css_class: str = "lbl") -> str:
    return (
        f'<text x="{x}" y="{y + BAR_HEIGHT * 0.7:.1f}" text-anchor="{anchor}" class="{css_class}">'
        f"{e(text)}</text>"
    )


def _score_chart(review: Review) -> str:
    scores = review.scores()
    width, bar_x = 560, 115
    bar_room = width - bar_x - 75
    rows = []
    for i, (area, score) in enumerate(scores.items()):
        y = _row_y(i)
        rows.append(
            _label(0, y, area)
            + f'<rect x="{bar_x}" y="{y}" width="{bar_room}" height="{BAR_HEIGHT}" class="track" rx="3"/>'
            f'<rect x="{bar_x}" y="{y}" width="{bar_room * score / 100:.1f}" height="{BAR_HEIGHT}" '
            f'class="bar {_score_class(score)}" rx="3"><title>{e(area)}: {score}/100</title></rect>'
            + _label(width, y, f"{score}/100", "end")
        )
    return _svg(_row_y(len(scores)), "".join(rows), "score per area", width)


def _tables_chart(tables: list[Table]) -> str:
    top = 30
    biggest = max(t.total_bytes for t in tables) or 1
    bar_room = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH - 10
    legend = "".join(
        f'<rect x="{LABEL_WIDTH + i * 110}" y="4" width="14" height="14" class="{part}"/>'
        f'<text x="{LABEL_WIDTH + i * 110 + 20}" y="16" class="lbl">{part}</text>'
        for i, part in enumerate(("heap", "toast", "index"))
    )
    rows = []
    for i, table in enumerate(tables):
        y = _row_y(i, top)
        x = LABEL_WIDTH
        bars = []
        for part, size in (
            ("heap", table.heap_bytes),
            ("toast", table.toast_bytes),
            ("index", table.index_bytes),
        ):
            width = bar_room * size / biggest
            if width > 0:
                bars.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" class="{part}">'
                    f"<title>{e(table.qname)} {part}: {e(format_bytes(size))}</title></rect>"
                )
            x += width
        rows.append(
            f"<g><title>{e(table.qname)}</title>{_label(0, y, one_line(table.qname, 34))}</g>"
            + "".join(bars)
            + _label(CHART_WIDTH, y, format_bytes(table.total_bytes), "end")
        )
    return _svg(_row_y(len(tables), top), legend + "".join(rows), "largest tables by size")


def _statements_chart(statements: list[Statement]) -> str:
    longest = max(s.total_ms for s in statements) or 1
    label_width = 380
    bar_room = CHART_WIDTH - label_width - 190
    rows = []
    for i, statement in enumerate(statements):
        y = _row_y(i)
        width = bar_room * statement.total_ms / longest
        rows.append(
            f"<g><title>{e(statement.query)}</title>{_label(0, y, one_line(statement.query, 52), css_class='q')}"
            f'<rect x="{label_width}" y="{y}" width="{max(width, 1):.1f}" height="{BAR_HEIGHT}" class="bar time"/>'
            f"</g>"
            + _label(CHART_WIDTH, y, f"{statement.total_ms:,.0f} ms · {statement.calls:,} calls", "end")
        )
    return _svg(_row_y(len(statements)), "".join(rows), "top queries by total time")


def _score_class(score: int) -> str:
    return "good" if score >= 90 else "fair" if score >= 70 else "poor"


CSS = """
:root{--fg:#1d2330;--muted:#5f6b7a;--bg:#f6f7f9;--card:#fff;--line:#dde1e7;--code:#f0f2f5;
--critical:#8b0000;--high:#d0342c;--medium:#c77700;--low:#2b7bb9;--info:#6b7785;
--good:#2e9d5b;--fair:#d89b00;--poor:#d0342c;--heap:#4c78a8;--toast:#f58518;--index:#54a24b;--time:#7b61c9}
@media (prefers-color-scheme:dark){:root{--fg:#e3e7ee;--muted:#9aa5b4;--bg:#15181d;--card:#1e2229;
--line:#343a44;--code:#262b33}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:0 0 4px}h2{border-bottom:2px solid var(--line);padding-bottom:4px;margin-top:40px}
h3{font-size:1.05em;margin:18px 0 8px}
.meta,.docs,.empty,footer,.on,.flags{color:var(--muted)}
code,pre,.obj,.q{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
.obj{font-weight:600;word-break:break-all}
nav{position:sticky;top:0;background:var(--bg);padding:8px 0;border-bottom:1px solid var(--line);z-index:1}
nav a{margin-right:14px;color:var(--fg);text-decoration:none;font-weight:500}
nav .count{background:var(--line);border-radius:9px;padding:0 7px;font-size:.8em}
.tallies{display:flex;gap:10px;flex-wrap:wrap;margin:12px 0}
.tally{background:var(--card);border:1px solid var(--line);border-left:6px solid;border-radius:6px;
padding:6px 14px;min-width:110px}
.tally .n{font-size:1.6em;font-weight:700;margin-right:6px}
.cols{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.3fr);gap:24px}
@media (max-width:800px){.cols{grid-template-columns:1fr}}
table{border-collapse:collapse;margin:8px 0;background:var(--card);font-size:.92em}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:var(--code)}
table.facts th,table.evidence th{font-weight:500;color:var(--muted);white-space:nowrap}
table.evidence td{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
table.steps{width:100%}
.finding{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:4px 18px 10px;
margin:14px 0}
.finding h3{font-size:1.05em}
.badge{display:inline-block;color:#fff;border-radius:4px;padding:0 8px;font-size:.8em;text-transform:uppercase;
letter-spacing:.04em;vertical-align:1px}
.sev-critical{border-color:var(--critical)}.badge.sev-critical{background:var(--critical)}
.sev-high{border-color:var(--high)}.badge.sev-high{background:var(--high)}
.sev-medium{border-color:var(--medium)}.badge.sev-medium{background:var(--medium)}
.sev-low{border-color:var(--low)}.badge.sev-low{background:var(--low)}
.sev-info{border-color:var(--info)}.badge.sev-info{background:var(--info)}
.score{font-size:.7em;border-radius:4px;padding:1px 8px;color:#fff;vertical-align:3px}
.score.good{background:var(--good)}.score.fair{background:var(--fair)}.score.poor{background:var(--poor)}
details.fix{border-top:1px dashed var(--line);margin-top:10px;padding-top:6px}
details.fix summary{cursor:pointer;font-weight:600}
.notes{margin:6px 0}
.sql{margin:10px 0}
.sqlhead{display:flex;justify-content:space-between;align-items:center;font-size:.85em;color:var(--muted)}
pre{background:var(--code);border:1px solid var(--line);border-radius:6px;padding:10px;overflow-x:auto;
margin:4px 0;white-space:pre;font-size:.88em}
button.copy{font:inherit;font-size:.85em;padding:2px 10px;border:1px solid var(--line);border-radius:4px;
background:var(--card);color:var(--fg);cursor:pointer}
button.copy:hover{border-color:var(--muted)}
.warn{font-weight:600;color:var(--high)}
svg.chart{display:block;max-width:100%;margin:6px 0 14px}
svg text{fill:var(--fg);font-size:13px}svg text.q{font-size:12px}
svg .track{fill:var(--code)}svg .bar.good{fill:var(--good)}svg .bar.fair{fill:var(--fair)}
svg .bar.poor{fill:var(--poor)}svg .heap{fill:var(--heap)}svg .toast{fill:var(--toast)}
svg .index{fill:var(--index)}svg .bar.time{fill:var(--time)}
footer{margin:40px 0 10px;font-size:.85em}
@media print{nav,button.copy{display:none}details.fix{display:block}.finding{break-inside:avoid}}
"""

JS = """
(function () {
  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }
  function show(button, ok) {
    button.textContent = ok ? "Copied" : "Press Ctrl+C";
    if (!ok) {
      var range = document.createRange();
      range.selectNodeContents(document.getElementById(button.dataset.target));
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    setTimeout(function () { button.textContent = "Copy"; }, 1600);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.copy");
    if (!button) { return; }
    var text = document.getElementById(button.dataset.target).textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { show(button, true); },
        function () { show(button, fallbackCopy(text)); });
    } else {
      show(button, fallbackCopy(text));
    }
  });
})();
"""


RENDERERS: dict[str, Renderer] = {
    "review": render,
    "audit": lazy("dbwright.output.audit:render_html"),
    "index-advice": lazy("dbwright.advisors.indexes.render:html_page"),
}
