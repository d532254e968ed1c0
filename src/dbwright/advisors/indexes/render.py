"""Index advice as text, markdown and self-contained HTML (with an inline SVG chart).

Renderers only spell what the advice already says; nothing here decides anything. Which
format is which function is dbwright.output's registry (JSON is the advice's ``to_dict()``).
"""

from __future__ import annotations

import html

from dbwright.advisors.indexes.advise import IndexAdvice, QueryEffect
from dbwright.model.units import format_bytes


def _amount(value: float, unit: str) -> str:
    return f"{value:,.1f} ms" if unit == "ms" else f"{value:,.0f}"


def _headline(a: IndexAdvice) -> list[str]:
    unit = "estimated ms" if a.unit == "ms" else "planner cost × calls"
    if not a.verified:
        return [
            "UNVERIFIED: no what-if. Nothing was built and no candidate was priced.",
            f"workload cost ({unit}): {_amount(a.total_before, a.unit)} today",
            f"budget: {format_bytes(a.used_bytes)} of {format_bytes(a.budget_bytes)} used by "
            f"{len(a.recommendations)} candidate index(es)",
            f"to verify: {a.hint}",
        ]
    return [
        f"workload cost ({unit}): {_amount(a.total_before, a.unit)} → {_amount(a.total_after, a.unit)} "
        f"({a.improvement:.0%} lower)",
        f"budget: {format_bytes(a.used_bytes)} of {format_bytes(a.budget_bytes)} used by {len(a.recommendations)} index(es)",
        f"what-if: {a.backend}; {a.planner_calls} planner calls, {a.cache_hits} answered from cache, "
        f"{a.candidates} candidates, {a.elapsed_s:.1f} s",
    ]


def _gain(a: IndexAdvice, gain: float) -> str:
    return f"gain {_amount(gain, a.unit)}" if a.verified else "gain not priced"


def _after(h: QueryEffect) -> str:
    return f"{h.cost_after:,.1f}" if h.estimated else "—"


def text(a: IndexAdvice) -> str:
    lines = [f"Index advice for {a.database}", *(f"  {line}" for line in _headline(a)), ""]
    for number, r in enumerate(a.recommendations, 1):
        lines.append(f"{number}. {r.spec.label}")
        lines.append(
            f"   size ≈ {format_bytes(r.estimated_bytes)}, build ≈ {r.build_seconds:.1f} s, write overhead "
            f"{_amount(r.write_overhead, a.unit)}, {_gain(a, r.gain)}  [{r.origin}]"
        )
        for h in r.helps:
            lines.append(f"   - {h.key} ×{h.calls}: {h.cost_before:,.1f} → {_after(h)}  {h.plan_change}")
        lines.append(f"   {r.package.operations[0].sql()}")
        lines.append(f"   rollback: {r.package.rollback_operations()[0].sql()}")
        lines.append("")
    if a.drops:
        lines.append("Existing indexes")
        for d in a.drops:
            cost = (
                "not priced" if d.cost_increase is None else f"drop costs {_amount(d.cost_increase, a.unit)}"
            )
            lines.append(
                f"  - {d.reason}: {d.index.qname} ({format_bytes(d.index.bytes)}; {cost}) — {d.note}"
            )
        lines.append("")
    for note in a.notes:
        lines.append(f"note: {note}")
    if a.skipped:
        lines.append(f"{len(a.skipped)} statement(s) skipped (see --format json)")
    if a.unsupported:
        lines.append(f"{len(a.unsupported)} candidate(s) could not be costed (see --format json)")
    leftovers = ", ".join(f"{k} {v}" for k, v in a.leftovers.items())
    lines.append(f"left behind: {leftovers}")
    return "\n".join(lines)


def markdown(a: IndexAdvice) -> str:
    out = [f"# Index advice for `{a.database}`", "", *(f"- {line}" for line in _headline(a)), ""]
    if a.recommendations:
        out += ["## Recommended indexes", ""]
    for number, r in enumerate(a.recommendations, 1):
        out += [
            f"### {number}. `{r.spec.label}`",
            "",
            f"Size ≈ {format_bytes(r.estimated_bytes)} · build ≈ {r.build_seconds:.1f} s · write overhead "
            f"{_amount(r.write_overhead, a.unit)} · {_gain(a, r.gain)} · {r.origin}",
            "",
            "| query | calls | cost before | cost after | plan change |",
            "|---|---:|---:|---:|---|",
        ]
        out += [
            f"| `{h.key}` | {h.calls} | {h.cost_before:,.1f} | {_after(h)} | {h.plan_change} |"
            for h in r.helps
        ]
        out += ["", "```sql", r.package.forward_sql, "-- rollback", r.package.rollback_sql, "```", ""]
    if a.drops:
        out += [
            "## Existing indexes",
            "",
            "| index | reason | size | cost of dropping | evidence |",
            "|---|---|---:|---:|---|",
        ]
        for d in a.drops:
            cost = "not priced" if d.cost_increase is None else _amount(d.cost_increase, a.unit)
            out.append(
                f"| `{d.index.qname}` | {d.reason} | {format_bytes(d.index.bytes)} | {cost} | {d.note} |"
            )
        out.append("")
    out += [
        "## Queries",
        "",
        "| query | calls | cost before | cost after | SQL |",
        "|---|---:|---:|---:|---|",
    ]
    for q in a.queries:
        sql = " ".join(q.sql.split())[:120].replace("|", "\\|")
        out.append(f"| `{q.key}` | {q.calls} | {q.cost_before:,.1f} | {_after(q)} | `{sql}` |")
    out += ["", *(f"> {note}" for note in a.notes)]
    return "\n".join(out) + "\n"


def cost_chart(a: IndexAdvice, width: int = 720) -> str:
    """Inline SVG: one pair of bars per query, weighted cost before (grey) and after (green)."""
    rows = sorted(a.queries, key=lambda q: -q.weight * q.cost_before)[:25]
    if not rows or not a.verified:
        return ""
    top = max(q.weight * q.cost_before for q in rows) or 1.0
    label_w, bar_h, gap = 130, 9, 8
    height = len(rows) * (2 * bar_h + gap) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Weighted cost per query before and after">'
    ]
    y = 10
    scale = (width - label_w - 90) / top
    for q in rows:
        before, after = q.weight * q.cost_before, q.weight * q.cost_after
        parts.append(
            f'<text x="0" y="{y + bar_h + 3}" font-size="11" font-family="monospace">{html.escape(q.key)}'
            "</text>"
        )
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{max(1.0, before * scale):.1f}" height="{bar_h}" '
            f'fill="#9aa4ad"><title>before {before:,.1f}</title></rect>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + bar_h}" width="{max(1.0, after * scale):.1f}" height="{bar_h}" '
            f'fill="#2f9e44"><title>after {after:,.1f}</title></rect>'
        )
        parts.append(
            f'<text x="{label_w + max(1.0, before * scale) + 4:.1f}" y="{y + bar_h + 3}" font-size="10">'
            f"{_amount(before, a.unit)} → {_amount(after, a.unit)}</text>"
        )
        y += 2 * bar_h + gap
    parts.append(
        f'<text x="{label_w}" y="{y + 12}" font-size="11"><tspan fill="#9aa4ad">■ before</tspan> '
        '<tspan fill="#2f9e44">■ after</tspan></text></svg>'
    )
    return "".join(parts)


def html_page(a: IndexAdvice) -> str:
    e = html.escape
    body = [
        f"<h1>Index advice for {e(a.database)}</h1>",
        "<ul>",
        *(f"<li>{e(line)}</li>" for line in _headline(a)),
        "</ul>",
        "<h2>Cost per query</h2>",
        cost_chart(a),
    ]
    if a.recommendations:
        body.append("<h2>Recommended indexes</h2>")
    for number, r in enumerate(a.recommendations, 1):
        body += [
            f"<h3>{number}. <code>{e(r.spec.label)}</code></h3>",
            f"<p>size ≈ {format_bytes(r.estimated_bytes)} · build ≈ {r.build_seconds:.1f} s · write overhead "
            f"{e(_amount(r.write_overhead, a.unit))} · {e(_gain(a, r.gain))} · {e(r.origin)}</p>",
            "<table><tr><th>query</th><th>calls</th><th>before</th><th>after</th><th>plan change</th></tr>",
        ]
        body += [
            f"<tr><td><code>{e(h.key)}</code></td><td>{h.calls}</td><td>{h.cost_before:,.1f}</td>"
            f"<td>{_after(h)}</td><td>{e(h.plan_change)}</td></tr>"
            for h in r.helps
        ]
        body += [
            "</table>",
            f"<pre>{e(r.package.forward_sql)}\n-- rollback\n{e(r.package.rollback_sql)}</pre>",
        ]
    if a.drops:
        body.append(
            "<h2>Existing indexes</h2><table><tr><th>index</th><th>reason</th><th>size</th>"
            "<th>cost of dropping</th><th>evidence</th></tr>"
        )
        for d in a.drops:
            cost = "not priced" if d.cost_increase is None else _amount(d.cost_increase, a.unit)
            body.append(
                f"<tr><td><code>{e(d.index.qname)}</code></td><td>{e(d.reason)}</td>"
                f"<td>{format_bytes(d.index.bytes)}</td><td>{e(cost)}</td><td>{e(d.note)}</td></tr>"
            )
        body.append("</table>")
    body.append(
        "<h2>Queries</h2><table><tr><th>query</th><th>calls</th><th>before</th><th>after</th><th>SQL</th></tr>"
    )
    for q in a.queries:
        body.append(
            f"<tr><td><code>{e(q.key)}</code></td><td>{q.calls}</td><td>{q.cost_before:,.1f}</td>"
            f"<td>{_after(q)}</td><td><code>{e(' '.join(q.sql.split())[:300])}</code></td></tr>"
        )
    body.append("</table>")
    body += [f"<p class=note>{e(n)}</p>" for n in a.notes]
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;"
        "font-size:13px;text-align:left}pre{background:#f6f8fa;padding:8px;overflow:auto}"
        "code{font-size:12px}.note{color:#8a5a00}"
    )
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>Index advice: {e(a.database)}</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )
