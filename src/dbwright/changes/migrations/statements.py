"""A migration's SQL as statements and steps.

The lint (dbwright.changes.lint.describe) splits the SQL with pglast and knows each
statement's lock, rewrite/scan and whether it can run in a transaction; the runner and the
plan read only that. A step is what commits at once: a run of transactional statements
shares one transaction; a statement that cannot run in one (CONCURRENTLY, VACUUM, ...) is a
step of its own, so a rerun after a crash resumes at the next step. An explicit COMMIT in the
file ends a step, and VALIDATE CONSTRAINT always starts one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pglast

from dbwright.changes.migrations.files import MigrationFile
from dbwright.errors import RefusedError, SqlParseError


@dataclass(frozen=True)
class Statement:
    sql: str
    line: int  # in the migration file
    kind: str
    tables: tuple[str, ...]
    lock: str
    rewrites: bool
    scans: bool
    transactional: bool
    understood: bool
    filename: str = ""
    node: str = ""  # pglast node name, e.g. "IndexStmt"
    #: Starts a new step: it follows an explicit COMMIT in the file, or it is a VALIDATE
    #: CONSTRAINT (which must not hold its ADD … NOT VALID's lock through the scan).
    starts_step: bool = False

    @property
    def where(self) -> str:
        return f"{self.filename}:{self.line}"


@dataclass(frozen=True)
class Step:
    number: int  # 1-based
    statements: tuple[Statement, ...]
    transactional: bool

    @property
    def first(self) -> Statement:
        return self.statements[0]


def statements_of(
    migration: MigrationFile, section: str = "up", server_version: int = 150000
) -> list[Statement]:
    """The statements of the up (or down) part, with their lines in the file."""
    from dbwright.changes.lint import describe

    text = migration.up if section == "up" else migration.down
    first_line = migration.up_line if section == "up" else migration.down_line
    # Blank lines in front keep the lint's line numbers equal to the file's.
    padded = "\n" * (first_line - 1) + text
    try:
        infos = describe(padded, server_version=server_version, filename=migration.filename)
    except SqlParseError as error:
        message = error.message
        if migration.filename not in message:
            message = f"{migration.filename}: {message}"
        raise SqlParseError(message) from None
    statements = [_statement(info, migration.filename) for info in infos]
    kept: list[Statement] = []
    after_commit = False
    for statement in statements:
        if _transaction_control(statement):
            after_commit = after_commit or statement.kind == "Transaction:Commit"
            continue
        if after_commit or _validates(statement):
            statement = dataclasses.replace(statement, starts_step=True)
        kept.append(statement)
        after_commit = False
    return kept


def _validates(statement: Statement) -> bool:
    return statement.node == "AlterTableStmt" and " VALIDATE CONSTRAINT " in f" {statement.sql.upper()} "


def _transaction_control(statement: Statement) -> bool:
    """BEGIN and COMMIT are dropped (a COMMIT still ends a step). ROLLBACK and others are refused."""
    if statement.node != "TransactionStmt":
        return False
    if statement.kind in ("Transaction:Begin", "Transaction:Start", "Transaction:Commit"):
        return True
    raise RefusedError(
        f"{statement.where}: {statement.sql.split()[0].upper()} in a migration would break the "
        "transaction dbwright runs it in; remove it (BEGIN and COMMIT are ignored)"
    )


def _statement(info: Any, filename: str) -> Statement:
    lock = info.lock
    mode = getattr(lock, "mode", lock) or "none"
    return Statement(
        sql=info.sql.strip().rstrip(";").strip(),
        line=info.line,
        kind=str(info.kind),
        tables=tuple(info.tables or ()),
        lock=str(mode),
        rewrites=bool(info.rewrites),
        scans=bool(info.scans),
        transactional=bool(info.transactional),
        understood=bool(info.understood),
        filename=filename,
        node=info.node,
    )


def steps_of(statements: list[Statement]) -> list[Step]:
    """Group statements into steps: runs of transactional ones together, the others alone."""
    steps: list[Step] = []
    pending: list[Statement] = []

    def flush() -> None:
        if pending:
            steps.append(Step(len(steps) + 1, tuple(pending), True))
            pending.clear()

    for statement in statements:
        if statement.transactional:
            if statement.starts_step:
                flush()
            pending.append(statement)
            continue
        flush()
        _check_resumable(statement)
        steps.append(Step(len(steps) + 1, (statement,), False))
    flush()
    return steps


def _check_resumable(statement: Statement) -> None:
    """A non-transactional index build must name its index: on a rerun dbwright finds it by name."""
    if statement.node == "IndexStmt" and not parse_one(statement).idxname:
        raise RefusedError(
            f"{statement.where}: CREATE INDEX CONCURRENTLY without an index name cannot be "
            "resumed safely after a crash; name the index"
        )


def parse_one(statement: Statement) -> Any:
    """The pglast node of one statement (already known to parse)."""
    return pglast.parse_sql(statement.sql)[0].stmt


def change_statements(sql: str, down_sql: str = "", *, server_version: int) -> list[list[Any]]:
    """An ad-hoc change's statements as the runner would run them on a server of ``server_version``:
    ``["up", step, transactional, sql]`` rows, then ``["down", 0, True, sql]`` rows for its down part."""
    migration = MigrationFile(
        version="0", name="change", path=Path("V0__change.sql"), up=sql, down=down_sql, up_line=1, down_line=1
    )
    up = [
        ["up", step.number, step.transactional, s.sql]
        for step in steps_of(statements_of(migration, "up", server_version))
        for s in step.statements
    ]
    down = (
        [["down", 0, True, s.sql] for s in statements_of(migration, "down", server_version)]
        if down_sql.strip()
        else []
    )
    return up + down
