"""Sessions: read-only by construction, with timeouts and application_name set."""

import psycopg
import pytest

from dbwright.engines.postgres.connect import describe_target, open_session, resolve_target
from dbwright.errors import BadTargetError


def test_review_session_cannot_write(pg):
    pg.execute("CREATE TABLE canary (id int)")
    with open_session(pg.url) as conn:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO canary VALUES (1)")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE sneaky (id int)")
    assert pg.value("SELECT count(*) FROM canary") == 0
    assert pg.value("SELECT to_regclass('public.sneaky')") is None


def test_review_session_settings(pg):
    with open_session(pg.url) as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('default_transaction_read_only', 'statement_timeout', 'lock_timeout', 'application_name')"
            ).fetchall()
        )
    assert settings == {
        "default_transaction_read_only": "on",
        "statement_timeout": "30000",
        "lock_timeout": "2000",
        "application_name": "dbwright",
    }


def test_targets_are_resolved(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://envuser@envhost/envdb")
    assert resolve_target(None) == "postgresql://envuser@envhost/envdb"
    assert resolve_target("service=prod") == "service=prod"
    assert resolve_target("appdb") == "dbname=appdb"
    with pytest.raises(BadTargetError):
        resolve_target("mysql://root@localhost/x")


def test_describe_target_hides_password():
    text = describe_target("postgresql://alice:Sup3rSecret@db.example:6543/shop")
    assert text == "shop on db.example:6543"
    assert "Sup3rSecret" not in text
