"""Rules about lint itself: ignores without a reason, statements dbwright does not understand."""

from __future__ import annotations

from dbwright.changes.lint.rules import Hit, rule
from dbwright.model.findings import Severity


@rule(
    "DW738",
    "Ignore comment without a reason",
    Severity.LOW,
    fails=["-- dbwright:ignore DW701\nCREATE INDEX orders_note_idx ON orders (note);"],
    passes=[
        "-- dbwright:ignore DW701 reason: orders is empty until the launch\n"
        "CREATE INDEX orders_note_idx ON orders (note);"
    ],
    lock_related=False,
)
def ignore_without_reason(statement, state):
    """An inline `-- dbwright:ignore DW7xx` must say why, so the next reader can judge whether the reason
    still holds: `-- dbwright:ignore DW701 reason: the table is empty in this release`. An ignore without
    a reason does not silence anything.

    Fix: add `reason: …` after the codes.
    """
    for ignore in statement.parsed.ignores:
        if not ignore.reason:
            yield Hit(
                f"dbwright:ignore {', '.join(ignore.codes)} on line {ignore.line} gives no reason, so it "
                "is not applied",
                lock="none",
                safe_rewrite=f"-- dbwright:ignore {', '.join(ignore.codes)} reason: <why this is safe here>",
            )


@rule(
    "DW739",
    "Statement dbwright does not understand",
    Severity.MEDIUM,
    fails=[
        "DO $$ BEGIN EXECUTE 'ALTER TABLE orders ADD COLUMN note text'; END $$;",
        "CREATE PUBLICATION pub FOR TABLE orders;",
    ],
    passes=["SELECT 1;", "CREATE TABLE t (id bigint);"],
    lock_related=False,
)
def not_understood(statement, state):
    """dbwright models the locks and costs of the statements schema migrations use. Anything else (a DO
    block, dynamic SQL, a command it has no model for) is reported, never passed silently: its lock,
    rewrite and scan are unknown, so a reviewer must judge it.

    Fix: review the statement by hand; when it is safe, say so with
    `-- dbwright:ignore DW739 reason: …`.
    """
    fx = statement.effects
    if not fx.understood:
        detail = "; ".join(fx.notes) or f"no model for {type(statement.node).__name__}"
        yield Hit(f"not understood ({detail}): its lock and cost are unknown", lock=fx.lock)
