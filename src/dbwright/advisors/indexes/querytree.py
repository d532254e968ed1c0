"""What a statement asks of each table, read from pglast's parse tree (PostgreSQL's own parser).

For every table a statement reads: the columns compared for equality, by range, joined on,
sorted or grouped by, the expressions it filters on (``lower(email) = $1``), constant
predicates that could make a partial index (``status = 'open'``, ``deleted_at IS NULL``),
operators only a GIN index serves, and every column it reads (for covering indexes).
Table aliases are resolved through each query level's FROM list; unqualified columns are
matched against the snapshot's columns.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, NullTestType, SetOperation, SortByDir
from pglast.stream import RawStream

from dbwright import sqlguard
from dbwright.model import Snapshot

RANGE_OPERATORS = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
GIN_OPERATORS = {"@>", "<@", "?", "?|", "?&", "&&", "@?", "@@"}
GIN_TYPES = {"jsonb", "_int4", "_int8", "_text", "_varchar", "tsvector"}


@dataclass
class TableUse:
    """Everything one statement asks of one table. Dict keys keep first-seen order (determinism)."""

    table: str
    equal: dict[str, None] = field(default_factory=dict)
    ranges: dict[str, None] = field(default_factory=dict)
    joins: dict[str, None] = field(default_factory=dict)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    group: dict[str, None] = field(default_factory=dict)
    referenced: dict[str, None] = field(default_factory=dict)
    star: bool = False
    expressions: dict[str, str] = field(default_factory=dict)  # expression SQL -> "equal" | "range"
    expression_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    constants: dict[str, tuple[str, ...]] = field(default_factory=dict)  # predicate SQL -> columns it fixes
    #: every conjunct that compares this table's columns with constants or with each other
    #: (``l_discount BETWEEN 0.05 AND 0.07``, ``l_commitdate < l_receiptdate``): SQL -> its columns
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: predicates (of ``constants`` or ``filters``) that compare one column with literals by ``=`` or ``IN``:
    #: SQL -> that column. On an identifier-like column such a literal is one row's key, not a constant.
    literal_equalities: dict[str, str] = field(default_factory=dict)
    #: columns read by something other than those filters (select list, joins, grouping, …)
    outside_filters: dict[str, None] = field(default_factory=dict)
    gin: dict[str, str] = field(default_factory=dict)  # column -> why (operator)
    trigram: dict[str, None] = field(default_factory=dict)  # columns with LIKE/ILIKE '%…'


@dataclass
class QueryShape:
    tables: dict[str, TableUse] = field(default_factory=dict)
    parameter_columns: dict[int, tuple[str, str]] = field(default_factory=dict)
    parameters: int = 0

    def use(self, table: str) -> TableUse:
        if table not in self.tables:
            self.tables[table] = TableUse(table)
        return self.tables[table]


@dataclass
class _Entry:
    alias: str
    table: str | None  # None for CTEs, subqueries and functions in FROM


class _Scope:
    def __init__(self, parent: _Scope | None, snapshot: Snapshot) -> None:
        self.parent = parent
        self.snapshot = snapshot
        self.entries: list[_Entry] = []
        self.ctes: set[str] = set(parent.ctes) if parent else set()

    def resolve(self, fields: tuple[Any, ...]) -> tuple[str, str] | None:
        """(table qname, column) for a ColumnRef's fields, or None (a CTE, a subquery, unknown)."""
        names = [f.sval for f in fields if isinstance(f, ast.String)]
        if len(names) != len(fields) or not names:
            return None
        column = names[-1]
        if len(names) >= 2:
            qualifier = names[-2]
            for scope in self._chain():
                for entry in scope.entries:
                    if entry.alias == qualifier:
                        return (entry.table, column) if entry.table else None
            return None
        for scope in self._chain():
            owners = [e.table for e in scope.entries if e.table and self.snapshot.column(e.table, column)]
            if len(owners) == 1:
                return owners[0], column
            if owners or any(e.table is None for e in scope.entries):
                return None
        return None

    def _chain(self) -> Iterator[_Scope]:
        scope: _Scope | None = self
        while scope is not None:
            yield scope
            scope = scope.parent


def analyze(sql: str, snapshot: Snapshot) -> QueryShape:
    """The shape of one statement; tables that are not in the snapshot are left out."""
    shape = QueryShape()
    statement = pglast.parse_sql(sql)[0].stmt
    _Walker(shape, snapshot).statement(statement, None)
    # Every $n counts, also those outside the columns walked (LIMIT $2, OFFSET $3): PREPARE needs them all.
    numbers = [n.number for n in sqlguard.walk(statement) if isinstance(n, ast.ParamRef)]
    shape.parameters = max([shape.parameters, *numbers])
    return shape


def resolve_table(snapshot: Snapshot, name: str, schema: str | None) -> str | None:
    """A table name as written in SQL → the snapshot's qname (public first when unqualified)."""
    if schema:
        return f"{schema}.{name}" if snapshot.table(f"{schema}.{name}") else None
    if snapshot.table(f"public.{name}"):
        return f"public.{name}"
    found = sorted(t.qname for t in snapshot.tables if t.name == name)
    return found[0] if len(found) == 1 else None


class _Walker:
    def __init__(self, shape: QueryShape, snapshot: Snapshot) -> None:
        self.shape = shape
        self.snapshot = snapshot
        self.filter_nodes: set[int] = set()  # id() of conjuncts recorded as a table's constant filter

    # --- statements ------------------------------------------------------------------------
    def statement(self, node: Any, parent: _Scope | None) -> None:
        if isinstance(node, ast.SelectStmt):
            self.select(node, parent)
        elif isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
            scope = _Scope(parent, self.snapshot)
            self.with_clause(node.withClause, scope)
            self.range_var(node.relation, scope)
            extra = node.fromClause if isinstance(node, ast.UpdateStmt) else node.usingClause
            quals = [self.from_item(item, scope) for item in extra or ()]
            self.predicates(node.whereClause, scope)
            for qual in quals:
                for q in qual:
                    self.predicates(q, scope)
            self.condition_references(node.whereClause, scope)
            if isinstance(node, ast.UpdateStmt):
                for target in node.targetList or ():
                    self.references(target.val, scope)
        elif isinstance(node, ast.InsertStmt) and node.selectStmt is not None:
            self.statement(node.selectStmt, parent)

    def select(self, node: ast.SelectStmt, parent: _Scope | None) -> None:
        if node.op != SetOperation.SETOP_NONE:
            self.statement(node.larg, parent)
            self.statement(node.rarg, parent)
            return
        scope = _Scope(parent, self.snapshot)
        self.with_clause(node.withClause, scope)
        join_quals: list[Any] = []
        for item in node.fromClause or ():
            join_quals.extend(self.from_item(item, scope))
        self.predicates(node.whereClause, scope)
        for qual in join_quals:
            self.predicates(qual, scope)
        for target in node.targetList or ():
            value = target.val
            if isinstance(value, ast.ColumnRef) and isinstance(value.fields[-1], ast.A_Star):
                self.star(value, scope)
            else:
                self.references(value, scope)
        for part in (node.whereClause, node.havingClause, *join_quals):
            self.condition_references(part, scope)
        for item in node.groupClause or ():
            self.references(item, scope)
            found = self.column_of(item, scope)
            if found:
                self.shape.use(found[0]).group[found[1]] = None
        self.sort_clause(node.sortClause, scope)

    def with_clause(self, clause: Any, scope: _Scope) -> None:
        for cte in (clause.ctes if clause else None) or ():
            self.statement(cte.ctequery, scope.parent)
            scope.ctes.add(cte.ctename)

    def from_item(self, item: Any, scope: _Scope) -> list[Any]:
        """Register a FROM item; returns the join conditions found under it."""
        if isinstance(item, ast.RangeVar):
            self.range_var(item, scope)
            return []
        if isinstance(item, ast.JoinExpr):
            quals = self.from_item(item.larg, scope) + self.from_item(item.rarg, scope)
            if item.quals is not None:
                quals.append(item.quals)
            for name in item.usingClause or ():
                self.using_join(name.sval, scope)
            return quals
        if isinstance(item, ast.RangeSubselect):
            self.statement(item.subquery, scope if item.lateral else scope.parent)
            if item.alias:
                scope.entries.append(_Entry(item.alias.aliasname, None))
            return []
        alias = getattr(item, "alias", None)
        if alias is not None:
            scope.entries.append(_Entry(alias.aliasname, None))
        return []

    def range_var(self, node: ast.RangeVar, scope: _Scope) -> None:
        alias = node.alias.aliasname if node.alias else node.relname
        if node.schemaname is None and node.relname in scope.ctes:
            scope.entries.append(_Entry(alias, None))
            return
        table = resolve_table(self.snapshot, node.relname, node.schemaname)
        scope.entries.append(_Entry(alias, table))
        if table:
            self.shape.use(table)

    def using_join(self, column: str, scope: _Scope) -> None:
        owners = [e.table for e in scope.entries if e.table and self.snapshot.column(e.table, column)]
        for owner in owners:
            use = self.shape.use(owner)
            use.joins[column] = None
            use.referenced[column] = None

    def star(self, ref: ast.ColumnRef, scope: _Scope) -> None:
        qualifier = ref.fields[-2].sval if len(ref.fields) >= 2 else None
        for entry in scope.entries:
            if entry.table and (qualifier is None or entry.alias == qualifier):
                self.shape.use(entry.table).star = True

    def sort_clause(self, items: Any, scope: _Scope) -> None:
        columns = [
            (self.column_of(s.node, scope), s.sortby_dir == SortByDir.SORTBY_DESC) for s in items or ()
        ]
        tables = {c[0] for c, _ in columns if c}
        if not columns or len(tables) != 1 or any(c is None for c, _ in columns):
            for sort in items or ():
                self.references(sort.node, scope)
            return
        use = self.shape.use(tables.pop())
        for found, descending in columns:
            use.sort.append((found[1], descending))
            use.referenced[found[1]] = None

    # --- expressions -----------------------------------------------------------------------
    def column_of(self, node: Any, scope: _Scope) -> tuple[str, str] | None:
        if isinstance(node, ast.ColumnRef):
            return scope.resolve(node.fields)
        return None

    def references(self, node: Any, scope: _Scope, in_filter: bool = False) -> None:
        """Every column a subtree reads; subqueries inside it are statements of their own."""
        for child in _walk(node):
            if isinstance(child, ast.SubLink):
                self.statement(child.subselect, scope)
            elif isinstance(child, ast.ColumnRef):
                found = scope.resolve(child.fields)
                if found:
                    use = self.shape.use(found[0])
                    use.referenced[found[1]] = None
                    if not in_filter:
                        use.outside_filters[found[1]] = None
            elif isinstance(child, ast.ParamRef):
                self.shape.parameters = max(self.shape.parameters, child.number)

    def condition_references(self, node: Any, scope: _Scope) -> None:
        """``references`` for a WHERE, HAVING or ON condition, one conjunct at a time."""
        for conjunct in _conjuncts(node):
            self.references(conjunct, scope, in_filter=id(conjunct) in self.filter_nodes)

    def predicates(self, node: Any, scope: _Scope) -> None:
        for conjunct in _conjuncts(node):
            self.predicate(conjunct, scope)
            self.constant_filter(conjunct, scope)

    def constant_filter(self, node: Any, scope: _Scope) -> None:
        """Record a conjunct that reads one table's columns and constants only (a partial index's predicate)."""
        if not all(isinstance(child, _FILTER_NODES) for child in _walk(node)):
            return
        columns = [child for child in _walk(node) if isinstance(child, ast.ColumnRef)]
        refs = _column_refs(node, scope)
        qualifiers = {tuple(f.sval for f in ref.fields[:-1]) for ref in columns if len(ref.fields) > 1}
        if (
            not refs
            or len(refs) != len(columns)
            or len({table for table, _ in refs}) != 1
            or len(qualifiers) > 1
        ):
            return  # no column, columns of two tables (or two aliases of one), or a column this scope cannot place
        self.filter_nodes.add(id(node))
        use = self.shape.use(refs[0][0])
        sql = _deparse_predicate(node)
        use.filters[sql] = tuple(dict.fromkeys(c for _, c in refs))
        if _is_literal_equality(node) and len(use.filters[sql]) == 1:
            use.literal_equalities[sql] = refs[0][1]

    def predicate(self, node: Any, scope: _Scope) -> None:
        if isinstance(node, ast.NullTest):
            found = self.column_of(node.arg, scope)
            if found:
                use = self.shape.use(found[0])
                if node.nulltesttype == NullTestType.IS_NULL:
                    use.equal[found[1]] = None
                use.constants[_deparse(node)] = (found[1],)
            return
        if isinstance(node, ast.ColumnRef):  # WHERE active
            found = self.column_of(node, scope)
            if found:
                self.shape.use(found[0]).constants[_deparse(node)] = (found[1],)
            return
        if not isinstance(node, ast.A_Expr) or not node.name:
            return
        operator = node.name[-1].sval
        kind = node.kind
        if kind == A_Expr_Kind.AEXPR_BETWEEN:
            self.compare(node.lexpr, "range", None, scope, node)
        elif kind in (A_Expr_Kind.AEXPR_IN, A_Expr_Kind.AEXPR_OP_ANY) and operator == "=":
            values = node.rexpr if isinstance(node.rexpr, tuple | list) else (node.rexpr,)
            self.compare(node.lexpr, "equal", values, scope, node)
        elif kind in (A_Expr_Kind.AEXPR_LIKE, A_Expr_Kind.AEXPR_ILIKE) and operator in ("~~", "~~*"):
            found = self.column_of(node.lexpr, scope)
            pattern = _constant_text(node.rexpr)
            if found and (operator == "~~*" or (pattern is not None and pattern.startswith("%"))):
                self.shape.use(found[0]).trigram[found[1]] = None
        elif kind == A_Expr_Kind.AEXPR_OP:
            if operator in ("=", *RANGE_OPERATORS):
                how = "equal" if operator == "=" else "range"
                if not self.compare(node.lexpr, how, (node.rexpr,), scope, node):
                    self.compare(node.rexpr, how, (node.lexpr,), scope, node)
            elif operator in GIN_OPERATORS:
                found = self.column_of(node.lexpr, scope)
                if found:
                    column = self.snapshot.column(*found)
                    if column and column.type_name in GIN_TYPES:
                        self.shape.use(found[0]).gin[found[1]] = operator

    def compare(self, side: Any, how: str, values: Any, scope: _Scope, whole: Any) -> bool:
        """Record ``side <op> values``; False when ``side`` is neither a column nor an indexable expression."""
        found = self.column_of(side, scope)
        others = [self.column_of(v, scope) for v in values or ()]
        if found:
            table, column = found
            use = self.shape.use(table)
            joined = [o for o in others if o and o[0] != table]
            if joined and how == "equal":
                use.joins[column] = None
                for other_table, other_column in joined:
                    self.shape.use(other_table).joins[other_column] = None
                return True
            if any(_columns_in(v, scope) & {table} for v in values or ()):
                return True  # compares two columns of the same table: not indexable this way
            (use.equal if how == "equal" else use.ranges)[column] = None
            for value in values or ():
                if isinstance(value, ast.ParamRef):
                    self.shape.parameter_columns.setdefault(value.number, found)
            if how == "equal" and values and all(_is_constant(v) for v in values):
                use.constants[_deparse(whole)] = (column,)
                use.literal_equalities[_deparse(whole)] = column
            return True
        tables = _columns_in(side, scope)
        if (
            isinstance(side, ast.FuncCall | ast.TypeCast)
            and len(tables) == 1
            and not any(_columns_in(v, scope) for v in values or ())
        ):
            table = tables.pop()
            expression = _deparse(side)
            use = self.shape.use(table)
            use.expressions.setdefault(expression, how)
            use.expression_columns[expression] = tuple(
                dict.fromkeys(c for t, c in _column_refs(side, scope) if t == table)
            )
            return True
        return False


# --- helpers ---------------------------------------------------------------------------------

#: What a constant filter may be made of: no parameter, subquery or function call (which may not
#: be immutable, as an index predicate must be); casts of literals are fine (``date '1994-01-01'``).
_FILTER_NODES = (
    ast.ColumnRef,
    ast.A_Const,
    ast.TypeCast,
    ast.TypeName,
    ast.String,
    ast.Integer,
    ast.Float,
    ast.Boolean,
    ast.A_Expr,
    ast.BoolExpr,
    ast.NullTest,
    ast.BooleanTest,
)


def _walk(node: Any) -> Iterator[Any]:
    """Every node under ``node`` (itself included), not descending into subqueries."""
    if node is None:
        return
    if isinstance(node, tuple | list):
        for item in node:
            yield from _walk(item)
        return
    if not isinstance(node, ast.Node):
        return
    yield node
    if isinstance(node, ast.SubLink):
        yield from _walk(node.testexpr)
        return
    for name in node.__slots__:
        value = getattr(node, name, None)
        if isinstance(value, ast.Node | tuple | list):
            yield from _walk(value)


def _conjuncts(node: Any) -> Iterator[Any]:
    if node is None:
        return
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        for arg in node.args:
            yield from _conjuncts(arg)
    else:
        yield node


def _column_refs(node: Any, scope: _Scope) -> list[tuple[str, str]]:
    found = []
    for child in _walk(node):
        if isinstance(child, ast.ColumnRef):
            resolved = scope.resolve(child.fields)
            if resolved:
                found.append(resolved)
    return found


def _columns_in(node: Any, scope: _Scope) -> set[str]:
    return {table for table, _ in _column_refs(node, scope)}


def _is_literal_equality(node: Any) -> bool:
    """``column = literal`` or ``column IN (literals)``: a conjunct that picks rows by value."""
    if not isinstance(node, ast.A_Expr) or not node.name or node.name[-1].sval != "=":
        return False
    return node.kind in (A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_IN, A_Expr_Kind.AEXPR_OP_ANY)


def _is_constant(node: Any) -> bool:
    if isinstance(node, ast.A_Const):
        return True
    if isinstance(node, ast.TypeCast):
        return _is_constant(node.arg)
    return False


def _constant_text(node: Any) -> str | None:
    if isinstance(node, ast.TypeCast):
        return _constant_text(node.arg)
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return node.val.sval
    return None


def _deparse_predicate(node: Any) -> str:
    """``_deparse`` for an index predicate, with bare integer literals quoted (``l_quantity < '24'``).

    The planner folds the statement's ``numeric_column < 24`` (an int4 cast to numeric) into one
    constant before it tests whether the statement implies a partial index's predicate, but
    HypoPG keeps a hypothetical index's predicate unfolded, so the two never match. A quoted
    literal takes the column's type as it is parsed, in the statement's form; a real index is
    the same either way.
    """
    return _deparse(node, quote_integers=True)


def _deparse(node: Any, quote_integers: bool = False) -> str:
    """SQL for an expression with table qualifiers removed, as an index definition spells it."""
    bare = copy.deepcopy(node)
    casts = (
        {id(child.arg) for child in _walk(bare) if isinstance(child, ast.TypeCast)}
        if quote_integers
        else set()
    )
    for child in _walk(bare):
        if isinstance(child, ast.ColumnRef) and len(child.fields) > 1:
            child.fields = child.fields[-1:]
        elif (
            quote_integers
            and isinstance(child, ast.A_Const)
            and isinstance(child.val, ast.Integer)
            and id(child) not in casts
        ):
            child.val = ast.String(str(child.val.ival))
    return RawStream()(bare)
