"""An Explanation as a text tree (rich) or markdown (JSON: its ``to_dict()``). Renderers spell; they decide nothing."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from dbwright.advisors.explain.annotate import Node, nodes
from dbwright.advisors.explain.api import Explanation, Suggestion
from dbwright.model.units import format_bytes

MARKS = {
    "misestimate": "≠",
    "seq_scan": "▤",
    "spill": "⛁",
    "nested_loop": "↻",
    "stale_stats": "⌛",
    "index_suggestion": "+",
}
DETAILS = (
    "Index Cond",
    "Recheck Cond",
    "Filter",
    "Join Filter",
    "Hash Cond",
    "Merge Cond",
    "Sort Key",
    "Group Key",
    "Sort Method",
)


def node_line(node: Node) -> str:
    """``Seq Scan on public.orders o  (cost=0.00..1693.00 rows=10 width=8) (actual rows=12 loops=1)``."""
    d = node.data
    label = node.type
    if d.get("Join Type") and node.type in ("Nested Loop", "Hash Join", "Merge Join"):
        label = f"{node.type} {d['Join Type']}" if d["Join Type"] != "Inner" else node.type
    if d.get("Index Name"):
        label += f" using {d['Index Name']}"
    if node.relation:
        label += f" on {node.relation}"
        if d.get("Alias") and d["Alias"] != d.get("Relation Name"):
            label += f" {d['Alias']}"
    label += (
        f"  (cost={d.get('Startup Cost', 0):.2f}..{d.get('Total Cost', 0):.2f} rows={d.get('Plan Rows', 0):,}"
    )
    label += f" width={d.get('Plan Width', 0)})"
    if node.analyzed:
        timing = (
            f"time={d['Actual Startup Time']:.3f}..{d['Actual Total Time']:.3f} "
            if "Actual Total Time" in d
            else ""
        )
        label += f" (actual {timing}rows={_count(d['Actual Rows'])} loops={d['Actual Loops']})"
    return label


def _details(node: Node) -> list[str]:
    d = node.data
    lines = []
    for key in DETAILS:
        if key in d:
            value = ", ".join(d[key]) if isinstance(d[key], list) else d[key]
            lines.append(f"{key}: {value}")
    if "Rows Removed by Filter" in d:
        lines.append(f"Rows Removed by Filter: {_count(d['Rows Removed by Filter'])}")
    if d.get("Sort Space Type"):
        lines.append(f"Sort Space: {d['Sort Space Used']} kB ({d['Sort Space Type']})")
    if "Hash Batches" in d:
        lines.append(
            f"Buckets: {d.get('Hash Buckets')}  Batches: {d['Hash Batches']}  "
            f"Memory: {d.get('Peak Memory Usage')} kB"
        )
    shared = " ".join(
        f"{k.split()[1].lower()}={d[k]}" for k in ("Shared Hit Blocks", "Shared Read Blocks") if d.get(k)
    )
    temp = " ".join(
        f"{k.split()[1].lower()}={d[k]}" for k in ("Temp Read Blocks", "Temp Written Blocks") if d.get(k)
    )
    if shared or temp:
        lines.append("Buffers:" + (f" shared {shared}" if shared else "") + (f" temp {temp}" if temp else ""))
    return lines


def text(e: Explanation, *, color: bool = False, width: int = 120) -> str:
    all_nodes = nodes(e.run.plan)
    by_node: dict[int | None, list[Any]] = {}
    for a in e.annotations:
        by_node.setdefault(a.node, []).append(a)
    trees: dict[int, Tree] = {}
    root = None
    for node in all_nodes:
        label = Text(node_line(node), style="bold" if node.number == 0 else "")
        tree = Tree(label) if node.parent is None else trees[node.parent].add(label)
        trees[node.number] = tree
        root = root or tree
        for line in _details(node):
            tree.add(Text(line, style="dim"))
        for a in by_node.get(node.number, []):
            tree.add(
                Text(
                    f"{MARKS[a.kind]} {a.kind}: {a.message}",
                    style="yellow" if a.kind != "index_suggestion" else "green",
                )
            )
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system="standard" if color else None,
        highlight=False,
        force_terminal=color,
    )
    mode = "EXPLAIN ANALYZE (rolled back)" if e.analyzed else "EXPLAIN"
    console.print(f"{mode} on {e.database}: {_one_line(e.sql, width - 20)}", markup=False, soft_wrap=True)
    console.print(root)
    timing = (
        [f"planning {e.run.document['Planning Time']:.3f} ms"] if "Planning Time" in e.run.document else []
    )
    if e.run.execution_ms is not None:
        timing.append(f"execution {e.run.execution_ms:.3f} ms")
    if timing:
        console.print(", ".join(timing), markup=False)
    for a in by_node.get(None, []):
        console.print(f"{MARKS[a.kind]} {a.kind}: {a.message}", markup=False)
    if e.suggestions:
        heading = (
            f"what-if: {e.what_if}, {e.planner_calls} planner calls"
            if e.verified
            else "UNVERIFIED: no what-if, not priced"
        )
        console.print(f"\nIndexes for this query ({heading}):", markup=False)
        for s in e.suggestions:
            console.print(
                f"  {s.create_sql}\n    est. {format_bytes(s.estimated_bytes)}; cost {_costs(s)}; "
                f"rollback: {s.rollback_sql}",
                markup=False,
                soft_wrap=True,
            )
    counts = {}
    for a in e.annotations:
        counts[a.kind] = counts.get(a.kind, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in counts.items()) or "nothing to flag"
    console.print(f"\n{summary}", markup=False)
    for note in e.notes:
        console.print(f"note: {note}", markup=False, soft_wrap=True)
    if e.hint:
        console.print(f"to verify: {e.hint}", markup=False, soft_wrap=True)
    return buffer.getvalue()


def _costs(s: Suggestion) -> str:
    """``12.0 → 3.1``, or the cost today when no what-if priced the index."""
    if s.cost_after is None:
        return f"{s.cost_before:,.1f} now (unverified: no what-if)"
    return f"{s.cost_before:,.1f} → {s.cost_after:,.1f}"


def markdown(e: Explanation) -> str:
    mode = "EXPLAIN ANALYZE (rolled back)" if e.analyzed else "EXPLAIN"
    out = [f"# {mode} on `{e.database}`", "", "```sql", e.sql, "```", "", "## Plan", "", "```"]
    out += [("  " * n.depth) + ("-> " if n.depth else "") + node_line(n) for n in nodes(e.run.plan)]
    out += ["```", ""]
    if e.annotations:
        out += ["## Findings", "", "| node | kind | finding |", "|---:|---|---|"]
        for a in e.annotations:
            node = "" if a.node is None else str(a.node)
            out.append(f"| {node} | {a.kind} | {a.message.replace('|', chr(92) + '|')} |")
        out.append("")
    if e.suggestions:
        title = "## Indexes for this query" + ("" if e.verified else " (unverified: no what-if)")
        out += [title, "", "```sql"]
        for s in e.suggestions:
            out += [
                f"-- est. {format_bytes(s.estimated_bytes)}, cost {_costs(s)}",
                s.create_sql,
                f"-- rollback: {s.rollback_sql}",
            ]
        out += ["```", ""]
    out += [f"> {note}" for note in e.notes]
    if e.hint:
        out.append(f"> to verify: {e.hint}")
    return "\n".join(out) + "\n"


def _count(value: float) -> str:
    """Row counts: PostgreSQL 18 reports fractional averages per loop (150000.0); show 150,000."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _one_line(sql: str, width: int) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
