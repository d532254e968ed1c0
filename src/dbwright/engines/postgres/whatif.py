"""The statements behind the index advisor's what-if planning on PostgreSQL.

With HypoPG the indexes are hypothetical: ``hypopg_create_index`` writes only this backend's
memory, so it works in a read-only session. Without HypoPG, and only when the caller allows it by
name (``--allow-real-indexes``), the indexes are built for real inside a transaction that is
always rolled back. The evaluator (``dbwright.advisors.indexes.whatif``)
decides which indexes each plan needs and caches the plans; this module sends the statements
and turns the driver's errors into ``IndexRefusedError`` or its return values.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar

import psycopg

from dbwright.engines.base import IndexRefusedError
from dbwright.engines.postgres.query_errors import message_line
from dbwright.model.operations import qident

#: HypoPG takes its OIDs from a small reserved range; start afresh this often.
HYPOPG_BATCH = 200
#: How long a rolled-back real build or drop waits for its table's lock before it gives up.
WRITE_LOCK_TIMEOUT = "500ms"


class IndexCandidate(Protocol):
    """An index to make: the table it is on and its CREATE INDEX text (``IndexSpec`` is one)."""

    @property
    def table(self) -> str: ...

    def definition(self, name: str | None = None) -> str: ...

    def __lt__(self, other: IndexCandidate, /) -> bool: ...

    def __hash__(self) -> int: ...


Candidate = TypeVar("Candidate", bound=IndexCandidate)


class HypotheticalIndexes(Generic[Candidate]):
    """HypoPG's hypothetical indexes in this backend, one per candidate, made and dropped in batches."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.active: dict[Candidate, int] = {}  # candidate -> HypoPG's oid
        self._created_in_batch = 0

    def ensure(
        self, wanted: frozenset[Candidate], tables: frozenset[str] | None = None
    ) -> tuple[list[tuple[Candidate, int, str]], dict[Candidate, str]]:
        """Exactly ``wanted`` among the hypothetical indexes on ``tables`` (all tables when None).

        Returns the indexes made, as (candidate, oid, index name), and the candidates HypoPG
        refused with why. Indexes on other tables may stay: the planner never looks at an
        index of a table the statement does not read, and keeping them spares drop-and-create churn.
        """
        created: list[tuple[Candidate, int, str]] = []
        refused: dict[Candidate, str] = {}
        stale = [spec for spec in sorted(set(self.active) - wanted) if tables is None or spec.table in tables]
        if stale:  # one round trip for all of them
            self.conn.execute(
                "SELECT hypopg_drop_index(oid) FROM unnest(%s::oid[]) AS oid",
                ([self.active.pop(spec) for spec in stale],),
            )
        todo = sorted(wanted - set(self.active))
        if self._created_in_batch + len(todo) > HYPOPG_BATCH:
            self.reset()
            todo = sorted(wanted)
        if len(todo) > 1:
            try:  # one round trip; a definition HypoPG refuses sends them one at a time, to name it
                rows = self.conn.execute(
                    "SELECT h.indexrelid, h.indexname FROM unnest(%s::text[]) WITH ORDINALITY AS d(def, n), "
                    "LATERAL hypopg_create_index(d.def) AS h ORDER BY d.n",
                    ([spec.definition() for spec in todo],),
                ).fetchall()
            except psycopg.Error:
                # HypoPG's indexes are not transactional: those made before the refused one stay, untracked
                self.reset()
                todo = sorted(wanted)
            else:
                for spec, row in zip(todo, rows, strict=True):
                    created.append(self._created(spec, row))
                return created, refused
        for spec in todo:
            try:
                row = self.conn.execute(
                    "SELECT indexrelid, indexname FROM hypopg_create_index(%s)", (spec.definition(),)
                ).fetchone()
            except psycopg.Error as error:
                refused[spec] = message_line(error).removeprefix("hypopg: ")
                continue
            created.append(self._created(spec, row))
        return created, refused

    def _created(self, spec: Candidate, row: tuple) -> tuple[Candidate, int, str]:
        self.active[spec] = row[0]
        self._created_in_batch += 1
        return spec, row[0], row[1]

    def reset(self) -> None:
        """Drop every hypothetical index of this backend (HypoPG's OIDs start afresh)."""
        self.conn.execute("SELECT hypopg_reset()")
        self._created_in_batch = 0
        self.active.clear()


def hypopg_status(conn: psycopg.Connection) -> tuple[str | None, str | None]:
    """(version installed in this database, version the server's package offers); None where absent."""
    row = conn.execute(
        "SELECT installed_version, default_version FROM pg_available_extensions WHERE name = 'hypopg'"
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def hypopg_available(conn: psycopg.Connection) -> tuple[bool, str]:
    """(True, version) when HypoPG is installed in this database; else (False, why not)."""
    installed, offered = hypopg_status(conn)
    if installed is not None:
        return True, installed
    if offered is None:
        return False, "HypoPG is not available on this server"
    return (
        False,
        f"HypoPG {offered} is available but not installed in this database (CREATE EXTENSION hypopg)",
    )


# --- real indexes in transactions that are always rolled back --------------------------------------


def begin_write(conn: psycopg.Connection) -> None:
    """BEGIN READ WRITE with a short lock_timeout: a build or drop never queues behind other sessions."""
    conn.execute("BEGIN TRANSACTION READ WRITE")
    conn.execute(f"SET LOCAL lock_timeout = '{WRITE_LOCK_TIMEOUT}'")


def rollback(conn: psycopg.Connection) -> None:
    conn.execute("ROLLBACK")


def rollback_if_in_transaction(conn: psycopg.Connection) -> None:
    """Leave the session idle: roll back whatever transaction is still open."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.execute("ROLLBACK")


def is_closed(conn: psycopg.Connection) -> bool:
    return conn.closed


@contextmanager
def rolled_back_savepoint(conn: psycopg.Connection) -> Iterator[None]:
    """A savepoint that is rolled back at the end of the block, whatever happens in it."""
    with conn.transaction() as savepoint:
        yield
        raise psycopg.Rollback(savepoint)


def build_index(conn: psycopg.Connection, definition: str) -> None:
    """Run one CREATE INDEX in a savepoint (one bad definition spoils nothing else); IndexRefusedError if refused."""
    try:
        with conn.transaction():
            conn.execute(definition)
    except psycopg.Error as error:
        raise IndexRefusedError(message_line(error)) from None


def drop_index(conn: psycopg.Connection, index_qname: str) -> None:
    conn.execute(f"DROP INDEX {qident(index_qname)}")


class RolledBackWrite:
    """BEGIN READ WRITE … ROLLBACK, always rolled back, with a short lock_timeout."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> psycopg.Connection:
        begin_write(self.conn)
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.execute("ROLLBACK")


def leftovers(conn: psycopg.Connection, hypopg: bool) -> dict[str, int]:
    """Hypothetical indexes in the session and what-if indexes in the catalog (both must be 0)."""
    hypothetical = 0
    if hypopg:
        hypothetical = conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone()[0]
    real = conn.execute(
        "SELECT count(*) FROM pg_class WHERE relkind = 'i' AND relname LIKE 'dbwright\\_whatif\\_%'"
    ).fetchone()[0]
    return {"hypothetical_indexes": hypothetical, "real_indexes": real}
