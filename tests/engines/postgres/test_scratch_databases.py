"""Scratch databases: created empty on the target's server, loaded statement by statement, always dropped."""

from __future__ import annotations

import pytest

from dbwright.engines.postgres.scratch import SCRATCH_PREFIX, load_statements, scratch_database, server_errors
from dbwright.errors import InputFileError, PrivilegeError, ServerError


def _scratch_databases(pg) -> int:
    return pg.value("SELECT count(*) FROM pg_database WHERE datname LIKE %s", (SCRATCH_PREFIX + "%",))


def test_a_scratch_database_is_loaded_and_dropped_even_after_a_failure(pg):
    missing = r"^schema.sql:7: relation \"missing\" does not exist"
    with pytest.raises(InputFileError, match=missing), scratch_database(pg.url) as scratch:
        assert _scratch_databases(pg) == 1
        load_statements(
            scratch, [("CREATE TABLE t (id int)", 1), ("CREATE INDEX ON missing (id)", 7)], "schema.sql"
        )
    assert _scratch_databases(pg) == 0


def test_a_role_without_createdb_is_told_what_it_needs(pg):
    role = pg.role("scratch_nocreatedb", "LOGIN")
    with (
        pytest.raises(PrivilegeError, match="needs CREATEDB"),
        scratch_database(pg.url.replace("postgres@", f"{role}@", 1)),
    ):
        pass


def test_other_driver_errors_are_one_server_error_line(pg):
    with (
        pytest.raises(ServerError, match="^scratch database: UndefinedTable: relation"),
        server_errors("scratch database"),
    ):
        pg.conn.execute("SELECT * FROM missing")
