"""Findings: what a check or audit found in a database, and how serious it is.

A finding knows its check's code, never the check itself: the runner pairs the two when it
presents a review, so checks, change packages and renderers share this one word.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from dbwright.model.package import ChangePackage


class Severity(enum.IntEnum):
    INFO = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    CRITICAL = 5

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(
                f"unknown severity {text!r}; use one of {', '.join(s.label for s in cls)}"
            ) from None


@dataclass(frozen=True)
class Finding:
    code: str
    object: str  # fully qualified name: schema.table.column, role name, setting name
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: ChangePackage | None = None
    severity: Severity | None = None  # None: the check's own severity

    def with_code(self, code: str) -> Finding:
        """The same finding under ``code`` (a check's functions may be shared between codes)."""
        if code == self.code:
            return self
        return Finding(code, self.object, self.message, self.evidence, self.fix, self.severity)
