"""What every engine offers the rest of dbwright: the ``Engine`` protocol and a ``Connection`` type.

Generic code (advisors, changes, faces) names a live session as ``Connection`` and never
imports a driver; only ``engines/<name>/`` knows the driver behind it. An engine is found
through ``engines.registry`` by the scheme of the target's URL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from dbwright.errors import DbwrightError
from dbwright.model import Snapshot

#: A snapshot's progress: called with the name of each section as it is read.
Progress = Callable[[str], None]


class Connection(Protocol):
    """A live session to a server, as the engine's driver gives it (psycopg's for PostgreSQL)."""

    def execute(self, query: Any, params: Any = None, /, **kwargs: Any) -> Any: ...

    def cursor(self, *args: Any, **kwargs: Any) -> Any: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, so faces offer only the commands that work on it.

    A new engine starts with ``review`` and grows; a face asks ``supports("what_if")`` instead of
    checking the engine's name.
    """

    review: bool = False  # snapshot the catalog and run the checks
    audit: bool = False  # role, privilege and logging audit
    what_if: bool = False  # hypothetical indexes for the index advisor
    explain: bool = False  # read and explain query plans
    lint: bool = False  # lock-aware lint of migration SQL
    diff: bool = False  # compare two schemas into a migration
    migrate: bool = False  # apply migrations step by step
    pii: bool = False  # sample columns for personal data
    design: bool = False  # schema design advice

    def supports(self, feature: str) -> bool:
        if feature not in FEATURES:
            raise ValueError(f"unknown feature {feature!r}; known: {', '.join(FEATURES)}")
        return bool(getattr(self, feature))

    def names(self) -> frozenset[str]:
        """The supported features, by name."""
        return frozenset(name for name in FEATURES if getattr(self, name))


#: Every feature an engine may support, in the order faces list them.
FEATURES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Capabilities))


@runtime_checkable
class Engine(Protocol):
    """One database engine: how to reach it, read it, change it and explain its failures.

    The rest of dbwright holds an ``Engine`` and a target string; it never imports a driver.
    A target string is what ``engines.targets.resolve_target`` found: a URL, a conninfo, a
    database name, or ``""`` for the engine's own environment defaults.
    """

    #: The engine's name, as reports and errors show it ("postgresql").
    name: str
    #: URL schemes that select this engine (``postgresql://`` and ``postgres://``).
    schemes: tuple[str, ...]
    #: Environment variables that name a server of this engine when no target is given (PGHOST, …).
    environment: tuple[str, ...]
    capabilities: Capabilities
    #: The driver's base exception class: generic code catches it and hands it to ``classify_error``.
    driver_error: type[Exception]

    def connect(self, target: str | None) -> Connection:
        """A read-only analysis session, with timeouts; failures raise a one-line DbwrightError."""
        ...

    def describe(self, target: str | None) -> str:
        """Where ``target`` points, for people and without a password ("shop on db:5432")."""
        ...

    def snapshot(
        self, target: str | None, *, server_memory_bytes: int | None = None, progress: Progress | None = None
    ) -> Snapshot:
        """Read the whole catalog of ``target`` into a Snapshot, retrying when catalog reads wait on locks."""
        ...

    def run_step(self, conn: Connection, sql: str, where: str = "change step") -> None:
        """Run one change step on a writable session (``where``: its place, e.g. file:line).

        A failure raises a MigrationFailedError that says why (lock timeout, conflict, statement
        timeout, lost session), so the runner can retry or resume without the driver's classes.
        """
        ...

    def classify_error(self, error: BaseException, where: str) -> DbwrightError:
        """The DbwrightError a driver error means, decided by its code (SQLSTATE), not its text."""
        ...
