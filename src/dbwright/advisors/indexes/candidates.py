"""Candidate indexes, from each statement's parse tree and its baseline plan.

Beyond the single- and two-column B-trees other advisors stop at:

- order-aware multi-column B-trees: equality columns first (most selective first), then one
  range column or the ORDER BY columns, so one index serves the filter and the sort;
- covering indexes: the same keys with INCLUDE of the other columns the statement reads,
  so an Index Only Scan needs no heap fetch;
- partial indexes for constant predicates that recur in the workload
  (``status = 'open'``, ``deleted_at IS NULL``), selective enough to be worth it;
- expression indexes for filters on ``lower(email)``, casts and ``date_trunc``;
- BRIN for range filters on large, well-correlated, append-only tables;
- GIN for jsonb, array and trigram operators (costed only where the what-if backend can).

The baseline plan prunes: only tables the plan reads at a real cost get candidates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dbwright.advisors.indexes.plans import PlanSummary
from dbwright.advisors.indexes.querytree import QueryShape, TableUse
from dbwright.advisors.indexes.sizes import estimate_bytes
from dbwright.advisors.indexes.spec import IndexSpec
from dbwright.model import Snapshot

MAX_KEYS = 4
MAX_INCLUDE = 4
MAX_INCLUDE_WIDTH = 120  # bytes of average width the INCLUDE columns may add
BRIN_MIN_ROWS = 100_000
BRIN_MIN_CORRELATION = 0.9
APPEND_ONLY_CHANGE_RATIO = 0.05
PARTIAL_MAX_FRACTION = 0.5
#: A statement's own constant filter makes a partial index when it keeps at most this share of the rows.
STATEMENT_PARTIAL_MAX_FRACTION = 0.3
#: … on a table of at least this many rows (a small table is read whole about as fast).
STATEMENT_PARTIAL_MIN_ROWS = 10_000
#: A column with at least this many distinct values is identifier-like: ``= literal`` on it picks a key.
IDENTIFIER_MIN_DISTINCT = 1000
#: … or with at least ``IDENTIFIER_SMALL_MIN_DISTINCT`` values that are this share of its rows or more.
IDENTIFIER_MIN_DISTINCT_SHARE = 0.1
IDENTIFIER_SMALL_MIN_DISTINCT = 100
SCAN_SHARE = 0.02
#: A narrower index on an existing index's leading keys is a candidate when that one is this many times larger.
NARROWER_RATIO = 2.0  # a table whose scans cost less than 2% of the statement is left alone

#: Selectivity of a predicate on a table: the share of its rows that match (from the planner).
Fraction = Callable[[str, str], float | None]


@dataclass(frozen=True)
class Candidate:
    spec: IndexSpec
    origin: str  # why it was generated: "equality+range", "covering", "partial", …


def recurring_predicates(shapes: Iterable[tuple[QueryShape, int]]) -> Counter[tuple[str, str]]:
    """(table, predicate) → the number of calls of statements that carry it."""
    counts: Counter[tuple[str, str]] = Counter()
    for shape, calls in shapes:
        for use in shape.tables.values():
            for predicate in use.constants:
                counts[(use.table, predicate)] += max(calls, 1)
    return counts


def expensive_tables(plan: PlanSummary | None, snapshot: Snapshot) -> set[str] | None:
    """Tables the baseline plan reads at more than a sliver of its cost (None: no plan to go by)."""
    if plan is None or plan.cost <= 0:
        return None
    found = set()
    for node in plan.scans():
        if node.relation and node.total_cost >= SCAN_SHARE * plan.cost:
            found.update(t.qname for t in snapshot.tables if t.name == node.relation)
    if plan.sorts():
        found.update(t.qname for t in snapshot.tables if t.name in plan.relations)
    return found


def for_query(
    shape: QueryShape,
    snapshot: Snapshot,
    *,
    plan: PlanSummary | None,
    recurring: Counter[tuple[str, str]],
    fraction: Fraction,
    trigram: bool,
    size: Callable[[IndexSpec], int] | None = None,
) -> list[Candidate]:
    """Candidates for one statement, deduplicated, in a stable order."""
    wanted = expensive_tables(plan, snapshot)
    found: dict[IndexSpec, str] = {}
    for use in shape.tables.values():
        if wanted is not None and use.table not in wanted:
            continue
        for spec, origin in _for_table(use, snapshot, recurring, fraction, trigram):
            found.setdefault(spec, origin)
    return [
        Candidate(spec, _narrower_origin(spec, snapshot) or origin)
        for spec, origin in found.items()
        if not _exists(spec, snapshot, size)
    ]


def _for_table(
    use: TableUse, snapshot: Snapshot, recurring: Counter[tuple[str, str]], fraction: Fraction, trigram: bool
) -> Iterable[tuple[IndexSpec, str]]:
    table = use.table
    equal = _by_selectivity(snapshot, table, use.equal)
    joins = [c for c in use.joins if c not in equal]
    ranges = [c for c in use.ranges if c not in equal]
    sort = [c for c, _ in use.sort]
    if len({d for _, d in use.sort}) > 1:
        sort = sort[:1]  # mixed ASC/DESC: only the first sort column can follow the index order
    group = [c for c in use.group if c not in equal]

    shapes: list[tuple[list[str], str]] = []
    for column in dict.fromkeys([*equal, *joins, *ranges, *sort[:1], *group[:1]]):
        shapes.append(([column], "single column"))
    if len(equal) > 1:
        shapes.append((equal, "equality"))
    for column in ranges:
        shapes.append(([*equal, column], "equality+range"))
    if sort:
        order = [*equal, *[c for c in sort if c not in equal]]
        shapes.append((order, "equality+sort"))
        if ranges and ranges[0] != sort[0]:
            shapes.append(
                (
                    [*equal, ranges[0], *[c for c in sort if c not in equal and c != ranges[0]]],
                    "equality+range+sort",
                )
            )
    if group:
        shapes.append(([*equal, *group], "equality+group"))
    for column in joins:
        shapes.append(([column, *equal], "join"))
    for expression, how in use.expressions.items():
        key = f"({expression})"
        shapes.append(([key, *equal] if how == "equal" else [*equal, key], "expression"))

    for keys, origin in shapes:
        keys = list(dict.fromkeys(keys))[:MAX_KEYS]
        if not keys:
            continue
        yield IndexSpec(table, tuple(keys)), origin
        covering = _include(use, keys, snapshot)
        if covering:
            yield IndexSpec(table, tuple(keys), covering), "covering"

    for predicate, fixed in use.constants.items():
        if recurring[(table, predicate)] < 2 or _picks_a_key(use, predicate, snapshot):
            continue
        share = fraction(table, predicate)
        if share is None or share > PARTIAL_MAX_FRACTION:
            continue
        for keys, origin in shapes:
            rest = [k for k in dict.fromkeys(keys) if k not in fixed][:MAX_KEYS]
            if not rest:
                continue
            yield IndexSpec(table, tuple(rest), where=predicate), f"partial ({origin})"
            covering = _include(use, rest, snapshot, exclude=fixed)
            if covering:
                yield IndexSpec(table, tuple(rest), covering, where=predicate), "partial covering"

    yield from _statement_partials(use, shapes, snapshot, fraction)

    for column in ranges:
        if _brin_worthy(snapshot, table, column):
            yield IndexSpec(table, (column,), method="brin"), "brin (correlated, append-only)"
    for column, operator in use.gin.items():
        col = snapshot.column(table, column)
        opclass = "jsonb_path_ops" if col and col.type_name == "jsonb" and operator == "@>" else None
        yield IndexSpec(table, (column,), method="gin", opclass=opclass), f"gin ({operator})"
    if trigram:
        for column in use.trigram:
            yield IndexSpec(table, (column,), method="gin", opclass="gin_trgm_ops"), "gin (trigram)"


def _statement_partials(
    use: TableUse, shapes: list[tuple[list[str], str]], snapshot: Snapshot, fraction: Fraction
) -> Iterable[tuple[IndexSpec, str]]:
    """Partial indexes whose predicate is the statement's own constant filter on the table.

    For each key shape, the filter conjuncts on columns outside the keys become the predicate
    (``(l_shipdate) … WHERE l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24``), when they
    keep at most ``STATEMENT_PARTIAL_MAX_FRACTION`` of the rows: a small index that serves this
    statement (and any other whose filter implies the predicate), tied to its literal values.
    The covering form includes what the statement reads besides the predicate's own columns.
    """
    table = snapshot.table(use.table)
    if not use.filters or table is None or table.row_estimate < STATEMENT_PARTIAL_MIN_ROWS:
        return
    for keys, origin in shapes:
        keys = list(dict.fromkeys(keys))[:MAX_KEYS]
        rest = {
            sql: cols
            for sql, cols in use.filters.items()
            if not set(cols) & set(keys) and not _picks_a_key(use, sql, snapshot)
        }
        if not rest:
            continue
        predicate = " AND ".join(rest)
        share = fraction(use.table, predicate)
        if share is None or share > STATEMENT_PARTIAL_MAX_FRACTION:
            continue
        yield (
            IndexSpec(use.table, tuple(keys), where=predicate),
            f"partial on the statement's filter ({origin})",
        )
        needed = set(use.outside_filters)
        needed.update(c for sql, cols in use.filters.items() if sql not in rest for c in cols)
        covering = _include(use, keys, snapshot, exclude=[c for c in use.referenced if c not in needed])
        if covering:
            yield (
                IndexSpec(use.table, tuple(keys), covering, where=predicate),
                "partial covering on the statement's filter",
            )


def _picks_a_key(use: TableUse, predicate: str, snapshot: Snapshot) -> bool:
    """Whether ``predicate`` is ``=``/``IN`` on an identifier-like column: a row's key, not a constant.

    ``customer_id = 17`` in one statement says which customer this call wanted; the next call
    asks for another, so a partial index ``WHERE customer_id = '17'`` serves that one call only.
    Identifier-like: the column alone is a primary key, unique, or a foreign key, or its
    statistics give it many distinct values. Ranges and low-cardinality ``status = 'active'`` stay.
    """
    column = use.literal_equalities.get(predicate)
    return column is not None and is_identifier_like(snapshot, use.table, column)


def is_identifier_like(snapshot: Snapshot, table: str, column: str) -> bool:
    """A key (primary, unique, foreign) of its own, or a column of many distinct values by its statistics."""
    if any(c.columns == (column,) and c.type in ("p", "u", "f") for c in snapshot.constraints_of(table)):
        return True
    if any(
        i.unique and i.valid and not i.predicate and i.columns == (column,)
        for i in snapshot.indexes_of(table)
    ):
        return True
    found = snapshot.column(table, column)
    n_distinct = found.stats.n_distinct if found and found.stats else None
    if not n_distinct:
        return False
    relation = snapshot.table(table)
    rows = relation.row_estimate if relation else 0
    distinct = n_distinct if n_distinct > 0 else -n_distinct * rows
    if distinct >= IDENTIFIER_MIN_DISTINCT:
        return True
    return (
        distinct >= IDENTIFIER_SMALL_MIN_DISTINCT
        and rows > 0
        and distinct >= IDENTIFIER_MIN_DISTINCT_SHARE * rows
    )


def _include(
    use: TableUse, keys: list[str], snapshot: Snapshot, exclude: Iterable[str] = ()
) -> tuple[str, ...]:
    """INCLUDE columns that would make the index cover the statement, when few and narrow enough."""
    if use.star:
        return ()
    skip = set(keys) | set(exclude)
    extra = [c for c in use.referenced if c not in skip]
    if not extra or len(extra) > MAX_INCLUDE or any(k.startswith("(") for k in keys):
        return ()
    width = 0
    for name in extra:
        column = snapshot.column(use.table, name)
        width += (column.stats.avg_width or 8) if column and column.stats else 8
    return tuple(extra) if width <= MAX_INCLUDE_WIDTH else ()


def _by_selectivity(snapshot: Snapshot, table: str, columns: Iterable[str]) -> list[str]:
    """Most distinct first, then by name: deterministic, and the lookup narrows fastest."""
    rows = (snapshot.table(table).row_estimate if snapshot.table(table) else 0) or 1

    def distinct(name: str) -> float:
        column = snapshot.column(table, name)
        n = column.stats.n_distinct if column and column.stats and column.stats.n_distinct else 0
        return -n * rows if n < 0 else n

    return sorted(columns, key=lambda c: (-distinct(c), c))


def _brin_worthy(snapshot: Snapshot, table_name: str, column_name: str) -> bool:
    table = snapshot.table(table_name)
    column = snapshot.column(table_name, column_name)
    if table is None or column is None or column.stats is None or table.row_estimate < BRIN_MIN_ROWS:
        return False
    if abs(column.stats.correlation or 0.0) < BRIN_MIN_CORRELATION:
        return False
    inserted = table.n_tup_ins or 0
    changed = (table.n_tup_upd or 0) + (table.n_tup_del or 0)
    return inserted == 0 or changed <= APPEND_ONLY_CHANGE_RATIO * inserted


def _narrower_origin(spec: IndexSpec, snapshot: Snapshot) -> str | None:
    """Why a candidate on an existing index's leading keys is proposed at all, or None if it is not one."""
    if spec.where:
        return None  # a partial index has its own reason
    for index in snapshot.indexes_of(spec.table):
        have = tuple(c for c in index.columns if c)
        if (
            index.valid
            and not index.predicate
            and len(have) > len(spec.keys)
            and have[: len(spec.keys)] == spec.keys
        ):
            return (
                f"narrower than {index.qname} ({index.bytes / 1024**2:.0f} MB): lookups on its leading "
                f"keys read fewer pages"
            )
    return None


def _exists(spec: IndexSpec, snapshot: Snapshot, size: Callable[[IndexSpec], int] | None = None) -> bool:
    """An existing valid index already has these leading keys (and covers the INCLUDE columns).

    Not when the existing index has more keys and is at least ``NARROWER_RATIO`` times the size
    the narrower one would have: then a lookup on the leading keys reads far fewer pages through
    the narrow one (B-tree deduplication stores a repeated key once), and the what-if prices say
    whether that is worth its space. A primary key on (order_id, line_no) is the usual case.
    """
    for index in snapshot.indexes_of(spec.table):
        if (
            not index.valid
            or index.method != spec.method
            or index.expressions
            or index.predicate
            or spec.where
        ):
            continue
        have = tuple(c for c in index.columns if c)
        if have[: len(spec.keys)] == spec.keys and set(spec.include) <= set(index.columns) | set(
            index.include
        ):
            if (
                len(have) > len(spec.keys)
                and not spec.include
                and index.bytes >= NARROWER_RATIO * (size(spec) if size else estimate_bytes(spec, snapshot))
            ):
                continue
            return True
    return False
