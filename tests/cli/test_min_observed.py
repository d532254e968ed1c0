"""`review --min-observed DAYS` and `fix --min-observed DAYS`: how long DW203 waits before it calls an
index unused, passed through the API to the check."""

import json

import pytest

from dbwright import api
from dbwright.errors import InvalidArgumentError
from tests.cli.test_cli_errors import assert_clean_failure, run_cli


def _idle_index(pg):
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, a int)")
    pg.execute("CREATE INDEX t_a_idx ON t (a)")
    pg.execute("INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g")
    pg.analyze()
    pg.execute("SELECT * FROM t WHERE id = 5")
    pg.execute("SELECT pg_stat_force_next_flush()")
    pg.execute("SELECT 1")


def _dw203(result) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return [f for f in json.loads(result.stdout)["findings"] if f["code"] == "DW203"]


def test_min_observed_option(pg, tmp_path):
    _idle_index(pg)
    # The test server started minutes ago: by default, one informational finding.
    default = _dw203(run_cli("review", pg.url, "--check", "DW203", "--format", "json"))
    assert [(f["object"], f["severity"]) for f in default] == [(pg.name, "info")]
    now = _dw203(run_cli("review", pg.url, "--check", "DW203", "--format", "json", "--min-observed", "0"))
    assert [(f["object"], f["severity"]) for f in now] == [("public.t_a_idx", "low")]
    out = tmp_path / "m.sql"
    assert run_cli("fix", pg.url, "DW203", "--out", str(out), "--min-observed", "0").returncode == 0
    assert "DROP INDEX CONCURRENTLY IF EXISTS public.t_a_idx;" in out.read_text()
    assert run_cli("fix", pg.url, "DW203", "--out", str(tmp_path / "none.sql")).returncode == 0
    assert not (tmp_path / "none.sql").exists()  # nothing to drop yet


def test_only_checks_that_declare_the_option_receive_it(pg):
    _idle_index(pg)
    result = api.review(pg.url, min_observed_days=0)  # every check runs; only DW203 reads it
    assert [c.code for c in result.ran if c.options] == ["DW203"]
    assert "public.t_a_idx" in {f.object for f in result.by_code("DW203")}


def test_negative_min_observed_refused(pg):
    with pytest.raises(InvalidArgumentError):
        api.review(pg.url, codes=["DW203"], min_observed_days=-1)
    # Refused before any connection: the target does not even exist.
    missing = pg.url.rsplit("/", 1)[0] + "/no_such_database"
    assert_clean_failure(run_cli("review", missing, "--min-observed", "-1"), 22, "min_observed_days")
    assert_clean_failure(run_cli("fix", missing, "DW203", "--min-observed", "-1"), 22, "min_observed_days")


def test_advise_indexes_min_observed(pg):
    pg.execute("CREATE EXTENSION hypopg")
    _idle_index(pg)
    sql = "SELECT * FROM t WHERE id = 5"
    default = run_cli("advise", "indexes", pg.url, "--query", sql, "--format", "json")
    assert default.returncode == 0, default.stderr
    assert not [d for d in json.loads(default.stdout)["drops"] if d["reason"] == "unused"]
    now = run_cli("advise", "indexes", pg.url, "--query", sql, "--format", "json", "--min-observed", "0")
    assert now.returncode == 0, now.stderr
    drops = json.loads(now.stdout)["drops"]
    assert [d for d in drops if d["reason"] == "unused"], drops


def test_advise_indexes_negative_min_observed_refused(pg):
    with pytest.raises(InvalidArgumentError):
        api.advise_indexes(pg.url, query="SELECT 1", min_observed_days=-1)
    missing = pg.url.rsplit("/", 1)[0] + "/no_such_database"
    assert_clean_failure(
        run_cli("advise", "indexes", missing, "--min-observed", "-1"), 22, "min_observed_days"
    )
