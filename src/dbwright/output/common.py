"""Presentation helpers the renderers share: grouping, labels and number formatting.

Nothing here decides anything about the database; it only orders and spells what the
review already says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from dbwright.checks.registry import CATEGORIES
from dbwright.model import Statement, Table
from dbwright.model.findings import Severity
from dbwright.model.units import format_bytes
from dbwright.review import Review, ReviewedFinding

SEVERITIES_WORST_FIRST: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))


def server_version_label(version_num: int) -> str:
    """150004 -> "15.4" (the numbering of PostgreSQL 10 and later; older ones: 90624 -> "9.6.24")."""
    if version_num >= 100000:
        return f"{version_num // 10000}.{version_num % 10000}"
    return f"{version_num // 10000}.{version_num // 100 % 100}.{version_num % 100}"


def by_category(findings: Iterable[ReviewedFinding]) -> dict[str, list[ReviewedFinding]]:
    """Findings per area, in the registry's area order; areas without findings are left out."""
    findings = list(findings)
    grouped: dict[str, list[ReviewedFinding]] = {}
    for category in CATEGORIES:
        members = [f for f in findings if f.check.category == category]
        if members:
            grouped[category] = members
    return grouped


def by_severity(findings: Iterable[ReviewedFinding]) -> dict[Severity, list[ReviewedFinding]]:
    """Findings per severity, worst first; severities without findings are left out."""
    findings = list(findings)
    grouped: dict[Severity, list[ReviewedFinding]] = {}
    for severity in SEVERITIES_WORST_FIRST:
        members = [f for f in findings if f.severity == severity]
        if members:
            grouped[severity] = members
    return grouped


def severity_counts(review: Review) -> dict[Severity, int]:
    """Findings per severity, worst first: every finding, listed or not (see ``not_listed_note``)."""
    return {s: sum(1 for f in review.found if f.severity == s) for s in SEVERITIES_WORST_FIRST}


def not_listed_note(review: Review) -> str:
    """What ``--min-severity`` left out of the listing, or "" when nothing was."""
    if review.min_severity is None:
        return ""
    return (
        f"listing findings at or above {review.min_severity.label}: {review.not_listed} below it not listed"
    )


def evidence_value(value: Any, key: str = "") -> str:
    """One evidence value as text: scalars as they are, lists and dicts as compact JSON.

    A byte count (a key ending in ``_bytes``) also shows its size in kB/MB/GB; identifiers
    (``queryid``, ``pid``, keys ending in ``_id``) are printed as they are, without separators.
    """
    if key.endswith("_bytes") and isinstance(value, int) and not isinstance(value, bool) and value >= 1024:
        return f"{value:,} ({format_bytes(value)})"
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int) and (key in ("queryid", "pid", "oid", "line") or key.endswith("_id")):
        return str(value)
    if isinstance(value, int | float):
        return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"
    return json.dumps(value, default=str)


def human_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def largest_tables(review: Review, limit: int = 10) -> list[Table]:
    """The biggest tables of the snapshot by heap + toast + index bytes (empty ones left out)."""
    tables = [t for t in review.snapshot.tables if t.total_bytes > 0]
    return sorted(tables, key=lambda t: (-t.total_bytes, t.qname))[:limit]


def top_statements(review: Review, limit: int = 10) -> list[Statement]:
    """The statements with the most total execution time (dbwright's own left out)."""
    return sorted(review.snapshot.workload_statements(), key=lambda s: (-s.total_ms, s.queryid))[:limit]


def one_line(text: str, width: int) -> str:
    """Whitespace collapsed to single spaces, cut to ``width`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def docs_path(code: str) -> str:
    return f"docs/checks/{code}.md"
