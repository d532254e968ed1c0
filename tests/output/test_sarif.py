"""SARIF 2.1.0: valid against the official schema with format checking; rules from the registry with
absolute help URIs and GitHub's security-severity; every result located in a file or pseudo-file."""

import json
from pathlib import Path

import pytest

from dbwright import api
from dbwright.changes.lint import LintReport
from dbwright.checks.registry import all_checks
from dbwright.errors import InvalidArgumentError
from dbwright.model.findings import Severity
from dbwright.output import render
from dbwright.output.sarif import DOCS_BASE_URI, INFORMATION_URI, LEVELS, SECURITY_SEVERITY
from tests.output.conftest import HOSTILE_TABLE
from tests.output.sarif_schema import schema_errors

EXPECTED_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
UNSAFE = (
    "ALTER TABLE orders ADD COLUMN status text NOT NULL;\nCREATE INDEX orders_status ON orders (status);\n"
)


def sarif(result, **options) -> dict:
    return json.loads(render(result, "sarif", **options))


def test_sarif_log_is_structurally_valid_2_1_0(review):
    log = sarif(review)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "dbwright"
    assert driver["informationUri"] == INFORMATION_URI and INFORMATION_URI.startswith("https://")
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [c.code for c in all_checks()]
    for rule, check in zip(rules, all_checks(), strict=True):
        assert rule["shortDescription"]["text"] == check.title
        assert rule["fullDescription"]["text"] and rule["help"]["text"] == check.doc
        assert rule["helpUri"] == f"{DOCS_BASE_URI}docs/checks/{check.code}.md"
        assert rule["properties"]["category"] == check.category
        assert rule["name"].isalnum()

    assert len(run["results"]) == len(review.findings) > 0
    for result, reviewed in zip(run["results"], review.findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == reviewed.check.code
        assert result["level"] == EXPECTED_LEVEL[reviewed.severity.label]
        assert result["message"]["text"] == reviewed.finding.message
        [location] = result["locations"]
        assert location["logicalLocations"][0]["fullyQualifiedName"] == reviewed.finding.object


def test_review_sarif_is_valid_against_the_official_schema_with_formats(review, tmp_path):
    snapshot = api.save_snapshot(review.snapshot, tmp_path / "snapshot.json")
    assert schema_errors(sarif(review)) == []
    assert schema_errors(sarif(review, source=snapshot, root=tmp_path)) == []
    assert schema_errors(sarif(review, source=snapshot)) == []  # outside the current folder: a file: URI


def test_the_old_relative_help_uri_fails_format_checking(review):
    """The check that catches the issue's complaint: a helpUri of docs/checks/DW101.md is not a URI."""
    log = sarif(review)
    log["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = "docs/checks/DW101.md"
    [error] = schema_errors(log)
    assert error.endswith("'docs/checks/DW101.md' is not a 'uri'")


def test_a_live_review_is_located_in_the_database_pseudo_file(review):
    run = sarif(review)["runs"][0]
    database = review.snapshot.server.database
    for result in run["results"]:
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {
            "uri": f"dbwright/database/{database}",
            "uriBaseId": "DATABASE",
        }
        assert physical["region"]["startLine"] == 1
    bases = run["originalUriBaseIds"]
    assert set(bases) == {"SRCROOT", "DATABASE"}
    assert (
        "uri" not in bases["DATABASE"]
        and "stands for the database" in bases["DATABASE"]["description"]["text"]
    )
    assert bases["SRCROOT"]["uri"] == Path.cwd().resolve().as_uri() + "/"


def test_a_review_of_a_snapshot_file_is_located_at_the_line_of_each_object(review, tmp_path):
    (tmp_path / "db").mkdir()
    snapshot = api.save_snapshot(review.snapshot, tmp_path / "db" / "snapshot.json")
    lines = snapshot.read_text().splitlines()
    run = sarif(review, source=snapshot, root=tmp_path)["runs"][0]
    located = 0
    for result in run["results"]:
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": "db/snapshot.json", "uriBaseId": "SRCROOT"}
        name = result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        parts = name.split(".")
        line = physical["region"]["startLine"]
        if len(parts) >= 2 and line > 1:
            assert lines[line - 1].strip().startswith(f'"name": {json.dumps(parts[1])}'), (name, line)
            located += 1
    assert located >= 2  # e.g. the hostile table (DW101) and shop.orders (DW102)
    [dw101] = [r for r in run["results"] if r["ruleId"] == "DW101"]
    assert (
        json.dumps(HOSTILE_TABLE)
        in lines[dw101["locations"][0]["physicalLocation"]["region"]["startLine"] - 1]
    )
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.resolve().as_uri() + "/"


def test_a_review_of_a_schema_file_is_located_at_its_create_statement(review, tmp_path):
    schema = tmp_path / "schema.sql"
    schema.write_text(
        "-- the shop\nCREATE SCHEMA shop;\nCREATE TABLE shop.customers (id bigint PRIMARY KEY);\n"
        "CREATE TABLE shop.orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES shop.customers);\n"
    )
    run = sarif(review, source=schema, root=tmp_path)["runs"][0]
    orders = [
        r
        for r in run["results"]
        if r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith("shop.orders")
    ]
    assert orders
    for result in orders:
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": "schema.sql", "uriBaseId": "SRCROOT"}
        assert physical["region"]["startLine"] == 4


def test_security_rules_carry_security_severity_and_others_do_not(review):
    rules = {r["id"]: r for r in sarif(review)["runs"][0]["tool"]["driver"]["rules"]}
    checks = {c.code: c for c in all_checks()}
    security = [code for code, check in checks.items() if check.in_audit]
    assert security and len(security) < len(checks)
    for code, rule in rules.items():
        properties = rule["properties"]
        if checks[code].in_audit:
            assert properties["security-severity"] == SECURITY_SEVERITY[checks[code].severity]
            assert "security" in properties["tags"] and len(set(properties["tags"])) == len(
                properties["tags"]
            )
        else:
            assert "security-severity" not in properties and "security" not in properties["tags"]
    assert all(0.0 <= float(score) <= 10.0 for score in SECURITY_SEVERITY.values())
    assert float(SECURITY_SEVERITY[Severity.CRITICAL]) >= 9.0 > float(SECURITY_SEVERITY[Severity.HIGH]) >= 7.0


def test_docs_base_uri_must_be_absolute(review):
    rules = sarif(review, docs_base_uri="file:///usr/share/doc/dbwright")["runs"][0]["tool"]["driver"][
        "rules"
    ]
    assert rules[0]["helpUri"] == f"file:///usr/share/doc/dbwright/docs/checks/{rules[0]['id']}.md"
    with pytest.raises(InvalidArgumentError, match="docs base URI 'docs/' is not absolute"):
        render(review, "sarif", docs_base_uri="docs/")


def test_audit_sarif_is_valid_located_and_every_rule_is_a_security_rule(review):
    audit = api.audit(review.snapshot)
    log = sarif(audit)
    assert schema_errors(log) == []
    run = log["runs"][0]
    assert run["tool"]["driver"]["informationUri"] == INFORMATION_URI
    assert all("security-severity" in rule["properties"] for rule in run["tool"]["driver"]["rules"])
    assert all(
        rule["helpUri"].startswith(f"{DOCS_BASE_URI}docs/audit.md#dwa")
        for rule in run["tool"]["driver"]["rules"]
    )
    assert run["results"]
    for result in run["results"]:
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "DATABASE"


def test_lint_sarif_is_valid_and_located_by_file_and_line(tmp_path):
    (tmp_path / "db").mkdir()
    inside, outside = tmp_path / "db" / "V2__status.sql", tmp_path.parent / f"{tmp_path.name}-V3.sql"
    for path in (inside, outside):
        path.write_text(UNSAFE)
    try:
        report = api.lint_report([inside, outside])
        log = sarif(report, root=tmp_path)
    finally:
        outside.unlink()
    assert schema_errors(log) == []
    run = log["runs"][0]
    assert run["tool"]["driver"]["informationUri"] == INFORMATION_URI
    assert all(
        r["helpUri"].startswith(f"{DOCS_BASE_URI}docs/lint-rules/DW") for r in run["tool"]["driver"]["rules"]
    )
    artifacts = {
        json.dumps(r["locations"][0]["physicalLocation"]["artifactLocation"]) for r in run["results"]
    }
    assert artifacts == {
        json.dumps({"uri": "db/V2__status.sql", "uriBaseId": "SRCROOT"}),
        json.dumps({"uri": outside.resolve().as_uri()}),
    }
    lines = {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run["results"]}
    assert lines == {1, 2}
    dw701 = next(r for r in run["results"] if r["ruleId"] == "DW701")
    assert dw701["locations"][0]["physicalLocation"]["region"]["snippet"]["text"].startswith("CREATE INDEX")


def test_lint_of_standard_input_is_located_in_a_pseudo_file():
    report = LintReport(tuple(api.lint(UNSAFE, filename="<stdin>")), ("<stdin>",))
    log = sarif(report)
    assert schema_errors(log) == []
    run = log["runs"][0]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]} == {
        "dbwright/stdin.sql"
    }
    assert "standard input" in run["originalUriBaseIds"]["STDIN"]["description"]["text"]


def test_sarif_result_carries_fix_sql_and_skipped_checks_become_notifications(review):
    run = sarif(review)["runs"][0]
    [dw101] = [r for r in run["results"] if r["ruleId"] == "DW101"]
    assert dw101["level"] == "error"  # DW101 is high
    assert dw101["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == f"shop.{HOSTILE_TABLE}"
    fix = dw101["properties"]["fix"]
    assert "ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY" in fix["forwardSql"]
    assert "DROP COLUMN id" in fix["rollbackSql"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["associatedRule"]["id"] for n in notes] == [s.check.code for s in review.skipped]
    assert all("skipped" in n["message"]["text"] for n in notes)


def test_sarif_levels_cover_every_severity():
    assert {s.label: LEVELS[s] for s in Severity} == EXPECTED_LEVEL


def test_findings_the_configuration_ignores_are_suppressed_results(review):
    from dbwright.audit.run import run_audit
    from dbwright.review import Ignore, ReviewPolicy, run_review

    ignore = Ignore("DW101", "shop.*", "append-only log, keyed downstream", "dbwright.toml: ignore[1]")
    policy = ReviewPolicy(ignores=(ignore,))
    ignored = run_review(review.snapshot, policy=policy)
    assert [s.finding.object for s in ignored.suppressed] == [f"shop.{HOSTILE_TABLE}"]
    log = sarif(ignored)
    assert schema_errors(log) == []
    results = log["runs"][0]["results"]
    assert len(results) == len(ignored.findings) + 1
    [suppressed] = [r for r in results if "suppressions" in r]
    assert suppressed["ruleId"] == "DW101" and suppressed["suppressions"] == [
        {"kind": "external", "justification": "append-only log, keyed downstream"}
    ]
    assert suppressed["properties"]["ignoredBy"] == "dbwright.toml: ignore[1]"

    first = api.audit(review.snapshot).findings[0]
    audit_ignore = Ignore(
        first.check.check.code, first.finding.object, "accepted risk", "dbwright.toml: ignore[2]"
    )
    audit_log = sarif(run_audit(review.snapshot, policy=ReviewPolicy(ignores=(audit_ignore,))))
    assert schema_errors(audit_log) == []
    [suppressed] = [r for r in audit_log["runs"][0]["results"] if "suppressions" in r]
    assert suppressed["ruleId"] == first.check.code  # the audit's DWA code
    assert suppressed["suppressions"][0]["justification"] == "accepted risk"


def test_information_uri_is_the_projects_homepage():
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["urls"]["Homepage"] == INFORMATION_URI
    assert DOCS_BASE_URI.startswith(INFORMATION_URI + "/")


def test_the_cli_locates_review_and_audit_findings_in_the_snapshot_file_it_read(review, tmp_path):
    import subprocess
    import sys

    api.save_snapshot(review.snapshot, tmp_path / "snapshot.json")
    for command in ("review", "audit"):
        out = tmp_path / f"{command}.sarif"
        done = subprocess.run(
            [sys.executable, "-m", "dbwright", command, "snapshot.json", "-f", "sarif", "-o", str(out)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        log = json.loads(out.read_text())
        assert schema_errors(log) == []
        located = {
            json.dumps(r["locations"][0]["physicalLocation"]["artifactLocation"])
            for r in log["runs"][0]["results"]
        }
        assert located == {json.dumps({"uri": "snapshot.json", "uriBaseId": "SRCROOT"})}, command
        assert log["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.resolve().as_uri() + "/"
