"""Reading pglast's parse tree: relation names, a column definition's constraints and default.

Plain reading of PostgreSQL's own parse tree, the same on every server version: shared by the
lock model (``locks.py``) and the lint's rules, which reach what a statement locks through
``Engine.lock_model()``.
"""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import ConstrType


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
