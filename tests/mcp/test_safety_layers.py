"""Each server-side layer holds on its own, with the parse check out of the way.

These call the guarded session directly with SQL the parse check would have refused, to show
that the server itself still refuses: the extended protocol takes one statement, the
transaction is read-only and cannot be made writable, and it is always rolled back.
"""

from __future__ import annotations

import psycopg
import pytest

from dbwright.engines.postgres.readonly_sql import ReadOnlyTransaction, run_statement
from dbwright.errors import RefusedError, ServerError, SqlParseError
from dbwright.mcp.safety import Limits, check_statement, guarded_query, open_guarded

CAPS = {"max_rows": Limits().max_rows, "max_bytes": Limits().max_bytes}


def run_unchecked(url: str, sql: str) -> None:
    with open_guarded(url, Limits()) as conn, ReadOnlyTransaction(conn):
        run_statement(conn, sql, **CAPS)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; DELETE FROM canary",
        "SELECT 1; COMMIT; DROP TABLE canary",
        "COMMIT; DROP TABLE canary",
    ],
)
def test_extended_protocol_refuses_a_second_statement(fresh_canary, sql):
    with pytest.raises(ServerError, match="cannot insert multiple commands"):
        run_unchecked(fresh_canary.url, sql)
    fresh_canary.assert_intact()


def test_transaction_cannot_be_made_writable(fresh_canary):
    with pytest.raises(ServerError, match="transaction read-write mode must be set before any query"):
        run_unchecked(fresh_canary.url, "SET transaction_read_only = off")
    fresh_canary.assert_intact()


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM canary",
        "SELECT nextval('canary_seq')",
        "CREATE TEMP TABLE scratch (x int)",
        "WITH d AS (DELETE FROM canary RETURNING 1) SELECT * FROM d",
    ],
)
def test_read_only_transaction_refuses_writes(fresh_canary, sql):
    with pytest.raises(ServerError, match="read-only transaction"):
        run_unchecked(fresh_canary.url, sql)
    fresh_canary.assert_intact()


def test_every_call_is_rolled_back(pg):
    """lo_creat() and set_config() work inside a read-only transaction (hence the deny-list); the
    rollback that ends every call still undoes them."""
    with open_guarded(pg.url, Limits()) as conn:
        with ReadOnlyTransaction(conn):
            oid = run_statement(conn, "SELECT lo_creat(-1)", **CAPS).rows[0][0]
            run_statement(conn, "SELECT set_config('search_path', 'nowhere', false)", **CAPS)
            assert conn.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone()[0] == 1
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert (
            conn.execute("SELECT count(*) FROM pg_largeobject_metadata WHERE oid = %s", (oid,)).fetchone()[0]
            == 0
        )
        assert conn.execute("SHOW search_path").fetchone()[0] != "nowhere"


def test_session_settings_are_server_side(pg):
    limits = Limits(statement_timeout_ms=1234, lock_timeout_ms=567, idle_in_transaction_ms=8910)
    with open_guarded(pg.url, limits) as conn:
        shown = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('statement_timeout', 'lock_timeout', "
                "'idle_in_transaction_session_timeout', 'default_transaction_read_only')"
            ).fetchall()
        )
        app = conn.execute("SELECT current_setting('application_name')").fetchone()[0]
    assert shown == {
        "statement_timeout": "1234",
        "lock_timeout": "567",
        "idle_in_transaction_session_timeout": "8910",
        "default_transaction_read_only": "on",
    }
    assert app == "dbwright-mcp"


def test_parse_check_needs_exactly_one_statement():
    with pytest.raises(RefusedError, match="got 2"):
        check_statement("SELECT 1; SELECT 2")
    with pytest.raises(SqlParseError):
        check_statement("SELECT FROM WHERE (")


def test_allowed_reads_still_work(pg):
    pg.execute(
        "CREATE TABLE t (id int, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 5) g"
    )
    result = guarded_query(
        pg.url,
        "WITH x AS (SELECT * FROM t WHERE id > 2) SELECT id, upper(v), random() < 2 AS r, "
        "now() IS NOT NULL AS n FROM x ORDER BY id",
        Limits(),
    )
    assert result.columns == ["id", "upper", "r", "n"]
    assert result.rows == [[3, "V3", True, True], [4, "V4", True, True], [5, "V5", True, True]]
    assert not result.truncated
