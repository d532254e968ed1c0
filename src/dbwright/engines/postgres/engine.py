"""PostgreSQL as an ``Engine``: the one object the rest of dbwright holds to reach a PostgreSQL server."""

from __future__ import annotations

import psycopg

from dbwright.engines.base import (
    Capabilities,
    Connection,
    Explainer,
    LockModel,
    Planner,
    Progress,
    WhatIf,
)
from dbwright.engines.postgres import (
    ENGINE_NAME,
    errors,
    explain,
    generic_plans,
    introspect,
    locks,
    migrations,
    sqltypes,
    whatif,
)
from dbwright.engines.postgres.connect import describe_target, open_session, resolve_target
from dbwright.errors import DbwrightError, ServerError
from dbwright.model import Snapshot

#: How often a snapshot is tried when its catalog queries keep waiting on locks.
SNAPSHOT_ATTEMPTS = 3


class PostgresEngine:
    """PostgreSQL 13 and newer through psycopg 3: every dbwright feature."""

    name = ENGINE_NAME
    schemes = ("postgresql", "postgres")
    environment = ("PGHOST", "PGDATABASE", "PGSERVICE", "PGPORT", "PGUSER")
    capabilities = Capabilities(
        review=True,
        audit=True,
        what_if=True,
        explain=True,
        lint=True,
        diff=True,
        migrate=True,
        pii=True,
        design=True,
    )
    driver_error = psycopg.Error

    def connect(self, target: str | None) -> psycopg.Connection:
        return open_session(target)

    def describe(self, target: str | None) -> str:
        return describe_target(resolve_target(target))

    def snapshot(
        self, target: str | None, *, server_memory_bytes: int | None = None, progress: Progress | None = None
    ) -> Snapshot:
        for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):
            try:
                with open_session(target) as conn:
                    return introspect.snapshot(
                        conn, server_memory_bytes=server_memory_bytes, progress=progress
                    )
            except psycopg.errors.LockNotAvailable as error:
                # A lock taken between our look at pg_locks and the catalog query: look again.
                if attempt == SNAPSHOT_ATTEMPTS:
                    raise ServerError(f"catalog queries kept waiting on locks ({error}); try again") from None
            except psycopg.Error as error:
                raise ServerError(f"reading the catalog failed: {type(error).__name__}: {error}") from None
        raise AssertionError("unreachable")

    def run_step(self, conn: Connection, sql: str, where: str = "change step") -> None:
        """Run the step's SQL unprepared, as the migration runner does; a failure is a StatementFailed
        (a MigrationFailedError) saying why: lock timeout, conflict, statement timeout, lost session."""
        migrations.execute(conn, sql, where)

    def classify_error(self, error: BaseException, where: str) -> DbwrightError:
        return errors.classify_error(error, where)

    def what_if(self) -> WhatIf:
        """HypoPG's hypothetical indexes, else real builds rolled back (``engines.postgres.whatif``)."""
        return whatif

    def planner(self, conn: Connection) -> Planner:
        """EXPLAIN without ANALYZE; generic plans for ``$n`` (``engines.postgres.generic_plans``)."""
        return generic_plans.Planner(conn)

    def explainer(self) -> Explainer:
        return explain

    def lock_model(self) -> LockModel:
        return POSTGRES_LOCK_MODEL

    def __repr__(self) -> str:
        return f"<engine {self.name}>"


class PostgresLockModel:
    """PostgreSQL's lock table and type coercions (``locks``, ``sqltypes``) as one ``LockModel``."""

    effects = staticmethod(locks.effects)
    blocks_reads = staticmethod(locks.blocks_reads)
    blocks_writes = staticmethod(locks.blocks_writes)
    strongest = staticmethod(locks.strongest)
    volatility = staticmethod(locks.volatility)
    is_serial = staticmethod(locks.is_serial)
    sql_type = staticmethod(sqltypes.sql_type)
    catalog_type = staticmethod(sqltypes.catalog_type)
    rewrite_for_change = staticmethod(sqltypes.rewrite_for_change)

    def __repr__(self) -> str:
        return "<PostgreSQL lock model>"


POSTGRES_LOCK_MODEL = PostgresLockModel()
