"""A battery of attempts to make the read-only tools write, read files or escape their limits.

Each runs through the SDK's in-memory client session against a real PostgreSQL 15 as the
superuser (who could do all of it), and ends by checking that the canary rows, sequence,
large objects and a schema-only dump are unchanged.
"""

from __future__ import annotations

import pytest

from dbwright.mcp import build_server
from tests.mcp.conftest import call, text_of

STACKED = [
    "SELECT 1; DROP TABLE canary",
    "SELECT 1; COMMIT; DROP TABLE canary",
    "COMMIT; DROP TABLE canary",
    "ROLLBACK; DELETE FROM canary",
    "END; DELETE FROM canary",
    "SELECT 1 /* ; */ ; DELETE FROM canary",
    "SELECT 1 -- a comment\n; DELETE FROM canary",
    "/* COMMIT */ SELECT 1; END; TRUNCATE canary",
    "select 1;\n\n-- ok\nupdate canary set note = 'x'",
]
QUOTING = [
    "SELECT $$;$$; DELETE FROM canary",
    "SELECT $tag$ ' $tag$; DELETE FROM canary; --",
    "SELECT '\\'; DELETE FROM canary; --'",
    "SELECT E'\\\\'; DELETE FROM canary; --'",
    "SELECT U&'\\0041'; DELETE FROM canary",
]
WRITES = [
    "DELETE FROM canary",
    "DROP TABLE canary",
    "TRUNCATE canary",
    "UPDATE canary SET note = 'x'",
    "INSERT INTO canary VALUES (99, 'x')",
    "MERGE INTO canary c USING (SELECT 1 AS id) s ON c.id = s.id WHEN MATCHED THEN DELETE",
    "VACUUM canary",
    "LOCK TABLE canary",
    "DO $$BEGIN DELETE FROM canary; END$$",
    "PREPARE p AS DELETE FROM canary",
    "EXPLAIN ANALYZE DELETE FROM canary",
    "ALTER TABLE canary ADD COLUMN x int",
]
WRITABLE_CTES = [
    "WITH d AS (DELETE FROM canary RETURNING *) SELECT * FROM d",
    "WITH a AS (SELECT 1), d AS (INSERT INTO canary VALUES (100, 'x') RETURNING 1) SELECT * FROM a",
    "WITH RECURSIVE r AS (SELECT 1), u AS (UPDATE canary SET note = 'y' RETURNING 1) SELECT 1",
    "SELECT * FROM (WITH d AS (UPDATE canary SET note = 'y' RETURNING 1) SELECT * FROM d) s",
]
FUNCTIONS_IN_FROM = [
    "SELECT * FROM pg_read_file('/etc/passwd')",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT * FROM pg_catalog.pg_read_binary_file('/etc/passwd')",
    "SELECT * FROM pg_ls_dir('.')",
    "SELECT * FROM ROWS FROM (generate_series(1, 2), pg_ls_dir('.'))",
    "SELECT (SELECT size FROM pg_stat_file('postgresql.conf'))",
    "SELECT * FROM canary WHERE id IN (SELECT length(pg_read_file('/etc/hostname')))",
    "SELECT * FROM LATERAL pg_ls_waldir()",
    "SELECT * FROM \"pg_read_file\"('/etc/passwd')",
    "VALUES (pg_read_file('/etc/passwd'))",
    "SELECT id FROM canary ORDER BY pg_read_file('/etc/passwd')",
    "SELECT array[pg_ls_dir('.')]::text[]",
    "SELECT count(*) FILTER (WHERE pg_read_file('/etc/passwd') IS NULL) FROM canary",
    "SELECT 1 FROM canary GROUP BY id HAVING max(pg_stat_file('.')::text) > ''",
]
LARGE_OBJECTS = [
    "SELECT lo_import('/etc/passwd')",
    "SELECT * FROM lo_import('/etc/passwd')",
    "SELECT lo_export(0, '/tmp/dbwright-mcp-x')",
    "SELECT lo_creat(-1)",
    "SELECT loread(lo_open(0, 262144), 10)",
    "SELECT 1 FROM canary WHERE 1 = ANY (SELECT lo_unlink(1))",
]
DBLINK = [
    "SELECT * FROM dblink('dbname=postgres', 'DROP TABLE canary') AS t(x text)",
    "SELECT dblink_exec('dbname=postgres', 'DROP TABLE canary')",
    "SELECT dblink_connect('c', 'dbname=postgres')",
]
SETTINGS = [
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT set_config('transaction_read_only', 'off', true)",
    "SELECT * FROM set_config('search_path', 'evil', false)",
    "SET transaction_read_only = off",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "RESET ALL",
]
COPY = [
    "COPY canary TO '/tmp/dbwright-mcp-canary.csv'",
    "COPY canary TO PROGRAM 'touch /tmp/dbwright-mcp-pwned'",
    "COPY (SELECT 1) TO STDOUT",
    "COPY canary FROM '/etc/passwd'",
]
TABLES_AND_LOCKS = [
    "SELECT * INTO canary_copy FROM canary",
    "SELECT * INTO TEMP t FROM canary",
    "CREATE TEMP TABLE t AS SELECT 1",
    "CREATE TEMPORARY TABLE t (x int)",
    "SELECT * FROM pg_temp.t",
    "SELECT * FROM canary FOR UPDATE",
    "SELECT * FROM (SELECT * FROM canary FOR SHARE) s",
    "SELECT * FROM canary FOR NO KEY UPDATE SKIP LOCKED",
    "SELECT pg_advisory_lock(42)",
    "SELECT pg_try_advisory_xact_lock(42)",
]
SERVER_CONTROL_AND_VOLATILE = [
    "SELECT nextval('canary_seq')",
    "SELECT setval('canary_seq', 1000)",
    "SELECT pg_terminate_backend(pg_backend_pid())",
    "SELECT pg_cancel_backend(1)",
    "SELECT pg_import_system_collations('pg_catalog')",
    "SELECT query_to_xml('DELETE FROM canary RETURNING 1', true, true, '')",
    "SELECT mcp_evil()",
    "SELECT public.random()",
    "SELECT * FROM mcp_evil()",
    "SELECT pg_sleep(0)",
    "SELECT pg_reload_conf()",
    "SELECT pg_notify('c', 'x')",
]
NOT_SQL = ["SELEC * FROM canary", "", "   ", "SELECT (", "CALL nothing()"]

ATTEMPTS = (
    STACKED
    + QUOTING
    + WRITES
    + WRITABLE_CTES
    + FUNCTIONS_IN_FROM
    + LARGE_OBJECTS
    + DBLINK
    + SETTINGS
    + COPY
    + TABLES_AND_LOCKS
    + SERVER_CONTROL_AND_VOLATILE
    + NOT_SQL
)

EXPLAIN_ATTEMPTS = [
    ("DELETE FROM canary", True),
    ("SELECT 1; DROP TABLE canary", False),
    ("WITH d AS (DELETE FROM canary RETURNING 1) SELECT * FROM d", True),
    ("SELECT pg_read_file('/etc/passwd')", True),
    ("SELECT * FROM pg_ls_dir('.')", False),
    ("SELECT nextval('canary_seq')", True),
    ("COMMIT; DELETE FROM canary", False),
]


def test_battery_is_large_enough():
    assert len(ATTEMPTS) >= 40
    assert len(set(ATTEMPTS)) == len(ATTEMPTS)


@pytest.fixture(scope="module")
def server(canary):
    return build_server(canary.url)


@pytest.mark.parametrize("sql", ATTEMPTS)
def test_query_bypass_refused(server, canary, sql):
    result = call(server, "query", {"sql": sql})
    assert result.isError, f"not refused: {sql!r} -> {text_of(result)}"
    assert result.structuredContent["error"]["kind"] in ("RefusedError", "SqlParseError", "ServerError")
    canary.assert_intact()


@pytest.mark.parametrize(("sql", "analyze"), EXPLAIN_ATTEMPTS)
def test_explain_bypass_refused(server, canary, sql, analyze):
    result = call(server, "explain", {"sql": sql, "analyze": analyze})
    assert result.isError, f"not refused: {sql!r} -> {text_of(result)}"
    canary.assert_intact()


def test_refusal_names_the_reason(server):
    assert "volatile" in text_of(call(server, "query", {"sql": "SELECT nextval('canary_seq')"}))
    assert "pg_read_file" in text_of(
        call(server, "query", {"sql": "SELECT * FROM pg_read_file('/etc/passwd')"})
    )
    assert "exactly one statement" in text_of(
        call(server, "query", {"sql": "SELECT 1; COMMIT; DROP TABLE canary"})
    )
    assert "writable CTE" in text_of(
        call(server, "query", {"sql": "WITH d AS (DELETE FROM canary RETURNING *) SELECT * FROM d"})
    )
    assert "does not parse" in text_of(call(server, "query", {"sql": "SELEC * FROM canary"}))
