"""Renames, only from explicit hints: a diff never guesses that a dropped and an added object are one.

Without a hint, ``users.mail`` → ``users.email`` is a drop and an add, and the drop loses the
data, so it needs --allow-destructive. With ``--rename-column shop.users.mail=email`` it is one
RENAME. The hint is applied to the live side's projection before comparing, so everything
else is compared under the new names. PostgreSQL rewrites definitions that mention a renamed
column or table (indexes, constraints, views); the projection does the same, by whole-word
replacement in the definitions of the objects involved.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from dbwright.changes.diff.compare import Projection
from dbwright.errors import RefusedError
from dbwright.model.operations import ident, qident


@dataclass(frozen=True)
class Rename:
    kind: str  # "table" or "column"
    old: str  # schema.table or schema.table.column
    new_name: str  # the new last part

    @property
    def table(self) -> str:
        return self.old if self.kind == "table" else self.old.rsplit(".", 1)[0]

    @property
    def old_name(self) -> str:
        return self.old.rsplit(".", 1)[1]

    @property
    def new(self) -> str:
        return f"{self.old.rsplit('.', 1)[0]}.{self.new_name}"

    def sql(self) -> str:
        what = "" if self.kind == "table" else f"COLUMN {ident(self.old_name)} "
        return f"ALTER TABLE {qident(self.table)} RENAME {what}TO {ident(self.new_name)};"

    def undo_sql(self) -> str:
        table = qident(self.new) if self.kind == "table" else qident(self.table)
        what = "" if self.kind == "table" else f"COLUMN {ident(self.new_name)} "
        return f"ALTER TABLE {table} RENAME {what}TO {ident(self.old_name)};"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "from": self.old, "to": self.new}


def parse_hint(kind: str, text: str) -> Rename:
    """``shop.users.mail=email`` (column) or ``shop.users=customers`` (table)."""
    old, sep, new = text.partition("=")
    parts = old.strip().split(".")
    wanted = 3 if kind == "column" else 2
    if not sep or not new.strip() or len(parts) != wanted or not all(parts) or "." in new:
        example = "shop.users.mail=email" if kind == "column" else "shop.users=customers"
        raise RefusedError(f"cannot read the {kind} rename hint {text!r}; write it like {example}")
    return Rename(kind, ".".join(parts), new.strip())


def _word(name: str) -> re.Pattern[str]:
    return re.compile(rf'(?<![\w$"]){re.escape(name)}(?![\w$"])|"{re.escape(name)}"')


def _replace(text: str | None, old: str, new: str) -> str | None:
    return None if text is None else _word(old).sub(ident(new), text)


def apply_renames(live: Projection, renames: list[Rename]) -> Projection:
    """The live projection as it will be after the renames, before any other change."""
    result = copy.deepcopy(live)
    for rename in renames:
        if rename.kind == "table":
            _rename_table(result, rename)
        else:
            _rename_column(result, rename)
    return result


def check_exists(live: Projection, rename: Rename) -> None:
    kind = "tables" if rename.kind == "table" else "columns"
    if rename.old not in live[kind]:
        raise RefusedError(f"rename hint: {rename.kind} {rename.old} does not exist in the live database")


def _rekey(section: dict, old_prefix: str, new_prefix: str, pad: str = ".") -> dict:
    out = {}
    for key, value in section.items():
        if key == old_prefix or key.startswith(old_prefix + pad):
            key = new_prefix + key[len(old_prefix) :]
        out[key] = value
    return out


def _rename_table(p: Projection, r: Rename) -> None:
    old, new = r.old, r.new
    for kind in ("tables", "columns", "constraints", "triggers"):
        p[kind] = _rekey(p[kind], old, new)
    p["comments"] = {_comment_key(k, old, new): v for k, v in p["comments"].items()}
    p["privileges"] = {k.replace(f"table {old} ", f"table {new} ", 1): v for k, v in p["privileges"].items()}
    qualified_old, qualified_new = qident(old), qident(new)
    for section in ("constraints", "indexes", "views", "triggers"):
        for value in p[section].values():
            value["definition"] = value["definition"].replace(qualified_old, qualified_new)
            if section == "indexes" and value["table"] == old:
                value["table"] = new
    for value in p["sequences"].values():
        if value["owned_by"] and value["owned_by"].startswith(old + "."):
            value["owned_by"] = new + value["owned_by"][len(old) :]


def _comment_key(key: str, old: str, new: str) -> str:
    kind, _, name = key.partition("|")
    if kind in ("TABLE", "COLUMN", "CONSTRAINT", "TRIGGER") and (name == old or name.startswith(old + ".")):
        return f"{kind}|{new}{name[len(old) :]}"
    return key


def _rename_column(p: Projection, r: Rename) -> None:
    table, old_col, new_col = r.table, r.old_name, r.new_name
    p["columns"] = {(r.new if k == r.old else k): v for k, v in p["columns"].items()}
    comment_key = f"COLUMN|{r.old}"
    if comment_key in p["comments"]:
        p["comments"][f"COLUMN|{r.new}"] = p["comments"].pop(comment_key)
    qualified = qident(table)
    for key, value in p["constraints"].items():
        own = key.startswith(table + ".") and key.count(".") == table.count(".") + 1
        if own or f"REFERENCES {qualified}(" in value["definition"]:
            value["definition"] = _replace(value["definition"], old_col, new_col)
    for value in p["indexes"].values():
        if value["table"] == table:
            value["definition"] = _replace(value["definition"], old_col, new_col)
    for value in p["sequences"].values():
        if value["owned_by"] == r.old:
            value["owned_by"] = r.new
