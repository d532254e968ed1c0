"""The data dictionary as CSV: one row per column of every documented table, in a stable order."""

from __future__ import annotations

import csv
import io

from dbwright.sitegen.site import Site

HEADER = (
    "schema",
    "table",
    "column",
    "position",
    "data_type",
    "nullable",
    "default",
    "primary_key",
    "unique",
    "references",
    "implied_reference",
    "allowed_values",
    "comment",
    "table_comment",
)


def data_dictionary(site: Site) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for table in site.tables:
        primary = site.primary_key(table)
        unique = site.unique_columns(table)
        table_comment = site.table_comment(table)
        for column in site.columns(table):
            rels = site.references_of_column(table, column.name)
            declared = [r for r in rels if not r.implied]
            implied = [r for r in rels if r.implied]
            user_type = site.user_type(column)
            writer.writerow(
                (
                    table.schema,
                    table.name,
                    column.name,
                    column.position,
                    column.data_type,
                    "no" if column.not_null else "yes",
                    column.default or "",
                    "yes" if column.name in primary else "no",
                    "yes" if column.name in unique else "no",
                    "; ".join(_target(r, column.name) for r in declared),
                    "; ".join(_target(r, column.name) for r in implied),
                    " | ".join(user_type.labels) if user_type and user_type.kind == "e" else "",
                    site.column_comment(column),
                    table_comment,
                )
            )
    return out.getvalue()


def _target(rel, column: str) -> str:
    return f"{rel.parent}.{rel.parent_columns[rel.child_columns.index(column)]}"
