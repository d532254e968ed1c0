"""Reading pglast's parse tree: relation names, a column definition's constraints and default.

Plain reading of PostgreSQL's own parse tree, the same on every server version: shared by the
lock model (``locks.py``) and the lint's rules, which reach what a statement locks through
``Engine.lock_model()``.
"""

from __future__ import annotations

import re
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType
from pglast.parser import scan


def qualified(rangevar: ast.RangeVar) -> str:
    """``schema.table`` as written, or ``table`` when the statement names no schema."""
    return f"{rangevar.schemaname}.{rangevar.relname}" if rangevar.schemaname else rangevar.relname


def dotted(names) -> str:
    """A dotted name from its parts (a type's or a function's name list)."""
    return ".".join(n.sval for n in names)


def column_constraints(column: ast.ColumnDef, contype: ConstrType) -> list[ast.Constraint]:
    return [c for c in column.constraints or () if c.contype == contype]


def column_default(column: ast.ColumnDef) -> Any:
    """The default expression of a column definition, or None."""
    defaults = column_constraints(column, ConstrType.CONSTR_DEFAULT)
    return defaults[0].raw_expr if defaults else column.raw_default


#: ALTER TABLE subcommands as SQL writes them, where splitting the parser's name would not.
_SUBCOMMAND_WORDS = {
    "AlterColumnType": "ALTER COLUMN … TYPE",
    "ColumnDefault": "ALTER COLUMN … SET/DROP DEFAULT",
    "SetNotNull": "ALTER COLUMN … SET NOT NULL",
    "DropNotNull": "ALTER COLUMN … DROP NOT NULL",
    "SetStatistics": "ALTER COLUMN … SET STATISTICS",
    "SetStorage": "ALTER COLUMN … SET STORAGE",
    "SetCompression": "ALTER COLUMN … SET COMPRESSION",
    "SetOptions": "ALTER COLUMN … SET (…)",
    "ResetOptions": "ALTER COLUMN … RESET (…)",
    "AddIdentity": "ALTER COLUMN … ADD GENERATED AS IDENTITY",
    "SetIdentity": "ALTER COLUMN … SET GENERATED",
    "DropIdentity": "ALTER COLUMN … DROP IDENTITY",
    "DropExpression": "ALTER COLUMN … DROP EXPRESSION",
    "SetRelOptions": "SET (…)",
    "ResetRelOptions": "RESET (…)",
    "SetUnLogged": "SET UNLOGGED",
    "ChangeOwner": "OWNER TO",
    "ClusterOn": "CLUSTER ON",
    "DropCluster": "SET WITHOUT CLUSTER",
    "EnableTrig": "ENABLE TRIGGER",
    "DisableTrig": "DISABLE TRIGGER",
    "EnableTrigAll": "ENABLE TRIGGER ALL",
    "DisableTrigAll": "DISABLE TRIGGER ALL",
    "EnableTrigUser": "ENABLE TRIGGER USER",
    "DisableTrigUser": "DISABLE TRIGGER USER",
    "EnableAlwaysTrig": "ENABLE ALWAYS TRIGGER",
    "EnableReplicaTrig": "ENABLE REPLICA TRIGGER",
    "EnableRowSecurity": "ENABLE ROW LEVEL SECURITY",
    "DisableRowSecurity": "DISABLE ROW LEVEL SECURITY",
    "ForceRowSecurity": "FORCE ROW LEVEL SECURITY",
    "NoForceRowSecurity": "NO FORCE ROW LEVEL SECURITY",
    "AddInherit": "INHERIT",
    "DropInherit": "NO INHERIT",
    "AddOf": "OF",
    "DropOf": "NOT OF",
    "SetAccessMethod": "SET ACCESS METHOD",
    "SetTableSpace": "SET TABLESPACE",
    "ReplicaIdentity": "REPLICA IDENTITY",
    "GenericOptions": "OPTIONS (…)",
    "AddIndexConstraint": "ADD CONSTRAINT … USING INDEX",
    "AlterConstraint": "ALTER CONSTRAINT",
}
_TRAILING_WORDS = {"IF", "NOT", "EXISTS", "ON", "ONLY", "FROM", "INTO", "TO", "TABLE"}


def subcommand_words(subtype) -> str:
    """An ALTER TABLE subcommand (``AlterTableType``) in SQL words: AT_AddColumn -> ``ADD COLUMN``."""
    name = subtype.name.removeprefix("AT_")
    if name in _SUBCOMMAND_WORDS:
        return _SUBCOMMAND_WORDS[name]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).upper()


def statement_words(node, sql: str) -> str:
    """What a statement is, in SQL words, for messages: ``CREATE INDEX CONCURRENTLY``,
    ``ALTER TABLE … ADD COLUMN``, ``CREATE PUBLICATION`` (never a parser node name)."""
    if isinstance(node, ast.AlterTableStmt) and node.cmds:
        head = "ALTER INDEX" if node.objtype == ObjectType.OBJECT_INDEX else "ALTER TABLE"
        phrases = [subcommand_words(cmd.subtype) for cmd in node.cmds]
        concurrently = any(
            cmd.subtype == AlterTableType.AT_DetachPartition and cmd.def_.concurrent for cmd in node.cmds
        )
        return f"{head} … " + ", ".join(dict.fromkeys(phrases)) + (" … CONCURRENTLY" if concurrently else "")
    return leading_keywords(sql)


def leading_keywords(sql: str) -> str:
    """The keywords a statement starts with (``CREATE UNIQUE INDEX CONCURRENTLY``), up to its first name."""
    try:
        tokens = scan(sql)
    except Exception:  # text the scanner rejects: its first word is still a fair name
        return sql.split(None, 1)[0].upper() if sql.strip() else "statement"
    words: list[str] = []
    for token in tokens:
        if token.kind == "NO_KEYWORD" or len(words) == 5:
            break
        words.append(sql[token.start : token.end + 1].upper())
    while len(words) > 1 and words[-1] in _TRAILING_WORDS:
        words.pop()
    return " ".join(words) or "statement"
