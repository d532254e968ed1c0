"""The dry run: what `apply` would do, statement by statement, priced with the real table sizes.

Read-only: the plan reads the history and a snapshot, and runs the lint over the pending
files (state carrying from file to file); it never writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dbwright.changes.lint import LintFinding, LintState, lint
from dbwright.changes.migrations.files import MigrationFile
from dbwright.changes.migrations.history import HistoryRow
from dbwright.changes.migrations.statements import Statement, Step, statements_of, steps_of
from dbwright.model import Snapshot
from dbwright.model.operations import BUILD_RATE, REWRITE_RATE, SCAN_RATE, Lock


@dataclass(frozen=True)
class PlannedStatement:
    filename: str
    version: str
    step: int
    line: int
    sql: str
    kind: str
    lock: str
    tables: tuple[str, ...]
    rewrites: bool
    scans: bool
    in_transaction: bool
    understood: bool
    table_bytes: int
    estimated_seconds: float

    @property
    def impact(self) -> str:
        if self.lock == "unknown":
            return "lock not modelled"
        return Lock(self.lock).impact

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.filename,
            "version": self.version,
            "step": self.step,
            "line": self.line,
            "sql": self.sql,
            "kind": self.kind,
            "lock": self.lock,
            "impact": self.impact,
            "tables": list(self.tables),
            "rewrites_table": self.rewrites,
            "scans_table": self.scans,
            "in_transaction": self.in_transaction,
            "understood": self.understood,
            "table_bytes": self.table_bytes,
            "estimated_seconds": round(self.estimated_seconds, 3),
        }


@dataclass
class Plan:
    database: str
    server_version: int
    statements: list[PlannedStatement] = field(default_factory=list)
    findings: list[LintFinding] = field(default_factory=list)
    resumes: str | None = None  # a partially applied migration the apply would finish first
    out_of_order: list[str] = field(default_factory=list)

    @property
    def estimated_seconds(self) -> float:
        return sum(s.estimated_seconds for s in self.statements)

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "server_version": self.server_version,
            "resumes": self.resumes,
            "out_of_order": self.out_of_order,
            "statements": [s.to_dict() for s in self.statements],
            "estimated_seconds": round(self.estimated_seconds, 3),
            "lint": [f.to_dict() for f in self.findings],
        }


def estimate_seconds(statement: Statement, table_bytes: int) -> float:
    """Rough duration from the table size and operations.py's throughput constants."""
    if statement.node == "IndexStmt" or statement.kind.startswith("CreateIndex"):
        passes = 1 if statement.transactional else 2  # CONCURRENTLY scans the table twice
        return passes * table_bytes / BUILD_RATE
    if statement.rewrites:
        return table_bytes / REWRITE_RATE
    if statement.scans:
        return table_bytes / SCAN_RATE
    return 0.0


def table_size(snap: Snapshot, name: str, search_path: list[str]) -> int:
    """total_bytes of a table as written in SQL (qualified or not), 0 when it does not exist yet."""
    if "." in name:
        table = snap.table(name.replace('"', ""))
    else:
        table = next(
            (t for schema in search_path if (t := snap.table(f"{schema}.{name.strip(chr(34))}"))), None
        )
    return table.total_bytes if table else 0


def build(
    snap: Snapshot,
    search_path: list[str],
    work: list[tuple[MigrationFile, HistoryRow | None]],
    out_of_order: list[MigrationFile],
) -> Plan:
    version = snap.server.version_num
    plan = Plan(
        database=snap.server.database, server_version=version, out_of_order=[m.filename for m in out_of_order]
    )
    # The lint knows the live column types; apply sets both timeouts itself; the pending files
    # deploy together, so a table an earlier pending file creates is still new and empty.
    state = LintState.from_snapshot(snap, timeouts_set_by_runner=True, earlier_files_unapplied=True)
    for migration, row in work:
        steps: list[Step] = steps_of(statements_of(migration, "up", version))
        first = 1
        if row is not None:
            plan.resumes = migration.filename
            first = row.steps_done + 1
        for step in steps[first - 1 :]:
            for statement in step.statements:
                size = sum(table_size(snap, t, search_path) for t in statement.tables)
                plan.statements.append(
                    PlannedStatement(
                        filename=migration.filename,
                        version=migration.version,
                        step=step.number,
                        line=statement.line,
                        sql=statement.sql,
                        kind=statement.kind,
                        lock=statement.lock,
                        tables=statement.tables,
                        rewrites=statement.rewrites,
                        scans=statement.scans,
                        in_transaction=step.transactional,
                        understood=statement.understood,
                        table_bytes=size,
                        estimated_seconds=estimate_seconds(statement, size),
                    )
                )
        padded = "\n" * (migration.up_line - 1) + migration.up
        plan.findings += lint(padded, server_version=version, filename=migration.filename, state=state)
    return plan
