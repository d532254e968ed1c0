"""A design proposal: what the data shows, the evidence, and the change package that acts on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dbwright.model.package import ChangePackage


@dataclass
class Proposal:
    kind: str  # normalize, unique_key, foreign_key, not_null, check_values, type
    table: str
    columns: tuple[str, ...]
    title: str
    evidence: dict[str, Any]
    package: ChangePackage | None = None
    #: For decompositions: dropping the now-redundant columns, kept apart because it loses data.
    destructive_package: ChangePackage | None = None
    advice: str = ""
    score: float = 0.0
    approximate: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "table": self.table,
            "columns": list(self.columns),
            "title": self.title,
            "approximate": self.approximate,
            "score": round(self.score, 3),
            "advice": self.advice,
            "evidence": self.evidence,
            "package": self.package.to_dict() if self.package else None,
            "destructive_package": self.destructive_package.to_dict() if self.destructive_package else None,
        }


@dataclass
class Rejected:
    """A candidate the data did not confirm, or that was dropped as trivial or accidental."""

    table: str
    what: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "what": self.what, "reason": self.reason, "details": self.details}
