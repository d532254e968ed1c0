"""How many rows an UPDATE or DELETE touches: the judgement behind a one-statement backfill.

A WHERE clause alone says nothing: ``WHERE col IS NULL`` on a column the migration just added matches
every row. With a snapshot the estimate is the planner's own arithmetic on the table's statistics
(``reltuples`` × the predicate's selectivity, ``null_frac`` for IS NULL, ``n_distinct`` for equality);
without one, the predicate's shape says whether it is selective (an equality, an IN list or a bounded
range on a column picks a batch; IS NULL, IS NOT NULL, ``<>`` and one-sided ranges do not).
"""

from __future__ import annotations

from dataclasses import dataclass

from pglast import ast
from pglast.enums import BoolExprType, NullTestType

from dbwright.changes.lint.context import LintState
from dbwright.engines.postgres.parse_tree import qualified

#: An UPDATE or DELETE touching at least this many rows in one statement is a backfill to batch.
MANY_ROWS = 10_000
#: PostgreSQL's default selectivities when a column has no statistics (selfuncs.h).
_DEFAULT_EQUALITY = 0.005
_DEFAULT_INEQUALITY = 1 / 3
_DEFAULT_RANGE = 0.005


@dataclass(frozen=True)
class Selectivity:
    """The fraction of the table a predicate matches (None: unknown), whether that is a batch or most
    of the table (None: cannot tell), and why, in words for the message."""

    fraction: float | None
    selective: bool | None
    why: str


@dataclass(frozen=True)
class RowsTouched:
    table: str
    rows: float | None  # estimated rows; None without a row count for the table
    table_rows: float | None
    selectivity: Selectivity

    @property
    def many(self) -> bool:
        """True when the statement is a backfill of much of the table (judged as the module says)."""
        if self.rows is not None:
            return self.rows >= MANY_ROWS
        if self.table_rows is not None and self.table_rows < MANY_ROWS:
            return False
        return self.selectivity.selective is False

    def describe(self) -> str:
        """How many rows, and why: ``about 48,000 of 50,000 rows (region IS NULL: null_frac 0.96)``."""
        why = self.selectivity.why
        if self.rows is not None and self.table_rows is not None:
            return f"about {self.rows:,.0f} of {self.table_rows:,.0f} rows ({why})"
        if self.selectivity.fraction == 1.0:
            return f"every row ({why})"
        return f"most of its rows ({why})"


def rows_touched(node: ast.UpdateStmt | ast.DeleteStmt, state: LintState) -> RowsTouched:
    table = qualified(node.relation)
    selectivity = _selectivity(node.whereClause, table, state)
    total = state.table_rows(table)
    rows = None if total is None or selectivity.fraction is None else total * selectivity.fraction
    return RowsTouched(table, rows, total, selectivity)


def _selectivity(expr, table: str, state: LintState) -> Selectivity:  # noqa: C901 - one case per shape
    if expr is None:
        return Selectivity(1.0, False, "no WHERE clause: every row")
    if isinstance(expr, ast.BoolExpr):
        parts = [_selectivity(arg, table, state) for arg in expr.args]
        if expr.boolop == BoolExprType.AND_EXPR:
            bounded = _bounded_column(expr.args)
            if bounded:
                parts.append(Selectivity(_DEFAULT_RANGE, True, f"{bounded} between two bounds: one batch"))
            best = min(parts, key=lambda p: (p.fraction if p.fraction is not None else 2, not p.selective))
            fractions = [p.fraction for p in parts if p.fraction is not None]
            fraction = None if any(p.fraction is None for p in parts) else _product(fractions)
            selective = True if any(p.selective for p in parts) else best.selective
            return Selectivity(fraction, selective, best.why)
        if expr.boolop == BoolExprType.OR_EXPR:
            fraction = (
                None if any(p.fraction is None for p in parts) else min(1.0, sum(p.fraction for p in parts))
            )
            selective = (
                all(p.selective for p in parts) if all(p.selective is not None for p in parts) else None
            )
            return Selectivity(fraction, selective, " or ".join(p.why for p in parts))
        inner = parts[0]
        fraction = None if inner.fraction is None else 1 - inner.fraction
        return Selectivity(
            fraction, None if inner.selective is None else not inner.selective, f"NOT ({inner.why})"
        )
    if isinstance(expr, ast.NullTest) and isinstance(expr.arg, ast.ColumnRef):
        column = _column(expr.arg)
        is_null = expr.nulltesttype == NullTestType.IS_NULL
        test = "IS NULL" if is_null else "IS NOT NULL"
        if is_null and state.added_in_migration(table, column):
            return Selectivity(1.0, False, f"{column} was added in this migration: every row is NULL")
        null_frac = state.null_frac(table, column)
        if null_frac is not None:
            fraction = null_frac if is_null else 1 - null_frac
            return Selectivity(fraction, fraction < 0.01, f"{column} {test}: null_frac {null_frac:.2f}")
        return Selectivity(None, False, f"WHERE {column} {test} is not selective: a backfill's rows")
    if isinstance(expr, ast.A_Expr):
        return _comparison(expr, table, state)
    return Selectivity(None, None, "a predicate dbwright cannot estimate")


def _comparison(expr: ast.A_Expr, table: str, state: LintState) -> Selectivity:
    column = _column(expr.lexpr) if isinstance(expr.lexpr, ast.ColumnRef) else None
    if column is None and isinstance(expr.rexpr, ast.ColumnRef):
        column = _column(expr.rexpr)
    operator = expr.name[-1].sval if expr.name else ""
    if column is None:
        return Selectivity(None, None, "a predicate dbwright cannot estimate")
    kind = expr.kind.name
    if kind == "AEXPR_IN":
        values = len(expr.rexpr) if isinstance(expr.rexpr, list | tuple) else 1
        equality = _equality(table, column, state)
        if operator == "<>":  # NOT IN
            return Selectivity(
                1 - min(1.0, values * equality), False, f"{column} NOT IN (…) is not selective"
            )
        return Selectivity(min(1.0, values * equality), True, f"{column} IN ({values} values)")
    if kind in ("AEXPR_BETWEEN", "AEXPR_BETWEEN_SYM"):
        return Selectivity(_DEFAULT_RANGE, True, f"{column} BETWEEN bounds: one batch")
    if kind == "AEXPR_NOT_BETWEEN":
        return Selectivity(1 - _DEFAULT_RANGE, False, f"{column} NOT BETWEEN is not selective")
    if operator == "=":
        return Selectivity(_equality(table, column, state), True, f"{column} = a value")
    if operator in ("<>", "!="):
        return Selectivity(
            1 - _equality(table, column, state), False, f"{column} {operator} a value is not selective"
        )
    if operator in ("<", "<=", ">", ">="):
        return Selectivity(_DEFAULT_INEQUALITY, False, f"a one-sided range on {column} is not selective")
    return Selectivity(None, None, "a predicate dbwright cannot estimate")


def _bounded_column(args) -> str | None:
    """A column given both a lower and an upper bound in one AND (``id >= 1 AND id < 10000``)."""
    lower, upper = set(), set()
    for arg in args:
        if (
            isinstance(arg, ast.A_Expr)
            and arg.kind.name == "AEXPR_OP"
            and isinstance(arg.lexpr, ast.ColumnRef)
        ):
            operator = arg.name[-1].sval
            if operator in (">", ">="):
                lower.add(_column(arg.lexpr))
            elif operator in ("<", "<="):
                upper.add(_column(arg.lexpr))
    both = sorted(lower & upper)
    return both[0] if both else None


def _equality(table: str, column: str, state: LintState) -> float:
    distinct = state.n_distinct(table, column)
    rows = state.table_rows(table)
    if distinct is None or distinct == 0:
        return _DEFAULT_EQUALITY
    if distinct < 0:  # a fraction of the rows: -1 is unique
        return 1 / max(1.0, -distinct * (rows or 1))
    return 1 / distinct


def _column(ref: ast.ColumnRef) -> str:
    last = ref.fields[-1]
    return getattr(last, "sval", "*").lower()


def _product(values: list[float]) -> float:
    result = 1.0
    for value in values:
        result *= value
    return result
