"""A lint run as text: each unsafe statement with its file and line, lock and safe rewrite."""

from __future__ import annotations

from dbwright.changes.lint.findings import LintReport


def render_text(report: LintReport) -> str:
    findings = report.findings
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
    if report.files:
        summary += f" in {len(report.files)} file(s)"
    if ignored:
        summary += f", {ignored} ignored with a reason"
    lines.append(summary)
    return "\n".join(lines) + "\n"
