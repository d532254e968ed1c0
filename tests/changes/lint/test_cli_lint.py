"""`dbwright lint`: formats, --fail-on, --server-version, one-line parse errors."""

from __future__ import annotations

import json

from dbwright.cli import main

UNSAFE = "CREATE INDEX orders_note_idx ON orders (note);\n"


def test_text_output_and_fail_on(tmp_path, capsys):
    path = tmp_path / "001.sql"
    path.write_text(UNSAFE)
    assert main(["lint", str(path), "--fail-on", "high"]) == 1
    out = capsys.readouterr().out
    assert f"{path}:1: DW701 [high]" in out and "lock: SHARE" in out and "CREATE INDEX CONCURRENTLY" in out
    assert main(["lint", str(path), "--fail-on", "critical"]) == 0


def test_high_findings_fail_by_default_and_fail_on_none_turns_it_off(tmp_path, capsys):
    path = tmp_path / "001.sql"
    path.write_text(UNSAFE)  # DW701 is high
    assert main(["lint", str(path)]) == 1
    assert main(["lint", str(path), "--fail-on", "none"]) == 0
    medium_only = tmp_path / "002.sql"
    medium_only.write_text("SET lock_timeout = '2s';\nALTER TABLE orders RENAME COLUMN qty TO quantity;\n")
    assert main(["lint", str(medium_only)]) == 0  # DW716 is medium: below the default


def test_ignored_findings_do_not_fail(tmp_path, capsys):
    path = tmp_path / "001.sql"
    path.write_text("-- dbwright:ignore DW701, DW730, DW731 reason: orders is empty\n" + UNSAFE)
    assert main(["lint", str(path), "--fail-on", "info"]) == 0
    assert "3 ignored with a reason" in capsys.readouterr().out


def test_json_and_sarif(tmp_path, capsys):
    path = tmp_path / "001.sql"
    path.write_text(UNSAFE)
    main(["lint", str(path), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert data["files"] == [str(path)] and data["findings"][0]["code"] == "DW701"
    main(["lint", str(path), "--format", "sarif"])
    sarif = json.loads(capsys.readouterr().out)
    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0" and len(run["tool"]["driver"]["rules"]) >= 30
    result = next(r for r in run["results"] if r["ruleId"] == "DW701")
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == path.as_uri()  # outside the current folder: absolute
    assert location["region"]["startLine"] == 1
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "DW701"


def test_server_version_changes_the_answer(tmp_path, capsys):
    path = tmp_path / "001.sql"
    path.write_text("SET lock_timeout = '1s';\nALTER TABLE orders ADD COLUMN status text DEFAULT 'new';\n")
    assert main(["lint", str(path), "--server-version", "10", "--fail-on", "high"]) == 1
    assert main(["lint", str(path), "--server-version", "15", "--fail-on", "high"]) == 0


def test_parse_error_is_one_line_with_file_and_line(tmp_path, capsys):
    path = tmp_path / "002_bad.sql"
    path.write_text("SELECT 1;\nALTER TABLE orders ADD COLUMN;\n")
    assert main(["lint", str(path)]) == 16
    err = capsys.readouterr().err
    assert err.strip() == f'dbwright: error: {path}:2: syntax error at or near ";"'


def test_a_pg_dump_file_with_restrict_is_read_not_rejected(tmp_path, capsys):
    path = tmp_path / "schema.sql"
    path.write_text(
        "--\n-- PostgreSQL database dump\n--\n\n\\restrict 3fQ9kLm2\n\nSET statement_timeout = 0;\n"
        "CREATE TABLE public.orders (id bigint NOT NULL);\n\n\\unrestrict 3fQ9kLm2\n"
    )
    assert main(["lint", str(path)]) == 0  # was exit 16: syntax error at or near "\"
    out = capsys.readouterr().out
    assert f"{path}:5: DW743 [info]" in out and f"{path}:10: DW743 [info]" in out


def test_database_judges_a_backfill_by_the_rows_it_touches(pg, tmp_path, capsys):
    pg.execute("CREATE TABLE orders (id int PRIMARY KEY, note text)")
    pg.execute(
        "INSERT INTO orders SELECT g, CASE WHEN g % 10 = 0 THEN 'x' END FROM generate_series(1, 50000) g"
    )
    pg.analyze()
    path = tmp_path / "001.sql"
    path.write_text("UPDATE orders SET note = '' WHERE note IS NULL;\n")
    assert main(["lint", str(path), "--fail-on", "none", "-f", "json"]) == 0
    without = {f["code"]: f["message"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert main(["lint", str(path), "--fail-on", "none", "-f", "json", "--database", pg.url]) == 0
    found = {f["code"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    # judged by the snapshot's statistics: reltuples and the column's null fraction (about 90%)
    assert "DW729" in found and "of 50,000 rows (note IS NULL: null_frac 0.90)" in found["DW729"]["message"]
    assert "50,000" not in without.get("DW729", "")  # without a database: judged by the predicate's shape


def test_atomic_says_the_runner_wraps_each_file(tmp_path, capsys):
    path = tmp_path / "0002_migration.sql"
    path.write_text("BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;\n")
    assert main(["lint", str(path), "--fail-on", "none", "-f", "json"]) == 0
    assert "DW750" not in {f["code"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert main(["lint", str(path), "--fail-on", "none", "-f", "json", "--atomic"]) == 0
    assert "DW750" in {f["code"] for f in json.loads(capsys.readouterr().out)["findings"]}
