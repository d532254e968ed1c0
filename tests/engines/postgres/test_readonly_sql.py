"""The catalog half of the guarded query path; the session layers are tested in tests/mcp."""

from __future__ import annotations

import psycopg
import pytest

from dbwright.engines.postgres.connect import open_session
from dbwright.engines.postgres.readonly_sql import as_server_error, volatile_functions


def test_volatile_functions_are_allow_listed_only_in_pg_catalog(pg):
    called = ["lower", "pg_catalog.random", "nextval"]
    with open_session(pg.url) as conn:
        assert volatile_functions(conn, called, ["random"]) == ["nextval"]
    # A user function of the same name is not the built-in one the allow-list means.
    pg.execute("CREATE FUNCTION public.random() RETURNS float8 VOLATILE LANGUAGE sql AS 'SELECT 4'")
    with open_session(pg.url) as conn:
        assert volatile_functions(conn, called, ["random"]) == ["nextval", "random"]


def test_a_driver_error_that_escaped_becomes_one_server_line(pg):
    with pytest.raises(psycopg.Error) as raised:
        pg.execute("SELECT * FROM missing")
    assert as_server_error(raised.value).message == 'relation "missing" does not exist'
    assert as_server_error(ValueError("a bug")) is None
