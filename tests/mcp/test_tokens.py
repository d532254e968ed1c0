"""Plan tokens bind an approval to exact statements, for one server process."""

from __future__ import annotations

import pytest

from dbwright.errors import RefusedError
from dbwright.mcp.tokens import PlanTokens
from dbwright.mcp.tools import change_statements

PG15 = 150000
SQL = "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY i ON t (a);"


def test_same_statements_same_token_any_one_character_differs():
    tokens = PlanTokens(b"k" * 32)
    token = tokens.issue(change_statements(SQL, server_version=PG15))
    assert token == tokens.issue(change_statements(SQL, server_version=PG15))
    tokens.verify(token, change_statements(SQL, server_version=PG15))
    for changed in (SQL.replace("(a)", "(b)"), SQL.replace("5s", "6s"), SQL + "\nDROP TABLE t;"):
        with pytest.raises(RefusedError, match="does not match"):
            tokens.verify(token, change_statements(changed, server_version=PG15))
    with pytest.raises(RefusedError):
        tokens.verify(
            token, change_statements(SQL, down_sql="DROP INDEX CONCURRENTLY i;", server_version=PG15)
        )


def test_tokens_are_keyed_per_server():
    statements = change_statements(SQL, server_version=PG15)
    assert PlanTokens().issue(statements) != PlanTokens().issue(statements)


def test_statements_carry_step_and_transaction_mode():
    up = [s for s in change_statements(SQL, server_version=PG15) if s[0] == "up"]
    assert up == [
        ["up", 1, True, "SET lock_timeout = '5s'"],
        ["up", 2, False, "CREATE INDEX CONCURRENTLY i ON t (a)"],
    ]


def test_empty_change_refused():
    with pytest.raises(RefusedError, match="no statements"):
        change_statements("-- nothing here\n", server_version=PG15)
