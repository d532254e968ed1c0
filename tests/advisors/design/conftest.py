"""A copy of the test database, for applying design packages without touching the reviewed one."""

from __future__ import annotations

import psycopg
import pytest


@pytest.fixture
def copy_of(pg):
    """Returns a function that copies the test database (CREATE DATABASE … TEMPLATE) and gives its URL."""
    made = []

    def make() -> str:
        name = f"{pg.name}_copy"
        pg.conn.close()  # CREATE DATABASE … TEMPLATE needs the source to have no sessions
        with psycopg.connect(pg.cluster.url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg.name}"')
        pg.conn = psycopg.connect(pg.url, autocommit=True)
        made.append(name)
        return pg.cluster.url(name)

    yield make
    with psycopg.connect(pg.cluster.url("postgres"), autocommit=True) as admin:
        for name in made:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
