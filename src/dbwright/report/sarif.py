"""SARIF 2.1.0: the review as static-analysis results, for code-scanning dashboards.

Rules come from the check registry (every registered check, so a dashboard can show
which rules ran clean); each finding is a result located by the database object's fully
qualified name (a logical location: a database has no files and lines). Checks skipped for
lack of snapshot data become tool execution notifications.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from dbwright import __version__
from dbwright.checks.registry import Check, all_checks
from dbwright.model.findings import Severity
from dbwright.report.common import docs_path, server_version_label
from dbwright.review import Review, ReviewedFinding

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


def render(review: Review, docs_base_uri: str = "") -> str:
    """The SARIF log as indented JSON. ``docs_base_uri`` prefixes each rule's docs/checks/CODE.md."""
    return json.dumps(sarif_log(review, docs_base_uri), indent=2, ensure_ascii=False, default=str) + "\n"


def sarif_log(review: Review, docs_base_uri: str = "") -> dict[str, Any]:
    checks = all_checks()
    rule_index = {c.code: i for i, c in enumerate(checks)}
    server = review.snapshot.server
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dbwright",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule(c, docs_base_uri) for c in checks],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            _skipped_notification(s.check, s.reasons, rule_index) for s in review.skipped
                        ],
                    }
                ],
                "results": [_result(f, rule_index) for f in review.findings],
                "properties": {
                    "database": server.database,
                    "serverVersion": server_version_label(server.version_num),
                    "takenAt": review.snapshot.taken_at,
                    "scores": review.scores(),
                    "snapshotSkipped": [
                        {"section": s.section, "reason": s.reason} for s in review.snapshot.skipped
                    ],
                },
            }
        ],
    }


def _rule(check: Check, docs_base_uri: str) -> dict[str, Any]:
    doc = check.doc
    summary = doc.split("\n\n", 1)[0].replace("\n", " ")
    return {
        "id": check.code,
        "name": _pascal(check.title),
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": summary},
        "help": {"text": doc, "markdown": doc},
        "helpUri": docs_base_uri + docs_path(check.code),
        "defaultConfiguration": {"level": LEVELS[check.severity]},
        "properties": {
            "category": check.category,
            "severity": check.severity.label,
            "tags": [check.category],
            "requires": list(check.requires),
        },
    }


def _result(reviewed: ReviewedFinding, rule_index: dict[str, int]) -> dict[str, Any]:
    finding = reviewed.finding
    properties: dict[str, Any] = {
        "category": reviewed.check.category,
        "severity": reviewed.severity.label,
        "evidence": finding.evidence,
    }
    if finding.fix:
        fix = finding.fix
        properties["fix"] = {
            "title": fix.title,
            "explanation": fix.explanation,
            "forwardSql": fix.forward_sql,
            "rollbackSql": fix.rollback_sql,
            "transactional": fix.transactional,
            "estimatedSeconds": round(fix.estimated_seconds, 3),
        }
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index[finding.code],
        "level": LEVELS[reviewed.severity],
        "message": {"text": finding.message},
        "locations": [{"logicalLocations": [{"fullyQualifiedName": finding.object}]}],
        "partialFingerprints": {"dbwrightFinding/v1": _fingerprint(finding.code, finding.object)},
        "properties": properties,
    }


def _skipped_notification(
    check: Check, reasons: tuple[str, ...], rule_index: dict[str, int]
) -> dict[str, Any]:
    return {
        "level": "note",
        "message": {"text": f"{check.code} {check.title} was skipped: " + "; ".join(reasons)},
        "associatedRule": {"id": check.code, "index": rule_index[check.code]},
    }


def _fingerprint(code: str, obj: str) -> str:
    """Stable across runs, so a dashboard tracks one finding on one object over time."""
    return hashlib.sha256(f"{code}\0{obj}".encode()).hexdigest()[:32]


def _pascal(title: str) -> str:
    """ "Table without a primary key" -> "TableWithoutAPrimaryKey", SARIF's rule name style."""
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^0-9A-Za-z]+", title) if word)
