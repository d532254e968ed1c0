"""What lint hands back: facts about each statement, and findings about the unsafe ones."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from dbwright.model.findings import Severity


@dataclass(frozen=True)
class StatementInfo:
    """One parsed statement of a migration and what it does (for ``migrate plan``)."""

    sql: str
    line: int
    kind: str  # e.g. "CreateIndex", "AlterTable:AddColumn", "Unknown"
    tables: tuple[str, ...]  # schema-qualified where written, else as written
    lock: str  # strongest lock on an existing relation: "ACCESS EXCLUSIVE", …, "none"; "unknown" if not modelled
    rewrites: bool
    scans: bool
    transactional: bool  # False for CONCURRENTLY, VACUUM, ALTER SYSTEM, …
    understood: bool  # False: dbwright does not model it (lint reports it, never passes it silently)
    file: str | None = None
    node: str = ""  # pglast node name, e.g. "IndexStmt"
    table_locks: tuple[tuple[str, str], ...] = ()  # (relation, lock) for each relation named
    notes: tuple[str, ...] = ()
    #: (relation, lock) held while the statement runs: its own, or stronger taken earlier in its transaction
    held_locks: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "sql": self.sql,
            "kind": self.kind,
            "tables": list(self.tables),
            "lock": self.lock,
            "table_locks": dict(self.table_locks),
            "held_locks": dict(self.held_locks),
            "rewrites": self.rewrites,
            "scans": self.scans,
            "transactional": self.transactional,
            "understood": self.understood,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class LintFinding:
    code: str
    severity: Severity
    title: str
    message: str
    file: str | None
    line: int
    sql: str
    lock: str
    safe_rewrite: str | None = None
    ignored: bool = False
    ignore_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.label,
            "title": self.title,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "sql": self.sql,
            "lock": self.lock,
            "safe_rewrite": self.safe_rewrite,
            "ignored": self.ignored,
            "ignore_reason": self.ignore_reason,
            "docs": f"docs/lint-rules/{self.code}.md",
        }


@dataclass(frozen=True)
class LintReport:
    """One lint run: its findings (ignored ones included, marked) and the files it read."""

    findings: tuple[LintFinding, ...]
    files: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"files": list(self.files), "findings": [f.to_dict() for f in self.findings]}

    def listing_at_or_above(self, severity: Severity | None) -> LintReport:
        """This run listing only the findings at or above ``severity`` (``--min-severity``)."""
        if severity is None:
            return self
        return replace(self, findings=tuple(f for f in self.findings if f.severity >= severity))
