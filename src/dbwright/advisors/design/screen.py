"""Screening of dependency candidates before the full-table confirmation.

Discovery on a 20,000-row sample (desbordante's especially) suggests dependencies that only
hold because the sample is small: almost every value of a wide column occurs once in it, so it
"determines" everything. Each full-table check of such a candidate is a scan of the whole table,
and on a large table one scan can take longer than the review's whole budget. Two cheap screens
come first:

1. **The determinant must be able to name an entity.** A column that is not key-like (a declared
   foreign key, or named like one: ``*_id``, ``*key``, …) is dropped as a left side when it is

   - *free text*: text whose values are mostly prose (whitespace inside) and nearly all distinct,
     such as comments, descriptions and product names: nobody keys a table by a sentence;
   - a *continuous measure*: a non-integer number (numeric, float, money) with many distinct
     values, such as prices and balances; ``extended_price → quantity, unit_price`` holds because
     one is computed from the others, not because a price is an entity;
   - *thinly supported*: fewer than ``MIN_SUPPORT_ROWS`` rows per value over the full table
     (``pg_stats``), so there are hardly any repeated values to be anomalies in the first place; or,
     for a sampled table, fewer than ``MIN_SAMPLE_ROWS_PER_VALUE`` sampled rows per value, so the
     sample that suggested the dependency held no repeated value to test it on (this is what
     removes desbordante's two-column left sides such as ``(l_commitdate, p_type)``, unique in a
     20,000-row sample of 6 M rows).

   A low-cardinality code (a brand, a status, a size) passes all three.

2. **Re-checked on a larger sample, in one pass.** For a table too large to read whole, every
   remaining candidate's g3 error is computed on one ``TABLESAMPLE`` ten times the size of the
   discovery sample, in a single statement (the sample is read once, then one ``GROUPING SETS``
   aggregate per left side runs over it). A candidate whose error there already exceeds the loose
   screening threshold is dropped; the survivors are confirmed on the full table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dbwright.advisors.design.candidates import (
    LOW_CARDINALITY_SHARE,
    SCREEN_FACTOR,
    ColumnProfile,
    estimated_groups,
    fk_like,
)
from dbwright.advisors.design.context import TableInfo
from dbwright.engines.base import Connection
from dbwright.engines.postgres import design_confirm as confirm
from dbwright.engines.postgres.design_sampling import SAMPLE_SEED, SYSTEM_SAMPLING_ROWS, TableSample

#: A left side that is not key-like needs this many rows per value over the full table.
MIN_SUPPORT_ROWS = 10.0
#: ... and, in the discovery sample of a sampled table, this many sampled rows per distinct value.
MIN_SAMPLE_ROWS_PER_VALUE = 2.0
#: Free text: at least this share of the sampled values contain whitespace ...
PROSE_SHARE = 0.5
#: Non-integer numbers: measures, not identifiers, unless they have few distinct values.
MEASURE_TYPES = {"numeric", "float4", "float8", "money"}
TEXT_TYPES = {"text", "varchar", "bpchar", "citext"}
#: The re-check sample is this many times the discovery sample ...
RECHECK_FACTOR = 10
#: ... and is skipped when it would read more than this share of the table (confirm directly then).
MAX_RECHECK_SHARE = 0.5
_SPACE = re.compile(r"\s")


def key_like(info: TableInfo, name: str) -> bool:
    """A declared foreign key, or named like a reference (``customer_id``, ``o_custkey``)."""
    return name in info.fk_columns or fk_like(name)


def high_cardinality(profile: ColumnProfile) -> bool:
    """More distinct values in the sample than the targeted path calls low-cardinality."""
    return profile.distinct > LOW_CARDINALITY_SHARE * max(profile.non_null, 1)


def prose_share(values: list[Any]) -> float:
    texts = [v for v in values if isinstance(v, str)]
    return sum(1 for v in texts if _SPACE.search(v.strip())) / len(texts) if texts else 0.0


def column_objection(info: TableInfo, name: str, profile: ColumnProfile, sample: TableSample) -> str | None:
    """Why ``name`` cannot be (part of) a determinant, or None. Declared foreign keys always can."""
    if name in info.fk_columns or not high_cardinality(profile):
        return None
    column = info.column(name)
    if column.type_name in TEXT_TYPES and prose_share(sample.values(name)) >= PROSE_SHARE:
        return (
            f"{name} is free text ({profile.distinct:,} distinct of {profile.non_null:,} sampled values, "
            "mostly with spaces): prose names no entity"
        )
    if column.type_name in MEASURE_TYPES and not fk_like(name):
        return (
            f"{name} is a continuous measure ({column.type_name}, {profile.distinct:,} distinct of "
            f"{profile.non_null:,} sampled values): a derived or measured quantity, not an entity"
        )
    return None


def support_objection(info: TableInfo, lhs: tuple[str, ...], rows: int, sample: TableSample) -> str | None:
    """A left side that is not key-like must repeat, in the table and in the sample that suggested it.

    Over the full table (``pg_stats``), ``MIN_SUPPORT_ROWS`` rows per value or more. In the discovery
    sample, ``MIN_SAMPLE_ROWS_PER_VALUE``: a left side (typically a pair of columns) nearly unique in
    the sample "determines" every column there without a single repeated value as evidence.
    """
    if all(key_like(info, c) for c in lhs):
        return None
    positions = [sample.columns.index(c) for c in lhs]
    seen = {tuple(row[p] for p in positions) for row in sample.rows}
    in_sample = len(sample.rows) / max(len(seen), 1)
    if sample.sampled and in_sample < MIN_SAMPLE_ROWS_PER_VALUE:
        return (
            f"no support in the sample: {len(seen):,} distinct values of {', '.join(lhs)} in "
            f"{len(sample.rows):,} sampled rows, and it is not key-like"
        )
    groups = estimated_groups(info, lhs, rows)
    if groups is None:
        if sample.sampled:
            return None  # no statistics and only a sample: cannot tell; the re-check and confirmation decide
        groups = len(seen)
    per_value = rows / max(groups, 1.0)
    if per_value < MIN_SUPPORT_ROWS:
        return (
            f"too little support: ≈ {per_value:.1f} rows per value of {', '.join(lhs)} (fewer than "
            f"{MIN_SUPPORT_ROWS:g}), and it is not key-like"
        )
    return None


@dataclass
class Screened:
    kept: dict[tuple[str, ...], list[str]]
    rejected: list[tuple[tuple[str, ...], str, str, dict[str, Any] | None]] = field(default_factory=list)
    recheck: dict[str, Any] | None = None  # what the larger sample was, when one was read


def determinants(
    info: TableInfo,
    by_lhs: dict[tuple[str, ...], list[str]],
    rows: int,
    sample: TableSample,
    profiles: dict[str, ColumnProfile],
) -> Screened:
    """Screen 1: drop left sides that cannot name an entity."""
    screened = Screened({})
    for lhs, rhs in by_lhs.items():
        reason = next((r for c in lhs if (r := column_objection(info, c, profiles[c], sample))), None)
        reason = reason or support_objection(info, lhs, rows, sample)
        if reason:
            screened.rejected += [(lhs, y, reason, None) for y in rhs]
        else:
            screened.kept[lhs] = rhs
    return screened


def recheck(
    conn: Connection,
    info: TableInfo,
    screened: Screened,
    rows: int,
    sample_rows: int,
    max_error: float,
) -> Screened:
    """Screen 2: every remaining candidate on one sample ``RECHECK_FACTOR`` times larger, in one statement."""
    target = sample_rows * RECHECK_FACTOR
    if not screened.kept or rows <= 0 or target >= rows * MAX_RECHECK_SHARE:
        return screened
    percent = 100.0 * target / rows
    method = "SYSTEM" if rows > SYSTEM_SAMPLING_ROWS else "BERNOULLI"
    sampled, found = confirm.sample_fd_errors(
        conn, info.qname, screened.kept, percent, method, SAMPLE_SEED + 1
    )
    threshold = max_error * SCREEN_FACTOR
    kept: dict[tuple[str, ...], list[str]] = {}
    for lhs, rhs in screened.kept.items():
        for y in rhs:
            found_y = found.get((lhs, y))
            reason = _recheck_failure(found_y, threshold) if found_y is not None else None
            if reason:
                screened.rejected.append(
                    (
                        lhs,
                        y,
                        f"not confirmed on a larger sample ({sampled:,} rows): {reason}",
                        {
                            **found_y.check.to_dict(),
                            "pairs": found_y.pairs,
                            "disagreeing_pairs": found_y.disagreeing_pairs,
                        },
                    )
                )
            else:
                kept.setdefault(lhs, []).append(y)
    screened.kept = kept
    screened.recheck = {"rows": sampled, "method": f"TABLESAMPLE {method} ({percent:.3g}%)"}
    return screened


def _recheck_failure(found: confirm.SampleCheck, threshold: float) -> str | None:
    """Why the larger sample refutes a candidate, or None.

    Two measures, both loose (``SCREEN_FACTOR`` times the confirmation's limit): g3, the share of
    sampled rows to change, and the share of *pairs of rows sharing a left-side value* that disagree
    on the right side. A sample sees only a few rows of each left-side value, so most groups are
    single rows that agree with anything and g3 stays small even for a dependency that does not
    hold; the pairs are the evidence the sample does hold. A real dependency with error ``e`` has
    at most about ``2e`` of its pairs disagreeing, so the pair limit is twice the g3 limit.
    """
    if found.check.rows and found.check.error > threshold:
        return f"error {found.check.error:.2%}"
    if found.pairs and found.pair_error > 2 * threshold:
        return (
            f"{found.pair_error:.1%} of the {found.pairs:,} pairs of rows sharing a left-side value "
            "disagree on the right side"
        )
    return None
