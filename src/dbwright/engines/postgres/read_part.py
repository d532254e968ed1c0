"""A statement's read part: what EXPLAIN may plan without locking more than ACCESS SHARE.

Planning is not free of locks. Parse analysis of an UPDATE, DELETE, INSERT or MERGE opens its
target with ROW EXCLUSIVE, and ``SELECT … FOR UPDATE/SHARE`` takes ROW SHARE, even under
EXPLAIN without ANALYZE and in a read-only transaction (checked on PostgreSQL 15: ``pg_locks``
shows RowExclusiveLock on the table and its indexes). dbwright promises analysis takes nothing
stronger than ACCESS SHARE, so a write is planned as the query that finds its rows:

- ``UPDATE t SET … FROM f WHERE w`` and ``DELETE FROM t USING f WHERE w`` become
  ``SELECT t.ctid FROM t, f WHERE w`` (``ctid`` keeps the heap access the write needs, so no
  index-only scan is priced that the write could not use); ModifyTable adds no cost of its own;
- ``INSERT … SELECT`` becomes its SELECT; ``INSERT … VALUES`` reads nothing (None);
- ``FOR UPDATE/SHARE`` clauses are dropped from every SELECT;
- MERGE, a data-modifying WITH and ``WHERE CURRENT OF`` have no read part here (None).

``$n`` parameters that only the dropped parts used (``SET status = $1``) are gone, so the rest
are numbered again from 1; ``numbers`` maps each old number to its new one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pglast
from pglast import ast
from pglast.enums import LimitOption, SetOperation
from pglast.stream import RawStream

WRITES = (ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt, ast.MergeStmt)


@dataclass(frozen=True)
class ReadPart:
    sql: str
    numbers: dict[int, int]  # old $n -> new $n
    rewritten: bool  # False: the statement was planned as given

    def columns(self, columns: dict[int, Any]) -> dict[int, Any]:
        """``columns`` keyed by the new parameter numbers (parameters that are gone left out)."""
        return {self.numbers[n]: value for n, value in columns.items() if n in self.numbers}


def read_part(sql: str) -> ReadPart | None:
    """The statement's read part, or None when it has none dbwright can plan without a stronger lock."""
    statement = pglast.parse_sql(sql)[0].stmt
    select = _select_of(statement)
    if select is None:
        return None
    if any(isinstance(node, (*WRITES, ast.CurrentOfExpr)) for node in walk(select)):
        return None  # a data-modifying WITH, or WHERE CURRENT OF
    locking = [node for node in walk(select) if isinstance(node, ast.SelectStmt) and node.lockingClause]
    for node in locking:
        node.lockingClause = None
    if select is statement and not locking:
        return ReadPart(sql, {n: n for n in _numbers(select)}, rewritten=False)
    numbers = {old: new for new, old in enumerate(_numbers(select), 1)}
    for node in walk(select):
        if isinstance(node, ast.ParamRef):
            node.number = numbers[node.number]
    return ReadPart(RawStream()(select), numbers, rewritten=True)


def _select_of(statement: Any) -> ast.SelectStmt | None:
    if isinstance(statement, ast.SelectStmt):
        return statement
    if isinstance(statement, ast.UpdateStmt | ast.DeleteStmt):
        if isinstance(statement.whereClause, ast.CurrentOfExpr):
            return None
        relation = statement.relation
        extra = statement.fromClause if isinstance(statement, ast.UpdateStmt) else statement.usingClause
        name = relation.alias.aliasname if relation.alias else relation.relname
        ctid = ast.ColumnRef(fields=(ast.String(sval=name), ast.String(sval="ctid")))
        return ast.SelectStmt(
            targetList=(ast.ResTarget(val=ctid),),
            fromClause=(relation, *(extra or ())),
            whereClause=statement.whereClause,
            withClause=statement.withClause,
            limitOption=LimitOption.LIMIT_OPTION_DEFAULT,
            op=SetOperation.SETOP_NONE,
        )
    if isinstance(statement, ast.InsertStmt):
        select = statement.selectStmt
        if not isinstance(select, ast.SelectStmt) or select.valuesLists:
            return None
        if statement.withClause is not None:
            if select.withClause is not None:
                return None
            select.withClause = statement.withClause
        return select
    return None


def _numbers(node: Any) -> list[int]:
    return sorted({n.number for n in walk(node) if isinstance(n, ast.ParamRef)})


def walk(node: Any) -> Iterator[Any]:
    """Every pglast node below ``node`` (inclusive), subqueries too; iterative."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(reversed(item))
        elif isinstance(item, ast.Node):
            yield item
            stack.extend(getattr(item, name) for name in reversed(item.__slots__))
