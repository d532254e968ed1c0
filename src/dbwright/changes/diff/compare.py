"""Two snapshots compared object by object, on the parts a schema is made of.

A projection keeps, per kind of object, its name and its definition as the server prints it
(pg_get_*def, format_type) and drops what only describes a moment: sizes, statistics, oids,
owners. Two databases with equal projections have the same schema; the round-trip tests
compare exactly this. Column order is not part of it: PostgreSQL appends added columns, and
the diff does not rebuild tables to reorder them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dbwright.model import Snapshot

#: Kinds of objects, in the order the summary lists them.
KINDS = (
    "schemas",
    "extensions",
    "collations",
    "ts_dictionaries",
    "ts_configs",
    "types",
    "sequences",
    "tables",
    "columns",
    "column_settings",
    "table_settings",
    "constraints",
    "indexes",
    "views",
    "functions",
    "triggers",
    "rules",
    "statistics",
    "event_triggers",
    "policies",
    "publications",
    "comments",
    "privileges",
    "owners",
    "other",
)

Projection = dict[str, dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class Difference:
    kind: str  # one of KINDS
    key: str
    before: dict[str, Any] | None  # None: added
    after: dict[str, Any] | None  # None: removed

    @property
    def change(self) -> str:
        if self.before is None:
            return "added"
        return "removed" if self.after is None else "changed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "change": self.change,
            "before": self.before,
            "after": self.after,
        }


def identity_sequences(snap: Snapshot) -> set[str]:
    """Sequences behind identity columns: they come and go with their column."""
    identity = {c.qname for c in snap.columns if c.identity}
    return {s.qname for s in snap.sequences if s.owned_by in identity}


#: dbwright's own schema (the migration history) is not part of the application's schema.
OWN_SCHEMAS = frozenset({"dbwright"})


@dataclass(frozen=True)
class Catalog:
    """What the diff's own catalog read adds to a side's snapshot (engines/postgres/diff_catalog.py)."""

    extras: dict[str, Any] = field(default_factory=dict)
    dependencies: frozenset[tuple[str, str]] = frozenset()


def project(snap: Snapshot, extras: dict[str, Any] | None = None) -> Projection:
    """Per kind, object key → its definition; dbwright's own schema left out."""
    full = _project(snap)
    if extras:
        _add_extras(full, extras)
    return {
        kind: {k: v for k, v in objects.items() if not _owned_key(kind, k)} for kind, objects in full.items()
    }


def _owned_key(kind: str, key: str) -> bool:
    if kind in ("comments", "owners"):
        return key.split("|", 1)[1].split(".", 1)[0] in OWN_SCHEMAS
    if kind == "privileges":
        return key.split(" ", 2)[1].split(".", 1)[0] in OWN_SCHEMAS
    if kind in ("extensions", "publications", "other", "event_triggers"):
        return False
    return key.split(".", 1)[0] in OWN_SCHEMAS


def _add_extras(full: Projection, extras: dict[str, Any]) -> None:
    """The kinds only the diff reads, and what a partition or an extension owns taken out."""
    for kind in (
        "extensions",
        "collations",
        "ts_dictionaries",
        "ts_configs",
        "policies",
        "publications",
        "column_settings",
        "table_settings",
        "other",
        "statistics",
        "rules",
        "event_triggers",
    ):
        full[kind] = dict(extras.get(kind, {}))
    full["owners"] = {k: {"owner": v} for k, v in extras.get("owners", {}).items()}
    for key, options in extras.get("sequence_options", {}).items():
        if key in full["sequences"]:
            full["sequences"][key].update(options)
    for key, column in full["columns"].items():
        column["collation"] = extras.get("column_collations", {}).get(key)
    for key, partition in extras.get("partitions", {}).items():
        if key in full["tables"]:
            full["tables"][key]["parent"] = partition["parent"]
            full["tables"][key]["partition_bound"] = partition["bound"]
    for signature, aggregate in extras.get("aggregates", {}).items():
        if signature in full["functions"]:
            full["functions"][signature] = {
                "kind": "a",
                "aggregate_kind": aggregate["kind"],
                "definition": aggregate["definition"],
            }
    for kind, keys in extras.get("inherited", {}).items():
        for key in keys:
            full.get(kind, {}).pop(key, None)
    # A constraint trigger is its trigger (CREATE CONSTRAINT TRIGGER); its pg_constraint row is not a constraint.
    full["constraints"] = {k: v for k, v in full["constraints"].items() if v["type"] != "t"}


def _project(snap: Snapshot) -> Projection:
    relkinds = {t.qname: t.kind for t in snap.tables}
    skip_sequences = identity_sequences(snap)
    return {
        "schemas": {s.name: {} for s in snap.schemas},
        "types": {
            t.qname: {
                "kind": t.kind,
                "labels": list(t.labels),
                "base_type": t.base_type,
                "not_null": t.not_null,
                "default": t.default,
                "checks": list(t.checks),
                "attributes": list(t.attributes),
            }
            for t in snap.types
        },
        "sequences": {
            s.qname: {
                "data_type": s.data_type,
                "min_value": s.min_value,
                "max_value": s.max_value,
                "increment": s.increment,
                "cycle": s.cycle,
                "owned_by": s.owned_by,
            }
            for s in snap.sequences
            if s.qname not in skip_sequences
        },
        "tables": {
            t.qname: {
                "kind": t.kind,
                "persistence": t.persistence,
                "partition_key": t.partition_key,
                "parent": t.parent,
                "reloptions": sorted(t.reloptions),
                "rls_enabled": t.rls_enabled,
                "rls_forced": t.rls_forced,
            }
            for t in snap.tables
            if t.kind in ("r", "p", "f")
        },
        "columns": {
            c.qname: {
                "data_type": c.data_type,
                "not_null": c.not_null,
                "default": c.default,
                "identity": c.identity,
                "generated": c.generated,
            }
            for c in snap.columns
            if relkinds.get(c.table_qname) in ("r", "p", "f")
        },
        "constraints": {
            f"{k.table_qname}.{k.name}": {
                "type": k.type,
                "definition": k.definition,
                "validated": k.validated,
            }
            for k in snap.constraints
            if k.type != "n"
        },
        "indexes": {
            i.qname: {"table": i.table_qname, "definition": i.definition}
            for i in snap.indexes
            if i.constraint is None
        },
        "views": {v.qname: {"materialized": v.materialized, "definition": v.definition} for v in snap.views},
        "functions": {f.signature: {"kind": f.kind, "definition": f.definition} for f in snap.functions},
        "triggers": {
            f"{t.table_qname}.{t.name}": {"definition": t.definition, "enabled": t.enabled}
            for t in snap.triggers
        },
        "comments": {f"{c.object_type}|{c.object_name}": {"comment": c.comment} for c in snap.comments},
        "privileges": {
            f"{p.object_type} {p.object_name} {p.grantee} {p.privilege}": {"grantable": p.grantable}
            for p in snap.privileges
            if p.object_type != "database"
        },
    }


def compare(before: Projection, after: Projection) -> list[Difference]:
    """Every object added, removed or changed from ``before`` to ``after``."""
    found = []
    for kind in KINDS:
        old, new = before.get(kind, {}), after.get(kind, {})
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                found.append(Difference(kind, key, old.get(key), new.get(key)))
    return found


def compare_snapshots(before: Snapshot, after: Snapshot) -> list[Difference]:
    return compare(project(before), project(after))
