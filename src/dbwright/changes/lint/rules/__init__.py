"""Lint rules: one small registered function per stable code, sqlfluff-style.

A rule sees one statement (its AST, its modelled effects) and the state carried so far (with
the engine's lock model, ``state.lock_model``, for lock and type questions), and
yields hits: a message, and the safe rewrite. The docstring is the rule's docs page; the
cases (SQL that fails it, SQL that passes it) are data, and every case is a test.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from dbwright.changes.lint.context import HeldLock, LintState
from dbwright.changes.lint.parse import ParsedStatement
from dbwright.engines.base import StatementEffects
from dbwright.engines.postgres.parse_tree import statement_words
from dbwright.model.findings import Severity


@dataclass(frozen=True)
class Case:
    """SQL for a rule test; ``version`` is the server it is linted for; ``before`` are earlier files."""

    sql: str
    version: int = 150000
    before: tuple[str, ...] = ()


@dataclass(frozen=True)
class Statement:
    """What a rule sees: the parsed statement and what it does (the engine's lock model says)."""

    parsed: ParsedStatement
    effects: StatementEffects
    #: table -> the lock its transaction already held on it before this statement (held to COMMIT).
    held: Mapping[str, HeldLock] = field(default_factory=dict)
    #: each table the statement names -> the strongest lock held on it while the statement runs: its
    #: own, or a stronger one its transaction took earlier and keeps to COMMIT.
    held_through: Mapping[str, str] = field(default_factory=dict)
    #: the strongest of those (the statement's own lock outside a transaction).
    lock_held: str = ""

    @property
    def node(self):
        return self.parsed.node

    def held_before(self, table: str) -> HeldLock | None:
        """The lock the transaction already held on ``table`` when this statement started."""
        return self.held.get(table.lower().removeprefix("public."))

    @property
    def sql(self) -> str:
        return self.parsed.sql

    @property
    def words(self) -> str:
        """What the statement is, in SQL words (``CREATE INDEX CONCURRENTLY``), for messages."""
        return statement_words(self.node, self.sql)


@dataclass(frozen=True)
class Hit:
    message: str
    safe_rewrite: str | None = None
    lock: str | None = None  # the rule's own lock, when not the statement's
    severity: Severity | None = None


RuleFunction = Callable[[Statement, LintState], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    severity: Severity
    function: RuleFunction
    fails: tuple[Case, ...] = ()
    passes: tuple[Case, ...] = ()
    #: True when the rule is about a lock a real server takes (confirmed by the pg_locks tests).
    lock_related: bool = True
    references: tuple[str, ...] = field(default=())

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.function.__doc__ or "")

    def check(self, statement: Statement, state: LintState) -> list[Hit]:
        return list(self.function(statement, state))


_RULES: dict[str, Rule] = {}


def _cases(items) -> tuple[Case, ...]:
    return tuple(item if isinstance(item, Case) else Case(item) for item in items)


def rule(
    code: str,
    title: str,
    severity: Severity,
    *,
    fails=(),
    passes=(),
    lock_related: bool = True,
    references: tuple[str, ...] = (),
):
    """Register a rule. Codes are stable and never reused."""

    def register(function: RuleFunction) -> RuleFunction:
        if code in _RULES:
            raise ValueError(f"lint rule {code} registered twice")
        _RULES[code] = Rule(
            code, title, severity, function, _cases(fails), _cases(passes), lock_related, references
        )
        return function

    return register


def all_rules() -> list[Rule]:
    _load()
    return [_RULES[code] for code in sorted(_RULES)]


def get_rule(code: str) -> Rule:
    _load()
    return _RULES[code]


def _load() -> None:
    from dbwright.changes.lint.rules import (  # noqa: F401 - importing registers the rules
        columns,
        constraints,
        destructive,
        hygiene,
        indexes,
        maintenance,
        meta,
        robustness,
        transactions,
    )
