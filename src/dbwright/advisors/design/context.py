"""What the catalog already says about a table: its keys, references, indexes and columns.

The design review only proposes what the catalog does not already declare, so every
candidate is checked against this view of the snapshot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dbwright.model import Column, Snapshot, Table

_NEXTVAL = re.compile(r"nextval\(")


@dataclass
class TableInfo:
    table: Table
    columns: list[Column]
    primary_key: tuple[str, ...] = ()
    unique_keys: list[tuple[str, ...]] = field(default_factory=list)
    fk_columns: set[str] = field(default_factory=set)
    referenced_columns: set[str] = field(default_factory=set)  # targets of incoming foreign keys
    constrained_columns: set[str] = field(default_factory=set)  # in any check/FK/unique/PK constraint
    indexed_columns: set[str] = field(default_factory=set)
    has_check: set[str] = field(default_factory=set)

    @property
    def qname(self) -> str:
        return self.table.qname

    @property
    def declared_keys(self) -> list[tuple[str, ...]]:
        return ([self.primary_key] if self.primary_key else []) + self.unique_keys

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def is_superkey(self, columns: tuple[str, ...]) -> bool:
        """True when ``columns`` contain a declared key: dependencies on them are not anomalies."""
        return any(set(key) <= set(columns) for key in self.declared_keys)

    def is_generated_key(self, name: str) -> bool:
        """Fed by a sequence or identity: values grow, and they identify rows rather than describe them."""
        column = self.column(name)
        return bool(column.identity) or bool(column.default and _NEXTVAL.search(column.default))


def table_infos(snap: Snapshot) -> list[TableInfo]:
    infos = []
    incoming: dict[str, set[str]] = {}
    for fk in snap.foreign_keys():
        if fk.ref_qname:
            incoming.setdefault(fk.ref_qname, set()).update(fk.ref_columns)
    for table in snap.user_tables():
        if table.is_partition or table.kind != "r":
            continue
        info = TableInfo(
            table, snap.columns_of(table.qname), referenced_columns=incoming.get(table.qname, set())
        )
        for constraint in snap.constraints_of(table.qname):
            info.constrained_columns.update(constraint.columns)
            if constraint.type == "p":
                info.primary_key = tuple(constraint.columns)
            elif constraint.type == "u":
                info.unique_keys.append(tuple(constraint.columns))
            elif constraint.type == "f":
                info.fk_columns.update(constraint.columns)
            elif constraint.type == "c":
                info.has_check.update(constraint.columns)
        for index in snap.indexes_of(table.qname):
            info.indexed_columns.update(c for c in index.columns if c)
            info.indexed_columns.update(index.include)
            if (
                index.unique
                and index.valid
                and not index.predicate
                and all(index.columns)
                and not index.primary
                and tuple(index.columns) not in info.unique_keys
            ):
                info.unique_keys.append(tuple(c for c in index.columns if c))
        infos.append(info)
    return infos
