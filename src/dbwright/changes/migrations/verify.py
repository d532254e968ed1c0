"""Tampering and drift: do the files, the history and the live schema still tell one story?

Tampering compares the files with the history: every applied migration must still be on
disk under the same name with the same up part, and the stored chain must still link each
history row to the one before it (an edited or deleted history row breaks it). Drift
compares the live schema's fingerprint with the one recorded by the last step that ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dbwright.changes.migrations import fingerprint
from dbwright.changes.migrations.files import MigrationFile, version_key
from dbwright.changes.migrations.history import GENESIS, HistoryRow, chain_of


@dataclass(frozen=True)
class Problem:
    kind: str  # edited, renamed, reordered, removed, history altered, out of order
    filename: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "file": self.filename, "message": self.message}


@dataclass(frozen=True)
class Status:
    applied: list[HistoryRow]
    pending: list[MigrationFile]
    out_of_order: list[MigrationFile]
    partial: HistoryRow | None
    baseline: HistoryRow | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": [r.to_dict() for r in self.applied],
            "pending": [m.filename for m in self.pending],
            "out_of_order": [m.filename for m in self.out_of_order],
            "partial": self.partial.to_dict() if self.partial else None,
            "baseline": self.baseline.version if self.baseline else None,
        }


@dataclass
class VerifyReport:
    problems: list[Problem] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    partial: str | None = None
    compared_with: str | None = None  # the history row whose fingerprint the live schema was compared with

    @property
    def ok(self) -> bool:
        return not self.problems and not self.drift and self.partial is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tampering": [p.to_dict() for p in self.problems],
            "drift": self.drift,
            "partial": self.partial,
            "compared_with": self.compared_with,
        }


def status(rows: list[HistoryRow], files: list[MigrationFile]) -> Status:
    applied_versions = {int(r.version) for r in rows}
    baseline = next((r for r in reversed(rows) if r.kind == "baseline"), None)
    floor = int(baseline.version) if baseline else -1
    pending = [m for m in files if int(m.version) not in applied_versions and int(m.version) > floor]
    newest = max(applied_versions, default=-1)
    out_of_order = [m for m in pending if int(m.version) < newest]
    partial = next((r for r in rows if r.status != "applied"), None)
    return Status(
        applied=rows, pending=pending, out_of_order=out_of_order, partial=partial, baseline=baseline
    )


def tampering(
    rows: list[HistoryRow],
    files: list[MigrationFile],
    directory: str = "the migrations directory",
    include_out_of_order: bool = True,
) -> list[Problem]:
    """Every applied file that was edited, renamed, reordered or removed, and every broken history link."""
    problems = list(_broken_links(rows))
    by_version = {int(m.version): m for m in files}
    by_checksum: dict[str, MigrationFile] = {}
    for m in files:
        by_checksum.setdefault(m.checksum, m)
    for row in rows:
        if row.kind == "baseline":
            continue
        found = by_version.get(int(row.version))
        moved = by_checksum.get(row.checksum)
        if found is None and moved is not None:
            kind = "reordered" if int(moved.version) != int(row.version) else "renamed"
            problems.append(
                Problem(
                    kind,
                    row.filename,
                    f"{row.filename} was applied, and is now {moved.filename}: "
                    "an applied migration must keep its version and name",
                )
            )
        elif found is None:
            problems.append(
                Problem(
                    "removed", row.filename, f"{row.filename} was applied but is missing from {directory}"
                )
            )
        elif found.checksum != row.checksum:
            if moved is not None and moved is not found:
                problems.append(
                    Problem(
                        "reordered",
                        found.filename,
                        f"{found.filename} now holds the up part applied as {moved.filename}'s "
                        f"version: applied migrations were reordered",
                    )
                )
            else:
                problems.append(
                    Problem(
                        "edited",
                        found.filename,
                        f"{found.filename} was edited after it was "
                        f"applied (checksum {found.checksum[:12]}, applied {row.checksum[:12]})",
                    )
                )
        elif found.name != row.name:
            problems.append(
                Problem(
                    "renamed",
                    found.filename,
                    f"{found.filename} was applied as {row.filename}: renamed after it was applied",
                )
            )
    if include_out_of_order:
        state = status(rows, files)
        newest = max(
            (r for r in rows if r.kind == "migration"), key=lambda r: version_key(r.version), default=None
        )
        for m in state.out_of_order:
            problems.append(
                Problem(
                    "out of order",
                    m.filename,
                    f"{m.filename} is pending but older than the newest applied migration "
                    f"{newest.filename if newest else '?'}: give it a newer version",
                )
            )
    return problems


def _broken_links(rows: list[HistoryRow]):
    previous = GENESIS
    for row in rows:
        if row.chain != chain_of(previous, row.version, row.name, row.checksum):
            yield Problem(
                "history altered",
                row.filename,
                f"the history row of {row.filename} does not chain to the row before it: "
                "the history table was edited or a row was deleted",
            )
            return
        previous = row.chain


def drift(rows: list[HistoryRow], live: fingerprint.Document) -> tuple[list[str], str | None, str | None]:
    """(differences, partial note, version compared with) between the live schema and the last recorded step."""
    if not rows:
        return [], None, None
    last = rows[-1]
    partial = None
    if last.status != "applied":
        partial = f"{last.filename} is {last.status}: {last.steps_done} of {last.steps_total} steps done"
        if last.step_running is not None:
            partial += (
                f"; step {last.step_running} (outside a transaction) was running when the run stopped, "
                "so its effect may be partial; rerun to finish it"
            )
    differences = fingerprint.differences(last.schema_doc, live)
    return differences, partial, last.version


def report(
    rows: list[HistoryRow],
    files: list[MigrationFile],
    live: fingerprint.Document,
    directory: str = "the migrations directory",
) -> VerifyReport:
    differences, partial, compared = drift(rows, live)
    return VerifyReport(
        problems=tampering(rows, files, directory), drift=differences, partial=partial, compared_with=compared
    )
