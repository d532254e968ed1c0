"""The benchmark's results as a markdown table and a small SVG line chart (no plotting library)."""

from __future__ import annotations

import math

ORDER = ("dbwright", "extend", "dexter", "postgres-mcp")
COLOURS = {"dbwright": "#1f77b4", "extend": "#ff7f0e", "dexter": "#2ca02c", "postgres-mcp": "#d62728"}


def _rows(results: dict) -> dict[tuple[str, float], dict]:
    return {(r["advisor"], r["budget_multiple"]): r for r in results["runs"]}


def markdown(results: dict) -> str:
    rows = _rows(results)
    names = [n for n in ORDER if any(a == n for a, _ in rows)]
    mb = 1024**2
    lines = [
        f"Data (heap of the 8 tables): {results['data_bytes'] / mb:,.0f} MB. "
        "Relative cost = estimated cost with the advisor's indexes / without (1.000 = no secondary index); "
        "geo = geometric mean of per-query ratios, sum = ratio of summed costs.",
        "",
        "| budget | " + " | ".join(f"{n} geo / sum" for n in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for multiple in results["budgets"]:
        cells = []
        for n in names:
            r = rows.get((n, multiple))
            if r is None or math.isnan(r["relative_geomean"]):
                cells.append("–")
                continue
            over = " ⚠over" if r["estimated_bytes"] > r["budget_bytes"] else ""
            cells.append(f"{r['relative_geomean']:.3f} / {r['relative_sum']:.3f}{over}")
        lines.append(
            f"| {multiple:g}× ({multiple * results['data_bytes'] / mb:,.0f} MB) | " + " | ".join(cells) + " |"
        )
    lines += [
        "",
        "| budget | advisor | indexes | est. size MB | advisor time s | planner calls | error |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for multiple in results["budgets"]:
        for n in names:
            r = rows.get((n, multiple))
            if r is None:
                continue
            error = str(r.get("error") or "")[:120].replace("|", "\\|")
            lines.append(
                f"| {multiple:g}× | {n} | {len(r['indexes'])} | {r['estimated_bytes'] / mb:,.1f} | "
                f"{r.get('elapsed_s', 0):.1f} | {r.get('planner_calls', '–')} | {error} |"
            )
    if results.get("runtime"):
        lines += [
            "",
            "| indexes of | built (real) MB | build s | workload s (median of warm runs) | timeouts |",
            "|---|---:|---:|---:|---|",
        ]
        for n, r in results["runtime"].items():
            lines.append(
                f"| {n} | {r['real_bytes'] / mb:,.1f} | {r['build_s']:.1f} | {r['total_s']:.1f} | "
                f"{', '.join(f'Q{q}' for q in r['timeouts']) or 'none'} |"
            )
    return "\n".join(lines)


def svg(results: dict, width: int = 640, height: int = 360) -> str:
    """Geo-mean relative cost against budget, one line per advisor."""
    rows = _rows(results)
    budgets = results["budgets"]
    left, right, top, bottom = 60, 150, 30, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [r["relative_geomean"] for r in results["runs"] if not math.isnan(r["relative_geomean"])]
    low = min(0.0, math.floor(min(values, default=0) * 10) / 10)

    def x(k: int) -> float:
        return left + plot_w * (k / max(1, len(budgets) - 1))

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / (1.0 - low))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="18" font-size="13">TPC-H SF{results["sf"]:g}: estimated workload cost '
        "(geo-mean of per-query ratios, 1 = no index)</text>",
    ]
    for k in range(6):
        v = low + (1.0 - low) * k / 5
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
        )
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.2f}</text>')
    for k, b in enumerate(budgets):
        parts.append(f'<text x="{x(k):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{b:g}×</text>')
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle">'
        "budget (× heap size of the data)</text>"
    )
    for i, name in enumerate(n for n in ORDER if any(a == n for a, _ in rows)):
        points = [
            (x(k), y(rows[(name, b)]["relative_geomean"]))
            for k, b in enumerate(budgets)
            if (name, b) in rows and not math.isnan(rows[(name, b)]["relative_geomean"])
        ]
        colour = COLOURS[name]
        if points:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
            parts += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in points]
        ly = top + 10 + 18 * i
        parts.append(
            f'<line x1="{left + plot_w + 12}" x2="{left + plot_w + 32}" y1="{ly}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(f'<text x="{left + plot_w + 36}" y="{ly + 4}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
