"""`dbwright explain` on small purpose-built tables on a real PostgreSQL 15: each annotation kind,
the read-only check behind --analyze, one-line errors, and what-if index suggestions."""

from __future__ import annotations

import json

import pytest

from dbwright.advisors.explain import Thresholds, explain_query
from dbwright.cli import main
from dbwright.engines.postgres.connect import open_session
from dbwright.errors import RefusedError, ServerError, SqlParseError
from dbwright.output import render


def _table(pg, name: str = "t", rows: int = 60_000, options: str = "") -> None:
    pg.execute(f"CREATE TABLE {name}(id int PRIMARY KEY, a int, b int, c text) {options}")
    pg.execute(
        f"INSERT INTO {name} SELECT g, g % 1000, g % 1000, md5(g::text) FROM generate_series(1, {rows}) g"
    )
    pg.execute("SELECT pg_stat_force_next_flush()")  # the insert's counters reach pg_stat before ANALYZE


def test_misestimate_from_correlated_predicate(pg):
    _table(pg)
    pg.analyze()
    e = explain_query(pg.url, "SELECT * FROM t WHERE a = 5 AND b = 5", analyze=True, suggest=False)
    [found] = e.by_kind("misestimate")
    assert found.evidence["plan_rows"] == 1 and found.evidence["actual_rows"] == 60
    assert found.evidence["direction"] == "under" and found.evidence["factor"] >= 10
    assert "stale_stats" not in e.kinds()


def test_estimate_right_is_not_flagged(pg):
    _table(pg)
    pg.analyze()
    e = explain_query(pg.url, "SELECT * FROM t WHERE a = 5", analyze=True, suggest=False)
    assert "misestimate" not in e.kinds()
    limited = explain_query(pg.url, "SELECT * FROM t ORDER BY c LIMIT 5", analyze=True, suggest=False)
    assert (
        "misestimate" not in limited.kinds()
    )  # the Sort below the Limit was stopped early, not misestimated


def test_large_seq_scan_flagged_and_small_one_not(pg):
    _table(pg)
    _table(pg, "small", rows=500)
    pg.analyze()
    e = explain_query(pg.url, "SELECT c FROM t WHERE a = 7", analyze=True, suggest=False)
    [scan] = e.by_kind("seq_scan")
    assert scan.evidence["table"] == "public.t" and scan.evidence["rows_removed"] == 59_940
    assert scan.evidence["rows_returned"] == 60
    small = explain_query(pg.url, "SELECT c FROM small WHERE a = 7", analyze=True, suggest=False)
    assert "seq_scan" not in small.kinds()


def test_sort_and_hash_spills_to_disk(pg):
    _table(pg, rows=20_000)
    pg.analyze()
    pg.execute("ALTER DATABASE " + pg.name + " SET work_mem = '64kB'")
    pg.execute("ALTER DATABASE " + pg.name + " SET enable_mergejoin = off")
    e = explain_query(
        pg.url, "SELECT x.c, y.c FROM t x JOIN t y ON x.id = y.id ORDER BY x.c", analyze=True, suggest=False
    )
    spills = e.by_kind("spill")
    assert any(
        s.evidence.get("sort_method") == "external merge" and s.evidence["disk_kb"] > 0 for s in spills
    )
    assert any((s.evidence.get("hash_batches") or 0) > 1 for s in spills)
    calm = explain_query(pg.url, "SELECT c FROM t WHERE id < 100 ORDER BY c", analyze=True, suggest=False)
    assert "spill" not in calm.kinds()


def test_nested_loop_over_large_outer_input(pg):
    _table(pg, rows=20_000)
    pg.analyze()
    pg.execute(f"ALTER DATABASE {pg.name} SET enable_hashjoin = off")
    pg.execute(f"ALTER DATABASE {pg.name} SET enable_mergejoin = off")
    e = explain_query(pg.url, "SELECT count(*) FROM t x JOIN t y ON x.id = y.id", analyze=True, suggest=False)
    [loop] = e.by_kind("nested_loop")
    assert loop.evidence["outer_rows"] == 20_000 and loop.evidence["analyzed"]
    small = explain_query(
        pg.url,
        "SELECT count(*) FROM t x JOIN t y ON x.id = y.id WHERE x.id < 50",
        analyze=True,
        suggest=False,
    )
    assert "nested_loop" not in small.kinds()


def test_stale_statistics_after_bulk_insert_without_analyze(pg):
    _table(pg, "fresh", rows=1000)
    pg.analyze()
    pg.execute("CREATE TABLE stale(id int, a int) WITH (autovacuum_enabled = off)")
    pg.execute("INSERT INTO stale SELECT g, g FROM generate_series(1, 100) g")
    pg.execute("SELECT pg_stat_force_next_flush()")
    pg.execute("ANALYZE stale")
    pg.execute("INSERT INTO stale SELECT g, g FROM generate_series(101, 30000) g")
    pg.execute("SELECT pg_stat_force_next_flush()")
    pg.execute("SELECT 1")  # the flush happens when this session next goes idle
    e = explain_query(
        pg.url, "SELECT * FROM stale s JOIN fresh f ON f.id = s.a WHERE s.a < 10", analyze=True, suggest=False
    )
    [stale] = e.by_kind("stale_stats")
    assert stale.evidence["table"] == "public.stale" and stale.evidence["n_mod_since_analyze"] >= 29_900
    assert stale.evidence["autovacuum_enabled"] == "off"
    assert "ANALYZE public.stale" in stale.message


def test_index_suggestion_for_unindexed_column(pg):
    pg.execute("CREATE EXTENSION hypopg")
    _table(pg)
    pg.analyze()
    e = explain_query(pg.url, "SELECT c FROM t WHERE b = $1")
    [suggestion] = e.suggestions
    assert suggestion.label == "public.t (b)" and suggestion.cost_after < suggestion.cost_before / 5
    assert suggestion.create_sql.startswith("CREATE INDEX CONCURRENTLY")
    [note] = e.by_kind("index_suggestion")
    assert note.node == 0 and e.what_if == "hypopg" and e.planner_calls > 0
    assert pg.value("SELECT count(*) FROM pg_indexes WHERE tablename = 't'") == 1  # only the primary key
    indexed = explain_query(pg.url, "SELECT c FROM t WHERE id = $1")
    assert not indexed.suggestions  # the primary key serves it; a covering index would save < 10 cost units


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t VALUES (1, 1, 1, 'x')",
        "UPDATE t SET a = 1",
        "DELETE FROM t",
        "WITH gone AS (DELETE FROM t RETURNING *) SELECT count(*) FROM gone",
        "SELECT nextval('seq')",
        "SELECT * FROM t, LATERAL (SELECT nextval('seq')) n",
        "SELECT * FROM t FOR UPDATE",
        "SELECT * INTO copy FROM t",
        "SELECT * FROM pg_read_file('/etc/hostname')",
        "SELECT a FROM t WHERE pg_catalog.pg_advisory_lock(a) IS NOT NULL",
        "SELECT (SELECT setval('seq', 5))",
        "SELECT public.writer()",
    ],
)
def test_analyze_refused_for_writing_statements(pg, sql):
    _writable_things(pg)
    with pytest.raises(RefusedError):
        explain_query(pg.url, sql, analyze=True, suggest=False)
    assert pg.value("SELECT count(*) FROM t") == 1 and pg.value("SELECT last_value FROM seq") == 1
    assert pg.value("SELECT is_called FROM seq") is False


def _writable_things(pg) -> None:
    pg.execute("CREATE TABLE t(id int, a int, b int, c text); CREATE SEQUENCE seq")
    pg.execute("INSERT INTO t VALUES (1, 1, 1, 'x')")
    pg.execute(
        "CREATE FUNCTION writer() RETURNS int LANGUAGE sql AS 'INSERT INTO t VALUES (2, 2, 2, ''y'') "
        "RETURNING 1'"
    )


def test_a_write_hidden_in_a_view_still_cannot_write(pg):
    """The parse tree cannot see into a view; the READ ONLY transaction still refuses the write."""
    _writable_things(pg)
    pg.execute("CREATE VIEW sneaky AS SELECT writer() AS w")
    with pytest.raises(ServerError, match="read-only transaction"):
        explain_query(pg.url, "SELECT * FROM sneaky", analyze=True, suggest=False)
    assert pg.value("SELECT count(*) FROM t") == 1


def test_analyze_with_parameters_runs_the_generic_plan_with_representative_values(pg):
    _table(pg)
    pg.analyze()
    with open_session(pg.url) as conn:
        e = explain_query(conn, "SELECT c FROM t WHERE a = $1 AND id > $2", analyze=True, suggest=False)
        assert (
            conn.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE name = 'dbwright_explain'"
            ).fetchone()[0]
            == 0
        )
    assert e.analyzed and len(e.run.arguments) == 2 and all(v.endswith("::integer") for v in e.run.arguments)
    assert e.run.plan["Actual Loops"] == 1 and e.run.execution_ms is not None


def test_analyze_allows_allow_listed_volatile_and_plain_explain_of_writes(pg):
    _table(pg, rows=100)
    e = explain_query(
        pg.url, "SELECT random(), clock_timestamp(), lower(c) FROM t", analyze=True, suggest=False
    )
    assert e.run.plan["Actual Rows"] == 100
    plan = explain_query(pg.url, "DELETE FROM t WHERE a = 1", suggest=False)  # planned, never run
    # planned as its read part: planning the DELETE itself would take ROW EXCLUSIVE on t
    assert plan.run.plan["Node Type"] == "Seq Scan" and not plan.analyzed
    assert plan.run.document["Planned As"] == "SELECT t.ctid FROM t WHERE a = 1"
    assert any("planned as its read part" in note for note in plan.notes)
    assert pg.value("SELECT count(*) FROM t") == 100


def test_explaining_a_write_takes_nothing_above_access_share(pg):
    """EXPLAIN UPDATE (even without ANALYZE, read-only) would lock t ROW EXCLUSIVE while it plans."""
    import threading

    _table(pg, rows=100)
    seen: list[str] = []
    done = threading.Event()

    def watch() -> None:
        with pg.connect() as conn:
            while not done.is_set():
                seen.extend(
                    row[0]
                    for row in conn.execute(
                        "SELECT l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE a.application_name = 'dbwright' AND l.relation = 't'::regclass"
                    )
                )

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(20):
            explain_query(pg.url, "UPDATE t SET c = 'x' WHERE a = 1", suggest=False)
            explain_query(pg.url, "SELECT * FROM t WHERE a = 2 FOR UPDATE", suggest=False)
    finally:
        done.set()
        watcher.join()
    assert set(seen) <= {"AccessShareLock"}


def test_a_write_with_nothing_to_read_is_refused(pg):
    _table(pg, rows=10)
    with pytest.raises(RefusedError, match="ACCESS SHARE"):
        explain_query(pg.url, "INSERT INTO t (a) VALUES (1)", suggest=False)


@pytest.mark.parametrize("sql", ["SELEC 1", "SELECT 1; SELECT 2", "", "EXPLAIN SELECT 1", "VACUUM t"])
def test_malformed_sql_is_one_line_error_exit_16(pg, sql, capsys):
    with pytest.raises(SqlParseError):
        explain_query(pg.url, sql, suggest=False)
    assert main(["explain", "--db", pg.url, "--no-suggest", sql]) == 16
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dbwright: error: ")


def test_cli_formats(pg, capsys, tmp_path):
    _table(pg, rows=200)
    pg.analyze()
    query = tmp_path / "q.sql"
    query.write_text("SELECT a, count(*) FROM t GROUP BY a ORDER BY a;\n")
    assert main(["explain", "--db", pg.url, "--file", str(query), "--analyze", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["analyzed"] and document["plan"]["Plan"]["Actual Rows"] == 200
    assert document["execution_ms"] > 0 and "annotations" in document
    assert main(["explain", "--db", pg.url, "--format", "markdown", "SELECT * FROM t WHERE a = 1"]) == 0
    assert "## Plan" in capsys.readouterr().out
    assert main(["explain", "--db", pg.url, "--analyze", "UPDATE t SET a = 2"]) == 17
    assert pg.value("SELECT count(*) FROM t WHERE a = 2") == 1


def test_text_render_shows_tree_and_annotations(pg):
    _table(pg)
    pg.analyze()
    e = explain_query(
        pg.url,
        "SELECT * FROM t WHERE a = 5 AND b = 5",
        analyze=True,
        suggest=False,
        thresholds=Thresholds(large_table_rows=1000),
    )
    out = render(e, "text")
    assert "Seq Scan on public.t" in out and "misestimate" in out and "seq_scan" in out
    assert "Rows Removed by Filter: 59,940" in out


class _EngineWithoutExplain:
    """A minimal engine object (no server behind it) without EXPLAIN."""

    name = "noexplain"

    def connect(self, target):
        raise AssertionError("explain must refuse before connecting")

    def explainer(self):
        return None


def test_an_engine_without_explain_is_refused_in_one_line():
    with pytest.raises(RefusedError) as raised:
        explain_query("noexplain://db/shop", "SELECT 1", engine=_EngineWithoutExplain())
    assert raised.value.message == "the noexplain engine does not support EXPLAIN: cannot explain statements"
