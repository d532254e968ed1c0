"""What every engine offers the rest of dbwright: the ``Engine`` protocol and a ``Connection`` type.

Generic code (advisors, changes, faces) names a live session as ``Connection`` and never
imports a driver; only ``engines/<name>/`` knows the driver behind it. An engine is found
through ``engines.registry`` by the scheme of the target's URL.

An engine's own machinery — what-if indexes, plans, EXPLAIN, the lock model of its DDL —
is reached through the ``Engine``'s service members (``what_if()``, ``planner(conn)``,
``explainer()``, ``lock_model()``), typed by the small protocols here, so the generic
algorithms (index selection, plan annotation, lint rules) never import an engine module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
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


# --- the engine's services ---------------------------------------------------------------------------


class PlanError(Exception):
    """The server could not plan a statement (missing table, privilege, type error)."""


class IndexRefusedError(Exception):
    """The server refused an index definition; the message is its first line."""


class Planner(Protocol):
    """Plans one statement without running it; with ``$n`` parameters, the generic plan the server caches."""

    #: How many statements were planned, for the advisor's statistics.
    calls: int

    def plan(
        self, sql: str, parameters: int = 0, parameter_columns: Mapping[int, tuple[str, str]] | None = None
    ) -> dict[str, Any]:
        """The plan's root node as the engine's JSON EXPLAIN gives it ("Node Type", "Total Cost", "Plans" …).

        ``parameter_columns`` names the (table, column) each ``$n`` is compared with, for a
        representative value. Raises PlanError when the server cannot plan it, SqlParseError
        when it cannot parse it.
        """
        ...

    def close(self) -> None:
        """Put the session back as it was (settings, prepared statements)."""
        ...


class HypotheticalIndexSet(Protocol):
    """The hypothetical indexes of one session, one per candidate (anything with ``table`` and
    ``definition()``), made and dropped in batches."""

    #: candidate -> the engine's id of its hypothetical index
    active: dict[Any, int]

    def ensure(
        self, wanted: frozenset[Any], tables: frozenset[str] | None = None
    ) -> tuple[list[tuple[Any, int, str]], dict[Any, str]]:
        """Exactly ``wanted`` among those on ``tables`` (all when None): the indexes made, as
        (candidate, id, index name as plans name it), and the candidates refused with why."""
        ...

    def reset(self) -> None:
        """Drop every hypothetical index of the session."""
        ...


class WhatIf(Protocol):
    """Indexes that do not exist, for the index advisor: hypothetical ones when the server has them
    (HypoPG on PostgreSQL), else, only when the caller allows it by name, real ones built in a write
    transaction that is always rolled back."""

    #: ``HypotheticalIndexes(conn)``: the hypothetical index set of a session.
    HypotheticalIndexes: Callable[[Connection], HypotheticalIndexSet]
    #: ``RolledBackWrite(conn)``: a write transaction with a short lock timeout, always rolled back.
    RolledBackWrite: Callable[[Connection], AbstractContextManager[Connection]]

    def hypopg_available(self, conn: Connection) -> tuple[bool, str]:
        """(True, version) when hypothetical indexes work in this database; else (False, why not)."""
        ...

    def hypopg_status(self, conn: Connection) -> tuple[str | None, str | None]:
        """(version installed in this database, version the server offers to install); None where absent."""
        ...

    def begin_write(self, conn: Connection) -> None:
        """Open a write transaction whose builds never queue behind other sessions' locks."""
        ...

    def rollback(self, conn: Connection) -> None: ...

    def rollback_if_in_transaction(self, conn: Connection) -> None:
        """Leave the session idle, rolling back whatever transaction is still open."""
        ...

    def is_closed(self, conn: Connection) -> bool: ...

    def rolled_back_savepoint(self, conn: Connection) -> AbstractContextManager[None]:
        """A savepoint rolled back at the end of the block, whatever happens in it."""
        ...

    def build_index(self, conn: Connection, definition: str) -> None:
        """Build one index for real in the open transaction; IndexRefusedError if the server refuses it."""
        ...

    def drop_index(self, conn: Connection, index_qname: str) -> None: ...

    def leftovers(self, conn: Connection, hypopg: bool) -> dict[str, int]:
        """What-if indexes still in the session and the catalog (both must be 0)."""
        ...


class Explainer(Protocol):
    """EXPLAIN of one statement in a read-only transaction that is always rolled back."""

    def explain_document(
        self,
        conn: Connection,
        sql: str,
        parameters: int,
        parameter_columns: Mapping[int, tuple[str, str]],
        *,
        analyze: bool,
        verbose: bool,
        buffers: bool,
        timing: bool,
    ) -> tuple[dict[str, Any], list[str]]:
        """The EXPLAIN document ("Plan", "Planning Time", "Execution Time" …) and the SQL literals bound
        to $1, $2 … (a generic plan). Raises SqlParseError or ServerError with the server's first line."""
        ...


class ColumnType(Protocol):
    """A column type as migration SQL writes it (``varchar(20)``, ``integer[]``)."""

    @property
    def name(self) -> str: ...

    @property
    def mods(self) -> tuple[int, ...]: ...

    @property
    def array(self) -> bool: ...

    @property
    def label(self) -> str:
        """The type as people write it."""
        ...


#: The known type of (table, column), e.g. from earlier CREATE TABLE statements or a snapshot.
TypeLookup = Callable[[str, str], "ColumnType | None"]


class StatementEffects(Protocol):
    """What one statement does: the lock on each relation it names, rewrite, scan, transaction."""

    kind: str
    #: relation -> the lock mode it takes there ("ACCESS EXCLUSIVE", …)
    locks: dict[str, str]
    rewrites: bool
    scans: bool
    transactional: bool
    understood: bool
    notes: list[str]

    @property
    def tables(self) -> tuple[str, ...]: ...

    @property
    def lock(self) -> str:
        """The strongest lock the statement takes ("none", or "unknown" when not understood)."""
        ...


class RelationLookup(Protocol):
    """What the lint knows of relations a statement names only indirectly (from the migration so far,
    or a snapshot): the table an index belongs to, the table a foreign key references."""

    def index_table(self, index: str) -> str | None: ...

    def referenced_table(self, table: str, constraint: str) -> str | None:
        """The table a foreign key ``constraint`` of ``table`` references; None if not a known FK."""
        ...


class LockModel(Protocol):
    """The engine's DDL knowledge for the offline lint: what each parsed statement locks, rewrites and
    scans on a given server version, and the column type facts that decide it."""

    def effects(
        self,
        node: Any,
        server_version: int,
        types: TypeLookup | None = None,
        relations: RelationLookup | None = None,
    ) -> StatementEffects:
        """The effects of one parsed statement (a parse-tree node of the lint's parser); ``relations``
        names the table behind an index or a foreign key, when known."""
        ...

    def blocks_reads(self, mode: str) -> bool: ...

    def strongest(self, *modes: str) -> str:
        """The strongest of lock ``modes`` ("none" for none): what a transaction holding them all holds."""
        ...

    def blocks_writes(self, mode: str) -> bool: ...

    def volatility(self, expr: Any) -> str:
        """'constant', 'stable' (once per statement), 'volatile' or 'unknown', of a parsed expression."""
        ...

    def is_serial(self, column: Any) -> bool:
        """True when a parsed column definition is a serial type (a sequence default)."""
        ...

    def sql_type(self, type_name: Any) -> ColumnType | None:
        """The type of a parsed type name; None when there is none."""
        ...

    def catalog_type(self, type_name: str, data_type: str) -> ColumnType:
        """A catalog column type (the snapshot's type name and formatted type) as ``sql_type`` spells it."""
        ...

    def rewrite_for_change(self, old: ColumnType | None, new: ColumnType, using: bool) -> tuple[bool, str]:
        """(rewrites, why) for ALTER COLUMN … TYPE from ``old`` to ``new``."""
        ...


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

    # The services: None when the engine lacks the feature (and ``capabilities`` says so).

    def what_if(self) -> WhatIf | None:
        """Hypothetical or rolled-back indexes for the index advisor (``capabilities.what_if``)."""
        ...

    def planner(self, conn: Connection) -> Planner | None:
        """A planner on ``conn`` for EXPLAIN without running (``capabilities.what_if``)."""
        ...

    def explainer(self) -> Explainer | None:
        """EXPLAIN documents, with ANALYZE when asked (``capabilities.explain``)."""
        ...

    def lock_model(self) -> LockModel | None:
        """The statement → lock effects model the lint uses (``capabilities.lint``)."""
        ...
