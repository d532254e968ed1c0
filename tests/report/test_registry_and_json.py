"""The format registry and the JSON format, on a real review."""

import json

import pytest

from dbwright.report import FORMATS, render
from tests.report.conftest import HOSTILE_TABLE


def test_every_registered_format_renders_the_review(review):
    assert set(FORMATS) == {"json", "markdown", "html", "sarif", "text"}
    for fmt in FORMATS:
        output = render(review, fmt)
        assert isinstance(output, str) and output.endswith("\n")
        assert HOSTILE_TABLE.split("<")[0] in output or "&lt;script&gt;" in output


def test_unknown_format_is_refused_with_the_choices(review):
    with pytest.raises(ValueError, match="unknown report format 'pdf'; use one of json, markdown"):
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
