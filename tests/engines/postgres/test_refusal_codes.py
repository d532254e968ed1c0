"""The SQLSTATE of a refused connection, read from the server through libpq's verbose error mode.

These run against the test cluster: each refusal's code is the one PostgreSQL documents, and
the classification holds with the English message patterns switched off, so it rests on the
code the server sent, not on the wording.
"""

from __future__ import annotations

import pytest

from dbwright.engines.postgres import errors
from dbwright.engines.postgres.engine import PostgresEngine
from dbwright.engines.postgres.refusal_codes import refusal_sqlstate
from dbwright.errors import AuthenticationError, DatabaseMissingError, PrivilegeError, UnreachableError
from tests.pgcluster import APP_PASSWORD, free_port

ENGINE = PostgresEngine()


def test_each_refusal_has_its_documented_code(pg):
    pg.role("app_user", f"LOGIN PASSWORD '{APP_PASSWORD}'")
    pg.role("outsider")
    pg.execute(f'REVOKE CONNECT ON DATABASE "{pg.name}" FROM PUBLIC')
    assert refusal_sqlstate(pg.cluster.url(pg.name, user="app_user", password="wrong", tcp=True)) == "28P01"
    assert refusal_sqlstate(pg.cluster.url(pg.name, user="nobody_here")) == "28000"
    assert refusal_sqlstate(pg.cluster.url("no_such_database")) == "3D000"
    assert refusal_sqlstate(pg.cluster.url(pg.name, user="outsider")) == "42501"


def test_no_code_when_nothing_answers_or_the_session_is_accepted(pg):
    assert refusal_sqlstate(f"postgresql://someone@127.0.0.1:{free_port()}/db") is None
    assert refusal_sqlstate(pg.url) is None


@pytest.fixture
def no_message_patterns(monkeypatch):
    """Classification with the English fallback patterns gone: only codes and driver facts decide."""
    monkeypatch.setattr(errors, "_SERVER_MESSAGES", ())


def _failure(conninfo: str) -> Exception:
    with pytest.raises(Exception) as raised:
        ENGINE.connect(conninfo).close()
    return raised.value


def test_classified_by_code_without_the_message_patterns(pg, no_message_patterns):
    pg.role("app_user", f"LOGIN PASSWORD '{APP_PASSWORD}'")
    pg.role("outsider")
    pg.execute(f'REVOKE CONNECT ON DATABASE "{pg.name}" FROM PUBLIC')
    wrong_password = _failure(pg.cluster.url(pg.name, user="app_user", password="wrong", tcp=True))
    assert isinstance(wrong_password, AuthenticationError) and wrong_password.exit_code == 12
    unknown_role = _failure(pg.cluster.url(pg.name, user="nobody_here"))
    assert isinstance(unknown_role, AuthenticationError)
    missing = _failure(pg.cluster.url("no_such_database"))
    assert isinstance(missing, DatabaseMissingError) and missing.exit_code == 13
    revoked = _failure(pg.cluster.url(pg.name, user="outsider"))
    assert isinstance(revoked, PrivilegeError) and revoked.exit_code == 15
    refused = _failure(f"postgresql://someone@127.0.0.1:{free_port()}/db")
    assert isinstance(refused, UnreachableError) and refused.exit_code == 11
