"""HTML: one self-contained file (inline CSS, a little inline JS, HTML bar charts).

Nothing is loaded from the network, so the report opens offline and can be mailed or
attached to a ticket. Every string that came from the database (names, messages, SQL,
query texts) goes through ``html.escape``. Findings start collapsed to their headline; a
severity filter and expand/collapse buttons appear when the script runs. Each check's own text
(what, why, how to fix, references) is carried in the file, so nothing links to a docs folder
that only a source checkout has. Charts are HTML, not SVG: labels wrap instead of being clipped
or shrunk to nothing on a phone.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from dbwright.checks.registry import CATEGORIES
from dbwright.model import Statement, Table
from dbwright.model.package import ChangePackage
from dbwright.model.units import format_bytes
from dbwright.output import check_docs
from dbwright.output.common import (
    SEVERITIES_WORST_FIRST,
    by_category,
    evidence_value,
    human_seconds,
    largest_tables,
    not_listed_note,
    one_line,
    server_version_label,
    severity_counts,
    top_statements,
)
from dbwright.output.html_base import BASE_CSS, e, kv_table, page, rows_table
from dbwright.output.registry import Renderer, lazy
from dbwright.review import Review, ReviewedFinding


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
            _checks(review),
            _footer(review),
        ]
    )
    return page(title, body, CSS, JS)


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
    return f"<nav>{''.join(links)}{_filter(review)}</nav>"


def _summary(review: Review) -> str:
    server = review.snapshot.server
    badges = "".join(
        f'<div class="tally sev-{s.label}"><span class="n">{n}</span><span class="label">{s.label}</span></div>'
        for s, n in severity_counts(review).items()
    )
    facts = kv_table(
        [
            ("Database", server.database),
            ("Server version", f"{server_version_label(server.version_num)} ({server.version})"),
            ("Connected as", server.current_user + (" (superuser)" if server.is_superuser else "")),
            ("Snapshot taken", review.snapshot.taken_at),
            ("Checks run / skipped", f"{review.checks_run} / {len(review.skipped)}"),
            ("Findings", len(review.found)),
            *([("Listed", not_listed_note(review))] if review.min_severity else []),
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
    status = review.areas()[category]
    badge = (
        f'<span class="score unchecked">{e(status.label())}</span>'
        if status.score is None
        else f'<span class="score {_score_class(status.score)}">{status.score}/100</span>'
    )
    head = f'<section id="area-{e(category)}" class="area"><h2>{e(category.capitalize())} {badge}</h2>'
    if status.partial and status.score is not None:
        head += f'<p class="partial">{e(status.label().split(", ", 1)[1])}</p>'
    if not findings:
        empty = (
            "Not checked."
            if not status.checks_run
            else "No findings in the checks that ran."
            if status.score is None
            else "No findings in this area."
        )
        return head + f'<p class="empty">{empty}</p></section>'
    return head + "".join(_finding(f, next(ids)) for f in findings) + "</section>"


def _finding(reviewed: ReviewedFinding, number: int) -> str:
    """One finding, collapsed to its headline; the message, evidence, why and fix open on a click."""
    finding = reviewed.finding
    severity = reviewed.severity.label
    parts = [
        f'<details class="finding sev-{severity}" id="finding-{number}" data-severity="{severity}">',
        f'<summary><h3><span class="badge sev-{severity}">{severity}</span> '
        f'<code class="code">{e(finding.code)}</code> {e(reviewed.check.title)} <span class="on">on</span> '
        f'<span class="obj">{e(finding.object)}</span></h3></summary>',
        f'<p class="msg">{e(finding.message)}</p>',
    ]
    if finding.evidence:
        parts.append(kv_table([(k, evidence_value(v, k)) for k, v in finding.evidence.items()], "evidence"))
    parts.append(_why(reviewed))
    if finding.fix:
        parts.append(_fix(finding.fix, number))
    parts.append("</details>")
    return "".join(parts)


def _why(reviewed: ReviewedFinding) -> str:
    """The check's own short what and why, inline, and a link to its whole text in this file."""
    check = reviewed.check
    why = check_docs.why_paragraph(check)
    return (
        f'<div class="why"><p><b>What:</b> {check_docs.inline_html(check_docs.paragraphs(check)[0])}</p>'
        + (f"<p><b>Why it matters:</b> {check_docs.inline_html(why)}</p>" if why else "")
        + f'<p class="docs"><a href="#check-{e(check.code)}">{e(check.code)} in full: how it decides, '
        "how to fix it, references</a></p></div>"
    )


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
        f'<details class="fix"><summary>Fix: {e(fix.title)} <span class="flags">'
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
    headers = ("Statement", "Lock", "On", "Impact", "Rewrites", "Scans", "In transaction", "Estimate")
    rows = (
        (
            f"<code>{e(one_line(s['sql'], 90))}</code>",
            e(s["lock"]),
            e(s["lock_target"] or ""),
            e(s["impact"]),
            _yes(s["rewrites_table"], warn=True),
            _yes(s["scans_table"], warn=True),
            _yes(s["in_transaction"]),
            e(human_seconds(s["estimated_seconds"])),
        )
        for s in steps
    )
    return rows_table(headers, rows, "steps", escaped=True)


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


def _filter(review: Review) -> str:
    """The severity filter and expand/collapse buttons; hidden until the script shows them (no JS, no dead controls)."""
    shown_from = min((f.severity for f in review.findings), default=SEVERITIES_WORST_FIRST[-1])
    options = "".join(
        f'<option value="{s.label}"{" selected" if s == shown_from else ""}>'
        f"{e(s.label)}{'' if s.label == 'critical' else ' and worse'}</option>"
        for s in SEVERITIES_WORST_FIRST
    )
    return (
        '<div class="filter" id="filter" hidden><label>Show findings of severity '
        f'<select id="min-severity">{options}</select></label> '
        '<span class="shown" id="shown" aria-live="polite"></span> '
        '<button type="button" id="expand-all">Expand all</button> '
        '<button type="button" id="collapse-all">Collapse all</button></div>'
    )


def _checks(review: Review) -> str:
    """The whole text of every check with a finding here, so its why and how travel with the file.

    Folded like the findings; following a finding's link opens it (the script opens the target)."""
    checks = {f.check.code: f.check for f in review.findings}
    if not checks:
        return ""
    parts = ['<section id="checks"><h2>The checks behind these findings</h2>']
    for code in sorted(checks):
        check = checks[code]
        parts.append(
            f'<details class="check" id="check-{e(code)}"><summary><h3><code class="code">{e(code)}</code> '
            f'{e(check.title)} <span class="muted">· {e(check.category)} · default severity '
            f"{e(check.severity.label)}</span></h3></summary>{check_docs.doc_html(check)}</details>"
        )
    parts.append("</section>")
    return "".join(parts)


def _footer(review: Review) -> str:
    return (
        f"<footer>Generated by dbwright {e(review.snapshot.dbwright_version)} from a snapshot of "
        f"{e(review.snapshot.server.database)}. This file loads nothing from the network.</footer>"
    )


# --- tables ---------------------------------------------------------------------------------


def _rows_table(headers: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> str:
    return rows_table(headers, ([str(v) for v in row] for row in rows))


def _yes(flag: bool, warn: bool = False) -> str:
    """yes/no; a "yes" that costs something (a rewrite, a full scan) stands out."""
    return ('<span class="warn">yes</span>' if warn else "yes") if flag else "no"


# --- SVG charts -----------------------------------------------------------------------------


def _score_chart(review: Review) -> str:
    """Each area's score as a bar; an area nothing checked gets no bar at all, never a clean one."""
    rows = []
    for area, score in review.scores().items():
        if score is None:
            area_status = review.areas()[area]
            status = area_status.label()
            word = "partly checked" if area_status.checks_run else "not checked"
            rows.append(_bar_row(e(area), f'<span class="bar none" title="{e(status)}"></span>', word))
            continue
        bar = (
            f'<span class="bar {_score_class(score)}" style="width:{max(score, 0.4):.1f}%" '
            f'title="{e(area)}: {score}/100"></span>'
        )
        rows.append(_bar_row(e(area), bar, f"{score}/100", "score"))
    return _bar_chart(rows, "score per area", "scores")


def _tables_chart(tables: list[Table]) -> str:
    """Each table's size as one stacked bar (heap, TOAST, indexes): HTML, so names wrap on a phone."""
    biggest = max(t.total_bytes for t in tables) or 1
    rows = []
    for table in tables:
        parts = "".join(
            f'<span class="bar {part}" style="width:{100 * size / biggest:.2f}%" '
            f'title="{e(table.qname)} {part}: {e(format_bytes(size))}"></span>'
            for part, size in (
                ("heap", table.heap_bytes),
                ("toast", table.toast_bytes),
                ("index", table.index_bytes),
            )
            if size > 0
        )
        rows.append(
            _bar_row(f"<code>{e(table.qname)}</code>", parts, format_bytes(table.total_bytes), "stack")
        )
    legend = "".join(f'<span class="swatch {part}"></span> {part} ' for part in ("heap", "toast", "index"))
    return f'<p class="legend">{legend}</p>' + _bar_chart(rows, "largest tables by size")


def _statements_chart(statements: list[Statement]) -> str:
    """The statements that took the most time, their text wrapped beside the bar."""
    longest = max(s.total_ms for s in statements) or 1
    rows = [
        _bar_row(
            f'<span class="q">{e(one_line(statement.query, 160))}</span>',
            f'<span class="bar time" style="width:{max(0.4, 100 * statement.total_ms / longest):.2f}%"></span>',
            f"{statement.total_ms:,.0f} ms · {statement.calls:,} calls",
        )
        for statement in statements
    ]
    return _bar_chart(rows, "top queries by total time")


def _bar_row(label_html: str, bars_html: str, value: str, track: str = "") -> str:
    return (
        f'<div class="bar-row"><div class="bar-label">{label_html}</div>'
        f'<div class="bar-track {track}">{bars_html}</div><div class="bar-value">{e(value)}</div></div>'
    )


def _bar_chart(rows: list[str], label: str, css_class: str = "") -> str:
    return f'<div class="bars {css_class}" role="figure" aria-label="{e(label)}">{"".join(rows)}</div>'


def _score_class(score: int) -> str:
    return "good" if score >= 90 else "fair" if score >= 70 else "poor"


CSS = (
    BASE_CSS
    + """
.docs,.on,.flags{color:var(--muted)}
nav{position:sticky;top:0;background:var(--bg);padding:8px 0;border-bottom:1px solid var(--line);z-index:1;
display:flex;flex-wrap:wrap;gap:4px 14px}
nav a{color:var(--fg);text-decoration:none;font-weight:500;white-space:nowrap}
nav .count{background:var(--line);border-radius:9px;padding:0 7px;font-size:.8em}
@media (max-width:700px){nav{position:static}}
.tally{border-left:6px solid}
.cols{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.3fr);gap:24px}
@media (max-width:800px){.cols{grid-template-columns:1fr}}
table.facts th,table.evidence th{font-weight:500;color:var(--muted)}
table.evidence td{font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}
table.steps{width:100%}
.filter{flex-basis:100%;display:flex;flex-wrap:wrap;gap:6px 12px;align-items:center;padding-top:4px}
.filter[hidden]{display:none}
.filter select,.filter button{font:inherit;font-size:.92em;padding:2px 8px;border:1px solid var(--line);
border-radius:4px;background:var(--card);color:var(--fg)}
.filter .shown{color:var(--muted);font-size:.9em}
.finding{background:var(--card);border:1px solid var(--line);border-left:6px solid;border-radius:8px;
padding:2px 18px;margin:10px 0}
.finding[open]{padding-bottom:10px}
.finding>summary{cursor:pointer;padding:6px 0}
.finding>summary h3{display:inline;font-size:1.02em;margin:0}
@media (max-width:600px){.finding{padding:2px 10px}}
.filtered-out{color:var(--muted);font-style:italic}
.why{border-left:3px solid var(--line);padding:0 12px;margin:10px 0;font-size:.95em}
.why p{margin:6px 0}
.check{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:2px 18px;margin:10px 0}
.check[open]{padding-bottom:8px}.check>summary{cursor:pointer;padding:6px 0}
.check>summary h3{display:inline;font-size:1em;margin:0}
@media (max-width:600px){.check{padding:2px 10px}}
.check .refs-head{font-weight:600;margin-bottom:2px}.check a{overflow-wrap:anywhere}
.badge{display:inline-block;color:#fff;border-radius:4px;padding:0 8px;font-size:.8em;text-transform:uppercase;
letter-spacing:.04em;vertical-align:1px}
.sev-critical{border-left-color:var(--critical)}.badge.sev-critical{background:var(--critical)}
.sev-high{border-left-color:var(--high)}.badge.sev-high{background:var(--high)}
.sev-medium{border-left-color:var(--medium)}.badge.sev-medium{background:var(--medium)}
.sev-low{border-left-color:var(--low)}.badge.sev-low{background:var(--low)}
.sev-info{border-left-color:var(--info)}.badge.sev-info{background:var(--info)}
.score{font-size:.7em;border-radius:4px;padding:1px 8px;color:#fff;vertical-align:3px}
.score.unchecked{background:#777;font-weight:normal}.partial{color:#8a6d00;margin:.2em 0}
.score.good{background:var(--good)}.score.fair{background:var(--fair)}.score.poor{background:var(--poor)}
details.fix{border-top:1px dashed var(--line);margin-top:10px;padding-top:6px}
details.fix summary{cursor:pointer;font-weight:600}
.notes{margin:6px 0}
.sql{margin:10px 0}
.sqlhead{display:flex;justify-content:space-between;align-items:center;font-size:.85em;color:var(--muted)}
button.copy{font:inherit;font-size:.85em;padding:2px 10px;border:1px solid var(--line);border-radius:4px;
background:var(--card);color:var(--fg);cursor:pointer}
button.copy:hover{border-color:var(--muted)}
.warn{font-weight:600;color:var(--high)}
.bars.scores{grid-template-columns:minmax(6em,auto) minmax(0,1fr) auto}
@media (max-width:700px){.bars.scores{grid-template-columns:minmax(6em,auto) minmax(0,1fr) auto;gap:6px 10px}
.bars.scores .bar-value{margin:0}}
.bar-track.score{background:var(--code);border-radius:3px}.bar-track.score .bar{height:14px}
.bar.good{background:var(--good)}.bar.fair{background:var(--fair)}.bar.poor{background:var(--poor)}
.bar.none{height:14px;background:repeating-linear-gradient(90deg,var(--line) 0 4px,transparent 4px 8px)}
.bar.heap,.swatch.heap{background:var(--heap)}.bar.toast,.swatch.toast{background:var(--toast)}
.bar.index,.swatch.index{background:var(--index)}.bar.time{background:var(--time)}
.bar-track.stack{flex-direction:row;gap:0}.bar-track.stack .bar{height:14px;border-radius:0}
.bar-track .bar.time{height:14px}
@media print{nav,.filter,button.copy{display:none}.finding{break-inside:avoid}}
"""
)

COPY_JS = """
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

FILTER_JS = """
(function () {
  var ORDER = ["info", "low", "medium", "high", "critical"];
  var bar = document.getElementById("filter");
  var select = document.getElementById("min-severity");
  if (!bar || !select) { return; }
  bar.hidden = false;
  function apply() {
    var floor = ORDER.indexOf(select.value);
    var shown = 0, total = 0;
    document.querySelectorAll("section.area").forEach(function (area) {
      var findings = area.querySelectorAll("details.finding");
      var visible = 0;
      findings.forEach(function (finding) {
        var keep = ORDER.indexOf(finding.dataset.severity) >= floor;
        finding.hidden = !keep;
        if (keep) { visible += 1; }
      });
      shown += visible;
      total += findings.length;
      var note = area.querySelector(".filtered-out");
      if (findings.length && !visible) {
        if (!note) {
          note = document.createElement("p");
          note.className = "filtered-out";
          area.appendChild(note);
        }
        note.textContent = findings.length + " finding(s) here are below the severity shown.";
        note.hidden = false;
      } else if (note) {
        note.hidden = true;
      }
    });
    document.getElementById("shown").textContent = shown + " of " + total + " findings shown";
  }
  function openAll(open) {
    document.querySelectorAll("details.finding").forEach(function (finding) {
      if (!finding.hidden) { finding.open = open; }
    });
  }
  select.addEventListener("change", apply);
  document.getElementById("expand-all").addEventListener("click", function () { openAll(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { openAll(false); });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  function openTarget() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  apply();
})();
"""

JS = COPY_JS + FILTER_JS


RENDERERS: dict[str, Renderer] = {
    "review": render,
    "audit": lazy("dbwright.output.audit:render_html"),
    "index-advice": lazy("dbwright.output.index_advice_html:render_html"),
}
