"""Targeted candidates, found without a profiling engine.

Functional dependencies are looked for only where they are likely: from foreign-key-like
columns (declared FKs, ``*_id``/``*_code``/``*_key`` names) and low-cardinality columns to the
other columns of the table. Candidate keys come from ``pg_stats`` (``n_distinct = -1``) and
from columns unique in the sample. Everything here is a *candidate*: design_confirm checks each
one on the full table before it is reported.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from dbwright.advisors.design.context import TableInfo
from dbwright.engines.postgres.design_sampling import TableSample

FK_LIKE_SUFFIXES = ("_id", "_code", "_key", "_no", "_number", "_uuid", "_ref")
#: A determinant with fewer distinct values than this is near-constant: its dependencies are accidents.
MIN_DISTINCT = 3
#: ... and so is a column whose most common value covers this share of the rows.
MAX_TOP_SHARE = 0.95
#: Low cardinality: at most this share of the sample's rows are distinct values.
LOW_CARDINALITY_SHARE = 0.2
#: The sample may show a little more error than the full table; screen loosely, confirm strictly.
SCREEN_FACTOR = 3.0
MAX_LHS_CANDIDATES = 12
KEY_PAIR_COLUMNS = 8


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    non_null: int
    nulls: int
    distinct: int
    top_share: float  # share of non-null sampled values taken by the most common one

    @property
    def near_constant(self) -> bool:
        return self.distinct < MIN_DISTINCT or self.top_share > MAX_TOP_SHARE


@dataclass(frozen=True)
class FdCandidate:
    lhs: tuple[str, ...]
    rhs: str
    sample_error: float | None  # g3 on the sample: share of rows to remove for the dependency to hold
    source: str  # "targeted" or "desbordante"


@dataclass(frozen=True)
class KeyCandidate:
    columns: tuple[str, ...]
    source: str  # "pg_stats", "sample", "desbordante"


def profile_columns(sample: TableSample) -> dict[str, ColumnProfile]:
    profiles = {}
    for name in sample.columns:
        values = [v for v in sample.values(name) if v is not None]
        counts = Counter(_hashable(v) for v in values)
        top = counts.most_common(1)[0][1] if counts else 0
        profiles[name] = ColumnProfile(
            name,
            len(values),
            len(sample.rows) - len(values),
            len(counts),
            top / len(values) if values else 1.0,
        )
    return profiles


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def fk_like(name: str) -> bool:
    """Named like a reference: customer_id, country_code, and TPC-H style o_custkey."""
    return name.endswith(FK_LIKE_SUFFIXES) or name.endswith("key") or name in ("code", "key")


def estimated_groups(info: TableInfo, lhs: tuple[str, ...], rows: int) -> float | None:
    """Distinct values of ``lhs`` over the full table from pg_stats (product for several columns)."""
    estimate = 1.0
    for name in lhs:
        stats = next((c.stats for c in info.columns if c.name == name), None)
        if stats is None or stats.n_distinct is None or stats.n_distinct == 0:
            return None
        estimate *= -stats.n_distinct * rows if stats.n_distinct < 0 else stats.n_distinct
    return min(estimate, float(rows))


def determinant_candidates(
    info: TableInfo, sample: TableSample, profiles: dict[str, ColumnProfile]
) -> list[str]:
    """Columns worth testing as the left side of X → Y: FK-like or low-cardinality, never keys."""
    rows = max(len(sample.rows), 1)
    chosen = []
    for name in sample.columns:
        p = profiles[name]
        if p.near_constant or p.nulls > 0 or p.distinct >= p.non_null or info.is_superkey((name,)):
            continue
        if name in info.fk_columns or fk_like(name) or p.distinct <= rows * LOW_CARDINALITY_SHARE:
            chosen.append(name)
    chosen.sort(key=lambda n: (n not in info.fk_columns, not fk_like(n), profiles[n].distinct))
    return chosen[:MAX_LHS_CANDIDATES]


def g3_within(groups: list[list[int]], values: list[Any], total: int, threshold: float) -> float | None:
    """g3 error of groups → values, or None as soon as it exceeds ``threshold`` (most pairs do, fast)."""
    limit = threshold * total
    off = 0
    for members in groups:
        first = values[members[0]]
        if all(values[i] == first for i in members):
            continue
        counts = Counter(_hashable(values[i]) for i in members)
        off += len(members) - counts.most_common(1)[0][1]
        if off > limit:
            return None
    return off / total if total else None


def targeted_fds(
    info: TableInfo, sample: TableSample, profiles: dict[str, ColumnProfile], max_error: float
) -> list[FdCandidate]:
    """Single-column dependencies X → Y from the candidate determinants, screened on the sample."""
    found = []
    threshold = max_error * SCREEN_FACTOR
    total = len(sample.rows)
    for lhs in determinant_candidates(info, sample, profiles):
        by_value: dict[Any, list[int]] = defaultdict(list)
        for i, value in enumerate(sample.values(lhs)):
            by_value[_hashable(value)].append(i)
        groups = [members for members in by_value.values() if len(members) > 1]
        for rhs in sample.columns:
            if rhs == lhs or profiles[rhs].non_null == 0 or profiles[rhs].distinct <= 1:
                continue
            error = g3_within(groups, sample.values(rhs), total, threshold)
            if error is not None:
                found.append(FdCandidate((lhs,), rhs, error, "targeted"))
    return found


def targeted_keys(
    info: TableInfo, sample: TableSample, profiles: dict[str, ColumnProfile]
) -> list[KeyCandidate]:
    """Single columns unique per pg_stats or the sample; column pairs for tables without any key."""
    found: list[KeyCandidate] = []
    for column in info.columns:
        stats = column.stats
        if column.name not in profiles:
            continue
        p = profiles[column.name]
        if p.nulls == 0 and p.non_null > 0 and p.distinct == p.non_null:
            source = "pg_stats" if stats and stats.n_distinct == -1 else "sample"
            found.append(KeyCandidate((column.name,), source))
    if not found and not info.declared_keys:
        names = [n for n in sample.columns if profiles[n].nulls == 0 and not profiles[n].near_constant]
        for pair in itertools.combinations(names[:KEY_PAIR_COLUMNS], 2):
            seen = {
                tuple(_hashable(v) for v in row)
                for row in zip(*(sample.values(c) for c in pair), strict=True)
            }
            if len(seen) == len(sample.rows):
                found.append(KeyCandidate(pair, "sample"))
    return found
