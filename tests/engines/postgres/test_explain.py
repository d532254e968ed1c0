"""EXPLAIN on PostgreSQL: a generic plan for $n statements, rolled back, nothing left prepared."""

from __future__ import annotations

import pytest

from dbwright.engines.postgres.connect import open_session
from dbwright.engines.postgres.explain import PREPARED_NAME, explain_document
from dbwright.errors import ServerError, SqlParseError

OPTIONS = {"analyze": False, "verbose": False, "buffers": False, "timing": True}


def _table(pg) -> None:
    pg.execute("CREATE TABLE t(id int PRIMARY KEY, a int)")
    pg.execute("INSERT INTO t SELECT g, g % 5 FROM generate_series(1, 1000) g")
    pg.analyze()


def test_parameters_are_bound_from_pg_stats_and_the_statement_is_deallocated(pg):
    _table(pg)
    with open_session(pg.url) as conn:
        document, arguments = explain_document(
            conn, "SELECT id FROM t WHERE a = $1 AND id > $2", 2, {1: ("public.t", "a")}, **OPTIONS
        )
        assert document["Plan"]["Node Type"]
        assert arguments[0].endswith("::integer") and not arguments[0].startswith("NULL")
        assert arguments[1] == "NULL::integer"  # no column known for $2
        prepared = conn.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE name = %s", (PREPARED_NAME,)
        )
        assert prepared.fetchone()[0] == 0
        assert conn.execute("SHOW plan_cache_mode").fetchone()[0] == "auto"


def test_analyze_runs_in_a_read_only_transaction_that_is_rolled_back(pg):
    _table(pg)
    with open_session(pg.url) as conn:
        document, arguments = explain_document(
            conn, "SELECT count(*) FROM t", 0, {}, **OPTIONS | {"analyze": True}
        )
        assert document["Execution Time"] >= 0 and arguments == []
        assert conn.info.transaction_status == 0  # idle


def test_server_errors_become_dbwright_errors(pg):
    _table(pg)
    with open_session(pg.url) as conn:
        with pytest.raises(ServerError, match="EXPLAIN failed: .*no_such_table"):
            explain_document(conn, "SELECT * FROM no_such_table", 0, {}, **OPTIONS)
        with pytest.raises(SqlParseError, match="cannot parse"):
            explain_document(conn, "SELECT FROM WHERE", 0, {}, **OPTIONS)
        assert conn.execute("SELECT 1").fetchone() == (1,)
