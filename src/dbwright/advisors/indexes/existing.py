"""Existing indexes worth dropping or merging, each with its evidence and its cost to the workload.

- unused: no scan during an observation window of at least ``min_observed_days`` (the review's
  DW203 rules: never an index a foreign key needs, the only search index on its key, or an
  index on an empty or unread table), and no workload plan uses it;
- redundant: its keys, as the definition prints them (collation, operator class, ordering),
  are a leading prefix of another btree index's keys with the same predicate, so that index
  answers every lookup it answers;
- superseded: its plain keys lead a recommended index, which will answer for it once built;
- merge: two indexes with the same keys and different INCLUDE lists become one.

Indexes behind a primary key, a unique constraint or any constraint are never proposed:
dropping them changes what the database guarantees, not just how fast it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dbwright.advisors.indexes.plans import PlanSummary
from dbwright.advisors.indexes.spec import IndexSpec
from dbwright.checks.indexes import (
    MIN_OBSERVED_DAYS,
    foreign_key_keepers,
    key_items,
    observation_window,
    search_keepers,
    unused_keep_reason,
)
from dbwright.model import Index, Snapshot
from dbwright.model.operations import DropIndex, ident
from dbwright.model.package import ChangePackage


@dataclass
class DropProposal:
    index: Index
    reason: str  # unused | redundant | superseded | merge
    evidence: dict[str, Any]
    package: ChangePackage
    used_by: list[str] = field(default_factory=list)  # workload query keys whose plans use it
    cost_increase: float | None = 0.0  # objective units; None when not simulated
    simulated: bool = False
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index.qname,
            "table": self.index.table_qname,
            "reason": self.reason,
            "definition": self.index.definition,
            "bytes": self.index.bytes,
            "evidence": self.evidence,
            "used_by": self.used_by,
            "cost_increase": self.cost_increase,
            "simulated": self.simulated,
            "note": self.note,
            "package": self.package.to_dict(),
        }


def droppable(index: Index) -> bool:
    return index.valid and not (index.primary or index.unique or index.constraint)


def propose(
    snapshot: Snapshot,
    recommended: Sequence[IndexSpec],
    plans_after: dict[str, PlanSummary | None],
    min_observed_days: float = MIN_OBSERVED_DAYS,
) -> list[DropProposal]:
    """Drop and merge proposals, before their cost is measured; ordered by table and name."""
    proposals: dict[str, DropProposal] = {}
    window = observation_window(snapshot)
    keepers = {c.qname for i in snapshot.indexes if droppable(i) and (c := _covering_index(i, snapshot))}
    for index in sorted(snapshot.indexes, key=lambda i: (i.table_qname, i.name)):
        if not droppable(index):
            continue
        used_by = sorted(k for k, p in plans_after.items() if p and p.uses(index.name))
        covering = _covering_index(index, snapshot)
        superseding = _superseding_spec(index, recommended)
        if covering is not None:
            proposals[index.qname] = _proposal(
                index,
                "redundant",
                {"covered_by": covering.qname, "covered_by_definition": covering.definition},
                used_by,
                f"{covering.qname} has the same leading keys; it answers every lookup this one does",
            )
        elif superseding is not None:
            proposals[index.qname] = _proposal(
                index,
                "superseded",
                {"recommended": superseding.label},
                used_by,
                f"the recommended {superseding.name} leads with the same keys",
            )
        elif (
            index.scans == 0
            and not used_by
            and index.qname not in keepers
            and window.covers(min_observed_days)
            and _unused_candidate(snapshot, index)
        ):
            proposals[index.qname] = _proposal(
                index,
                "unused",
                {"stats_reset": _stats_reset(snapshot), **window.evidence(min_observed_days)},
                used_by,
                f"no index scan {window.describe()}, and no workload plan uses it",
            )
    for first, second in _merge_pairs(snapshot):
        if first.qname in proposals or second.qname in proposals:
            continue
        include = tuple(dict.fromkeys([*first.include, *second.include]))
        keys = tuple(c for c in first.columns if c)
        merged = IndexSpec(first.table_qname, keys, include)
        package = ChangePackage.of(
            f"Merge {first.name} and {second.name}",
            [
                merged.operation(_table_bytes(snapshot, first)),
                _drop(first, snapshot),
                _drop(second, snapshot),
            ],
            f"Both index ({', '.join(keys)}); one index INCLUDE ({', '.join(include)}) serves both.",
        )
        proposals[first.qname] = DropProposal(
            first,
            "merge",
            {"merge_with": second.qname, "merged": merged.label},
            package,
            note="same keys, different INCLUDE lists",
        )
    return list(proposals.values())


def _proposal(
    index: Index, reason: str, evidence: dict[str, Any], used_by: list[str], why: str
) -> DropProposal:
    evidence = {"scans": index.scans, "bytes": index.bytes, **evidence}
    package = ChangePackage.of(
        f"Drop {reason} index {index.qname}",
        [_drop(index, None)],
        f"{why}. Frees {index.bytes:,} bytes and the write cost of keeping it.",
    )
    return DropProposal(index, reason, evidence, package, used_by=used_by, note=why)


def _drop(index: Index, snapshot: Snapshot | None) -> DropIndex:
    return DropIndex(
        index.qname,
        concurrently=True,
        definition=index.definition,
        table_bytes=_table_bytes(snapshot, index) if snapshot else 0,
    )


def _table_bytes(snapshot: Snapshot, index: Index) -> int:
    table = snapshot.table(index.table_qname)
    return table.heap_bytes if table else 0


def _plain_keys(index: Index) -> tuple[str, ...] | None:
    if index.expressions or any(c is None for c in index.columns):
        return None
    return tuple(c for c in index.columns if c)


def _covering_index(index: Index, snapshot: Snapshot) -> Index | None:
    """Another valid index of the same method and predicate whose keys start with this one's."""
    keys = _plain_keys(index)
    if not keys:
        return None
    for other in sorted(snapshot.indexes_of(index.table_qname), key=lambda i: i.name):
        if (
            other.name == index.name
            or not other.valid
            or other.method != index.method
            or other.predicate != index.predicate
            or index.method not in ("btree",)
        ):
            continue
        other_keys = _plain_keys(other)
        if other_keys is None or not other.ready or key_items(other)[: len(keys)] != key_items(index):
            continue  # collation, operator class and ordering count: `x varchar_pattern_ops` is not `x`
        if not set(index.include) <= set(other_keys) | set(other.include):
            continue
        if (
            key_items(other) == key_items(index)
            and set(other.include) == set(index.include)
            and droppable(other)
            and other.name > index.name
        ):
            continue  # exact duplicates: keep the first by name, drop the other
        return other
    return None


def _superseding_spec(index: Index, recommended: Sequence[IndexSpec]) -> IndexSpec | None:
    keys = _plain_keys(index)
    if not keys or index.method != "btree" or index.predicate or not _default_keys(index, keys):
        return None
    for spec in recommended:
        if (
            spec.table == index.table_qname
            and spec.method == "btree"
            and not spec.where
            and spec.keys[: len(keys)] == keys
            and set(index.include) <= set(spec.keys) | set(spec.include)
        ):
            return spec
    return None


def _merge_pairs(snapshot: Snapshot) -> list[tuple[Index, Index]]:
    pairs = []
    by_table: dict[str, list[Index]] = {}
    for index in snapshot.indexes:
        keys = _plain_keys(index)
        plain = bool(keys) and _default_keys(index, keys or ())
        if droppable(index) and index.method == "btree" and plain and not index.predicate:
            by_table.setdefault(index.table_qname, []).append(index)
    for indexes in by_table.values():
        indexes.sort(key=lambda i: i.name)
        for i, first in enumerate(indexes):
            for second in indexes[i + 1 :]:
                if (
                    key_items(first) == key_items(second)
                    and set(first.include) != set(second.include)
                    and first.include
                    and second.include
                ):
                    pairs.append((first, second))
    return pairs


def _stats_reset(snapshot: Snapshot) -> str | None:
    database = snapshot.server.current_database
    return database.stats_reset if database else None


def _default_keys(index: Index, keys: tuple[str, ...]) -> bool:
    """Whether every key is a bare column: default collation, operator class and ordering."""
    return key_items(index) == tuple(ident(k) for k in keys)


def _unused_candidate(snapshot: Snapshot, index: Index) -> bool:
    """The review's DW203 rules: nothing a constraint, a foreign key or a search needs, and only
    on a table that has data and has been read."""
    table = snapshot.table(index.table_qname)
    if table is None or table.kind != "r" or table.is_partition:
        return False
    indexes = snapshot.indexes_of(table.qname)
    keepers = foreign_key_keepers(snapshot, table.qname)
    return unused_keep_reason(snapshot, index, table, keepers, search_keepers(indexes)) is None


def observation_note(snapshot: Snapshot, min_observed_days: float = MIN_OBSERVED_DAYS) -> str | None:
    """Why no index is proposed as unused although some have no scans: the window is too short."""
    window = observation_window(snapshot)
    idle = [i for i in snapshot.indexes if droppable(i) and i.scans == 0]
    if window.covers(min_observed_days) or not idle:
        return None
    return (
        f"{len(idle)} index(es) have no scans {window.describe()}; none is proposed as unused before "
        f"{min_observed_days:g} days of statistics"
    )
