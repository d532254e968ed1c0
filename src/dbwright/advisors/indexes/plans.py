"""Summaries of EXPLAIN (FORMAT JSON) plans: total cost, the scan nodes, the indexes used.

Kept small on purpose: the what-if cache holds one of these per (query, index set), and the
report needs only the cost and the node that changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

SCAN_NODES = {
    "Seq Scan",
    "Index Scan",
    "Index Only Scan",
    "Bitmap Heap Scan",
    "Bitmap Index Scan",
    "Tid Scan",
    "Tid Range Scan",
}


@dataclass(frozen=True)
class PlanNode:
    node_type: str
    relation: str | None
    alias: str | None
    index: str | None
    total_cost: float
    rows: float
    depth: int

    def describe(self, names: dict[str, str] | None = None) -> str:
        text = self.node_type
        if self.index:
            text += f" using {(names or {}).get(self.index, self.index)}"
        if self.relation:
            text += f" on {self.relation}"
            if self.alias and self.alias != self.relation:
                text += f" {self.alias}"
        return text


@dataclass(frozen=True)
class PlanSummary:
    cost: float
    nodes: tuple[PlanNode, ...]

    @classmethod
    def of(cls, plan: dict[str, Any]) -> PlanSummary:
        return cls(float(plan["Total Cost"]), tuple(_flatten(plan, 0)))

    def renamed(self, rename: Callable[[str], str]) -> PlanSummary:
        nodes = tuple(replace(n, index=rename(n.index)) if n.index else n for n in self.nodes)
        return PlanSummary(self.cost, nodes)

    @property
    def indexes(self) -> frozenset[str]:
        return frozenset(n.index for n in self.nodes if n.index)

    @property
    def relations(self) -> frozenset[str]:
        return frozenset(n.relation for n in self.nodes if n.relation)

    def uses(self, index_name: str) -> bool:
        return index_name in self.indexes

    def sorts(self) -> int:
        return sum(1 for n in self.nodes if n.node_type in ("Sort", "Incremental Sort"))

    def scans(self) -> list[PlanNode]:
        return [n for n in self.nodes if n.node_type in SCAN_NODES and n.node_type != "Bitmap Index Scan"]


def changed_node(before: PlanSummary, after: PlanSummary, index: str, names: dict[str, str]) -> str:
    """How the plan changes where ``index`` enters it: "Seq Scan on orders → Index Scan using …"."""
    used = next((n for n in after.nodes if n.index == index), None)
    if used is None:
        return "plan unchanged"
    relation = used.relation or _heap_above(after, used)
    old = next((n for n in before.scans() if n.relation == relation), None)
    new = (
        used
        if used.node_type != "Bitmap Index Scan"
        else next((n for n in after.scans() if n.relation == relation), used)
    )
    text = f"{old.describe(names) if old else 'no scan of ' + str(relation)} → {new.describe(names)}"
    if new.node_type == "Bitmap Heap Scan":
        text += f" (bitmap of {names.get(index, index)})"
    if after.sorts() < before.sorts():
        text += "; Sort removed"
    return text


def _heap_above(plan: PlanSummary, node: PlanNode) -> str | None:
    index = plan.nodes.index(node)
    for candidate in reversed(plan.nodes[:index]):
        if candidate.node_type == "Bitmap Heap Scan":
            return candidate.relation
    return None


def _flatten(plan: dict[str, Any], depth: int) -> Iterator[PlanNode]:
    yield PlanNode(
        plan.get("Node Type", "?"),
        plan.get("Relation Name"),
        plan.get("Alias"),
        plan.get("Index Name"),
        float(plan.get("Total Cost", 0.0)),
        float(plan.get("Plan Rows", 0.0)),
        depth,
    )
    for child in plan.get("Plans", ()):
        yield from _flatten(child, depth + 1)
