"""Per column: which PII kind, with what confidence, from name and type hints and the match rate.

A value match without a name hint needs a majority of the sample to match; a name hint with a
sample that does not match (a ``phone`` column full of "n/a") is not enough. Kinds with no
checksum (names, dates of birth) are only considered where the name supports them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from dbwright.audit.pii.detectors import DETECTORS, Detector, name_hints
from dbwright.audit.pii.mask import mask
from dbwright.engines.postgres.connect import SessionOptions, open_session
from dbwright.engines.postgres.pii_sampling import (
    DEFAULT_SAMPLE_ROWS,
    DEFAULT_TABLE_TIMEOUT,
    Column,
    TableInfo,
    TableSample,
    database_name,
    sample_database,
)
from dbwright.model.package import ChangePackage

#: A column is reported as PII at or above this confidence.
REPORT_AT = 0.6
MAX_EXAMPLES = 3


@dataclass(frozen=True)
class ColumnFinding:
    schema: str
    table: str
    column: str
    data_type: str
    kind: str
    confidence: float
    match_rate: float | None  # None when no values were sampled
    sampled_values: int
    basis: str  # "name", "values", "name + values", "type + values"
    sensitivity: str
    masked_examples: tuple[str, ...] = ()

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["masked_examples"] = list(self.masked_examples)
        return data


@dataclass(frozen=True)
class PiiReport:
    database: str
    sample_rows: int
    tables_scanned: int
    columns_examined: int
    findings: tuple[ColumnFinding, ...]
    sampling: dict[str, str] = field(default_factory=dict)  # table -> method
    skipped: dict[str, str] = field(default_factory=dict)  # table -> reason
    packages: tuple[ChangePackage, ...] = ()
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "sample_rows": self.sample_rows,
            "tables_scanned": self.tables_scanned,
            "columns_examined": self.columns_examined,
            "findings": [f.to_dict() for f in self.findings],
            "sampling": dict(self.sampling),
            "skipped": dict(self.skipped),
            "recommendations": [p.to_dict() for p in self.packages],
            "seconds": round(self.seconds, 3),
        }


def _type_hints(column: Column) -> set[str]:
    if column.data_type in ("inet", "cidr"):
        return {"ip_address"}
    return set()


def _score(detector: Detector, hinted: bool, rate: float | None) -> float:
    if rate is None:  # nothing sampled: the name is all we have
        return 0.6 if hinted else 0.0
    if rate >= 0.5:
        return min(1.0, 0.5 + 0.4 * rate + (0.1 if hinted else 0.0))
    if hinted and rate >= 0.2:
        return 0.45 + 0.5 * rate
    return 0.0


def classify_column(table: TableInfo, column: Column, values: Sequence[str] | None) -> ColumnFinding | None:
    """The most likely PII kind for one column, or None when nothing reaches REPORT_AT."""
    hints = name_hints(table.name, column.name)
    typed = _type_hints(column)
    best: tuple[float, Detector, float | None, list[str]] | None = None
    for detector in DETECTORS:
        hinted = detector.kind in hints or detector.kind in typed
        if detector.needs_hint and detector.kind not in hints:
            continue
        if detector.kind == "date_of_birth" and column.data_type.startswith("timestamp"):
            continue  # a moment, not a birthday
        if values:
            matched = [v for v in values if detector.test(v, hinted)]
            rate: float | None = len(matched) / len(values)
        else:
            matched, rate = [], None
        score = _score(detector, hinted, rate)
        if score > 0 and (best is None or score > best[0]):
            best = (score, detector, rate, matched)
    if best is None or best[0] < REPORT_AT:
        return None
    score, detector, rate, matched = best
    by_name = detector.kind in hints
    by_type = detector.kind in typed
    basis = " + ".join(
        part for part, present in (("name", by_name), ("type", by_type), ("values", bool(matched))) if present
    )
    examples = tuple(dict.fromkeys(mask(detector.kind, v) for v in matched[: MAX_EXAMPLES * 3]))[
        :MAX_EXAMPLES
    ]
    return ColumnFinding(
        schema=table.schema,
        table=table.name,
        column=column.name,
        data_type=column.data_type,
        kind=detector.kind,
        confidence=round(score, 2),
        match_rate=None if rate is None else round(rate, 3),
        sampled_values=len(values or ()),
        basis=basis,
        sensitivity=detector.sensitivity,
        masked_examples=examples,
    )


def classify_sample(sample: TableSample) -> list[ColumnFinding]:
    findings = []
    for column in sample.table.columns:
        values = sample.values.get(column.name) if column.sampled and sample.skipped is None else None
        finding = classify_column(sample.table, column, values)
        if finding is not None:
            findings.append(finding)
    return findings


def discover_pii(
    target: str | None,
    schemas: Sequence[str] = (),
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    table_timeout: str = DEFAULT_TABLE_TIMEOUT,
    recommend: bool = True,
) -> PiiReport:
    """Sample every table (read-only, bounded) and report the PII columns, masked."""
    from dbwright.audit.pii.recommend import recommend_packages

    started = time.monotonic()
    findings: list[ColumnFinding] = []
    sampling: dict[str, str] = {}
    skipped: dict[str, str] = {}
    tables = columns = 0
    with open_session(target, SessionOptions()) as conn:
        database = database_name(conn)
        for sample in sample_database(conn, schemas, sample_rows, table_timeout):
            tables += 1
            columns += len(sample.table.columns)
            sampling[sample.table.qualified] = sample.method
            if sample.skipped:
                skipped[sample.table.qualified] = sample.skipped
            findings += classify_sample(sample)
        packages = tuple(recommend_packages(conn, findings)) if recommend and findings else ()
    return PiiReport(
        database,
        sample_rows,
        tables,
        columns,
        tuple(findings),
        sampling,
        skipped,
        packages,
        time.monotonic() - started,
    )
