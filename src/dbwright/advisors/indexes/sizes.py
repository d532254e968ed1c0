"""How big an index will be, from pg_stats widths and reltuples, the way nbtree lays pages out.

HypoPG's own estimate is far off for multi-column indexes, and a budget is only as good as
the sizes it adds up. A B-tree leaf tuple is an 8-byte header plus its aligned key data,
MAXALIGNed, plus a 4-byte line pointer; leaf pages are filled to the fillfactor (90 by
default) during CREATE INDEX; duplicates are merged into posting lists (PostgreSQL 13+)
unless the index has INCLUDE columns or a type that cannot deduplicate; upper levels hold
truncated pivot keys at 70% fill. BRIN keeps one summary tuple per 128 heap pages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from dbwright.advisors.indexes.spec import IndexSpec
from dbwright.engines.base import Connection
from dbwright.engines.postgres import sampling
from dbwright.errors import ServerError
from dbwright.model import Column, Snapshot, Table

BLOCK = 8192
PAGE_HEADER = 24
BTREE_SPECIAL = 16
LINE_POINTER = 4
TUPLE_HEADER = 8
MAXALIGN = 8
INTERNAL_FILL = 0.70
# nbtsort.c: posting lists built by CREATE INDEX stop at 10% of a page.
MAX_POSTING_BYTES = (BLOCK * 10 // 100) // MAXALIGN * MAXALIGN - LINE_POINTER
BRIN_PAGES_PER_RANGE = 128
REVMAP_ENTRIES_PER_PAGE = (BLOCK - PAGE_HEADER) // 6

# Fixed-width types: (width, alignment). Anything else is a varlena (1-byte header when short).
FIXED = {
    "bool": (1, 1),
    "char": (1, 1),
    "int2": (2, 2),
    "int4": (4, 4),
    "oid": (4, 4),
    "date": (4, 4),
    "float4": (4, 4),
    "int8": (8, 8),
    "float8": (8, 8),
    "timestamp": (8, 8),
    "timestamptz": (8, 8),
    "time": (8, 8),
    "money": (8, 8),
    "interval": (16, 8),
    "uuid": (16, 1),
    "timetz": (12, 8),
    "macaddr": (6, 4),
    "inet": (7, 1),
}
# Types whose B-tree keys are not deduplicated (nbtree's _bt_allequalimage says no).
NO_DEDUP = {"numeric", "float4", "float8", "jsonb", "interval", "money"}
CAST_WIDTHS = {
    "date": "date",
    "integer": "int4",
    "int4": "int4",
    "bigint": "int8",
    "int8": "int8",
    "timestamp": "timestamp",
    "timestamptz": "timestamptz",
    "bool": "bool",
    "boolean": "bool",
    "smallint": "int2",
    "int2": "int2",
}


@dataclass(frozen=True)
class KeyShape:
    width: float  # average bytes of the stored value
    align: int
    null_frac: float
    distinct: float  # distinct values among the rows
    dedup_safe: bool


def estimate_bytes(
    spec: IndexSpec,
    snapshot: Snapshot,
    fraction: float = 1.0,
    distinct: Mapping[str, float] | None = None,
    key_distinct: float | None = None,
) -> int:
    """Estimated on-disk size of ``spec`` once built; ``fraction`` of rows for a partial index.

    ``distinct`` overrides ``pg_stats.n_distinct`` for some columns of the table (see
    ``clustered_distinct``), and ``key_distinct`` the number of distinct key combinations of a
    multi-column key (see ``key_distinct``): the number of distinct keys decides how much
    deduplication saves.
    """
    table = snapshot.table(spec.table)
    if table is None:
        return BLOCK
    all_rows = max(table.row_estimate, 0.0)
    rows = all_rows * fraction
    if spec.method == "brin":
        return _brin_bytes(spec, snapshot, table)
    if spec.method == "gin":
        return max(3 * BLOCK, int(table.heap_bytes * 0.3 * fraction))
    keys = [_key_shape(spec.table, key, snapshot, all_rows, distinct) for key in spec.keys]
    keys = [replace(k, distinct=distinct_in_share(k.distinct, all_rows, fraction)) for k in keys]
    included = [_key_shape(spec.table, column, snapshot, rows) for column in spec.include]
    combined = (
        None
        if key_distinct is None
        else max(1.0, min(distinct_in_share(key_distinct, all_rows, fraction), rows))
    )
    return _btree_bytes(rows, keys, included, _leaf_fillfactor(table), combined)


def distinct_in_share(distinct: float, rows: float, fraction: float) -> float:
    """Distinct values left among a share of the rows (a partial index's): a value with ``rows / distinct``
    rows is missed only when all of them are, so fewer values go than rows (not ``distinct × fraction``)."""
    if fraction >= 1.0 or distinct <= 0 or rows <= 0:
        return distinct
    return max(1.0, distinct * (1.0 - (1.0 - fraction) ** (rows / distinct)))


def _btree_bytes(
    rows: float,
    keys: list[KeyShape],
    included: list[KeyShape],
    fillfactor: int,
    combined: float | None = None,
) -> int:
    if rows < 1:
        return 2 * BLOCK  # metapage and one empty root leaf
    leaf_space = (BLOCK - PAGE_HEADER - BTREE_SPECIAL) - BLOCK * (100 - fillfactor) / 100
    key_data = _data_width(keys)
    plain_tuple = _maxalign(TUPLE_HEADER + _data_width(keys + included)) + LINE_POINTER
    null_share = max((k.null_frac for k in keys + included), default=0.0)
    plain_tuple += null_share * MAXALIGN  # the null bitmap pushes the header to 16 bytes
    per_row = plain_tuple
    distinct = combined if combined is not None else _combined_distinct(keys, rows)
    duplicates = rows / max(distinct, 1.0)
    if not included and all(k.dedup_safe for k in keys) and duplicates >= 2:
        tids_per_posting = max(1, int((MAX_POSTING_BYTES - TUPLE_HEADER - key_data) // 6))
        tids = min(duplicates, tids_per_posting)
        posting_tuple = _maxalign(TUPLE_HEADER + key_data + 6 * tids) + LINE_POINTER
        per_row = min(plain_tuple, posting_tuple / tids)
    elif not included and all(k.dedup_safe for k in keys) and duplicates > 1:
        per_row = min(plain_tuple, _few_duplicates_per_row(duplicates, key_data, plain_tuple))
    leaf_rows_per_page = max(1.0, (leaf_space - plain_tuple) / per_row)  # one high key per page
    leaf_pages = math.ceil(rows / leaf_rows_per_page)
    pivot = _maxalign(TUPLE_HEADER + _data_width(keys[:1])) + LINE_POINTER + 6
    fanout = max(2.0, (BLOCK - PAGE_HEADER - BTREE_SPECIAL) * INTERNAL_FILL / pivot)
    pages, level = leaf_pages, leaf_pages
    while level > 1:
        level = math.ceil(level / fanout)
        pages += level
    return int((pages + 1) * BLOCK)


def _few_duplicates_per_row(mean: float, key_data: float, plain_tuple: float) -> float:
    """Bytes per row when keys repeat 1–2 times on average: some keys are single (a plain tuple), the
    rest merge into small posting lists. Key counts are taken as zero-truncated Poisson with this mean."""
    low, high = 1e-9, 2 * mean  # solve mean = λ / (1 - e^-λ) for λ
    for _ in range(60):
        lam = (low + high) / 2
        if lam / -math.expm1(-lam) < mean:
            low = lam
        else:
            high = lam
    lam = (low + high) / 2
    per_key, p = 0.0, math.exp(-lam) / -math.expm1(-lam)  # P(k) = λ^k e^-λ / (k! (1 - e^-λ))
    for k in range(1, 40):
        p *= lam / k
        posting = _maxalign(TUPLE_HEADER + key_data + 6 * k) + LINE_POINTER
        per_key += p * (plain_tuple if k == 1 else min(k * plain_tuple, posting))
    return per_key / mean


def _brin_bytes(spec: IndexSpec, snapshot: Snapshot, table: Table) -> int:
    ranges = max(1, math.ceil(max(table.heap_bytes, BLOCK) / BLOCK / BRIN_PAGES_PER_RANGE))
    width = sum(_key_shape(spec.table, k, snapshot, table.row_estimate).width for k in spec.keys)
    summary = _maxalign(TUPLE_HEADER + 2 * width + 2) + LINE_POINTER
    regular = math.ceil(ranges * summary / (BLOCK - PAGE_HEADER))
    revmap = math.ceil(ranges / REVMAP_ENTRIES_PER_PAGE)
    return int((1 + revmap + max(1, regular)) * BLOCK)


def _key_shape(
    table: str, key: str, snapshot: Snapshot, rows: float, distinct: Mapping[str, float] | None = None
) -> KeyShape:
    if key.startswith("("):
        return _expression_shape(table, key, snapshot, rows)
    column = snapshot.column(table, key)
    shape = _column_shape(column, rows)
    if distinct and key in distinct:
        shape = replace(shape, distinct=max(1.0, min(distinct[key], rows)))
    return shape


#: |correlation| from which a column counts as physically sorted.
CLUSTERED_CORRELATION = 0.9


def is_clustered(snapshot: Snapshot, table: str, column: str) -> bool:
    """Is ``column`` stored in (nearly) sorted order, with ``n_distinct`` given as a count?

    ANALYZE samples whole blocks; on sorted data the rows of a block share their values, so
    the sample sees each value many times and ``n_distinct`` comes out far too low (TPC-H's
    ``l_orderkey``: 416,028 against 1,500,000), and deduplication looks far better than it is.
    """
    info = snapshot.column(table, column)
    stats = info.stats if info else None
    return bool(
        stats
        and stats.correlation is not None
        and abs(stats.correlation) >= CLUSTERED_CORRELATION
        and stats.n_distinct is not None
        and stats.n_distinct > 0
    )


#: Heap blocks read to count a sorted column's distinct values (TABLESAMPLE SYSTEM, repeatable).
DISTINCT_SAMPLE_BLOCKS = 300
#: Rows wanted in the block sample that counts a multi-column key's distinct combinations.
KEY_SAMPLE_ROWS = 30_000
#: Sample a multi-column key only when the per-column counts leave its distinct combinations this uncertain.
KEY_UNCERTAINTY = 1.5


class SampledDistinct:
    """Distinct counts the size model cannot take from ``pg_stats``, measured on block samples.

    - a physically sorted column, once per column (``overrides``);
    - a multi-column key, once per table and set of columns (``key_distinct``): ``pg_stats`` has no
      count for a combination, and the product of the columns' counts says "all distinct" for TPC-H's
      ``lineitem (l_partkey, l_suppkey)`` (200k × 10k), which has 800k combinations of 6M rows and
      builds at 65 MB against 180 MB estimated without deduplication.
    """

    def __init__(self, conn: Connection, snapshot: Snapshot, notes: list[str] | None = None) -> None:
        self.conn = conn
        self.snapshot = snapshot
        self.notes = notes if notes is not None else []
        self._measured: dict[tuple[str, str], float | None] = {}
        self._keys: dict[tuple[str, frozenset[str]], float | None] = {}

    def overrides(self, spec: IndexSpec) -> dict[str, float]:
        found = {}
        for column in spec.columns:
            if not is_clustered(self.snapshot, spec.table, column):
                continue
            key = (spec.table, column)
            if key not in self._measured:
                self._measured[key] = self._sample(spec.table, column)
            if self._measured[key] is not None:
                found[column] = self._measured[key]
        return found

    def estimate(self, spec: IndexSpec, fraction: float = 1.0) -> int:
        """``estimate_bytes`` with every sampled count this spec needs."""
        return estimate_bytes(spec, self.snapshot, fraction, self.overrides(spec), self.key_distinct(spec))

    def smallest(self, spec: IndexSpec, fraction: float = 1.0) -> int:
        """A lower bound on ``estimate`` that samples no key: a key that would need its combinations
        counted is taken to have no more of them than its most distinct column (the most deduplication
        it could get). For ruling out what cannot fit before paying for a sample."""
        return estimate_bytes(
            spec, self.snapshot, fraction, self.overrides(spec), self.key_distinct(spec, sample=False)
        )

    def key_distinct(self, spec: IndexSpec, sample: bool = True) -> float | None:
        """Distinct combinations of a multi-column B-tree key, or None where the per-column counts settle
        the size (one key, INCLUDE or a type that is never deduplicated, a column that is nearly unique,
        counts whose product is close to the largest of them) or cannot be sampled (expressions). A partial
        index's key is counted on the whole table (``estimate_bytes`` keeps its share of the values).
        With ``sample=False``, a key that would be sampled gets its lower bound instead."""
        table = self.snapshot.table(spec.table)
        if (
            spec.method != "btree"
            or len(spec.keys) < 2
            or spec.include
            or table is None
            or any(k.startswith("(") for k in spec.keys)
        ):
            return None
        rows = max(table.row_estimate, 1.0)
        shapes = [_key_shape(spec.table, k, self.snapshot, rows, self.overrides(spec)) for k in spec.keys]
        if not all(shape.dedup_safe for shape in shapes):
            return None
        largest = max(shape.distinct for shape in shapes)
        if largest >= rows / 2 or _combined_distinct(shapes, rows) < KEY_UNCERTAINTY * largest:
            return None
        key = (spec.table, frozenset(spec.keys))
        if not sample and key not in self._keys:
            return largest
        if key not in self._keys:
            self._keys[key] = self._key_sample(spec.table, spec.keys, rows)
        return self._keys[key]

    def _key_sample(self, table: str, columns: tuple[str, ...], rows: float) -> float | None:
        """Count the key's (block, key) occurrences on a block sample, in one statement on the server."""
        info = self.snapshot.table(table)
        if info is None or info.heap_bytes <= 0:
            return None
        pages = max(1, info.heap_bytes // BLOCK)
        per_page = max(1.0, info.row_estimate / pages)
        blocks = min(pages, max(DISTINCT_SAMPLE_BLOCKS, math.ceil(KEY_SAMPLE_ROWS / per_page)))
        row = self._fetch(
            lambda: sampling.key_occurrences(self.conn, table, columns, blocks, pages),
            f"{table} ({', '.join(columns)}) for its distinct key combinations",
            "its index size uses pg_stats",
        )
        if row is None:
            return None
        sampled_blocks, seen, singletons, occurrences = (int(v) for v in row)
        return duj1_over_blocks(occurrences, seen, singletons, sampled_blocks, pages, rows)

    def _sample(self, table: str, column: str) -> float | None:
        info = self.snapshot.table(table)
        if info is None or info.heap_bytes <= 0:
            return None
        pages = max(1, info.heap_bytes // BLOCK)
        row = self._fetch(
            lambda: sampling.distinct_per_block(self.conn, table, column, DISTINCT_SAMPLE_BLOCKS, pages),
            f"{table}.{column} for its distinct values",
            "its index sizes use pg_stats",
        )
        if row is None:
            return None
        return clustered_distinct(int(row[0]), int(row[1]), pages, info.row_estimate)

    def _fetch(self, sample: Callable[[], tuple], what: str, fallback: str) -> tuple | None:
        """One sampling statement's row, or None with a note saying what was not sampled and why."""
        try:
            return sample()
        except ServerError as error:
            self.notes.append(f"could not sample {what} ({error.message}); {fallback}")
            return None


def duj1_over_blocks(
    occurrences: int, seen: int, singletons: int, blocks: int, table_pages: int, rows: float
) -> float:
    """Distinct keys from a block sample: Haas and Stokes' Duj1 estimator (ANALYZE's own) over
    distinct (block, key) occurrences rather than rows.

    Rows of one block are not independent (a sorted column repeats its value down the block), so a
    key seen twice in one block counts once, and the population of occurrences is the sample's
    scaled by table pages over sampled blocks. On unclustered keys this is Duj1 over rows; on a
    sorted key, where each value lives in one block, it becomes the per-block count scaled up.
    ``seen``: distinct keys in the sample; ``singletons``: keys seen in exactly one block.
    """
    if occurrences <= 0 or blocks <= 0:
        return max(rows, 1.0)
    population = occurrences * max(table_pages, blocks) / blocks
    if occurrences >= population:
        return float(seen)  # the whole table was read
    estimate = occurrences * seen / (occurrences - singletons + singletons * occurrences / population)
    return max(1.0, min(estimate, rows))


def clustered_distinct(blocks: int, values_in_blocks: int, table_pages: int, rows: float) -> float:
    """Distinct values of a sorted column from a block sample: a value rarely spans blocks, so the
    distinct values per sampled block, times the table's pages, count them (a value split by a
    block boundary counts twice: an over-estimate, which keeps the size estimate on the safe side)."""
    if blocks <= 0:
        return rows
    return min(rows, values_in_blocks / blocks * max(table_pages, 1))


def _column_shape(column: Column | None, rows: float) -> KeyShape:
    if column is None:
        return KeyShape(8.0, 8, 0.0, rows, True)
    stats = column.stats
    fixed = FIXED.get(column.type_name)
    if fixed:
        width, align = float(fixed[0]), fixed[1]
    else:
        width, align = float(stats.avg_width if stats and stats.avg_width else 16), 1
        if width > 126:  # long varlenas keep a 4-byte header and int alignment
            width, align = width + 3, 4
    null_frac = (stats.null_frac or 0.0) if stats else 0.0
    distinct = _distinct(stats.n_distinct if stats else None, rows)
    dedup = column.type_name not in NO_DEDUP
    return KeyShape(width * (1 - null_frac), align, null_frac, distinct, dedup)


def _expression_shape(table: str, key: str, snapshot: Snapshot, rows: float) -> KeyShape:
    """An expression key: lower(col) is as wide as col; casts and date_trunc take their result type."""
    from dbwright.advisors.indexes.expressions import expression_facts

    facts = expression_facts(key)
    base = _column_shape(snapshot.column(table, facts.columns[0]) if facts.columns else None, rows)
    result = CAST_WIDTHS.get(facts.result_type or "")
    if result:
        width, align = FIXED[result]
        # date_trunc and casts to coarser types merge values: fewer distinct keys than the column
        return KeyShape(float(width), align, base.null_frac, base.distinct * facts.distinct_factor, True)
    width = min(base.width, facts.max_width) if facts.max_width is not None else base.width
    return KeyShape(width, base.align, base.null_frac, base.distinct * facts.distinct_factor, base.dedup_safe)


def _distinct(n_distinct: float | None, rows: float) -> float:
    if n_distinct is None or n_distinct == 0:
        return max(rows, 1.0)
    if n_distinct < 0:
        return max(1.0, -n_distinct * rows)
    return max(1.0, min(n_distinct, rows))


def _combined_distinct(keys: list[KeyShape], rows: float) -> float:
    product = 1.0
    for key in keys:
        product *= max(key.distinct, 1.0)
        if product >= rows:
            return max(rows, 1.0)
    return product


def _data_width(shapes: list[KeyShape]) -> float:
    offset = 0.0
    for shape in shapes:
        if shape.align > 1:
            offset = math.ceil((TUPLE_HEADER + offset) / shape.align) * shape.align - TUPLE_HEADER
        offset += shape.width
    return offset


def _leaf_fillfactor(table: Table) -> int:
    return 90  # B-tree leaf default; an index's own fillfactor is set on the index, not the table


def _maxalign(n: float) -> float:
    return math.ceil(n / MAXALIGN) * MAXALIGN
