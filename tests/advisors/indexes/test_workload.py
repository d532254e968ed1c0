"""Workload sources: SQL files, server logs in three formats, one query, pg_stat_statements."""

from __future__ import annotations

import json

import pytest

from dbwright.advisors.indexes import workload as wl
from dbwright.errors import SqlParseError

STDERR_LOG = """\
2024-05-01 10:00:00.123 UTC [811] LOG:  duration: 12.500 ms  statement: SELECT * FROM users WHERE id = 1
2024-05-01 10:00:01.000 UTC [811] LOG:  duration: 7.500 ms  statement: SELECT *
\tFROM users WHERE id = 2
2024-05-01 10:00:02.000 UTC [812] LOG:  duration: 3.000 ms  execute <unnamed>: SELECT id FROM orders WHERE user_id = $1
2024-05-01 10:00:02.000 UTC [812] DETAIL:  parameters: $1 = '5'
2024-05-01 10:00:03.000 UTC [812] LOG:  checkpoint starting: time
"""


def test_stderr_log_groups_same_statement_and_adds_durations():
    load = wl.from_log_text(STDERR_LOG)
    by_sql = {q.sql.split()[0:4][-1]: q for q in load.queries}
    users = next(q for q in load.queries if "users" in q.sql)
    assert users.calls == 2 and users.total_ms == pytest.approx(20.0)
    orders = next(q for q in load.queries if "orders" in q.sql)
    assert orders.has_parameters and orders.total_ms == pytest.approx(3.0)
    assert len(load.queries) == 2, by_sql


def test_csvlog_and_jsonlog_are_read():
    csv_line = (
        '2024-05-01 10:00:00.123 UTC,"app","shop",811,"[local]",663,1,"SELECT",2024-05-01 10:00:00 UTC,'
        "3/4,0,LOG,00000,\"duration: 4.000 ms  statement: SELECT * FROM orders WHERE status = 'open'\","
        ',,,,,,,,"psql","client backend",,0\n'
    )
    load = wl.from_log_text(csv_line)
    assert [q.total_ms for q in load.queries] == [4.0]
    json_line = json.dumps(
        {
            "timestamp": "2024-05-01 10:00:00.123 UTC",
            "pid": 811,
            "error_severity": "LOG",
            "message": "duration: 9.250 ms  statement: SELECT count(*) FROM orders",
        }
    )
    load = wl.from_log_text(json_line + "\n" + json_line + "\n")
    assert load.queries[0].calls == 2 and load.queries[0].total_ms == pytest.approx(18.5)


def test_sql_text_skips_ddl_and_counts_repeats():
    load = wl.from_sql_text(
        "CREATE TABLE x(a int); SELECT * FROM t WHERE a = 1; SELECT * FROM t WHERE a = 1;"
        "INSERT INTO t VALUES (1)",
        "file:w.sql",
    )
    assert [q.calls for q in load.queries] == [2]
    reasons = " ".join(s.reason for s in load.skipped)
    assert "CreateStmt" in reasons and "INSERT" in reasons


def test_filters_by_calls_and_time():
    load = wl.from_log_text(STDERR_LOG).filtered(min_calls=2)
    assert [q.calls for q in load.queries] == [2]
    assert wl.from_log_text(STDERR_LOG).filtered(min_time_ms=10).queries[0].total_ms == pytest.approx(20.0)


def test_single_query_must_parse():
    with pytest.raises(SqlParseError):
        wl.from_query("SELEC 1")
    with pytest.raises(SqlParseError):
        wl.from_query("SELECT 1; DROP TABLE t")
