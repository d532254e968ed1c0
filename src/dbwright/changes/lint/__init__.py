"""Migration lint: PostgreSQL's own parser, a lock model per the docs, 30+ rules, safe rewrites.

    describe(sql)      -> [StatementInfo]   what each statement locks, rewrites, scans
    lint(sql)          -> [LintFinding]     unsafe statements, each naming its lock and safe rewrite
    lint_files(paths)  -> [LintFinding]     files in order; state carries across a directory
    safe_rewrite(sql)  -> [ChangePackage]   the safe sequence for each unsafe statement, with rollback

Malformed SQL raises dbwright.errors.SqlParseError, naming file and line.
"""

from __future__ import annotations

from dbwright.changes.lint.context import LintState
from dbwright.changes.lint.engine import describe, lint, lint_files, migration_files
from dbwright.changes.lint.findings import LintFinding, LintReport, StatementInfo
from dbwright.changes.lint.rules import Rule, all_rules, get_rule

__all__ = [
    "LintFinding",
    "LintReport",
    "LintState",
    "Rule",
    "StatementInfo",
    "all_rules",
    "describe",
    "get_rule",
    "lint",
    "lint_files",
    "migration_files",
    "safe_rewrite",
]


def safe_rewrite(
    sql: str, server_version: int = 150000, *, filename: str | None = None, engine=None, state=None
):
    """The safe change packages for ``sql`` (see rewrite.py); ``engine``: the server's, for its lock model;
    ``state``: what is known of the schema (``LintState.from_snapshot``), so generated names are free
    and partitioned tables are known."""
    from dbwright.changes.lint.rewrite import safe_rewrite as _safe_rewrite

    return _safe_rewrite(sql, server_version, filename=filename, engine=engine, state=state)
