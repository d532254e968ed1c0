"""Column types as written in migration SQL, and which type changes PostgreSQL does in place.

PostgreSQL skips the table rewrite of ``ALTER COLUMN … TYPE`` when the old type coerces to the
new one without a function (binary-coercible) and no length check can fail: a longer or
unlimited varchar, text from varchar, wider numeric with the same scale, inet from cidr.
Everything else rewrites the table under ACCESS EXCLUSIVE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pglast import ast

# Names the parser produces (pg_catalog.int4 for "integer") mapped to the spelling people use.
ALIASES = {
    "int4": "integer",
    "int2": "smallint",
    "int8": "bigint",
    "bool": "boolean",
    "float8": "double precision",
    "float4": "real",
    "varchar": "varchar",
    "bpchar": "char",
    "timestamp": "timestamp",
    "timestamptz": "timestamptz",
    "serial4": "serial",
    "serial8": "bigserial",
    "serial2": "smallserial",
}


@dataclass(frozen=True)
class SqlType:
    name: str  # parser's base name: int4, varchar, text, numeric, serial, ...
    mods: tuple[int, ...] = ()
    array: bool = False

    @property
    def label(self) -> str:
        text = ALIASES.get(self.name, self.name)
        if self.mods:
            text += "(" + ",".join(str(m) for m in self.mods) + ")"
        return text + ("[]" if self.array else "")


def sql_type(type_name: ast.TypeName | None) -> SqlType | None:
    if type_name is None or not type_name.names:
        return None
    name = type_name.names[-1].sval.lower()
    mods = []
    for mod in type_name.typmods or ():
        value = getattr(mod, "val", None)
        if isinstance(value, ast.Integer):
            mods.append(value.ival)
    return SqlType(name, tuple(mods), bool(type_name.arrayBounds))


def catalog_type(type_name: str, data_type: str) -> SqlType:
    """A catalog column type (format_type text) in the shape the parser gives for written SQL."""
    mods = re.search(r"\((\d+(?:,\d+)*)\)", data_type)
    name = {
        "character varying": "varchar",
        "character": "bpchar",
        "integer": "int4",
        "bigint": "int8",
        "smallint": "int2",
        "numeric": "numeric",
    }.get(data_type.split("(")[0].rstrip("[] "), type_name)
    return SqlType(
        name.lstrip("_"), tuple(int(m) for m in mods[1].split(",")) if mods else (), data_type.endswith("[]")
    )


def rewrite_for_change(old: SqlType | None, new: SqlType, using: bool) -> tuple[bool, str]:
    """(rewrites, why). With the old type unknown, assume a rewrite and say so."""
    if using:
        return True, "a USING expression always rewrites the table"
    if old is None:
        if new.name in ("text", "varchar", "numeric", "varbit", "inet"):
            return True, (
                f"the current type is unknown to dbwright; {new.label} is rewrite-free only from a "
                "binary-coercible type (e.g. a shorter varchar), so a rewrite is assumed"
            )
        return True, "the current type is unknown to dbwright; a rewrite is assumed"
    if old.array != new.array:
        return True, "array-ness changes"
    if old == new:
        return False, "the type is unchanged"
    if old.name == "varchar" and new.name in ("varchar", "text"):
        if new.name == "text" or not new.mods:
            return False, f"{old.label} to {new.label} is binary-coercible"
        if old.mods and new.mods[0] >= old.mods[0]:
            return False, f"{old.label} to {new.label} only lengthens the limit"
        return True, f"{old.label} to {new.label} shortens the limit: every row is checked and rewritten"
    if old.name == "text" and new.name == "varchar":
        if not new.mods:
            return False, "text to varchar without a limit is binary-coercible"
        return True, f"text to {new.label} adds a length limit: every row is checked and rewritten"
    if old.name == "numeric" and new.name == "numeric":
        if not new.mods:
            return False, "numeric to unconstrained numeric is binary-coercible"
        if (
            old.mods
            and len(new.mods) == len(old.mods)
            and new.mods[0] >= old.mods[0]
            and new.mods[1:] == old.mods[1:]
        ):
            return False, "numeric precision grows with the same scale"
        return True, f"{old.label} to {new.label} changes the scale or shrinks the precision"
    if (
        old.name == "varbit"
        and new.name == "varbit"
        and (not new.mods or (old.mods and new.mods >= old.mods))
    ):
        return False, "bit varying only lengthens"
    if old.name == "timestamp" and new.name == "timestamptz":
        return True, (
            "timestamp to timestamptz rewrites the table, unless the session TimeZone is UTC "
            "(PostgreSQL 12+ then skips it)"
        )
    if old.name == "cidr" and new.name == "inet":
        return False, "cidr to inet is binary-coercible"
    return True, f"{old.label} to {new.label} is not binary-coercible: the table is rewritten"
