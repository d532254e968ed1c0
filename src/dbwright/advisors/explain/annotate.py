"""Walk an EXPLAIN (FORMAT JSON) plan and say what is wrong with it, node by node.

Each annotation is data (kind, node, message, evidence); words for people are the renderer's
job. Kinds: ``misestimate`` (actual rows off from the estimate by a factor, with --analyze),
``seq_scan`` (a sequential scan of a large table), ``spill`` (a sort or hash that went to
disk, with --analyze), ``nested_loop`` (a nested loop driven by a large outer input),
``stale_stats`` (the snapshot says a table's statistics are missing or out of date) and
``index_suggestion`` (the index advisor's what-if search for this one query).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dbwright.model import Snapshot, Table

KINDS = ("misestimate", "seq_scan", "spill", "nested_loop", "stale_stats", "index_suggestion")
SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Tid Scan", "Tid Range Scan"}


@dataclass(frozen=True)
class Thresholds:
    misestimate_factor: float = 10.0
    large_table_rows: float = 50_000
    nested_loop_rows: float = 10_000
    #: Autoanalyze's own default trigger: 50 rows + 10% of the table changed since the last ANALYZE.
    stale_base_rows: int = 50
    stale_fraction: float = 0.10


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Annotation:
    kind: str
    node: int | None  # preorder number of the plan node, None for the statement as a whole
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "node": self.node, "message": self.message, "evidence": self.evidence}


@dataclass(frozen=True)
class Node:
    number: int
    depth: int
    data: dict[str, Any]
    parent: int | None

    @property
    def type(self) -> str:
        return self.data.get("Node Type", "?")

    @property
    def relation(self) -> str | None:
        name = self.data.get("Relation Name")
        if name is None:
            return None
        return f"{self.data.get('Schema', 'public')}.{name}"

    @property
    def children(self) -> list[dict[str, Any]]:
        return self.data.get("Plans", [])

    @property
    def analyzed(self) -> bool:
        return "Actual Rows" in self.data

    @property
    def actual_total_rows(self) -> float:
        """Rows over all loops (EXPLAIN shows the average per loop)."""
        return float(self.data.get("Actual Rows", 0)) * float(self.data.get("Actual Loops", 1))

    @property
    def rows(self) -> float:
        """Actual rows over all loops when analysed, else the planner's estimate."""
        return self.actual_total_rows if self.analyzed else float(self.data.get("Plan Rows", 0))


def nodes(plan: dict[str, Any]) -> list[Node]:
    """The plan's nodes in preorder; node numbers are indexes into this list."""
    found: list[Node] = []

    def visit(data: dict[str, Any], depth: int, parent: int | None) -> None:
        number = len(found)
        found.append(Node(number, depth, data, parent))
        for child in data.get("Plans", []):
            visit(child, depth + 1, number)

    visit(plan, 0, None)
    return found


def annotate(
    plan: dict[str, Any], snapshot: Snapshot | None, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> list[Annotation]:
    """Every annotation for one plan, in node order, then statement-level ones."""
    all_nodes = nodes(plan)
    found: list[Annotation] = []
    for node in all_nodes:
        found.extend(_misestimate(node, all_nodes, thresholds))
        found.extend(_seq_scan(node, snapshot, thresholds))
        found.extend(_spill(node))
        found.extend(_nested_loop(node, all_nodes, thresholds))
    found.extend(stale_statistics(all_nodes, snapshot, thresholds))
    return found


def _error_factor(node: Node) -> float | None:
    """How far off the row estimate is (≥ 1, either way), or None when the node did not run."""
    if not node.analyzed or not node.data.get("Actual Loops", 1):
        return None
    estimated = max(float(node.data.get("Plan Rows", 0)), 1.0)
    actual = max(float(node.data.get("Actual Rows", 0)), 1.0)  # per loop, like Plan Rows
    return max(actual / estimated, estimated / actual)


def _misestimate(node: Node, all_nodes: list[Node], t: Thresholds) -> Iterator[Annotation]:
    """Where a misestimate starts: nodes above that only inherit a child's error are not repeated."""
    factor = _error_factor(node)
    if factor is None or factor < t.misestimate_factor:
        return
    inherited = max((_error_factor(n) or 1.0 for n in all_nodes if n.parent == node.number), default=1.0)
    if inherited >= t.misestimate_factor and factor < inherited * t.misestimate_factor:
        return
    estimated = float(node.data.get("Plan Rows", 0))
    actual = float(node.data.get("Actual Rows", 0))
    loops = int(node.data.get("Actual Loops", 1))
    direction = "under" if actual > estimated else "over"
    if direction == "over" and _stopped_early(node, all_nodes):
        return
    yield Annotation(
        "misestimate",
        node.number,
        f"row estimate {direction} by {factor:,.0f}×: planned {estimated:,.0f}, got {actual:,.0f}"
        + (f" per loop ({loops:,} loops)" if loops > 1 else ""),
        {
            "plan_rows": estimated,
            "actual_rows": actual,
            "loops": loops,
            "factor": round(factor, 1),
            "direction": direction,
        },
    )


def _stopped_early(node: Node, all_nodes: list[Node]) -> bool:
    """Below a Limit, or on the inner side of a semi/anti join, a node is not run to completion:
    fewer actual rows than planned is no misestimate there."""
    child = node
    while child.parent is not None:
        parent = all_nodes[child.parent]
        if parent.type == "Limit":
            return True
        if (
            parent.data.get("Join Type") in ("Semi", "Anti")
            and child.data.get("Parent Relationship") == "Inner"
        ):
            return True
        child = parent
    return False


def _seq_scan(node: Node, snapshot: Snapshot | None, t: Thresholds) -> Iterator[Annotation]:
    if node.type != "Seq Scan" or node.relation is None:
        return
    table = snapshot.table(node.relation) if snapshot else None
    rows = table.row_estimate if table else float(node.data.get("Plan Rows", 0))
    if rows < t.large_table_rows:
        return
    evidence: dict[str, Any] = {
        "table": node.relation,
        "table_rows": rows,
        "table_bytes": table.heap_bytes if table else None,
    }
    text = f"sequential scan of {node.relation} ({rows:,.0f} rows"
    text += f", {table.heap_bytes / 1024**2:,.1f} MB)" if table else ")"
    if "Filter" in node.data:
        evidence["filter"] = node.data["Filter"]
        removed = node.data.get("Rows Removed by Filter")
        if removed is not None:
            kept = node.actual_total_rows
            removed_all = float(removed) * float(node.data.get("Actual Loops", 1))
            evidence.update(rows_removed=removed_all, rows_returned=kept)
            text += f" to keep {kept:,.0f} and discard {removed_all:,.0f} rows"
        else:
            text += f" to keep about {float(node.data.get('Plan Rows', 0)):,.0f} rows"
    yield Annotation("seq_scan", node.number, text, evidence)


def _spill(node: Node) -> Iterator[Annotation]:
    if node.data.get("Sort Space Type") == "Disk":
        used = node.data.get("Sort Space Used")
        yield Annotation(
            "spill",
            node.number,
            f"sort spilled to disk ({node.data.get('Sort Method', 'external')}, {used} kB): "
            "work_mem is too small for it",
            {"sort_method": node.data.get("Sort Method"), "disk_kb": used},
        )
    batches = node.data.get("Hash Batches")
    if node.type == "Hash" and batches is not None and int(batches) > 1:
        yield Annotation(
            "spill",
            node.number,
            f"hash split into {batches} batches (planned {node.data.get('Original Hash Batches')}): "
            "it spilled to disk; work_mem × hash_mem_multiplier is too small for it",
            {
                "hash_batches": batches,
                "original_hash_batches": node.data.get("Original Hash Batches"),
                "peak_memory_kb": node.data.get("Peak Memory Usage"),
            },
        )


def _nested_loop(node: Node, all_nodes: list[Node], t: Thresholds) -> Iterator[Annotation]:
    if node.type != "Nested Loop" or len(node.children) < 2:
        return
    outer = next(n for n in all_nodes if n.parent == node.number)
    inner = next(n for n in all_nodes if n.parent == node.number and n.number != outer.number)
    if outer.rows < t.nested_loop_rows:
        return
    what = "actual" if outer.analyzed else "estimated"
    yield Annotation(
        "nested_loop",
        node.number,
        f"nested loop runs its inner {inner.type} {outer.rows:,.0f} times ({what} outer rows); "
        "a hash or merge join may be cheaper",
        {
            "outer_rows": outer.rows,
            "inner_node": inner.type,
            "inner_relation": inner.relation,
            "analyzed": outer.analyzed,
        },
    )


def stale_statistics(
    all_nodes: list[Node], snapshot: Snapshot | None, t: Thresholds = DEFAULT_THRESHOLDS
) -> list[Annotation]:
    """Tables the plan reads whose statistics are missing or older than autoanalyze would allow."""
    if snapshot is None:
        return []
    found = []
    seen: set[str] = set()
    for node in all_nodes:
        relation = node.relation
        if relation is None or relation in seen:
            continue
        seen.add(relation)
        table = snapshot.table(relation)
        if table is None:
            continue
        reason = _stale_reason(table, t)
        if reason:
            found.append(
                Annotation(
                    "stale_stats",
                    node.number,
                    f"{relation}: {reason}; run ANALYZE {relation}",
                    {
                        "table": relation,
                        "n_mod_since_analyze": table.n_mod_since_analyze,
                        "row_estimate": table.row_estimate,
                        "last_analyze": table.last_analyze,
                        "last_autoanalyze": table.last_autoanalyze,
                        "autovacuum_enabled": table.reloption("autovacuum_enabled"),
                    },
                )
            )
    return found


def _stale_reason(table: Table, t: Thresholds) -> str | None:
    changed = table.n_mod_since_analyze or 0
    last = max(filter(None, (table.last_analyze, table.last_autoanalyze)), default=None)
    if last is None:
        if changed > 0 or (table.n_live_tup or 0) > 0:
            return (
                f"never analyzed ({changed:,} rows changed, planner assumes {table.row_estimate:,.0f} rows)"
            )
        return None
    limit = t.stale_base_rows + t.stale_fraction * table.row_estimate
    if changed > limit:
        return (
            f"{changed:,} rows changed since the last ANALYZE ({last[:19]}), "
            f"over the {limit:,.0f} that trigger autoanalyze; the planner assumes {table.row_estimate:,.0f} rows"
        )
    return None
