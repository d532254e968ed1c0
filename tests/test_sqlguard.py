"""The one read-only guard shared by the MCP tools and explain --analyze."""

from __future__ import annotations

import re

import pytest
from pglast import ast

from dbwright import sqlguard
from dbwright.advisors.explain import explain_query
from dbwright.errors import RefusedError, SqlParseError
from dbwright.mcp.safety import check_statement


def test_walk_is_in_statement_order_and_reaches_deep_nodes():
    top = sqlguard.parse_one("SELECT a(), b() FROM c() WHERE d() > 0")
    assert [sqlguard.function_name(n) for n in sqlguard.walk(top) if isinstance(n, ast.FuncCall)] == [
        "a",
        "b",
        "c",
        "d",
    ]
    nested = sqlguard.parse_one("SELECT " + " + ".join(["1"] * 900))  # a left-deep tree 900 levels down
    assert sum(isinstance(n, ast.A_Expr) for n in sqlguard.walk(nested)) == 899


def test_several_statements_raise_the_callers_error_type():
    with pytest.raises(SqlParseError, match="got 2"):
        sqlguard.parse_one("SELECT 1; SELECT 2")
    with pytest.raises(RefusedError, match="got 2"):
        check_statement("SELECT 1; SELECT 2")
    assert sqlguard.first_refusal(sqlguard.parse_one("SELECT lower('A')")) is None


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT pg_sleep(0)", "pg_sleep() is not allowed"),
        ("SELECT set_config('work_mem', '1GB', false)", "set_config() is not allowed"),
        ("SELECT public.random()", "volatile function(s) random"),
    ],
)
def test_explain_analyze_uses_the_mcp_deny_list(pg, sql, reason):
    pg.execute(
        "CREATE TABLE t (id int); CREATE FUNCTION public.random() RETURNS int LANGUAGE sql VOLATILE "
        "AS 'INSERT INTO t VALUES (1) RETURNING 1'"
    )
    with pytest.raises(RefusedError, match=re.escape(reason)):
        explain_query(pg.url, sql, analyze=True, suggest=False)
    assert pg.value("SELECT count(*) FROM t") == 0
