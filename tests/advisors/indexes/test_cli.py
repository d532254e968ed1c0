"""`dbwright advise indexes` end to end: exit codes, JSON output, one-line errors."""

from __future__ import annotations

import json

from dbwright.cli import main


def test_advise_indexes_json(pg, capsys, tmp_path):
    pg.execute("CREATE EXTENSION hypopg")
    pg.execute("CREATE TABLE t(id int, a int, b text)")
    pg.execute("INSERT INTO t SELECT g, g % 100, md5(g::text) FROM generate_series(1, 5000) g")
    pg.analyze()
    workload = tmp_path / "w.sql"
    workload.write_text("SELECT b FROM t WHERE a = $1;\nSELECT b FROM t WHERE a = $1;\n")
    assert (
        main(
            [
                "advise",
                "indexes",
                pg.url,
                "--workload-file",
                str(workload),
                "--budget",
                "5MB",
                "--format",
                "json",
            ]
        )
        == 0
    )
    advice = json.loads(capsys.readouterr().out)
    assert advice["queries"][0]["calls"] == 2
    assert advice["recommendations"][0]["index"]["keys"][0] == "a"
    assert advice["budget_bytes"] == 5 * 1024**2 and advice["leftovers"]["hypothetical_indexes"] == 0


def test_bad_budget_and_bad_query_are_one_line_errors(pg, capsys):
    assert main(["advise", "indexes", pg.url, "--budget", "lots", "--query", "SELECT 1"]) == 22
    assert main(["advise", "indexes", pg.url, "--query", "SELEC 1"]) == 16
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("dbwright: ") for line in lines)
