"""`dbwright design` end to end: formats, the engine stated in the report, one-line errors."""

from __future__ import annotations

import json

from dbwright.cli import main
from tests.advisors.design import scenarios


def test_design_json_names_the_engine_and_the_proposals(pg, capsys):
    scenarios.transitive(pg)
    scenarios.wide_varchar(pg)
    pg.analyze()
    assert main(["design", pg.url, "--format", "json", "--no-desbordante", "--sample-rows", "500"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["desbordante_used"] is False and "targeted SQL" in report["engine"]
    assert report["budget"]["sample_rows"] == 500
    employees = next(t for t in report["tables"] if t["table"] == "public.employees")
    assert employees["sampled"] is True and employees["rows"] == 2000
    kinds = {(p["kind"], p["table"]) for p in report["proposals"]}
    assert {("normalize", "public.employees"), ("type", "public.payments")} <= kinds
    split = next(p for p in report["proposals"] if p["kind"] == "normalize")
    assert split["destructive_package"]["destructive"] is True
    assert "DROP TABLE public.dept;" in split["package"]["rollback_sql"]


def test_design_text_and_markdown(pg, capsys):
    scenarios.missing_fk(pg)
    pg.analyze()
    assert main(["design", pg.url, "--no-desbordante"]) == 0
    out = capsys.readouterr().out
    assert "Missing foreign keys" in out and "3 orphan row(s)" in out
    assert "note: desbordante " in out and "only targeted candidates were tested" in out
    assert main(["design", pg.url, "--no-desbordante", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Design review of ") and "```sql" in out and "-- rollback" in out


def test_bad_format_and_unreachable_server_are_one_line_errors(pg, capsys):
    assert main(["design", pg.url, "--format", "yaml"]) == 2
    assert main(["design", "postgresql://nobody@127.0.0.1:1/x"]) == 11
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("dbwright: ") and len([line for line in err if "Traceback" in line]) == 0


def test_bigint_keys_are_not_listed_as_advice(pg, capsys):
    pg.execute("CREATE TABLE a(id bigint PRIMARY KEY); CREATE TABLE b(id bigint PRIMARY KEY)")
    pg.execute("INSERT INTO a SELECT generate_series(1, 200); INSERT INTO b SELECT generate_series(1, 200)")
    pg.analyze()
    assert main(["design", pg.url, "--no-desbordante"]) == 0
    out = capsys.readouterr().out
    assert "Keep bigint" not in out and "public.a.id" not in out  # "keep as is" is not a proposal
    assert main(["design", pg.url, "--no-desbordante", "--format", "markdown"]) == 0
    assert "Keep bigint" not in capsys.readouterr().out
