"""Small helpers the rules share: which tables already exist, ALTER TABLE subcommands."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from dbwright.changes.lint.context import LintState
from dbwright.changes.lint.rules import Statement
from dbwright.engines.postgres.parse_tree import qualified


def existing(statement: Statement, state: LintState) -> list[str]:
    """Relations the statement names that were not created earlier in this migration."""
    return [t for t in statement.effects.tables if not state.is_new(t)]


def alter_table(statement: Statement) -> tuple[str, list[ast.AlterTableCmd]] | None:
    node = statement.node
    if isinstance(node, ast.AlterTableStmt) and node.cmds:
        return qualified(node.relation), list(node.cmds)
    return None


def commands(statement: Statement, *subtypes: AlterTableType) -> Iterator[tuple[str, ast.AlterTableCmd]]:
    found = alter_table(statement)
    if found:
        table, cmds = found
        for cmd in cmds:
            if cmd.subtype in subtypes:
                yield table, cmd
