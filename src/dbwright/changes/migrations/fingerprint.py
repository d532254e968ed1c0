"""A schema fingerprint: the structure of a snapshot, without sizes, statistics or owners' sessions.

The history stores it at every step, so "does the live schema match what the history
says?" is a comparison of two fingerprints, and a difference can be named object by
object. It reads dbwright's own snapshot, so it sees what the review sees. dbwright's own
schema (the history table) is left out.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from dbwright.engines.base import Connection
from dbwright.engines.postgres.migration_history import SCHEMA as HISTORY_SCHEMA
from dbwright.engines.postgres.schema_structure import structure
from dbwright.model import Snapshot

Document = dict[str, dict[str, Any]]


def document(snap: Snapshot) -> Document:
    """Object name → its definition, for every schema object a migration can change."""
    doc: Document = {}

    def keep(schema: str) -> bool:
        return schema != HISTORY_SCHEMA

    for s in snap.schemas:
        if keep(s.name):
            doc[f"schema {s.name}"] = {}
    for t in snap.tables:
        if keep(t.schema):
            columns = [
                {
                    "name": c.name,
                    "type": c.data_type,
                    "not_null": c.not_null,
                    "default": c.default,
                    "identity": c.identity,
                    "generated": c.generated,
                }
                for c in snap.columns_of(t.qname)
            ]
            doc[f"table {t.qname}"] = {
                "kind": t.kind,
                "persistence": t.persistence,
                "parent": t.parent,
                "partition_key": t.partition_key,
                "reloptions": list(t.reloptions),
                "columns": columns,
            }
    for c in snap.constraints:
        if keep(c.schema):
            doc[f"constraint {c.table_qname}.{c.name}"] = {
                "definition": c.definition,
                "validated": c.validated,
            }
    for i in snap.indexes:
        if keep(i.schema):
            doc[f"index {i.qname}"] = {"definition": i.definition, "valid": i.valid}
    for s in snap.sequences:
        if keep(s.schema):
            doc[f"sequence {s.qname}"] = {
                "type": s.data_type,
                "increment": s.increment,
                "min": s.min_value,
                "max": s.max_value,
                "cycle": s.cycle,
            }
    for v in snap.views:
        if keep(v.schema):
            doc[f"{'materialized view' if v.materialized else 'view'} {v.qname}"] = {
                "definition": v.definition
            }
    for f in snap.functions:
        if keep(f.schema):
            doc[f"function {f.signature}"] = {
                "kind": f.kind,
                "language": f.language,
                "volatility": f.volatility,
                "security_definer": f.security_definer,
            }
    for tr in snap.triggers:
        if keep(tr.schema):
            doc[f"trigger {tr.table_qname}.{tr.name}"] = {"definition": tr.definition, "enabled": tr.enabled}
    return doc


def digest(doc: Document) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def read(conn: Connection) -> Document:
    """The fingerprint document of the database ``conn`` is connected to, inside its current transaction."""
    return document(structure(conn))


def differences(expected: Document, actual: Document) -> list[str]:
    """One line per object that was added, removed or changed between two documents."""
    lines = []
    for name in sorted(expected.keys() | actual.keys()):
        if name not in actual:
            lines.append(f"{name}: missing")
        elif name not in expected:
            lines.append(f"{name}: not in the history{_invalid_note(actual[name])}")
        elif expected[name] != actual[name]:
            changed = sorted(
                k
                for k in expected[name].keys() | actual[name].keys()
                if expected[name].get(k) != actual[name].get(k)
            )
            details = [
                _column_changes(expected[name]["columns"], actual[name]["columns"])
                if key == "columns"
                else f"{key} changed"
                for key in changed
            ]
            lines.append(f"{name}: {'; '.join(details)}{_invalid_note(actual[name])}")
    return lines


def _column_changes(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> str:
    """Which columns were added, dropped, changed (and how), or only moved."""
    before = {c["name"]: c for c in expected}
    after = {c["name"]: c for c in actual}
    parts = [f"column {n} added" for n in after if n not in before]
    parts += [f"column {n} dropped" for n in before if n not in after]
    for n in before.keys() & after.keys():
        fields = sorted(k for k in before[n] if before[n][k] != after[n].get(k))
        if fields:
            parts.append(f"column {n} {', '.join(fields)} changed")
    return "; ".join(sorted(parts)) or "column order changed"


def _invalid_note(definition: dict[str, Any]) -> str:
    if definition.get("valid") is False:
        return " (INVALID: left by an interrupted CONCURRENTLY build)"
    return ""
