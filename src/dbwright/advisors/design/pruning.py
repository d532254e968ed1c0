"""How many partitions the workload's queries would scan after a proposed partitioning.

Partition pruning is decided by the planner (and, for parameters, by the executor at start-up),
so the honest way to know is to ask it: the proposed partitioned structure is created, schema
only, in a scratch database on the same server (``CREATE DATABASE dbwright_scratch_…``, always
dropped), and each workload statement that touches the table is planned there with EXPLAIN
(never ANALYZE) as a generic plan, the way ``dbwright.engines.postgres.generic_plans`` plans
``$n`` statements. Parameters compared with a column get values from the *source* table's
``pg_stats`` (successive histogram bounds, so ``ts >= $1 AND ts < $2`` is a narrow range rather
than an empty one). The scratch tables are empty: row and cost estimates there are defaults and
are not reported; partitions scanned are what pruning decides, and that is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import pglast
from pglast import ast

from dbwright.advisors.design.context import TableInfo
from dbwright.advisors.design.proposal import Proposal
from dbwright.advisors.indexes.querytree import QueryShape, analyze
from dbwright.engines.base import Connection
from dbwright.engines.postgres.connect import open_session
from dbwright.engines.postgres.design_pruning import column_bounds, create_structure, literal
from dbwright.engines.postgres.generic_plans import PlanError, Planner
from dbwright.engines.postgres.query_errors import translating
from dbwright.engines.postgres.scratch import LOAD_OPTIONS, scratch_database
from dbwright.errors import DbwrightError, PrivilegeError, SqlParseError
from dbwright.model import Snapshot, Statement
from dbwright.model.operations import RawSQL, ident, qident

MAX_STATEMENTS = 10
#: pg_stat_statements turns ``timestamptz '2024-01-01'`` into ``timestamptz $1``, which does not parse.
_TYPED_PARAMETER = re.compile(
    r"\b(timestamptz|timestamp|date|interval|time|timetz|numeric|uuid|jsonb|json|inet)"
    r"\s+\$(\d+)",
    re.IGNORECASE,
)
_PARTITION_OF = re.compile(r"^CREATE TABLE (\S+) PARTITION OF (\S+) (FOR VALUES .*);$", re.DOTALL)


@dataclass
class QueryPruning:
    query: str
    calls: int
    total_ms: float
    partitions: int  # in the proposed structure
    scanned: int | None  # partitions left in the plan after plan-time and start-up pruning
    pruning: str  # "plan time", "run time" (start-up, by parameter values), "none", or "not planned"
    unbound_parameters: tuple[int, ...] = ()  # $n planned as NULL: no column value to draw from
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query[:200],
            "calls": self.calls,
            "total_ms": round(self.total_ms, 1),
            "partitions": self.partitions,
            "scanned": self.scanned,
            "pruning": self.pruning,
            "unbound_parameters": list(self.unbound_parameters),
            "error": self.error,
        }


class _SourceValuesPlanner(Planner):
    """Plans on the scratch database with parameter values from the source database's pg_stats."""

    def __init__(self, conn: Connection, source: Connection) -> None:
        super().__init__(conn)
        self.source = source
        self.used: dict[tuple[str, str], int] = {}
        self.unbound: list[int] = []
        self._bounds: dict[tuple[str, str], list[str]] = {}

    def start(self) -> None:
        self.used, self.unbound = {}, []

    def _argument(self, number: int, type_name: str, column: tuple[str, str] | None) -> str:
        value = self._value(column) if column else None
        if value is None:
            self.unbound.append(number)
            return f"NULL::{type_name}"
        return f"{literal(self.conn, value)}::{type_name}"

    def _value(self, column: tuple[str, str]) -> str | None:
        """The median histogram bound for a column's first parameter, the next bound for its second…"""
        if column not in self._bounds:
            schema, table = column[0].split(".", 1)
            self._bounds[column] = column_bounds(self.source, schema, table, column[1])
        bounds = self._bounds[column]
        if not bounds:
            return None
        nth = self.used.get(column, 0)
        self.used[column] = nth + 1
        return bounds[min(len(bounds) // 2 + nth, len(bounds) - 1)]


def statements_on(snap: Snapshot, table: str) -> list[tuple[Statement, QueryShape]]:
    """Workload SELECT/UPDATE/DELETE statements reading ``table``, most total time first."""
    found = []
    for s in sorted(snap.workload_statements(), key=lambda s: (-s.total_ms, s.query)):
        s = replace(s, query=_TYPED_PARAMETER.sub(r"$\2::\1", s.query))
        try:
            tree = pglast.parse_sql(s.query)
        except pglast.parser.ParseError:
            continue
        if len(tree) != 1 or not isinstance(tree[0].stmt, ast.SelectStmt | ast.UpdateStmt | ast.DeleteStmt):
            continue
        if "pg_catalog" in s.query or "information_schema" in s.query:
            continue
        shape = analyze(s.query, snap)
        if table in shape.tables:
            found.append((s, shape))
    return found[:MAX_STATEMENTS]


def _column_list(snap: Snapshot, table: str) -> str:
    return ", ".join(f"{ident(c.name)} {c.data_type}" for c in snap.columns_of(table))


def partitions_of(proposal: Proposal) -> list[tuple[str, str]]:
    """(partition name as written, FOR VALUES clause) from the proposal's package."""
    found = []
    for op in proposal.package.operations:
        match = _PARTITION_OF.match(op.text.strip()) if isinstance(op, RawSQL) else None
        if match:
            found.append((match.group(1), match.group(3)))
    return found


def structure_sql(snap: Snapshot, info: TableInfo, proposal: Proposal, tables: set[str]) -> list[str]:
    """DDL for the scratch database: the proposed partitioned table under its own name, its partitions,
    and the other tables the statements read (plain, empty)."""
    column = proposal.evidence["partition_key"]
    schemas = sorted({t.split(".", 1)[0] for t in tables} - {"public"})
    ddl = [f"CREATE SCHEMA IF NOT EXISTS {ident(s)}" for s in schemas]
    ddl.append(
        f"CREATE TABLE {qident(info.qname)} ({_column_list(snap, info.qname)}) "
        f"PARTITION BY RANGE ({ident(column)})"
    )
    for name, bounds in partitions_of(proposal):
        ddl.append(f"CREATE TABLE {name} PARTITION OF {qident(info.qname)} {bounds}")
    for other in sorted(tables - {info.qname}):
        ddl.append(f"CREATE TABLE {qident(other)} ({_column_list(snap, other)})")
    return ddl


def _scans(plan: dict[str, Any], partitions: set[str]) -> tuple[set[str], int]:
    """Partitions scanned in a JSON plan, and subplans removed at executor start-up."""
    scanned, removed = set(), int(plan.get("Subplans Removed", 0))
    relation = plan.get("Relation Name")
    if relation:
        qualified = f"{plan.get('Schema', 'public')}.{relation}"
        if qualified in partitions:
            scanned.add(qualified)
    for child in plan.get("Plans", []):
        more, more_removed = _scans(child, partitions)
        scanned |= more
        removed += more_removed
    return scanned, removed


def estimate(
    target: str | None, snap: Snapshot, info: TableInfo, proposal: Proposal, source: Connection
) -> dict[str, Any]:
    """The pruning each workload statement on the table gets from the proposed partitions."""
    chosen = statements_on(snap, info.qname)
    if not chosen:
        return {"statements": 0, "note": "no workload statement in pg_stat_statements reads the table"}
    tables = {t for _, shape in chosen for t in shape.tables}
    ddl = structure_sql(snap, info, proposal, tables)
    partitions = {name.replace('"', "") for name, _ in partitions_of(proposal)}
    results = []
    try:
        with (
            translating(named=False),
            scratch_database(target) as scratch,
            open_session(scratch, LOAD_OPTIONS) as conn,
        ):
            create_structure(conn, ddl)
            planner = _SourceValuesPlanner(conn, source)
            try:
                for s, shape in chosen:
                    planner.start()
                    try:
                        plan = planner.plan(s.query, shape.parameters, shape.parameter_columns)
                    except (PlanError, SqlParseError) as error:
                        results.append(
                            QueryPruning(
                                s.query,
                                s.calls,
                                s.total_ms,
                                len(partitions),
                                None,
                                "not planned",
                                error=str(error),
                            )
                        )
                        continue
                    scanned, removed = _scans(plan, partitions)
                    how = (
                        "run time" if removed else ("plan time" if len(scanned) < len(partitions) else "none")
                    )
                    # Pruned at start-up by a NULL stand-in: how many remain depends on the real values.
                    count = None if removed and planner.unbound else len(scanned)
                    results.append(
                        QueryPruning(
                            s.query, s.calls, s.total_ms, len(partitions), count, how, tuple(planner.unbound)
                        )
                    )
            finally:
                planner.close()
    except PrivilegeError:
        return {
            "statements": len(chosen),
            "skipped": "planning on a scratch copy needs CREATEDB "
            "(CREATE DATABASE dbwright_scratch_…, dropped after)",
        }
    except DbwrightError as error:
        return {"statements": len(chosen), "skipped": f"scratch database: {str(error).splitlines()[0]}"}
    pruned = [r for r in results if r.pruning in ("plan time", "run time")]
    return {
        "statements": len(results),
        "pruned": len(pruned),
        "scan_all": sum(r.pruning == "none" for r in results),
        "partitions": len(partitions),
        "queries": [r.to_dict() for r in results],
        "note": "EXPLAIN (no ANALYZE) of generic plans on an empty copy of the structure: partitions "
        "scanned are the planner's pruning; costs and row estimates there are not meaningful.",
    }
