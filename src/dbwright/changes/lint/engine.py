"""Run the rules over migration SQL: parse, model each statement, carry state, apply ignores.

Each statement's effects come from the lock model the state holds: the engine's (``engine=``),
PostgreSQL's by default.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from dbwright.changes.lint.context import LintState, lock_model_of
from dbwright.changes.lint.findings import LintFinding, StatementInfo
from dbwright.changes.lint.parse import ParsedStatement, parse_script
from dbwright.changes.lint.psql import PsqlCommand, command_effects, resolve_include
from dbwright.changes.lint.rules import Statement, all_rules, get_rule
from dbwright.changes.lint.rules.robustness import unclosed_transaction
from dbwright.engines.base import Engine
from dbwright.errors import InputFileError

#: The code for an ignore comment that gives no reason (see rules/meta.py).
IGNORE_WITHOUT_REASON = "DW738"


def _statements(
    sql: str, state: LintState, filename: str | None, including: tuple[Path, ...] = ()
) -> Iterable[Statement]:
    """Each statement with its effects, psql's meta-commands among them and included files followed
    in place; state is updated after each one is yielded."""
    for parsed in parse_script(sql, filename):
        if isinstance(parsed.node, PsqlCommand):
            yield from _psql_command(parsed, state, filename, including)
            continue
        if parsed.starts_migration:
            state.start_migration()
        state.enter(parsed.node)
        fx = state.lock_model.effects(parsed.node, state.server_version, state.column_type, state)
        yield _with_held_locks(parsed, fx, state)
        state.observe(parsed.node, parsed.line)
        state.hold(fx, parsed.line, parsed.file)


def _with_held_locks(parsed: ParsedStatement, fx, state: LintState) -> Statement:
    """The statement, with the locks its transaction already holds on the tables it names."""
    held = state.held_locks()
    strongest = state.lock_model.strongest
    through = {}
    for table, mode in fx.locks.items():
        earlier = held.get(table.lower().removeprefix("public."))
        through[table] = mode if earlier is None else strongest(earlier.mode, mode)
    lock = strongest(fx.lock, *through.values()) if through else fx.lock
    return Statement(parsed, fx, held, through, lock)


def _psql_command(
    parsed: ParsedStatement, state: LintState, filename: str | None, including: tuple[Path, ...]
) -> Iterable[Statement]:
    """A meta-command (reported, see rules/meta.py); an include is read in place, relative to its file."""
    command: PsqlCommand = parsed.node
    if not command.is_include:
        yield Statement(parsed, command_effects(command))
        state.observe_psql(command)
        return
    stack = including or ((Path(filename).resolve(),) if filename and not filename.startswith("<") else ())
    command = resolve_include(command, filename, stack)
    yield Statement(replace(parsed, node=command), command_effects(command))
    if command.problem is None:
        path = Path(command.included)
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise InputFileError(f"{path}: cannot read: {error}") from None
        yield from _statements(text, state, str(path), (*stack, path.resolve()))


def _info(statement: Statement) -> StatementInfo:
    fx = statement.effects
    return StatementInfo(
        sql=statement.sql,
        line=statement.parsed.line,
        kind=fx.kind,
        tables=fx.tables,
        lock=fx.lock,
        rewrites=fx.rewrites,
        scans=fx.scans,
        transactional=fx.transactional,
        understood=fx.understood,
        file=statement.parsed.file,
        node=type(statement.node).__name__,
        table_locks=tuple(fx.locks.items()),
        notes=tuple(fx.notes),
        held_locks=tuple(statement.held_through.items()),
    )


def _state(server_version: int, engine: Engine | None) -> LintState:
    """A fresh state for a server of ``engine`` (the default engine when None) at ``server_version``."""
    return LintState(server_version=server_version, lock_model=lock_model_of(engine))


def describe(
    sql: str,
    *,
    server_version: int = 150000,
    filename: str | None = None,
    state: LintState | None = None,
    engine: Engine | None = None,
) -> list[StatementInfo]:
    """Every SQL statement of ``sql`` with the lock it takes, rewrite/scan and transaction needs (psql's
    meta-commands, which run in psql and lock nothing, are left out; an included file's statements
    are in)."""
    state = state or _state(server_version, engine)
    state.start_file(filename)
    statements = _statements(sql, state, filename)  # included files' statements among them
    return [_info(statement) for statement in statements if not isinstance(statement.node, PsqlCommand)]


def lint(
    sql: str,
    *,
    server_version: int = 150000,
    filename: str | None = None,
    state: LintState | None = None,
    engine: Engine | None = None,
) -> list[LintFinding]:
    """Findings for ``sql``, ignored ones included (``ignored=True``, with their reason).

    ``engine`` is the engine of the server linted for (the default engine when None), for its lock model.
    """
    state = state or _state(server_version, engine)
    state.start_file(filename)
    rules = all_rules()
    findings: list[LintFinding] = []
    last = None
    for statement in _statements(sql, state, filename):
        hits = [(r, hit) for r in rules for hit in r.check(statement, state)]
        findings += [_finding(r, hit, statement) for r, hit in hits]
        last = statement
    unclosed = unclosed_transaction(state)
    if unclosed is not None and last is not None:
        findings.append(_finding(get_rule("DW751"), unclosed, last))
    return findings


def _finding(rule, hit, statement: Statement) -> LintFinding:
    parsed: ParsedStatement = statement.parsed
    reason = None
    if rule.code != IGNORE_WITHOUT_REASON:
        reason = next((ig.reason for ig in parsed.ignores if rule.code in ig.codes and ig.reason), None)
    return LintFinding(
        code=rule.code,
        severity=hit.severity or rule.severity,
        title=rule.title,
        message=hit.message,
        file=parsed.file,
        line=parsed.line,
        sql=parsed.sql,
        lock=hit.lock or statement.lock_held or statement.effects.lock,
        safe_rewrite=hit.safe_rewrite,
        ignored=reason is not None,
        ignore_reason=reason,
    )


def migration_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the .sql files of directories named, each directory in name order."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix == ".sql" and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise InputFileError(f"{path}: no such file or directory")
    return files


def lint_files(
    paths: Iterable[str | Path],
    *,
    server_version: int = 150000,
    state: LintState | None = None,
    engine: Engine | None = None,
) -> list[LintFinding]:
    """Lint files in order; state (tables created, column types, checks) carries from file to file."""
    state = state or _state(server_version, engine)
    findings: list[LintFinding] = []
    for path in migration_files(paths):
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise InputFileError(f"{path}: cannot read: {error}") from None
        findings += lint(text, server_version=server_version, filename=str(path), state=state)
    return findings
