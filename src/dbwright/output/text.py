"""The terminal report: findings grouped by severity then area, scores, and what was skipped.

Everything that came from the database (names, messages, SQL) is printed as ``Text``, never
as console markup, so a table called ``[bold]x`` prints as itself. Laid out for 100 columns.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from dbwright.model.findings import Severity
from dbwright.model.package import ChangePackage
from dbwright.output.common import (
    by_category,
    by_severity,
    evidence_value,
    human_seconds,
    not_listed_note,
    one_line,
    server_version_label,
    severity_counts,
)
from dbwright.output.registry import Renderer, lazy
from dbwright.review import NOT_SELECTED, Review, ReviewedFinding

SEVERITY_STYLES = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "bold yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
SQL_PREVIEW_LINES = 6
EVIDENCE_ITEMS = 6
BAR_WIDTH = 30


def render(review: Review, width: int = 100) -> str:
    """The terminal report as plain text (no colour), e.g. for ``--format text`` into a file."""
    console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    print_review(review, console)
    return console.export_text()


def print_review(review: Review, console: Console) -> None:
    console.print(_header(review))
    console.print(_scores(review))
    if not review.findings:
        at_or_above = f" at or above {review.min_severity.label}" if review.min_severity else ""
        console.print(Text(f"No findings{at_or_above}.", style="bold green"))
    for severity, findings in by_severity(review.findings).items():
        title = Text(f" {severity.label.upper()} ({len(findings)}) ", style=SEVERITY_STYLES[severity])
        console.print()
        console.print(Rule(title, style=_rule_style(severity)))
        for category, members in by_category(findings).items():
            console.print(Text(category, style="bold underline"))
            for reviewed in members:
                console.print(_finding(reviewed))
    console.print()
    console.print(_skipped(review))
    if review.suppressed or review.disabled:
        console.print()
        console.print(_configured_away(review))


def _header(review: Review) -> RenderableType:
    server = review.snapshot.server
    title = Text.assemble(
        ("dbwright review", "bold"),
        " · ",
        (server.database, "bold cyan"),
        f" · PostgreSQL {server_version_label(server.version_num)}",
    )
    counts = Text()
    counts.append(f"{len(review.found)} finding(s)", style="bold")
    for severity, n in severity_counts(review).items():
        if n:
            counts.append("  ")
            counts.append(f"{n} {severity.label}", style=SEVERITY_STYLES[severity])
    counts.append(
        f"\nsnapshot {review.snapshot.taken_at} · {review.checks_run} checks run, "
        f"{len(review.skipped)} skipped",
        style="dim",
    )
    serious = review.serious()
    if serious:
        groups: dict[str, list[str]] = {}
        for entry in serious[:4]:
            groups.setdefault(entry["severity"], []).append(
                f"{entry['count']} × {entry['code']} {entry['why'].lower()}"
            )
        listed = " · ".join(f"{severity}: {', '.join(items)}" for severity, items in groups.items())
        more = (
            f" · and {len(serious) - 4} more check(s) (JSON: summary.high_and_critical)"
            if len(serious) > 4
            else ""
        )
        counts.append(f"\n{listed}{more}", style="dim")
    for framework in review.frameworks:
        counts.append(
            f"\nschema {framework.schema} is managed by {framework.name} ({framework.evidence}): "
            "fixes say how to make them there",
            style="dim",
        )
    if review.suppressed or review.disabled:
        counts.append(
            f"\n{len(review.suppressed)} suppressed, {len(review.disabled)} checks turned off "
            "by the configuration",
            style="dim",
        )
    if review.min_severity is not None:
        counts.append(f"\n{not_listed_note(review)}", style="dim")
    return Panel(counts, title=title, title_align="left", expand=True)


def _scores(review: Review) -> RenderableType:
    """One bar per area; an area nothing checked gets no bar and no score, and every area not fully
    checked gets a line below saying what was not run and why. Areas left out by --check/--category
    are named once, on one line."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(min_width=14)
    grid.add_column()
    grid.add_column(justify="right")
    notes, unselected = [], []
    for area, status in review.areas().items():
        if status.score is None and status.why == NOT_SELECTED:
            unselected.append(area)
            continue
        if status.score is None:  # never a clean bar for an area nothing (or only a little) checked
            word = "partly checked" if status.checks_run else "not checked"
            grid.add_row(Text(area), Text("·" * BAR_WIDTH, style="dim"), Text(word, style="yellow"))
            notes.append(Text(f"{area}: {status.label()}", style="yellow"))
            continue
        score = status.score
        filled = round(score / 100 * BAR_WIDTH)
        style = "green" if score >= 90 else "yellow" if score >= 70 else "red"
        bar = Text("█" * filled, style=style) + Text("░" * (BAR_WIDTH - filled), style="dim")
        grid.add_row(Text(area), bar, Text(f"{score}/100" + ("*" if status.partial else " "), style=style))
        if status.partial:
            notes.append(Text(f"{area}: *{status.label().split(', ', 1)[1]}", style="yellow"))
    if unselected:
        notes.append(Text(f"not checked ({NOT_SELECTED}): {', '.join(unselected)}", style="dim"))
    return Padding(Group(grid, *notes), (0, 1))


def _finding(reviewed: ReviewedFinding) -> RenderableType:
    finding = reviewed.finding
    first = Text.assemble(
        (f"{finding.code:<6} ", SEVERITY_STYLES[reviewed.severity]),
        (finding.object, "bold"),
        "  ",
        (reviewed.check.title, "dim"),
    )
    details: list[RenderableType] = [Text(finding.message)]
    if finding.evidence:
        details.append(_evidence(finding.evidence.items()))
    if finding.fix:
        details.append(_fix(finding.fix))
    return Padding(Group(first, Padding(Group(*details), (0, 0, 0, 7))), (0, 0, 1, 2))


def _evidence(items: Iterable[tuple[str, object]]) -> Text:
    items = list(items)
    text = Text(style="dim")
    for i, (key, value) in enumerate(items[:EVIDENCE_ITEMS]):
        if i:
            text.append(" · ")
        text.append(f"{key}: ")
        text.append(one_line(evidence_value(value, key), 60), style="default")
    if len(items) > EVIDENCE_ITEMS:
        text.append(f" · … {len(items) - EVIDENCE_ITEMS} more")
    return text


def _fix(fix: ChangePackage) -> RenderableType:
    locks = sorted(
        {
            f"{s['lock']} on {s['lock_target']}" if s["lock_target"] else s["lock"]
            for s in fix.steps()
            if s["lock"] != "none"
        }
    ) or ["no table lock"]
    heading = Text.assemble(
        ("fix ", "green"), (fix.title, "green"), (f"  ~{human_seconds(fix.estimated_seconds)}", "dim")
    )
    heading.append(f" · {', '.join(locks)}", style="dim")
    if fix.requires_restart:
        heading.append(" · needs a restart", style="yellow")
    sql_lines = fix.forward_sql.splitlines()
    preview = Text("\n".join(sql_lines[:SQL_PREVIEW_LINES]), style="cyan", overflow="fold")
    if len(sql_lines) > SQL_PREVIEW_LINES:
        preview.append(
            f"\n… {len(sql_lines) - SQL_PREVIEW_LINES} more line(s); full SQL in the JSON or HTML report",
            style="dim",
        )
    return Group(heading, Padding(preview, (0, 0, 0, 2)))


def _skipped(review: Review) -> RenderableType:
    table = Table(title=None, box=None, padding=(0, 1), show_header=True, header_style="bold", expand=True)
    table.add_column("Skipped", max_width=44, style="yellow")
    table.add_column("Why", ratio=1)
    for skipped in review.skipped:
        table.add_row(Text(f"{skipped.check.code} {skipped.check.title}"), Text("; ".join(skipped.reasons)))
    for section in review.snapshot.skipped:
        table.add_row(Text(f"section {section.section}"), Text(section.reason))
    if not table.row_count:
        return Group(
            Rule(Text("Skipped"), style="dim"),
            Text("Nothing was skipped: every check ran on a complete snapshot.", style="green"),
        )
    return Group(Rule(Text("Skipped"), style="dim"), table)


def _configured_away(review: Review) -> RenderableType:
    """What the configuration file kept out: suppressed findings with their reasons, checks turned off."""
    table = Table(title="Kept out by the configuration", title_justify="left", show_lines=False, expand=True)
    table.add_column("Suppressed or turned off")
    table.add_column("Why")
    for suppressed in review.suppressed:
        finding = suppressed.finding
        table.add_row(Text(f"{finding.code} {finding.object}"), Text(suppressed.ignore.reason))
    if review.disabled:
        codes = ", ".join(check.code for check in review.disabled)
        table.add_row(
            Text(f"{len(review.disabled)} checks: {codes}"), Text("turned off in the configuration")
        )
    return table


def _rule_style(severity: Severity) -> str:
    return {Severity.CRITICAL: "red", Severity.HIGH: "red", Severity.MEDIUM: "yellow"}.get(severity, "dim")


RENDERERS: dict[str, Renderer] = {
    "review": render,
    "audit": lazy("dbwright.output.audit:render_text"),
    "lint": lazy("dbwright.output.lint:render_text"),
    "index-advice": lazy("dbwright.advisors.indexes.render:text"),
    "explain": lazy("dbwright.advisors.explain.render:text"),
    "design": lazy("dbwright.advisors.design.render:text"),
    "pii": lazy("dbwright.audit.pii.render:render_text"),
    "role-access": lazy("dbwright.output.audit:render_role_access_text"),
}
