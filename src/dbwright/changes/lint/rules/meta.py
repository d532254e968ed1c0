"""Rules about lint itself: ignores without a reason, statements dbwright does not understand, psql's
meta-commands."""

from __future__ import annotations

from dbwright.changes.lint.psql import QUIT, PsqlCommand
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
        detail = "; ".join(fx.notes) or "dbwright has no model for it"
        yield Hit(f"{statement.words} not understood ({detail}): its lock and cost are unknown", lock=fx.lock)


@rule(
    "DW743",
    "psql meta-command",
    Severity.INFO,
    fails=[
        "\\set ON_ERROR_STOP 1\nCREATE TABLE t (id bigint);",
        "\\connect shop\nCREATE TABLE t (id bigint);",
        "\\ir missing/include.sql",
    ],
    passes=["CREATE TABLE t (id bigint);", "SELECT E'\\\\set is text here';"],
    lock_related=False,
)
def psql_meta_command(statement, state):
    """Schema files and pg_dump output are psql scripts: besides SQL they hold psql's meta-commands
    (`\\set ON_ERROR_STOP 1`, `\\connect`, `\\restrict` from pg_dump 15.14 and later, `\\ir` includes). They
    run in psql, not on the server, so they take no lock: the lint skips them and lists each one, so a
    reviewer knows what psql will do. `\\i` and `\\ir` are followed: the included file is linted in place
    (`\\i` from the working directory, `\\ir` from the including file's directory), each finding naming
    its own file and line. An include that is missing, or that includes itself again, is reported at
    medium: psql stops there (with ON_ERROR_STOP) or loops. So is `\\gexec`, which runs as SQL whatever
    its query returns: statements no lint can see.

    Fix: nothing to do for most; for a missing include, check the path (`\\ir` is relative to the file).
    """
    command = statement.node
    if not isinstance(command, PsqlCommand):
        return
    if command.problem == "missing":
        yield Hit(
            f"{command.text}: {command.included} does not exist, so psql fails here; not linted",
            lock="none",
            severity=Severity.MEDIUM,
            safe_rewrite="fix the path: \\ir is relative to the including file, \\i to the working directory",
        )
    elif command.problem == "cycle":
        yield Hit(
            f"{command.text}: {command.included} is already being read (an include cycle), so psql would "
            "loop; not followed",
            lock="none",
            severity=Severity.MEDIUM,
            safe_rewrite="include each file once: remove the include that leads back",
        )
    elif command.is_include:
        yield Hit(f"{command.text}: {command.included} is linted in place", lock="none")
    elif command.name == "gexec":
        yield Hit(
            f"{command.text}: each value the query returns runs as a statement, which the lint cannot see",
            lock="unknown",
            severity=Severity.MEDIUM,
            safe_rewrite="write the generated statements into the migration, or review them by hand",
        )
    elif command.name in QUIT:
        yield Hit(f"{command.text}: psql stops here; what follows is not run, so not linted", lock="none")
    else:
        yield Hit(f"{command.text}: a psql meta-command, skipped (it takes no lock)", lock="none")
