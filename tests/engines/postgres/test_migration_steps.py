"""What the migration runner asks the server: its session, statements that name their place, rerun checks."""

from __future__ import annotations

import pytest

from dbwright.engines.postgres import migrations as engine
from dbwright.engines.postgres.failures import Failure, StatementFailed


def test_the_migration_session_is_writable_with_both_timeouts(pg):
    with engine.migration_session(pg.url, statement_timeout="7s", lock_timeout="300ms") as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "off"
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "7s"
        assert conn.execute("SHOW lock_timeout").fetchone()[0] == "300ms"
        assert conn.execute("SHOW application_name").fetchone()[0] == "dbwright migrate"
        assert engine.server_version(conn) == conn.info.server_version
        assert engine.search_path(conn) == ["public"]
        engine.set_timeouts(conn, lock_timeout="1s", statement_timeout="2s", local=False)
        assert conn.execute("SHOW lock_timeout").fetchone()[0] == "1s"


def test_a_failed_statement_names_its_place(pg):
    with pytest.raises(StatementFailed) as raised:
        engine.execute(pg.conn, "CREATE TABLE t (id nosuchtype)", "V1__t.sql:3")
    assert raised.value.where == "V1__t.sql:3"
    assert raised.value.failure is Failure.REFUSED
    assert raised.value.message == 'type "nosuchtype" does not exist'


def test_rerun_checks_see_an_invalid_index_and_clear_it(pg):
    pg.execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1), (1)")
    with pytest.raises(StatementFailed):
        engine.execute(pg.conn, "CREATE UNIQUE INDEX CONCURRENTLY t_id ON t (id)", "V1__t.sql:1")
    assert engine.index_state(pg.conn, None, "t", "t_id") == ("public.t_id", False)
    assert engine.index_state(pg.conn, "public", "t", "missing") is None
    assert engine.relation_exists(pg.conn, "t_id")
    engine.drop_index_concurrently(pg.conn, "public.t_id")
    assert not engine.relation_exists(pg.conn, "public.t_id")
