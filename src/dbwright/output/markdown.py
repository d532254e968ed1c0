"""Markdown: a review that reads well in a pull request, a wiki page or a ticket."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dbwright.model.package import ChangePackage
from dbwright.output.common import (
    by_category,
    docs_path,
    evidence_value,
    human_seconds,
    not_listed_note,
    server_version_label,
    severity_counts,
)
from dbwright.output.registry import Renderer, lazy
from dbwright.output.sarif import DOCS_BASE_URI
from dbwright.review import Review, ReviewedFinding


def render(review: Review) -> str:
    parts = [_header(review), _summary(review)]
    for category, findings in by_category(review.findings).items():
        parts.append(f"## {category.capitalize()}\n")
        parts.extend(_finding(f) for f in findings)
    if not review.findings:
        parts.append("## Findings\n\nNo findings.\n")
    parts.append(_skipped(review))
    return "\n".join(parts)


def _header(review: Review) -> str:
    server = review.snapshot.server
    return (
        f"# dbwright review of {code(server.database)}\n\n"
        f"PostgreSQL {server_version_label(server.version_num)} · snapshot taken {review.snapshot.taken_at} · "
        f"{review.checks_run} checks run, {len(review.skipped)} skipped\n"
    )


def _summary(review: Review) -> str:
    counts = severity_counts(review)
    severity_rows = [[s.label, str(n)] for s, n in counts.items()]
    score_rows = [[area, prose(status.label())] for area, status in review.areas().items()]
    listed = f" {prose(not_listed_note(review))}." if review.min_severity else ""
    return (
        "## Summary\n\n"
        f"{len(review.found)} finding(s).{listed}\n\n"
        + table(["Severity", "Findings"], severity_rows)
        + "\n"
        + table(["Area", "Score"], score_rows)
    )


def _finding(reviewed: ReviewedFinding) -> str:
    finding = reviewed.finding
    lines = [
        f"### {reviewed.severity.label.upper()} · {finding.code} {prose(reviewed.check.title)} · "
        f"{code(finding.object)}\n",
        f"{prose(finding.message)}\n",
        f"Docs: [{finding.code}]({DOCS_BASE_URI}{docs_path(finding.code)})\n",  # works in a PR comment too
    ]
    if finding.evidence:
        lines.append(
            table(
                ["Evidence", "Value"],
                [[key, evidence_value(value, key)] for key, value in finding.evidence.items()],
            )
        )
    if finding.fix:
        lines.append(_fix(finding.fix))
    return "\n".join(lines)


def _fix(fix: ChangePackage) -> str:
    notes = [f"- Security: {prose(n)}" for n in fix.security_notes]
    notes += [f"- Performance: {prose(n)}" for n in fix.performance_notes]
    notes += [f"- Manual step: {prose(n)}" for n in fix.manual_steps]
    if fix.requires_restart:
        notes.append("- Requires a server restart.")
    parts = [
        f"#### Fix: {prose(fix.title)}\n",
        f"{prose(fix.explanation)}\n",
        *(["\n".join(notes) + "\n"] if notes else []),
        f"Forward SQL (estimated {human_seconds(fix.estimated_seconds)}):\n",
        fenced(fix.forward_sql, "sql"),
        "Rollback SQL:\n",
        fenced(fix.rollback_sql or "-- nothing to undo", "sql"),
        table(
            ["Step", "Lock", "Impact", "Rewrites", "Scans", "In transaction", "Duration"],
            [
                [
                    code(_first_line(step["sql"])),
                    step["lock"],
                    step["impact"],
                    _yes(step["rewrites_table"]),
                    _yes(step["scans_table"]),
                    _yes(step["in_transaction"]),
                    human_seconds(step["estimated_seconds"]),
                ]
                for step in fix.steps()
            ],
        ),
    ]
    return "\n".join(parts)


def _skipped(review: Review) -> str:
    lines = ["## Skipped\n"]
    if review.skipped:
        lines.append(
            table(
                ["Check", "Title", "Why"],
                [[s.check.code, s.check.title, "; ".join(s.reasons)] for s in review.skipped],
            )
        )
    if review.snapshot.skipped:
        lines.append(
            table(["Snapshot section", "Why"], [[s.section, s.reason] for s in review.snapshot.skipped])
        )
    if len(lines) == 1:
        lines.append("Nothing was skipped: every check ran on a complete snapshot.\n")
    return "\n".join(lines)


# --- Markdown building blocks --------------------------------------------------------------


def table(headers: list[str], rows: Iterable[list[Any]]) -> str:
    out = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(cell(v if isinstance(v, str) else str(v)) for v in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def prose(text: str) -> str:
    """Text from the database made inert: no HTML tags, links or emphasis where none was meant."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)


_MARKDOWN_SPECIAL = set("\\`*[]")


class Markdown(str):
    """Text that is already Markdown (e.g. a code span): table cells leave it as it is."""


def cell(text: str) -> str:
    """Text safe inside a table cell: inert (see ``prose``), with no pipes or newlines to break the row."""
    inert = text if isinstance(text, Markdown) else prose(text)
    return inert.replace("|", "\\|").replace("\n", " ")


def code(text: str) -> Markdown:
    """Inline code that survives backticks in the text (names come from the database)."""
    fence = "`" * (max(_backtick_runs(text), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markdown(f"{fence}{pad}{text}{pad}{fence}")


def fenced(text: str, language: str = "") -> str:
    fence = "`" * max(3, max(_backtick_runs(text), default=0) + 1)
    return f"{fence}{language}\n{text}\n{fence}\n"


def _backtick_runs(text: str) -> list[int]:
    runs, current = [], 0
    for ch in text:
        if ch == "`":
            current += 1
        elif current:
            runs.append(current)
            current = 0
    if current:
        runs.append(current)
    return runs


def _first_line(sql: str) -> str:
    first = sql.strip().splitlines()[0] if sql.strip() else ""
    return first if len(first) <= 80 else first[:79] + "…"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


RENDERERS: dict[str, Renderer] = {
    "review": render,
    "audit": lazy("dbwright.output.audit:render_markdown"),
    "lint": lazy("dbwright.output.lint:render_markdown"),
    "index-advice": lazy("dbwright.advisors.indexes.render:markdown"),
    "explain": lazy("dbwright.advisors.explain.render:markdown"),
    "design": lazy("dbwright.advisors.design.render:markdown"),
    "pii": lazy("dbwright.audit.pii.render:render_markdown"),
    "role-access": lazy("dbwright.output.audit:render_role_access_markdown"),
}
