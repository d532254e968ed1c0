"""Change packages: the one shape every fix dbwright proposes takes.

A package is an ordered list of operations plus its notes. Forward SQL, rollback SQL,
locks, rewrites, scans and duration estimates are all derived from the operations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dbwright.model.operations import Operation


@dataclass(frozen=True)
class ChangePackage:
    title: str
    operations: tuple[Operation, ...]
    explanation: str
    security_notes: tuple[str, ...] = ()
    performance_notes: tuple[str, ...] = ()
    requires_restart: bool = False
    manual_steps: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, title: str, operations: Iterable[Operation], explanation: str, **notes: Any) -> ChangePackage:
        return cls(title=title, operations=tuple(operations), explanation=explanation, **notes)

    def rollback_operations(self) -> list[Operation]:
        """Reverse of each operation, last first; operations with nothing to undo are skipped."""
        mirrored = [op for op in reversed(self.operations) if not op.reverse_runs_last]
        last = [op for op in self.operations if op.reverse_runs_last]
        undo = (op.reverse() for op in mirrored + last)
        return [op for op in undo if op is not None]

    @property
    def forward_sql(self) -> str:
        return _script(self.operations)

    @property
    def rollback_sql(self) -> str:
        return _script(self.rollback_operations())

    @property
    def transactional(self) -> bool:
        return all(op.transactional for op in self.operations)

    @property
    def destructive(self) -> bool:
        return any(op.destructive for op in self.operations)

    @property
    def estimated_seconds(self) -> float:
        return sum(op.estimated_seconds() for op in self.operations)

    def steps(self) -> list[dict[str, Any]]:
        """Per statement: SQL, lock, impact, rewrite/scan, transaction and duration."""
        return [_step(op) for op in self.operations]

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "explanation": self.explanation,
            "forward_sql": self.forward_sql,
            "rollback_sql": self.rollback_sql,
            "steps": self.steps(),
            "rollback_steps": [_step(op) for op in self.rollback_operations()],
            "transactional": self.transactional,
            "destructive": self.destructive,
            "requires_restart": self.requires_restart,
            "estimated_seconds": round(self.estimated_seconds, 3),
            "security_notes": list(self.security_notes),
            "performance_notes": list(self.performance_notes),
            "manual_steps": list(self.manual_steps),
        }


def _step(op: Operation) -> dict[str, Any]:
    lock = op.lock()
    return {
        "sql": op.sql(),
        "operation": op.kind,
        "lock": lock.mode,
        "lock_target": lock.target,
        "impact": lock.impact,
        "rewrites_table": op.rewrites,
        "scans_table": op.scans,
        "in_transaction": op.transactional,
        "estimated_seconds": round(op.estimated_seconds(), 3),
    }


LOCK_TIMEOUT = "5s"


def _script(operations: Iterable[Operation]) -> str:
    """SQL text for the operations.

    Consecutive transactional statements share one BEGIN/COMMIT block when there are several
    of them or they lock a table; a lock_timeout guards every statement that takes a lock, so
    a migration waits seconds, not forever, behind a long transaction.
    """
    lines: list[str] = []
    session_timeout_set = False
    for in_transaction, group in _groups(operations):
        locks = any(op.lock().mode != "none" for op in group)
        if in_transaction and (len(group) > 1 or locks):
            lines.append("BEGIN;")
            if locks:
                lines.append(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';")
            lines += [op.sql() for op in group]
            lines.append("COMMIT;")
            continue
        if locks and not session_timeout_set:
            lines.append(f"SET lock_timeout = '{LOCK_TIMEOUT}';")
            session_timeout_set = True
        for op in group:
            suffix = "" if op.transactional else "  -- runs outside a transaction block"
            lines.append(op.sql() + suffix)
    return "\n".join(lines)


def _groups(operations: Iterable[Operation]) -> list[tuple[bool, list[Operation]]]:
    groups: list[tuple[bool, list[Operation]]] = []
    for op in operations:
        if groups and groups[-1][0] == op.transactional and not op.starts_transaction:
            groups[-1][1].append(op)
        else:
            groups.append((op.transactional, [op]))
    return groups
