"""SARIF 2.1.0: reviews, audits and lint runs as static-analysis results, for code-scanning dashboards.

One builder (``sarif_log``) writes every document; the three adapters below only say what a
rule, a result and a skipped check are for their kind. Rules list every registered check or
lint rule, so a dashboard can show which ran clean. A finding about a database object is
located by the object's fully qualified name (a logical location: a database has no files);
a lint finding by its file and line (a physical location). Checks skipped for lack of data or
privileges become tool execution notifications.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbwright import __version__
from dbwright.model.findings import Severity
from dbwright.model.package import ChangePackage
from dbwright.output.common import docs_path, server_version_label

if TYPE_CHECKING:
    from dbwright.audit.run import Audit, AuditFinding
    from dbwright.changes.lint.findings import LintFinding, LintReport
    from dbwright.checks.registry import Check
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


# --- the one builder -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A check or lint rule as SARIF describes it; ``doc`` is the whole Markdown documentation."""

    id: str
    title: str
    doc: str
    severity: Severity
    help_uri: str
    summary: str = ""  # the doc's first paragraph unless given
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Location:
    """Where a finding is: a database object's name, or a file and line (with the statement there)."""

    object: str | None = None
    file: str | None = None
    line: int | None = None
    snippet: str | None = None

    def to_sarif(self) -> dict[str, Any]:
        if self.object is not None:
            return {"logicalLocations": [{"fullyQualifiedName": self.object}]}
        region: dict[str, Any] = {"startLine": self.line or 1}
        if self.snippet is not None:
            region["snippet"] = {"text": self.snippet}
        return {"physicalLocation": {"artifactLocation": {"uri": self.file or "stdin"}, "region": region}}


@dataclass(frozen=True)
class Result:
    """One finding; ``identity`` is what stays the same across runs (rule and object, or file and SQL)."""

    rule_id: str
    severity: Severity
    message: str
    location: Location
    identity: tuple[str | None, ...]
    properties: dict[str, Any] = field(default_factory=dict)
    suppressed_because: str | None = None  # an in-source ignore with its reason


@dataclass(frozen=True)
class Tool:
    """The driver's name and the fingerprint key its results carry (kept stable for dashboards)."""

    name: str
    fingerprint_key: str


def sarif_log(
    tool: Tool,
    rules: Sequence[Rule],
    results: Iterable[Result],
    *,
    skipped: Iterable[tuple[str, str]] = (),
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The SARIF log of one run. ``skipped`` holds (rule id, why) for each check that did not run."""
    index = {rule.id: i for i, rule in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": tool.name,
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(rule) for rule in rules],
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {
                        "level": "note",
                        "message": {"text": why},
                        "associatedRule": {"id": rule_id, "index": index[rule_id]},
                    }
                    for rule_id, why in skipped
                ],
            }
        ],
        "results": [_result(result, index, tool.fingerprint_key) for result in results],
    }
    if properties is not None:
        run["properties"] = properties
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def dumps(log: dict[str, Any]) -> str:
    return json.dumps(log, indent=2, ensure_ascii=False, default=str) + "\n"


def _rule(rule: Rule) -> dict[str, Any]:
    summary = rule.summary or rule.doc.split("\n\n", 1)[0].replace("\n", " ")
    return {
        "id": rule.id,
        "name": pascal_case(rule.title),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": summary},
        "help": {"text": rule.doc, "markdown": rule.doc},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {**rule.properties, "severity": rule.severity.label},
    }


def _result(result: Result, index: dict[str, int], fingerprint_key: str) -> dict[str, Any]:
    identity = "\0".join("None" if part is None else part for part in result.identity)
    sarif: dict[str, Any] = {
        "ruleId": result.rule_id,
        "ruleIndex": index[result.rule_id],
        "level": LEVELS[result.severity],
        "message": {"text": result.message},
        "locations": [result.location.to_sarif()],
        "partialFingerprints": {fingerprint_key: hashlib.sha256(identity.encode()).hexdigest()[:32]},
        "properties": result.properties,
    }
    if result.suppressed_because is not None:
        sarif["suppressions"] = [{"kind": "inSource", "justification": result.suppressed_because}]
    return sarif


def fix_properties(fix: ChangePackage) -> dict[str, Any]:
    """A fix as result properties: the SQL both ways, how long it takes, what must be done by hand."""
    return {
        "title": fix.title,
        "explanation": fix.explanation,
        "forwardSql": fix.forward_sql,
        "rollbackSql": fix.rollback_sql,
        "transactional": fix.transactional,
        "estimatedSeconds": round(fix.estimated_seconds, 3),
        "manualSteps": list(fix.manual_steps),
    }


def pascal_case(title: str) -> str:
    """ "Table without a primary key" -> "TableWithoutAPrimaryKey", SARIF's rule name style."""
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^0-9A-Za-z]+", title) if word)


# --- the review ------------------------------------------------------------------------------


def review_log(review: Review, docs_base_uri: str = "") -> dict[str, Any]:
    from dbwright.checks.registry import all_checks

    server = review.snapshot.server
    return sarif_log(
        Tool("dbwright", "dbwrightFinding/v1"),
        [_check_rule(check, docs_base_uri) for check in all_checks()],
        (_review_result(f) for f in review.findings),
        skipped=(
            (s.check.code, f"{s.check.code} {s.check.title} was skipped: " + "; ".join(s.reasons))
            for s in review.skipped
        ),
        properties={
            "database": server.database,
            "serverVersion": server_version_label(server.version_num),
            "takenAt": review.snapshot.taken_at,
            "scores": review.scores(),
            "snapshotSkipped": [{"section": s.section, "reason": s.reason} for s in review.snapshot.skipped],
        },
    )


def render_review(review: Review, docs_base_uri: str = "") -> str:
    """The review's SARIF log. ``docs_base_uri`` prefixes each rule's docs/checks/CODE.md."""
    return dumps(review_log(review, docs_base_uri))


def _check_rule(check: Check, docs_base_uri: str) -> Rule:
    return Rule(
        id=check.code,
        title=check.title,
        doc=check.doc,
        severity=check.severity,
        help_uri=docs_base_uri + docs_path(check.code),
        properties={"category": check.category, "tags": [check.category], "requires": list(check.requires)},
    )


def _review_result(reviewed: ReviewedFinding) -> Result:
    finding = reviewed.finding
    properties: dict[str, Any] = {
        "category": reviewed.check.category,
        "severity": reviewed.severity.label,
        "evidence": finding.evidence,
    }
    if finding.fix:
        properties["fix"] = fix_properties(finding.fix)
    return Result(
        rule_id=finding.code,
        severity=reviewed.severity,
        message=finding.message,
        location=Location(object=finding.object),
        identity=(finding.code, finding.object),
        properties=properties,
    )


# --- the audit -------------------------------------------------------------------------------


def audit_log(audit: Audit, docs_base_uri: str = "") -> dict[str, Any]:
    from dbwright.audit.run import CIS_BENCHMARK, all_audit_checks

    server = audit.snapshot.server
    rules = [
        Rule(
            id=check.code,
            title=check.title,
            doc=check.doc,
            summary=check.summary,
            severity=check.severity,
            help_uri=f"{docs_base_uri}docs/audit.md#{check.code.lower()}",
            properties={
                "category": check.category,
                "cis": check.cis,
                "tags": [check.category] + ([f"CIS-{check.cis}"] if check.cis else []),
                "requires": list(check.requires),
            },
        )
        for check in all_audit_checks()
    ]
    return sarif_log(
        Tool("dbwright-audit", "dbwrightAudit/v1"),
        rules,
        (_audit_result(f) for f in audit.findings),
        skipped=(
            (s.check.code, f"{s.check.code} {s.check.title} was not verified: " + "; ".join(s.reasons))
            for s in audit.skipped
        ),
        properties={
            "database": server.database,
            "serverVersion": server_version_label(server.version_num),
            "benchmark": CIS_BENCHMARK,
            "scores": audit.scores(),
            "compliance": audit.compliance(),
        },
    )


def render_audit(audit: Audit, docs_base_uri: str = "") -> str:
    return dumps(audit_log(audit, docs_base_uri))


def _audit_result(f: AuditFinding) -> Result:
    properties: dict[str, Any] = {
        "category": f.check.category,
        "cis": f.check.cis,
        "severity": f.severity.label,
        "evidence": f.finding.evidence,
    }
    if f.finding.fix:
        properties["fix"] = fix_properties(f.finding.fix)
    return Result(
        rule_id=f.check.code,
        severity=f.severity,
        message=f.finding.message,
        location=Location(object=f.finding.object),
        identity=(f.check.code, f.finding.object),
        properties=properties,
    )


# --- lint ------------------------------------------------------------------------------------


def lint_log(report: LintReport, docs_base_uri: str = "") -> dict[str, Any]:
    from dbwright.changes.lint.rules import all_rules

    rules = [
        Rule(
            id=rule.code,
            title=rule.title,
            doc=rule.doc,
            severity=rule.severity,
            help_uri=f"{docs_base_uri}docs/lint-rules/{rule.code}.md",
        )
        for rule in all_rules()
    ]
    return sarif_log(
        Tool("dbwright-lint", "dbwrightLint/v1"), rules, (_lint_result(f) for f in report.findings)
    )


def render_lint(report: LintReport, docs_base_uri: str = "") -> str:
    return dumps(lint_log(report, docs_base_uri))


def _lint_result(f: LintFinding) -> Result:
    return Result(
        rule_id=f.code,
        severity=f.severity,
        message=f.message + (f"\nSafe rewrite:\n{f.safe_rewrite}" if f.safe_rewrite else ""),
        location=Location(file=f.file or "stdin", line=f.line, snippet=f.sql),
        identity=(f.code, f.file, f.sql),
        properties={"lock": f.lock, "severity": f.severity.label, "safeRewrite": f.safe_rewrite},
        suppressed_because=(f.ignore_reason or "") if f.ignored else None,
    )


RENDERERS = {"review": render_review, "audit": render_audit, "lint": render_lint}
