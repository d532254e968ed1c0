"""The format registry and the JSON format, on a real review."""

import json
from pathlib import Path

import pytest

from dbwright.checks.registry import CATEGORIES
from dbwright.errors import InvalidArgumentError
from dbwright.output import formats_for, render
from tests.output.conftest import HOSTILE_TABLE

REVIEW_FORMATS = formats_for("review")


def test_every_registered_format_renders_the_review(review):
    assert set(REVIEW_FORMATS) == {"json", "markdown", "html", "sarif", "text", "github"}
    for fmt in REVIEW_FORMATS:
        output = render(review, fmt)
        assert isinstance(output, str) and output.endswith("\n")
        assert HOSTILE_TABLE.split("<")[0] in output or "&lt;script&gt;" in output


def test_unknown_format_is_refused_with_the_choices(review):
    with pytest.raises(
        InvalidArgumentError, match="unknown review format 'pdf'; use one of text, json, markdown"
    ):
        render(review, "pdf")


def test_json_round_trips_the_findings_and_is_stable(review):
    text = render(review, "json")
    data = json.loads(text)
    assert data == json.loads(json.dumps(review.to_dict(), default=str))
    assert data["findings"] == json.loads(json.dumps([f.to_dict() for f in review.findings]))
    dw101 = [f for f in data["findings"] if f["code"] == "DW101"]
    assert [f["object"] for f in dw101] == [f"shop.{HOSTILE_TABLE}"]
    assert "GENERATED ALWAYS AS IDENTITY PRIMARY KEY" in dw101[0]["fix"]["forward_sql"]
    assert data["skipped"] and data["snapshot_skipped"]  # reviewed as a plain role: some sections unreadable
    assert text.startswith('{\n  "format": 1,')  # indented, keys in their documented order
    assert render(review, "json") == text


def test_every_json_field_is_documented_in_json_format_md(review):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "json-format.md").read_text()
    data = json.loads(render(review, "json"))
    [with_fix] = [f for f in data["findings"] if f["code"] == "DW101"]
    documented = {
        "top level": data,
        "summary": data["summary"],
        "skipped": data["skipped"][0],
        "snapshot_skipped": data["snapshot_skipped"][0],
        "finding": with_fix,
        "fix": with_fix["fix"],
        "step": with_fix["fix"]["steps"][0],
    }
    missing = [
        f"{part}.{key}" for part, obj in documented.items() for key in obj if f"| `{key}` |" not in doc
    ]
    assert missing == [], f"document these fields in docs/json-format.md: {missing}"
    example = doc.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert list(json.loads(example)) == list(data)  # the example has today's top-level shape


def test_a_clean_review_renders_in_every_format(pg):
    pg.execute("CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind text)")
    clean = pg.review("DW101")
    assert clean.findings == [] and clean.checks_run == 1
    outputs = {fmt: render(clean, fmt) for fmt in REVIEW_FORMATS}
    assert json.loads(outputs["json"])["findings"] == []
    assert json.loads(outputs["sarif"])["runs"][0]["results"] == []
    assert "No findings." in outputs["markdown"] and "No findings." in outputs["text"]
    assert outputs["html"].count("No findings in this area.") == 1  # design: DW101 ran
    assert outputs["html"].count("Not checked.") == len(CATEGORIES) - 1  # the areas no check ran in
    assert "Not available: pg_stat_statements is not installed" in outputs["html"]  # no chart, the reason
