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


def render_markdown(report: LintReport) -> str:
    """The lint run as Markdown for a pull-request comment or a job summary: one table row per finding,
    then each safe rewrite, then the findings ignored with a reason."""
    from dbwright.output.markdown import Markdown, code, fenced, prose, table
    from dbwright.output.sarif import DOCS_BASE_URI

    active = [f for f in report.findings if not f.ignored]
    ignored = [f for f in report.findings if f.ignored]
    files = f" in {len(report.files)} file(s)" if report.files else ""
    parts = [f"# dbwright lint: {len(active)} finding(s){files}\n"]
    if not active:
        parts.append("No unsafe statement found.\n")
    else:
        counts = [
            [severity.label, str(sum(1 for f in active if f.severity == severity))]
            for severity in sorted({f.severity for f in active}, reverse=True)
        ]
        parts.append(table(["Severity", "Findings"], counts))
        parts.append(
            table(
                ["File", "Line", "Rule", "Severity", "Lock", "Finding"],
                [
                    [
                        code(f.file or "<sql>"),
                        str(f.line),
                        Markdown(f"[{f.code}]({DOCS_BASE_URI}docs/lint-rules/{f.code}.md) {prose(f.title)}"),
                        f.severity.label,
                        f.lock,
                        f.message,
                    ]
                    for f in active
                ],
            )
        )
        rewrites = [f for f in active if f.safe_rewrite]
        if rewrites:
            parts.append("## Safe rewrites\n")
            for f in rewrites:
                parts.append(f"### {code(f.file or '<sql>')}:{f.line} · {f.code} {prose(f.title)}\n")
                parts.append(fenced(f.safe_rewrite or "", "sql"))
    if ignored:
        parts.append("## Ignored with a reason\n")
        parts.append(
            table(
                ["File", "Line", "Rule", "Reason"],
                [[code(f.file or "<sql>"), str(f.line), f.code, f.ignore_reason or ""] for f in ignored],
            )
        )
    return "\n".join(parts)
