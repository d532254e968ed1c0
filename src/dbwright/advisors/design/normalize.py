"""Normalization proposals: dependencies X → Y where X is not a key, turned into decompositions.

Trivial dependencies (X contains a key, or Y is part of X) and accidental ones (X almost
unique so every group has one row, or either side nearly constant) are dropped. Equivalent
determinants (X → Y and Y → X) are merged, keeping the one that looks like an identifier.
Each decomposition is two change packages: a safe one (new table filled with ``INSERT …
SELECT DISTINCT``, foreign key, compatibility view) and a destructive one that drops the
redundant columns, whose rollback re-adds them and refills them from the new table.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from dbwright.advisors.design.candidates import ColumnProfile, fk_like
from dbwright.advisors.design.context import TableInfo
from dbwright.advisors.design.proposal import Proposal, Rejected
from dbwright.engines.postgres.design_confirm import FdCheck
from dbwright.model.operations import AddForeignKey, Lock, RawSQL, ValidateConstraint, ident, qident
from dbwright.model.package import ChangePackage

#: Tables whose rows record a moment (an order, its lines, an invoice) ...
_TRANSACTION_TABLE = re.compile(
    r"(^|_)(orders?|order_?lines?|order_?items?|lines?|items?|invoices?|invoice_?lines?|carts?|cart_?items?|"
    r"purchases?|sales?|bookings?|reservations?|transactions?|payments?|receipts?|quotes?|shipments?)($|_)"
)
#: ... keep these as they were then: a line's price must not follow the product's current price.
_SNAPSHOT_COLUMN = re.compile(
    r"(^|_)(price|unit_price|amount|total|subtotal|cost|tax|vat|discount|fee|rate|currency|name|title|"
    r"description|sku|address|weight)$"
)
#: Fewer rows per determinant value than this on average, and the dependency is an accident of
#: an almost-unique column.
MIN_ROWS_PER_GROUP = 2.0
_INTEGER_TYPES = {"int2", "int4", "int8"}


@dataclass(frozen=True)
class Decomposition:
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]
    checks: tuple[FdCheck, ...]


def determinant_rank(info: TableInfo, name: str) -> tuple:
    """Lower is a better determinant: declared FK, identifier-like name, integer, then fewer distinct."""
    column = info.column(name)
    return (name not in info.fk_columns, not fk_like(name), column.type_name not in _INTEGER_TYPES, name)


def choose(
    info: TableInfo, checks: list[FdCheck], profiles: dict[str, ColumnProfile], rows: int
) -> tuple[list[Decomposition], list[Rejected]]:
    rejected: list[Rejected] = []
    kept: list[FdCheck] = []
    for check in checks:
        label = f"{', '.join(check.lhs)} → {check.rhs}"
        reason = _trivial_or_accidental(info, check, profiles, rows)
        if reason:
            rejected.append(Rejected(info.qname, label, reason, check.to_dict()))
        else:
            kept.append(check)
    holds = {(c.lhs, c.rhs) for c in kept}
    # Equivalent single columns (X → Y and Y → X): keep the better determinant only.
    dropped_lhs = set()
    for check in kept:
        if len(check.lhs) != 1 or ((check.rhs,), check.lhs[0]) not in holds:
            continue
        x, y = check.lhs[0], check.rhs
        loser = max((x, y), key=lambda n: determinant_rank(info, n))
        dropped_lhs.add((loser,))
    by_lhs: dict[tuple[str, ...], list[FdCheck]] = defaultdict(list)
    for check in kept:
        if check.lhs in dropped_lhs:
            rejected.append(
                Rejected(
                    info.qname,
                    f"{', '.join(check.lhs)} → {check.rhs}",
                    "equivalent to a better determinant of the same columns",
                    check.to_dict(),
                )
            )
            continue
        by_lhs[check.lhs].append(check)
    decompositions = []
    for lhs, group in by_lhs.items():
        dependents = {c.rhs for c in group} - set(lhs)
        # Minimal cover: when X → Z and Z → Y, Y belongs with Z (its own split), not with X.
        equivalent = {z for z in dependents if all(((z,), x) in holds for x in lhs)}
        transitive = {
            y
            for y in dependents
            for z in dependents - equivalent
            if z != y and ((z,), y) in holds and (((y,), z) not in holds or (y,) in dropped_lhs)
        }
        for y in sorted(transitive):
            rejected.append(
                Rejected(
                    info.qname,
                    f"{', '.join(lhs)} → {y}",
                    "transitive through another dependent column: proposed with that column's own split",
                )
            )
        rhs = tuple(sorted(dependents - transitive, key=lambda n: info.column(n).position))
        if rhs:
            decompositions.append(Decomposition(lhs, rhs, tuple(c for c in group if c.rhs in rhs)))
    # Several keys of the same split (e.g. (a, b) → c and (a, c) → b): propose it once, by its best key.
    best: dict[frozenset[str], Decomposition] = {}

    def weakest_first(d: Decomposition) -> tuple:
        return len(d.lhs), sorted((determinant_rank(info, c) for c in d.lhs), reverse=True)

    for d in sorted(decompositions, key=weakest_first):
        kept_split = best.setdefault(frozenset((*d.lhs, *d.rhs)), d)
        if kept_split is not d:
            rejected.append(
                Rejected(
                    info.qname,
                    f"{', '.join(d.lhs)} → {', '.join(d.rhs)}",
                    f"another key of the split by {', '.join(kept_split.lhs)}",
                )
            )
    return [d for d in decompositions if d in best.values()], rejected


def _trivial_or_accidental(
    info: TableInfo, check: FdCheck, profiles: dict[str, ColumnProfile], rows: int
) -> str | None:
    if check.rhs in check.lhs:
        return "trivial: the right side is part of the left side"
    if info.is_superkey(check.lhs) or check.groups >= check.rows:
        return "the left side is a key: every column depends on a key"
    if any(check.rhs in key for key in info.declared_keys) or info.is_generated_key(check.rhs):
        return "the right side is part of a key"
    if check.rhs in info.indexed_columns or check.rhs in info.constrained_columns:
        return "the right side is indexed or constrained: moving it needs a design decision"
    if check.rows < rows:
        return "the left side has NULLs: rows without it would lose the right side"
    if check.rows / max(check.groups, 1) < MIN_ROWS_PER_GROUP:
        return f"accidental: fewer than {MIN_ROWS_PER_GROUP:g} rows per left-side value"
    for name in (*check.lhs, check.rhs):
        profile = profiles.get(name)
        if profile is not None and profile.near_constant:
            return f"{name} is nearly constant"
    snapshots = [c for c in (*check.lhs, check.rhs) if _SNAPSHOT_COLUMN.search(c)]
    if _TRANSACTION_TABLE.search(info.table.name) and snapshots:
        return (
            f"{', '.join(snapshots)} on {info.table.name} is a snapshot of the moment the row was written "
            "(a line keeps the price it was sold at): it neither follows nor determines another column"
        )
    return None


def _new_table_name(info: TableInfo, lhs: tuple[str, ...], existing: set[str]) -> str:
    stem = "_".join(lhs)
    for suffix in ("_id", "_code", "_key", "_no", "_number", "_uuid", "_ref"):
        if len(lhs) == 1 and stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem[: -len(suffix)]
            break
    schema = info.table.schema
    name = stem if not _taken(schema, stem, existing) else f"{info.table.name}_{stem}"
    while _taken(schema, name, existing):
        name += "_1"
    existing.add(f"{schema}.{name}")
    return f"{schema}.{name}"


def _taken(schema: str, name: str, existing: set[str]) -> bool:
    """A name, its plural or its singular already used: ``customer`` next to ``customers`` reads as a clash."""
    variants = {name, f"{name}s", f"{name}es", name[:-1] if name.endswith("s") else name}
    if name.endswith("y"):
        variants.add(f"{name[:-1]}ies")
    return any(f"{schema}.{v}" in existing for v in variants)


def package_for(
    info: TableInfo, d: Decomposition, existing: set[str], widths: dict[str, float], rows: int
) -> Proposal:
    table, schema = info.qname, info.table.schema
    new = _new_table_name(info, d.lhs, existing)
    approximate = any(not c.exact for c in d.checks)
    groups = d.checks[0].groups
    x = ", ".join(ident(c) for c in d.lhs)
    y = ", ".join(ident(c) for c in d.rhs)
    col_defs = [f"{ident(c)} {info.column(c).data_type} NOT NULL" for c in d.lhs]
    col_defs += [
        f"{ident(c)} {info.column(c).data_type}{' NOT NULL' if info.column(c).not_null else ''}"
        for c in d.rhs
    ]
    create = RawSQL(
        f"CREATE TABLE {qident(new)} ({', '.join(col_defs)}, PRIMARY KEY ({x}));",
        f"DROP TABLE {qident(new)};",
    )
    if approximate:
        picks = ", ".join(f"mode() WITHIN GROUP (ORDER BY {ident(c)})" for c in d.rhs)
        fill_sql = (
            f"INSERT INTO {qident(new)} ({x}, {y}) SELECT {x}, {picks} FROM {qident(table)} GROUP BY {x};"
        )
    else:
        fill_sql = f"INSERT INTO {qident(new)} ({x}, {y}) SELECT DISTINCT {x}, {y} FROM {qident(table)};"
    table_bytes = info.table.heap_bytes
    fill = RawSQL(fill_sql, lock_=Lock("ACCESS SHARE", table), scans_=True, table_bytes=table_bytes)
    fk_name = _short(f"{info.table.name}_{new.split('.', 1)[1]}_fkey")
    view_name = _short(f"{info.table.name}_with_{new.split('.', 1)[1]}")
    while f"{schema}.{view_name}" in existing:
        view_name = _short(view_name + "_1")
    view = f"{schema}.{view_name}"
    existing.add(view)
    select = ", ".join(
        f"n.{ident(c.name)}" if c.name in d.rhs else f"t.{ident(c.name)}" for c in info.columns
    )
    join = " AND ".join(f"n.{ident(c)} = t.{ident(c)}" for c in d.lhs)
    view_op = RawSQL(
        f"CREATE VIEW {qident(view)} AS SELECT {select} FROM {qident(table)} t "
        f"LEFT JOIN {qident(new)} n ON {join};",
        f"DROP VIEW {qident(view)};",
    )
    operations = [
        create,
        fill,
        AddForeignKey(table, fk_name, d.lhs, new, d.lhs),
        ValidateConstraint(table, fk_name, table_bytes=table_bytes),
        view_op,
    ]
    dirty = sum(c.violating_rows for c in d.checks)
    explanation = (
        f"Moves {', '.join(d.rhs)} — determined by {', '.join(d.lhs)} — into {new}, one row per "
        f"{', '.join(d.lhs)}, references it from {table}, and gives old readers the view {view} "
        f"with {table}'s original columns."
    )
    if approximate:
        explanation += (
            f" The dependency is approximate: {dirty} row(s) disagree with the most common value "
            f"of their group; {new} keeps the most common value (mode())."
        )
    notes = (
        "Writers that insert new values of the left side must insert into the new table first, or "
        "VALIDATE fails on rows added after the copy.",
    )
    package = ChangePackage.of(
        f"Split {', '.join(d.rhs)} out of {table} into {new}", operations, explanation, manual_steps=notes
    )
    set_back = ", ".join(f"{ident(c)} = n.{ident(c)}" for c in d.rhs)
    adds = ", ".join(
        f"ADD COLUMN {ident(c)} {info.column(c).data_type}"
        + (f" DEFAULT {info.column(c).default}" if info.column(c).default else "")
        for c in d.rhs
    )
    restore = [
        f"ALTER TABLE {qident(table)} {adds};",
        f"UPDATE {qident(table)} t SET {set_back} FROM {qident(new)} n WHERE {join};",
    ]
    restore += [
        f"ALTER TABLE {qident(table)} ALTER COLUMN {ident(c)} SET NOT NULL;"
        for c in d.rhs
        if info.column(c).not_null
    ]
    drop = RawSQL(
        f"ALTER TABLE {qident(table)} {', '.join(f'DROP COLUMN {ident(c)}' for c in d.rhs)};",
        " ".join(restore),
        lock_=Lock("ACCESS EXCLUSIVE", table),
        destructive_=True,
        table_bytes=table_bytes,
    )
    destructive = ChangePackage.of(
        f"DESTRUCTIVE: drop the redundant {', '.join(d.rhs)} from {table}",
        [drop],
        f"Run only after the split package and after every reader uses {view} or joins {new}. Dropping loses "
        f"any value that disagrees with {new}"
        + (f" ({dirty} row(s) today)" if dirty else "")
        + f"; the rollback re-adds the columns (at the end of the table) and refills them from {new}.",
        manual_steps=(f"Point readers at {view} (or a join with {new}) and writers at {new} first.",),
    )
    width = sum(widths.get(c, 0.0) for c in d.rhs)
    saved = int((rows - groups) * width - groups * sum(widths.get(c, 0.0) for c in d.lhs))
    evidence = {
        "rows": rows,
        "determinant_values": groups,
        "rows_per_value": round(rows / max(groups, 1), 2),
        "dependencies": [c.to_dict() for c in d.checks],
        "new_table": new,
        "compatibility_view": view,
        "storage_saved_bytes": max(saved, 0),
        "update_anomalies_removed": rows - groups,
        "max_error": round(max(c.error for c in d.checks), 6),
        "status": "candidate: verify with the domain",
    }
    title = (
        f"{table}: {', '.join(d.lhs)} → {', '.join(d.rhs)}"
        + (" (approximate)" if approximate else "")
        + f" but {', '.join(d.lhs)} is not a key (a candidate: verify with the domain)"
    )
    return Proposal(
        "normalize",
        table,
        (*d.lhs, *d.rhs),
        title,
        evidence,
        package,
        destructive,
        advice=(
            f"The data shows {', '.join(d.lhs)} determining {', '.join(d.rhs)} in all {rows:,} rows; "
            "whether that is a rule of the domain or a coincidence of today's rows is for someone who "
            f"knows the domain to say. If it is a rule, an update of one {', '.join(d.lhs)}'s "
            f"{', '.join(d.rhs)} touches {rows / max(groups, 1):.1f} rows on average; after the split, one."
        ),
        score=max(saved, 0) + (rows - groups),
        approximate=approximate,
    )


def _short(name: str) -> str:
    return name[:63]
