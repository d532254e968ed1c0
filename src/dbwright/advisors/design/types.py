"""Type tightening: declared types far wider than the values they hold.

Each proposal states the rewrite it costs (ALTER COLUMN TYPE rewrites the table and its
indexes unless the change is binary-coercible, e.g. widening a varchar). Keys and
referencing columns get advice, not a package: a key may grow, and both sides of a
foreign key must change together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from dbwright.advisors.design.context import TableInfo
from dbwright.advisors.design.proposal import Proposal
from dbwright.model.operations import AlterColumnType, Operation, ident

INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1
#: Narrow an integer only when its values use at most this share of the smaller type's range.
HEADROOM = 0.01
#: varchar(n) is "far wider" when n is at least this many times the longest value ...
WIDE_FACTOR = 4
#: ... and at least this many characters more.
WIDE_MARGIN = 20

#: What a text column may really hold, tried in order. Patterns are PostgreSQL regular expressions.
TEXT_FORMATS: tuple[tuple[str, str, str], ...] = (
    ("boolean", "boolean", r"^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[TtFf]|[Yy][Ee][Ss]|[Nn][Oo])$"),
    ("UUID", "uuid", r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
    ("integer", "bigint", r"^-?(?:0|[1-9][0-9]{0,17})$"),
    ("decimal number", "numeric", r"^-?(?:0|[1-9][0-9]{0,30})\.[0-9]{1,30}$"),
    ("date", "date", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    (
        "timestamp",
        "timestamp",
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?$",
    ),
    (
        "timestamp with time zone",
        "timestamptz",
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)$",
    ),
)
#: Digits that are identifiers, not quantities: keep them text.
_DIGIT_IDENTIFIERS = re.compile(r"(phone|zip|postal|postcode|iban|account|ssn|isbn|ean|pin|code)")
TEXT_TYPES = {"text", "varchar", "citext"}
_PYTHON_FORMATS = {label: re.compile(pattern) for label, _, pattern in TEXT_FORMATS}


@dataclass(frozen=True)
class ChangeColumnType(AlterColumnType):
    """ALTER COLUMN TYPE whose reverse may cost differently (narrowing rewrites, widening does not)."""

    kind: ClassVar[str] = "change_column_type"
    reverse_rewrite: bool = True
    reverse_using: str | None = None

    def reverse(self) -> Operation:
        return ChangeColumnType(
            self.table,
            self.column,
            self.old_type,
            self.new_type,
            using=self.reverse_using,
            rewrite=self.reverse_rewrite,
            reverse_rewrite=self.rewrite,
            reverse_using=self.using,
            table_bytes=self.table_bytes,
        )


def sample_format(values: list[object]) -> tuple[str, str, str] | None:
    """The first text format every sampled non-NULL value matches, if any."""
    texts = [v for v in values if v is not None]
    if not texts or not all(isinstance(v, str) for v in texts):
        return None
    for fmt in TEXT_FORMATS:
        if all(_PYTHON_FORMATS[fmt[0]].match(v) for v in texts):
            return fmt
    return None


def is_key_like(info: TableInfo, name: str) -> bool:
    return (
        name in info.primary_key
        or name in info.fk_columns
        or name in info.referenced_columns
        or info.is_generated_key(name)
        or name.endswith("_id")
        or name == "id"
    )


def _rewrite_bytes(info: TableInfo) -> int:
    return info.table.heap_bytes + info.table.toast_bytes + info.table.index_bytes


def _proposal(
    info: TableInfo,
    column: str,
    op: ChangeColumnType | None,
    title: str,
    evidence: dict,
    explanation: str,
    advice: str = "",
) -> Proposal:
    from dbwright.model.package import ChangePackage

    package = None
    if op is not None:
        evidence = {
            **evidence,
            "rewrites_table": op.rewrite,
            "rewrite_bytes": op.table_bytes,
            "estimated_seconds": round(op.estimated_seconds(), 3),
        }
        package = ChangePackage.of(f"Change {info.qname}.{column} to {op.new_type}", [op], explanation)
    return Proposal(
        "type",
        info.qname,
        (column,),
        title,
        evidence,
        package,
        advice=advice or explanation,
        score=float(_rewrite_bytes(info)) * 0.001,
    )


def numeric_proposal(
    info: TableInfo, column: str, low: object, high: object, integral: bool
) -> Proposal | None:
    col = info.column(column)
    if (
        col.data_type != "numeric"
        or not integral
        or low is None
        or max(abs(low), abs(high)) > INT8_MAX * HEADROOM
    ):
        return None
    target = "integer" if max(abs(low), abs(high)) <= INT4_MAX * HEADROOM else "bigint"
    op = ChangeColumnType(info.qname, column, target, col.data_type, table_bytes=_rewrite_bytes(info))
    return _proposal(
        info,
        column,
        op,
        f"{info.qname}.{column} is numeric but holds only whole numbers",
        {"declared": col.data_type, "min": str(low), "max": str(high), "suggested": target},
        f"Whole numbers in {target} are fixed-width and faster to compute with than numeric; the "
        "change rewrites the table and its indexes under ACCESS EXCLUSIVE.",
    )


def text_format_proposal(
    info: TableInfo, column: str, label: str, target: str, nonnull: int
) -> Proposal | None:
    col = info.column(column)
    if _DIGIT_IDENTIFIERS.search(column) and target in ("bigint", "numeric"):
        return None
    using = f"{ident(column)}::{target}"
    op = ChangeColumnType(
        info.qname,
        column,
        target,
        col.data_type,
        using=using,
        table_bytes=_rewrite_bytes(info),
        rewrite=True,
        reverse_rewrite=True,
    )
    return _proposal(
        info,
        column,
        op,
        f"{info.qname}.{column} is {col.data_type} but holds only {label}s",
        {"declared": col.data_type, "non_null_values": nonnull, "all_match": label, "suggested": target},
        f"All {nonnull:,} values parse as {label}: the type rejects bad values, compares correctly and "
        "is smaller. Rewrites the table under ACCESS EXCLUSIVE. The rollback turns the values back "
        "into text in PostgreSQL's canonical spelling, which may differ from the original text.",
    )


_VARCHAR = re.compile(r"^character varying\((\d+)\)$")


#: A declared width is only narrowed when this many values show it is far too wide ...
MIN_NARROWING_VALUES = 1000
#: ... and never for values whose length the application or an algorithm decides.
_OPEN_LENGTH = re.compile(
    r"(password|passwd|hash|digest|token|secret|salt|key|url|uri|email|path|name|title|"
    r"description|comment|note|text|address|agent|message)"
)


def varchar_proposal(info: TableInfo, column: str, longest: int, nonnull: int) -> Proposal | None:
    col = info.column(column)
    match = _VARCHAR.match(col.data_type)
    if not match or nonnull < MIN_NARROWING_VALUES or _OPEN_LENGTH.search(column):
        return None
    declared = int(match.group(1))
    if declared < WIDE_FACTOR * max(longest, 1) or declared - longest < WIDE_MARGIN:
        return None
    suggested = max(2 * longest, longest + 4)
    op = ChangeColumnType(
        info.qname,
        column,
        f"varchar({suggested})",
        col.data_type,
        table_bytes=_rewrite_bytes(info),
        rewrite=True,
        reverse_rewrite=False,
    )
    return _proposal(
        info,
        column,
        op,
        f"{info.qname}.{column} is varchar({declared}) but its longest value has {longest} characters",
        {
            "declared": col.data_type,
            "longest": longest,
            "non_null_values": nonnull,
            "suggested": f"varchar({suggested})",
        },
        f"A width of {declared} documents nothing about values of at most {longest} characters; "
        f"varchar({suggested}) keeps room to grow and rejects garbage. Narrowing rewrites the table "
        "under ACCESS EXCLUSIVE; the rollback (widening) does not. A CHECK on char_length is the "
        "lock-light alternative.",
    )
