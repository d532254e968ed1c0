"""MCP test helpers: the SDK's in-memory client session against a real server, and canaries.

A canary database holds rows and a schema that no tool call may change; ``Canary.assert_intact``
compares the rows and a ``pg_dump --schema-only`` with what they were before.
"""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator
from typing import Any

import anyio
import psycopg
import pytest
from mcp.shared.memory import create_connected_server_and_client_session
from mcp.types import CallToolResult

from tests.pgcluster import PG_BIN, Cluster

_names = itertools.count()

WEIRD_TABLE = "x'); DROP TABLE canary;--"
WEIRD_COLUMN = 'a"b'

CANARY_SQL = f"""
CREATE TABLE canary (id int PRIMARY KEY, note text NOT NULL);
INSERT INTO canary VALUES (1, 'one'), (2, 'two'), (3, 'three');
CREATE SEQUENCE canary_seq;
CREATE TABLE "{WEIRD_TABLE.replace('"', '""')}" ("{WEIRD_COLUMN.replace('"', '""')}" int);
INSERT INTO "{WEIRD_TABLE.replace('"', '""')}" VALUES (7);
CREATE FUNCTION mcp_evil() RETURNS int LANGUAGE sql AS 'DELETE FROM canary RETURNING 1';
CREATE FUNCTION public.random() RETURNS int LANGUAGE sql AS 'DELETE FROM canary RETURNING 1';
CREATE FUNCTION looks_stable() RETURNS int LANGUAGE plpgsql STABLE AS 'BEGIN RETURN 1; END';
"""


def call(server: Any, tool: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
    """One tool call through the SDK's in-memory client session."""

    async def run() -> CallToolResult:
        async with create_connected_server_and_client_session(server) as client:
            return await client.call_tool(tool, arguments or {})

    return anyio.run(run)


def call_many(server: Any, calls: list[tuple[str, dict[str, Any]]]) -> list[CallToolResult]:
    async def run() -> list[CallToolResult]:
        async with create_connected_server_and_client_session(server) as client:
            return [await client.call_tool(tool, arguments) for tool, arguments in calls]

    return anyio.run(run)


def tool_list(server: Any) -> list[Any]:
    async def run() -> list[Any]:
        async with create_connected_server_and_client_session(server) as client:
            return (await client.list_tools()).tools

    return anyio.run(run)


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


class Canary:
    def __init__(self, cluster: Cluster, name: str) -> None:
        self.cluster = cluster
        self.name = name
        self.url = cluster.url(name)
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(CANARY_SQL)
        self.rows = self.read_rows()
        self.schema = self.dump()

    def read_rows(self) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute("SELECT * FROM canary ORDER BY id").fetchall()

    def dump(self) -> str:
        done = subprocess.run(
            [str(PG_BIN / "pg_dump"), "--schema-only", "--no-comments", self.url],
            capture_output=True,
            text=True,
            check=True,
        )
        # pg_dump 15.14+ brackets the dump with a random \restrict key; the schema is the rest.
        return "\n".join(
            line for line in done.stdout.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))
        )

    def assert_intact(self) -> None:
        assert self.read_rows() == self.rows
        assert self.dump() == self.schema
        with psycopg.connect(self.url, autocommit=True) as conn:
            assert conn.execute("SELECT last_value, is_called FROM canary_seq").fetchone() == (1, False)
            assert conn.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone()[0] == 0


def make_canary(cluster: Cluster) -> Iterator[Canary]:
    name = f"mcp_canary_{next(_names)}"
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield Canary(cluster, name)
    finally:
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def canary(cluster: Cluster) -> Iterator[Canary]:
    yield from make_canary(cluster)


@pytest.fixture
def fresh_canary(cluster: Cluster) -> Iterator[Canary]:
    yield from make_canary(cluster)
