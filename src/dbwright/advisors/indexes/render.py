"""Index advice as text and markdown (the HTML page is dbwright.output.index_advice_html).

Renderers only spell what the advice already says; nothing here decides anything. Which
format is which function is dbwright.output's registry (JSON is the advice's ``to_dict()``).
"""

from __future__ import annotations

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
