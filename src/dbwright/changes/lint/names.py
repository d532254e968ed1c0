"""The names PostgreSQL gives unnamed constraints and indexes, so a rewrite reaches the same schema.

A safe rewrite has to name what the naive statement left unnamed (``ADD CONSTRAINT … NOT VALID``
then ``VALIDATE CONSTRAINT x`` needs an ``x``). The name is the one PostgreSQL would have chosen
(``ChooseConstraintName``/``ChooseIndexName``): ``orders_qty_check`` for a CHECK on one column,
``orders_check`` for one on several, ``orders_customer_id_fkey``, ``orders_code_key``,
``orders_pkey``; cut to 63 bytes the way ``makeObjectName`` cuts it; and, when the name is taken in
the schema (by the snapshot or earlier in the migration), the label gets a number:
``orders_check1``.
"""

from __future__ import annotations

from collections.abc import Iterable

from pglast import ast

NAMEDATALEN = 64


def _clip(text: str, size: int) -> str:
    """The longest prefix of ``text`` of at most ``size`` bytes (never cutting a character)."""
    data = text.encode()[:size]
    return data.decode(errors="ignore")


def object_name(name1: str, name2: str | None, label: str | None) -> str:
    """PostgreSQL's makeObjectName: name1_name2_label within 63 bytes, shortening the longer part."""
    n1, n2 = len(name1.encode()), len(name2.encode()) if name2 else 0
    overhead = (len(label.encode()) + 1 if label else 0) + (1 if name2 else 0)
    available = NAMEDATALEN - 1 - overhead
    while n1 + n2 > available:
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1
    parts = [_clip(name1, n1)]
    if name2:
        parts.append(_clip(name2, n2))
    if label:
        parts.append(label)
    return "_".join(parts)


def choose(name1: str, name2: str | None, label: str, taken: Iterable[str]) -> str:
    """The first of name1_name2_label, …label1, …label2 … not in ``taken`` (ChooseConstraintName)."""
    used = {t.lower() for t in taken}
    attempt = 0
    while True:
        candidate = object_name(name1, name2, f"{label}{attempt}" if attempt else label)
        if candidate.lower() not in used:
            return candidate
        attempt += 1


def _column_refs(node) -> list[str]:
    found: list[str] = []
    if isinstance(node, ast.ColumnRef):
        fields = [f.sval for f in node.fields if isinstance(f, ast.String)]
        if fields:
            found.append(fields[-1])
    elif isinstance(node, ast.Node):
        for slot in type(node).__slots__:
            found += _column_refs(getattr(node, slot, None))
    elif isinstance(node, (list, tuple)):
        for item in node:
            found += _column_refs(item)
    return found


def default_constraint_name(
    relation: str, constraint: ast.Constraint, taken: Iterable[str], column: str | None = None
) -> str:
    """The name PostgreSQL gives ``constraint`` on ``relation`` (its bare table name) when unnamed."""
    from pglast.enums import ConstrType

    if constraint.conname:
        return constraint.conname
    kind = constraint.contype
    if kind == ConstrType.CONSTR_CHECK:
        columns = list(dict.fromkeys(_column_refs(constraint.raw_expr)))
        return choose(relation, columns[0] if len(columns) == 1 else None, "check", taken)
    if kind == ConstrType.CONSTR_FOREIGN:
        columns = [column] if column else [a.sval for a in constraint.fk_attrs or ()]
        return choose(relation, "_".join(columns), "fkey", taken)
    if kind == ConstrType.CONSTR_PRIMARY:
        return choose(relation, None, "pkey", taken)
    # ChooseIndexColumnNames names the index after its key columns and its INCLUDE columns too
    columns = [column] if column else [k.sval for k in constraint.keys or ()]
    columns += [i.sval for i in constraint.including or ()]
    return choose(relation, "_".join(columns), "key" if kind == ConstrType.CONSTR_UNIQUE else "excl", taken)


def default_index_name(relation: str, node: ast.IndexStmt, taken: Iterable[str]) -> str:
    """ChooseIndexName for CREATE INDEX without a name: table_col1_col2_idx ("expr" for expressions)."""
    parts = [p.name if p.name else "expr" for p in node.indexParams]
    return choose(relation, "_".join(parts), "idx", taken)
