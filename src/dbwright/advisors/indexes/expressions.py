"""Facts about an index key expression, read from its parse tree: columns, result type, coarseness."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pglast
from pglast import ast

# Functions whose result has the width of their first column argument.
SAME_WIDTH = {"lower", "upper", "btrim", "trim", "ltrim", "rtrim", "md5", "coalesce"}
COARSE_FACTOR = 0.01  # date_trunc and ::date merge many timestamps into one key


@dataclass(frozen=True)
class ExpressionFacts:
    columns: tuple[str, ...]
    function: str | None
    result_type: str | None  # a type name when the expression is a cast or date_trunc
    distinct_factor: float = 1.0
    max_width: float | None = None  # bytes the result can take at most (``substring(phone, 1, 2)``: 3)


@lru_cache(maxsize=4096)
def expression_facts(key: str) -> ExpressionFacts:
    """``key`` is an index key expression in parentheses, e.g. ``(lower(email))``."""
    try:
        node = pglast.parse_sql(f"SELECT {key}")[0].stmt.targetList[0].val
    except pglast.parser.ParseError:
        return ExpressionFacts((), None, None)
    columns = tuple(dict.fromkeys(_columns(node)))
    if isinstance(node, ast.TypeCast):
        type_name = node.typeName.names[-1].sval
        coarse = COARSE_FACTOR if type_name == "date" else 1.0
        return ExpressionFacts(columns, None, type_name, coarse)
    if isinstance(node, ast.FuncCall):
        name = node.funcname[-1].sval
        if name == "date_trunc":
            return ExpressionFacts(columns, name, None, COARSE_FACTOR)
        return ExpressionFacts(columns, name, None, max_width=_prefix_width(name, node.args or ()))
    return ExpressionFacts(columns, None, None)


def _prefix_width(name: str, args: tuple) -> float | None:
    """``substring(text, start, n)``, ``substr(…)`` and ``left(text, n)`` keep at most n characters
    (taken as single-byte, plus the 1-byte short varlena header)."""
    length = (
        args[2]
        if name in ("substring", "substr") and len(args) == 3
        else (args[1] if name == "left" and len(args) == 2 else None)
    )
    if isinstance(length, ast.A_Const) and isinstance(length.val, ast.Integer) and length.val.ival >= 0:
        return float(length.val.ival + 1)
    return None


def _columns(node: object) -> list[str]:
    from dbwright.advisors.indexes.querytree import _walk

    return [
        n.fields[-1].sval
        for n in _walk(node)
        if isinstance(n, ast.ColumnRef) and isinstance(n.fields[-1], ast.String)
    ]
