"""An index the advisor could build: its table, keys, INCLUDE columns, predicate and method.

Frozen and ordered, so sets of them sort the same way on every run (determinism), and so
one spec is one cache key in the what-if evaluation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from dbwright.model.operations import CreateIndex, ident, qident

MAX_NAME = 63


@dataclass(frozen=True)
class IndexSpec:
    table: str  # schema.table
    keys: tuple[str, ...]  # column names, or expressions written "(lower(email))"
    include: tuple[str, ...] = ()
    where: str | None = None
    method: str = "btree"
    opclass: str | None = None  # one operator class for every key (GIN: jsonb_path_ops, gin_trgm_ops)

    @property
    def sort_key(self) -> tuple[str, tuple[str, ...], tuple[str, ...], str, str, str]:
        return (self.table, self.keys, self.include, self.where or "", self.method, self.opclass or "")

    def __lt__(self, other: IndexSpec) -> bool:
        return self.sort_key < other.sort_key

    @staticmethod
    def key_sql(key: str) -> str:
        return key if key.startswith("(") else ident(key)

    def keys_sql(self) -> list[str]:
        suffix = f" {self.opclass}" if self.opclass else ""
        return [self.key_sql(k) + suffix for k in self.keys]

    @property
    def columns(self) -> tuple[str, ...]:
        """Plain-column keys, in order (expressions left out)."""
        return tuple(k for k in self.keys if not k.startswith("("))

    def definition(self, name: str | None = None) -> str:
        """CREATE INDEX text (not CONCURRENTLY): for HypoPG and for rolled-back real builds."""
        return self._text(
            f"CREATE INDEX {ident(name or self.name)} ON {qident(self.table)}",
            [ident(c) for c in self.include],
        )

    @cached_property
    def name(self) -> str:
        """A readable, stable name: table_keys_idx, shortened with a hash when too long."""
        table = self.table.split(".", 1)[1]
        words = [table, *(_word(k) for k in self.keys)]
        if self.where:
            words.append("partial")
        if self.method != "btree":
            words.append(self.method)
        name = "_".join(words) + "_idx"
        if len(name) > MAX_NAME or self.include or self.where:
            digest = hashlib.sha1(repr(self).encode()).hexdigest()[:6]
            name = name[: MAX_NAME - 8].rstrip("_") + "_" + digest
        return name

    @property
    def label(self) -> str:
        """How people read it: public.orders (customer_id, created_at) INCLUDE (total) WHERE …."""
        return self._text(self.table, list(self.include))

    def _text(self, head: str, include: list[str]) -> str:
        """``head`` [USING method] (keys) [INCLUDE (…)] [WHERE …]: the index as SQL or as a label."""
        using = f" USING {self.method}" if self.method != "btree" else ""
        text = f"{head}{using} ({', '.join(self.keys_sql())})"
        if include:
            text += f" INCLUDE ({', '.join(include)})"
        if self.where:
            text += f" WHERE {self.where}"
        return text

    def widened(self, key: str) -> IndexSpec:
        return IndexSpec(
            self.table,
            (*self.keys, key),
            tuple(c for c in self.include if c != key),
            self.where,
            self.method,
            self.opclass,
        )

    def operation(self, table_bytes: int = 0) -> CreateIndex:
        return CreateIndex(
            name=self.name,
            table=self.table,
            keys=tuple(self.keys_sql()),
            method=self.method,
            include=tuple(self.include),
            where=self.where,
            concurrently=True,
            table_bytes=table_bytes,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "keys": list(self.keys),
            "include": list(self.include),
            "where": self.where,
            "method": self.method,
            "opclass": self.opclass,
            "name": self.name,
            "label": self.label,
        }


def _word(key: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "_" for ch in key.strip("()")).strip("_")
    while "__" in cleaned:
        cleaned = cleaned.replace("__", "_")
    return cleaned.lower() or "expr"
