"""SARIF 2.1.0: structure, rules from the registry, results tied to rules, levels, locations."""

import json

from dbwright.checks.registry import all_checks
from dbwright.model.findings import Severity
from dbwright.output import render
from dbwright.output.sarif import LEVELS
from tests.output.conftest import HOSTILE_TABLE

EXPECTED_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def test_sarif_log_is_structurally_valid_2_1_0(review):
    log = json.loads(render(review, "sarif"))
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "dbwright"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [c.code for c in all_checks()]
    for rule, check in zip(rules, all_checks(), strict=True):
        assert rule["shortDescription"]["text"] == check.title
        assert rule["fullDescription"]["text"] and rule["help"]["text"] == check.doc
        assert rule["helpUri"] == f"docs/checks/{check.code}.md"
        assert rule["properties"]["category"] == check.category
        assert rule["name"].isalnum()

    assert len(run["results"]) == len(review.findings) > 0
    for result, reviewed in zip(run["results"], review.findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == reviewed.check.code
        assert result["level"] == EXPECTED_LEVEL[reviewed.severity.label]
        assert result["message"]["text"] == reviewed.finding.message
        [location] = result["locations"]
        assert location["logicalLocations"][0]["fullyQualifiedName"] == reviewed.finding.object


def test_sarif_result_carries_fix_sql_and_skipped_checks_become_notifications(review):
    run = json.loads(render(review, "sarif"))["runs"][0]
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
