"""Sharding advice for tables headed past one machine: a distribution column, co-location, reference tables.

A distributed PostgreSQL such as Citus spreads a table over nodes by one column. Queries that
filter on that column by equality go to one node, and joins on it stay on each node when both
tables are distributed by the joined columns (co-location). Small tables that are rarely written
and joined by many are copied to every node instead (reference tables). All three follow from
the workload: pg_stat_statements' statements parsed with pglast (PostgreSQL's own parser),
each equality join and WHERE equality filter weighted by the statement's total time (its calls
when no time was recorded). Advice only: nothing here changes the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind

from dbwright.advisors.design.proposal import Proposal
from dbwright.advisors.indexes.querytree import analyze, resolve_table
from dbwright.model import Snapshot, Statement

#: Tables at least this large (bytes, heap + TOAST + indexes) are "headed past one machine".
DEFAULT_SHARD_BYTES = 64 * 1024**3
#: A reference table is copied to every node: at most this share of the sharding threshold...
REFERENCE_SHARE = 0.05
#: ...and rarely written: updates plus deletes at most this share of its rows.
MAX_REFERENCE_CHANGE_SHARE = 0.1
#: A distribution column needs many values, or some nodes get most rows (Citus' default is 32 shards).
MIN_DISTINCT = 1000
JOIN_WEIGHT = 2.0  # a join kept on one node saves a network shuffle; a filter saves fan-out


@dataclass
class Usage:
    """What the workload does with the columns of every table, weighted."""

    filters: dict[tuple[str, str], float] = field(default_factory=dict)  # (table, column) → weight
    joins: dict[tuple[tuple[str, str], tuple[str, str]], float] = field(default_factory=dict)  # ordered pair
    statements: int = 0
    unparsed: int = 0

    def join_weight(self, table: str, column: str) -> float:
        return sum(w for (a, b), w in self.joins.items() if (table, column) in (a, b))

    def partners(self, table: str, column: str) -> dict[tuple[str, str], float]:
        found: dict[tuple[str, str], float] = {}
        for (a, b), weight in self.joins.items():
            for mine, other in ((a, b), (b, a)):
                if mine == (table, column) and other[0] != table:
                    found[other] = found.get(other, 0.0) + weight
        return found

    def joined_tables(self, table: str) -> set[str]:
        return {other[0] for pair in self.joins for mine, other in (pair, pair[::-1]) if mine[0] == table}


def weight(statement: Statement) -> float:
    return statement.total_ms if statement.total_ms > 0 else float(statement.calls)


def workload_usage(snap: Snapshot) -> Usage:
    usage = Usage()
    for statement in snap.workload_statements():
        try:
            tree = pglast.parse_sql(statement.query)
        except pglast.parser.ParseError:
            usage.unparsed += 1
            continue
        if len(tree) != 1 or not isinstance(tree[0].stmt, ast.SelectStmt | ast.UpdateStmt | ast.DeleteStmt):
            continue
        w = weight(statement)
        shape = analyze(statement.query, snap)
        if not shape.tables:
            continue
        usage.statements += 1
        for table, use in shape.tables.items():
            for column in use.equal:
                usage.filters[(table, column)] = usage.filters.get((table, column), 0.0) + w
        for pair in equality_joins(tree[0].stmt, snap):
            usage.joins[pair] = usage.joins.get(pair, 0.0) + w
    return usage


def _nodes(node: Any) -> Iterator[Any]:
    if isinstance(node, tuple | list):
        for item in node:
            yield from _nodes(item)
    elif isinstance(node, ast.Node):
        yield node
        for name in node.__slots__:
            value = getattr(node, name, None)
            if isinstance(value, ast.Node | tuple | list):
                yield from _nodes(value)


def equality_joins(statement: Any, snap: Snapshot) -> set[tuple[tuple[str, str], tuple[str, str]]]:
    """``a.x = b.y`` between two tables (in ON or WHERE), as sorted pairs of (table, column).

    Aliases are collected over the whole statement; an unqualified column is resolved when exactly
    one of the statement's tables has it.
    """
    aliases: dict[str, str] = {}
    for node in _nodes(statement):
        if isinstance(node, ast.RangeVar):
            table = resolve_table(snap, node.relname, node.schemaname)
            if table:
                aliases[node.alias.aliasname if node.alias else node.relname] = table
    tables = set(aliases.values())

    def column(ref: Any) -> tuple[str, str] | None:
        if not isinstance(ref, ast.ColumnRef) or not all(isinstance(f, ast.String) for f in ref.fields):
            return None
        names = [f.sval for f in ref.fields]
        if len(names) >= 2:
            table = aliases.get(names[-2])
            return (table, names[-1]) if table and snap.column(table, names[-1]) else None
        owners = [t for t in tables if snap.column(t, names[0])]
        return (owners[0], names[0]) if len(owners) == 1 else None

    pairs = set()
    for node in _nodes(statement):
        if (
            isinstance(node, ast.A_Expr)
            and node.kind == A_Expr_Kind.AEXPR_OP
            and node.name
            and node.name[-1].sval == "="
        ):
            left, right = column(node.lexpr), column(node.rexpr)
            if left and right and left[0] != right[0]:
                pairs.add(tuple(sorted((left, right))))
    return pairs


def _distinct(snap: Snapshot, table: str, column: str, rows: float) -> float | None:
    found = snap.column(table, column)
    stats = found.stats if found else None
    if stats is None or stats.n_distinct is None:
        return None
    return stats.n_distinct if stats.n_distinct >= 0 else -stats.n_distinct * rows


def _rarely_written(snap: Snapshot, table: str) -> bool:
    t = snap.table(table)
    rows = max(t.n_live_tup or t.row_estimate or 0, 1)
    return ((t.n_tup_upd or 0) + (t.n_tup_del or 0)) <= MAX_REFERENCE_CHANGE_SHARE * rows


def advise(
    snap: Snapshot, min_bytes: int = DEFAULT_SHARD_BYTES, usage: Usage | None = None
) -> list[Proposal]:
    """One proposal per table at least ``min_bytes`` large that the workload gives a distribution column."""
    large = sorted(
        (
            t
            for t in snap.user_tables()
            if t.kind in ("r", "p") and not t.is_partition and t.total_bytes >= min_bytes
        ),
        key=lambda t: -t.total_bytes,
    )
    if not large:
        return []
    usage = usage or workload_usage(snap)
    large_names = {t.qname for t in large}
    chosen: dict[str, str] = {}
    proposals = []
    for table in large:
        rows = table.n_live_tup or table.row_estimate or 0
        scores = {}
        for c in snap.columns_of(table.qname):
            filters = usage.filters.get((table.qname, c.name), 0.0)
            joins = usage.join_weight(table.qname, c.name)
            distinct = _distinct(snap, table.qname, c.name, rows)
            if (filters or joins) and (distinct is None or distinct >= MIN_DISTINCT):
                scores[c.name] = {
                    "filter_weight": round(filters, 3),
                    "join_weight": round(joins, 3),
                    "score": round(filters + JOIN_WEIGHT * joins, 3),
                    "distinct": None if distinct is None else round(distinct),
                }
        if not scores:
            continue
        # Joining a table already given its column keeps that join on one node: such a column goes first.
        joins_chosen = {
            name: any(chosen.get(t) == c for t, c in usage.partners(table.qname, name)) for name in scores
        }
        column = max(sorted(scores), key=lambda name: (joins_chosen[name], scores[name]["score"]))
        chosen[table.qname] = column
        colocated, references = [], []
        for (other, other_column), w in sorted(usage.partners(table.qname, column).items()):
            if other in large_names:
                colocated.append({"table": other, "column": other_column, "join_weight": round(w, 3)})
        for other in sorted(usage.joined_tables(table.qname) - large_names):
            t = snap.table(other)
            if t and t.total_bytes <= REFERENCE_SHARE * min_bytes and _rarely_written(snap, other):
                joined_by = sorted(x for x in large_names if other in usage.joined_tables(x))
                references.append({"table": other, "bytes": t.total_bytes, "joined_by": joined_by})
        sql = [f"SELECT create_distributed_table('{table.qname}', '{column}');"]
        for c in colocated:
            if c["table"] in chosen and chosen[c["table"]] != c["column"]:
                continue  # already distributed by another column: joining them moves data
            sql.append(
                f"SELECT create_distributed_table('{c['table']}', '{c['column']}', "
                f"colocate_with => '{table.qname}');"
            )
        sql += [f"SELECT create_reference_table('{r['table']}');" for r in references]
        evidence = {
            "bytes": table.total_bytes,
            "rows": int(rows),
            "threshold_bytes": min_bytes,
            "distribution_column": column,
            "candidates": scores,
            "colocated": colocated,
            "reference_tables": references,
            "statements_parsed": usage.statements,
            "citus_sql": sql,
        }
        why = (
            f"equality joins weigh {scores[column]['join_weight']:g} and equality filters "
            f"{scores[column]['filter_weight']:g} (total ms of the statements)"
        )
        advice = (
            f"Distribute by {column}: {why}. Advice only: Citus (or another distributed PostgreSQL) must be "
            "installed; the distribution column must be part of every unique key and cannot be changed "
            "cheaply. " + " ".join(sql)
        )
        proposals.append(
            Proposal(
                "shard",
                table.qname,
                (column,),
                f"{table.qname} is headed past one machine: shard it by {column}",
                evidence,
                None,
                advice=advice,
                score=float(table.total_bytes),
            )
        )
    return proposals
