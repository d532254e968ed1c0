"""`advise indexes --verify`: real builds on a scratch copy (or, with --yes, the target), measured
before and after on a real PostgreSQL 15; writing statements are never run."""

from __future__ import annotations

import json

import psycopg
import pytest

from dbwright.advisors.indexes import advise_indexes
from dbwright.advisors.indexes.verify import render_with_advice, verify_advice
from dbwright.advisors.indexes.workload import from_sql_text
from dbwright.cli import main
from dbwright.engines.postgres.index_verify import scratch_databases
from dbwright.errors import RefusedError
from dbwright.output import render

WORKLOAD = (
    "SELECT c FROM t WHERE b = $1;\nDELETE FROM t WHERE a = $1;\nSELECT c FROM t WHERE b = 7 FOR UPDATE;\n"
)


def _setup(pg) -> None:
    pg.execute("CREATE EXTENSION hypopg")
    pg.execute("CREATE TABLE t(id int PRIMARY KEY, a int, b int, c text)")
    pg.execute("INSERT INTO t SELECT g, g % 1000, g % 5000, md5(g::text) FROM generate_series(1, 100000) g")
    pg.analyze()


def _advice(pg):
    return advise_indexes(pg.url, workload=from_sql_text(WORKLOAD, "test"), budget="50MB")


def _disconnect(pg) -> None:
    """CREATE DATABASE … TEMPLATE needs the template to have no other sessions, the fixture's included."""
    pg.conn.close()


def _reconnect(pg) -> None:
    pg.conn = psycopg.connect(pg.url, autocommit=True)


def test_scratch_verification_measures_a_real_speedup_and_drops_the_copy(pg):
    _setup(pg)
    advice = _advice(pg)
    assert any(r.spec.keys[0] == "b" for r in advice.recommendations), [
        r.spec.label for r in advice.recommendations
    ]
    _disconnect(pg)
    try:
        v = verify_advice(pg.url, advice, scratch=True)
        assert scratch_databases(pg.url) == []
    finally:
        _reconnect(pg)
    [m] = v.measurements  # the read-only SELECT; the DELETE and the FOR UPDATE were refused, not run
    assert m.sql == "SELECT c FROM t WHERE b = $1"
    assert len(m.runs_before_ms) == 3 and len(m.runs_after_ms) == 3
    assert m.measured_speedup > 5, m.to_dict()
    assert m.estimated_speedup > 5 and any(name.startswith("t_b") for name in m.indexes_after)
    assert {r["sql"].split()[0] for r in v.refused} == {"DELETE", "SELECT"}
    assert all(r["reason"].startswith("not run: ") for r in v.refused)
    built = v.built[0]
    assert built.real_bytes > 0 and abs(built.estimated_bytes / built.real_bytes - 1) < 0.2
    assert pg.value("SELECT count(*) FROM t") == 100_000  # nothing was deleted
    for format in ("text", "markdown", "html"):
        shown = render_with_advice(render(advice, format), advice, v, format)
        assert "Verification" in shown and "not run: DELETE writes" in shown and f"{m.after_ms:,.3f}" in shown
    assert pg.value("SELECT count(*) FROM pg_indexes WHERE tablename = 't'") == 1  # the target is untouched


def test_scratch_refused_while_others_are_connected_and_nothing_left(pg):
    _setup(pg)
    advice = _advice(pg)
    with pytest.raises(RefusedError, match=r"1 other session\(s\) are connected"):
        verify_advice(pg.url, advice, scratch=True)
    assert scratch_databases(pg.url) == []


def test_target_verification_needs_explicit_yes(pg, capsys, tmp_path):
    _setup(pg)
    advice = _advice(pg)
    with pytest.raises(RefusedError, match="--yes"):
        verify_advice(pg.url, advice, scratch=False)
    workload = tmp_path / "w.sql"
    workload.write_text(WORKLOAD)
    assert main(["advise", "indexes", pg.url, "--workload-file", str(workload), "--verify"]) == 17
    err = capsys.readouterr().err
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_b" in err and err.strip().splitlines()[-1].startswith(
        f"dbwright: error: verifying on the target builds {len(advice.recommendations)} index(es)"
    )
    assert pg.value("SELECT count(*) FROM pg_indexes WHERE tablename = 't'") == 1
    v = verify_advice(pg.url, advice, scratch=False, confirmed=True, runs=1)
    assert v.where == "target" and v.measurements[0].measured_speedup > 5
    assert pg.value("SELECT count(*) FROM pg_indexes WHERE tablename = 't' AND indexname LIKE 't_b%'") == 1
    assert pg.value("SELECT count(*) FROM pg_index WHERE NOT indisvalid") == 0


def test_workload_of_only_writes_is_refused(pg):
    _setup(pg)
    pg.execute("CREATE INDEX ON t (b)")
    advice = advise_indexes(
        pg.url, workload=from_sql_text("UPDATE t SET c = 'x' WHERE a = $1", "test"), budget="50MB"
    )
    assert advice.recommendations
    with pytest.raises(RefusedError, match="no read-only statement"):
        verify_advice(pg.url, advice, scratch=True)
    assert pg.value("SELECT count(*) FROM t WHERE c = 'x'") == 0 and scratch_databases(pg.url) == []


def test_cli_verify_scratch_json(pg, capsys, tmp_path):
    _setup(pg)
    workload = tmp_path / "w.sql"
    workload.write_text("SELECT c FROM t WHERE b = $1;\n")
    _disconnect(pg)
    try:
        code = main(
            [
                "advise",
                "indexes",
                pg.url,
                "--workload-file",
                str(workload),
                "--budget",
                "50MB",
                "--verify",
                "--scratch",
                "--format",
                "json",
            ]
        )
    finally:
        _reconnect(pg)
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    verification = document["verification"]
    assert verification["where"].startswith("scratch copy dbwright_scratch_")
    assert verification["measurements"][0]["measured_speedup"] > 5
    assert main(["advise", "indexes", pg.url, "--query", "SELECT 1", "--scratch"]) == 2
