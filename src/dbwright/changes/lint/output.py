"""Lint findings as text, JSON or SARIF 2.1.0 (file/line locations, one rule per lint code)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from dbwright import __version__
from dbwright.changes.lint.findings import LintFinding
from dbwright.changes.lint.rules import all_rules
from dbwright.model.findings import Severity

FORMATS = ("text", "json", "sarif")
SARIF_LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


def render(findings: Sequence[LintFinding], format: str, *, files: Sequence[str] = ()) -> str:
    if format == "json":
        return render_json(findings, files)
    if format == "sarif":
        return render_sarif(findings)
    return render_text(findings, files)


def render_text(findings: Sequence[LintFinding], files: Sequence[str] = ()) -> str:
    active = [f for f in findings if not f.ignored]
    lines = []
    for f in active:
        lines.append(f"{f.file or '<sql>'}:{f.line}: {f.code} [{f.severity.label}] {f.title}")
        lines.append(f"    {f.message}")
        lines.append(f"    lock: {f.lock}")
        if f.safe_rewrite:
            lines.append("    safe rewrite:")
            lines += [f"      {line}" for line in f.safe_rewrite.splitlines()]
    ignored = len(findings) - len(active)
    summary = f"{len(active)} finding(s)"
    if files:
        summary += f" in {len(files)} file(s)"
    if ignored:
        summary += f", {ignored} ignored with a reason"
    lines.append(summary)
    return "\n".join(lines) + "\n"


def render_json(findings: Sequence[LintFinding], files: Sequence[str] = ()) -> str:
    return (
        json.dumps(
            {"files": list(files), "findings": [f.to_dict() for f in findings]}, indent=2, ensure_ascii=False
        )
        + "\n"
    )


def render_sarif(findings: Sequence[LintFinding], docs_base_uri: str = "") -> str:
    rules = all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    log: dict[str, Any] = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dbwright-lint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [
                            {
                                "id": r.code,
                                "name": "".join(
                                    w[:1].upper() + w[1:]
                                    for w in r.title.replace("…", "").split()
                                    if w.isalnum()
                                ),
                                "shortDescription": {"text": r.title},
                                "fullDescription": {"text": r.doc.split("\n\n", 1)[0].replace("\n", " ")},
                                "help": {"text": r.doc, "markdown": r.doc},
                                "helpUri": f"{docs_base_uri}docs/lint-rules/{r.code}.md",
                                "defaultConfiguration": {"level": SARIF_LEVELS[r.severity]},
                                "properties": {"severity": r.severity.label},
                            }
                            for r in rules
                        ],
                    }
                },
                "results": [_result(f, index) for f in findings],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _result(f: LintFinding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": index[f.code],
        "level": SARIF_LEVELS[f.severity],
        "message": {"text": f.message + (f"\nSafe rewrite:\n{f.safe_rewrite}" if f.safe_rewrite else "")},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": f.file or "stdin"},
                    "region": {"startLine": f.line, "snippet": {"text": f.sql}},
                }
            }
        ],
        "partialFingerprints": {
            "dbwrightLint/v1": hashlib.sha256(f"{f.code}\0{f.file}\0{f.sql}".encode()).hexdigest()[:32]
        },
        "properties": {"lock": f.lock, "severity": f.severity.label, "safeRewrite": f.safe_rewrite},
    }
    if f.ignored:
        result["suppressions"] = [{"kind": "inSource", "justification": f.ignore_reason}]
    return result
