"""Fixtures: a real PostgreSQL 15 cluster for the session, a fresh database per test.

Nothing here fakes a database. If the cluster cannot start, every test that needs it
errors (it is not skipped), so CI fails loudly on a machine without PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dbwright.engines.registry import take_snapshot
from dbwright.model import Snapshot
from dbwright.review import Review, run_review
from tests import browser
from tests.pgcluster import Cluster, remove_cluster, start_cluster

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    started = start_cluster()
    try:
        yield started
    finally:
        remove_cluster(started)


class PgDatabase:
    """A fresh database on the test cluster, with an autocommit superuser connection."""

    def __init__(self, cluster: Cluster, name: str) -> None:
        self.cluster = cluster
        self.name = name
        self.url = cluster.url(name)
        self.conn = psycopg.connect(self.url, autocommit=True)
        self._roles: list[str] = []
        self._extra: list[psycopg.Connection] = []
        self._system_settings: list[str] = []

    def execute(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def value(self, sql: str, params: Any = None) -> Any:
        rows = self.execute(sql, params)
        return rows[0][0] if rows else None

    def role(self, name: str, options: str = "LOGIN") -> str:
        """Create a cluster-wide role that is dropped when the test ends."""
        self.execute(f'DROP ROLE IF EXISTS "{name}"')
        self.execute(f'CREATE ROLE "{name}" {options}')
        self._roles.append(name)
        return name

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        """An extra connection (closed at teardown), e.g. to hold a transaction open."""
        conn = psycopg.connect(self.url, **kwargs)
        self._extra.append(conn)
        return conn

    def alter_system(self, name: str, value: str) -> None:
        """ALTER SYSTEM + reload; reset at teardown. Only for settings that need no restart."""
        self.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        self.execute("SELECT pg_reload_conf()")
        self._system_settings.append(name)
        _wait_for_reload(self)

    def analyze(self) -> None:
        self.execute("ANALYZE")

    def snapshot(self, **kwargs: Any) -> Snapshot:
        return take_snapshot(self.url, **kwargs)

    def review(self, *codes: str, **kwargs: Any) -> Review:
        server_memory = kwargs.pop("server_memory_bytes", None)
        snap = self.snapshot(server_memory_bytes=server_memory)
        return run_review(snap, codes=codes or None, **kwargs)

    def findings(self, code: str, **kwargs: Any) -> list:
        return self.review(code, **kwargs).by_code(code)

    def close(self) -> None:
        for conn in self._extra:
            conn.close()
        for name in self._system_settings:
            self.execute(f"ALTER SYSTEM RESET {name}")
        if self._system_settings:
            self.execute("SELECT pg_reload_conf()")
            _wait_for_reload(self)
        self.conn.close()
        with psycopg.connect(self.cluster.url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            for role in reversed(self._roles):
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def _wait_for_reload(db: PgDatabase) -> None:
    import time

    time.sleep(0.15)  # pg_reload_conf() signals the postmaster; sessions pick it up at once after


@pytest.fixture
def pg(cluster: Cluster) -> Iterator[PgDatabase]:
    name = f"t{next(_db_counter)}"
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    db = PgDatabase(cluster, name)
    try:
        yield db
    finally:
        db.close()


def codes(review: Review) -> set[str]:
    return review.codes


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the browser tests keep their screenshots (tests/browser.py); printed at the end of the run."""
    return browser.artifacts_dir("screenshots")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for folder in browser.ARTIFACT_FOLDERS:
        terminalreporter.write_line(f"browser screenshots kept in {folder}")
