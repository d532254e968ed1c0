"""The output registry: every (kind, format) pair renders a valid document from a real result, and a
pair the registry does not have is refused with a clear error (at the CLI: a usage error, exit 2)."""

from __future__ import annotations

import html.parser
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import psycopg
import pytest

from dbwright import api
from dbwright.audit.access import role_access
from dbwright.changes.lint import LintReport
from dbwright.errors import InvalidArgumentError
from dbwright.model.units import format_bytes
from dbwright.output import FORMATS, KINDS, UnsupportedFormatError, formats_for, kind_of, render, renderers
from dbwright.review import Review
from tests.cli.test_cli_errors import run_cli
from tests.output.conftest import REVIEWER
from tests.pgcluster import Cluster

UNSAFE_MIGRATION = (
    "ALTER TABLE orders ADD COLUMN status text NOT NULL;\nCREATE INDEX orders_status ON orders (status);\n"
)

#: The shape every SARIF document dbwright writes must have (the parts code-scanning tools read).
SARIF_SHAPE: dict[str, Any] = {
    "type": "object",
    "required": ["$schema", "version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id", "shortDescription", "defaultConfiguration"],
                                        },
                                    }
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["ruleId", "ruleIndex", "level", "message", "locations"],
                            "properties": {
                                "level": {"enum": ["error", "warning", "note", "none"]},
                                "message": {"type": "object", "required": ["text"]},
                                "locations": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "anyOf": [
                                            {"required": ["logicalLocations"]},
                                            {
                                                "required": ["physicalLocation"],
                                                "properties": {
                                                    "physicalLocation": {
                                                        "required": ["artifactLocation", "region"]
                                                    }
                                                },
                                            },
                                        ]
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def results(cluster: Cluster, review: Review) -> Iterator[dict[str, Any]]:
    """One real result of every registered kind, from the renderer tests' database."""
    database = review.snapshot.server.database
    url = cluster.url(database)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
    with psycopg.connect(url, autocommit=True) as conn:
        access = role_access(conn, REVIEWER)
    query = "SELECT sum(total) FROM shop.orders WHERE customer_id = 7"
    yield {
        "review": review,
        "audit": api.audit(url),
        "lint": LintReport(
            tuple(api.lint(UNSAFE_MIGRATION, filename="db/V2__status.sql")), ("db/V2__status.sql",)
        ),
        "index-advice": api.advise_indexes(url, query=query, budget="100MB"),
        "explain": api.explain(url, query),
        "design": api.advise_design(url, time_budget_s=30),
        "pii": api.discover_pii(url, schemas=["shop"]),
        "role-access": access,
    }


def test_every_kind_has_a_real_result_of_its_type(results):
    assert set(results) == set(KINDS)
    for kind, result in results.items():
        assert kind_of(result) == kind
    assert results["review"].findings and results["audit"].findings and results["lint"].findings
    assert results["index-advice"].recommendations


@pytest.mark.parametrize(("fmt", "kind"), list(renderers()))
def test_every_registered_pair_renders_a_valid_document(results, fmt, kind):
    result = results[kind]
    document = render(result, fmt)
    assert document.strip(), (fmt, kind)
    if fmt == "json":
        data = json.loads(document)
        if kind == "role-access":
            assert data["role"] == REVIEWER and data["objects"]
        else:
            assert data == json.loads(json.dumps(result.to_dict(), default=str))
    elif fmt == "sarif":
        log = json.loads(document)
        jsonschema.validate(log, SARIF_SHAPE)
        run = log["runs"][0]
        rules = run["tool"]["driver"]["rules"]
        assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])
        assert len(run["results"]) == len(_findings(kind, result))
    elif fmt == "html":
        assert document.lower().startswith("<!doctype html>") and document.rstrip().endswith("</html>")
        _WellFormed().feed(document)
        for code in _codes(kind, result):
            assert code in document, (kind, code)
    elif fmt == "markdown":
        assert document.lstrip().startswith("#"), kind
    elif fmt == "github":
        *annotations, summary = document.rstrip("\n").split("\n")
        active = [f for f in _findings(kind, result) if not getattr(f, "ignored", False)]
        assert len(annotations) == len(active) > 0
        assert all(line.split(" ", 1)[0] in ("::error", "::warning", "::notice") for line in annotations)
        assert summary.startswith(f"dbwright {kind}: {len(active)} finding(s)")


def test_every_unregistered_pair_is_refused_with_the_choices(results):
    for kind, result in results.items():
        missing = [fmt for fmt in FORMATS if fmt not in formats_for(kind)] + ["nosuch"]
        for fmt in missing:
            with pytest.raises(
                UnsupportedFormatError, match=f"unknown {kind} format '{fmt}'; use one of text, json"
            ):
                render(result, fmt)
    assert issubclass(UnsupportedFormatError, InvalidArgumentError) and UnsupportedFormatError.exit_code == 22


def test_the_registered_pairs():
    assert {kind: formats_for(kind) for kind in KINDS} == {
        "review": ("text", "json", "markdown", "html", "sarif", "github"),
        "audit": ("text", "json", "markdown", "html", "sarif", "github"),
        "lint": ("text", "json", "markdown", "sarif", "github"),
        "index-advice": ("text", "json", "markdown", "html"),
        "explain": ("text", "json", "markdown"),
        "design": ("text", "json", "markdown"),
        "pii": ("text", "json", "markdown"),
        "role-access": ("text", "json", "markdown"),
    }
    with pytest.raises(TypeError, match="no renderers for a dict"):
        render({}, "json")


def test_lint_github_annotations_point_at_file_and_line(results):
    lines = render(results["lint"], "github").splitlines()
    assert lines[0].startswith("::error file=db/V2__status.sql,line=1,title=DW")
    assert any(line.startswith("::") and ",line=2," in line for line in lines)
    # a message with newlines and a title with commas and colons stay one line each, escaped
    assert all("\n" not in line for line in lines) and "%0A" in "".join(lines)


def test_sarif_physical_location_for_lint_logical_for_database_objects(results):
    lint = json.loads(render(results["lint"], "sarif"))["runs"][0]
    location = lint["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "db/V2__status.sql" and location["region"]["startLine"] == 1
    assert lint["tool"]["driver"]["name"] == "dbwright-lint"
    audit = json.loads(render(results["audit"], "sarif"))["runs"][0]
    assert audit["tool"]["driver"]["name"] == "dbwright-audit"
    assert "fullyQualifiedName" in audit["results"][0]["locations"][0]["logicalLocations"][0]
    assert "dbwrightAudit/v1" in audit["results"][0]["partialFingerprints"]


def test_options_a_renderer_does_not_take_are_left_out(results):
    explanation = results["explain"]
    assert json.loads(render(explanation, "json", color=True)) == json.loads(render(explanation, "json"))
    assert render(explanation, "text", color=False, width=80)


def test_format_bytes_is_the_one_spelling_of_a_size():
    assert [format_bytes(n) for n in (0, 512, 1536, 5 * 1024**2, 3 * 1024**3, 2 * 1024**5)] == [
        "0 B",
        "512 B",
        "1.5 kB",
        "5.0 MB",
        "3.0 GB",
        "2048.0 TB",
    ]


# --- the CLI: a format a command does not have is a usage error, one line, exit 2 ---------------------


def _usage_error(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_checks_refuses_sarif():
    line = _usage_error(run_cli("checks", "--format", "sarif"))
    assert "unknown format 'sarif'; use text or json" in line


def test_review_refuses_an_unknown_format(review, cluster):
    line = _usage_error(run_cli("review", cluster.url(review.snapshot.server.database), "--format", "nosuch"))
    assert "unknown format 'nosuch'; use one of text, json, markdown, html, sarif, github" in line


def test_lint_refuses_html_and_writes_github_annotations(tmp_path):
    path = tmp_path / "001.sql"
    path.write_text(UNSAFE_MIGRATION)
    line = _usage_error(run_cli("lint", str(path), "--format", "html"))
    assert "unknown format 'html'; use one of text, json, markdown, sarif, github" in line
    annotated = run_cli("lint", str(path), "--format", "github")
    assert annotated.returncode == 1, annotated.stderr  # lint fails on high findings by default
    assert annotated.stdout.startswith(f"::error file={path},line=1,title=DW")


# --- helpers ---------------------------------------------------------------------------------------------


def _findings(kind: str, result: Any) -> list[Any]:
    return list(result.findings)


def _codes(kind: str, result: Any) -> set[str]:
    """What an HTML document must show of the result: its findings' codes, or its recommendations."""
    if kind == "review":
        return {f.check.code for f in result.findings}
    if kind == "audit":
        return {f.check.code for f in result.findings}
    return {r.spec.table for r in result.recommendations}


class _WellFormed(html.parser.HTMLParser):
    """Fails on a closing tag that closes nothing open (void elements need none)."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert tag in self.open, f"</{tag}> closes nothing"
        while self.open.pop() != tag:
            pass


def test_docs_list_the_formats():
    docs = Path(__file__).resolve().parents[2] / "docs"
    assert "github" in (docs / "lint.md").read_text() and "github" in (docs / "audit.md").read_text()
