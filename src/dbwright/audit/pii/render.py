"""The PII report as text or Markdown (JSON: its ``to_dict()``). Only masked examples exist to be shown."""

from __future__ import annotations

from dbwright.audit.pii.classify import PiiReport


def _rate(value: float | None) -> str:
    return "name only" if value is None else f"{value:.0%}"


def render_text(report: PiiReport) -> str:
    lines = [
        f"PII discovery on {report.database}: {len(report.findings)} column(s) in "
        f"{len({f.qualified_table for f in report.findings})} table(s); {report.tables_scanned} tables, "
        f"{report.columns_examined} columns examined, up to {report.sample_rows} sampled rows per table "
        f"({report.seconds:.1f}s)",
        "",
    ]
    for f in report.findings:
        lines.append(
            f"{f.qualified_table}.{f.column}  {f.kind}  confidence {f.confidence:.2f}  "
            f"match {_rate(f.match_rate)} of {f.sampled_values}  ({f.basis}; {f.data_type})"
        )
        if f.masked_examples:
            lines.append(f"    e.g. {', '.join(f.masked_examples)}")
    for table, reason in report.skipped.items():
        lines.append(f"skipped {table}: {reason}")
    if report.packages:
        lines += ["", "Recommendations (change packages, each with its rollback):"]
        for number, package in enumerate(report.packages, 1):
            lines.append(f"{number}. {package.title}")
            lines += [f"     {line}" for line in package.forward_sql.splitlines()]
            lines += [f"   rollback: {line}" for line in package.rollback_sql.splitlines()]
            lines += [f"   manual step: {step}" for step in package.manual_steps]
    return "\n".join(lines)


def render_markdown(report: PiiReport) -> str:
    lines = [
        f"# PII discovery: {report.database}",
        "",
        f"{report.tables_scanned} tables and {report.columns_examined} columns examined; up to "
        f"{report.sample_rows} sampled rows per table.",
        "",
        "| Column | Kind | Confidence | Match rate | Basis | Masked examples |",
        "|---|---|---|---|---|---|",
    ]
    for f in report.findings:
        lines.append(
            f"| `{f.qualified_table}.{f.column}` | {f.kind} | {f.confidence:.2f} | "
            f"{_rate(f.match_rate)} | {f.basis} | {', '.join(f'`{e}`' for e in f.masked_examples)} |"
        )
    if report.skipped:
        lines += ["", "## Skipped", ""] + [f"- `{t}`: {r}" for t, r in report.skipped.items()]
    if report.packages:
        lines += ["", "## Recommendations", ""]
        for package in report.packages:
            lines += [
                f"### {package.title}",
                "",
                package.explanation,
                "",
                "```sql",
                package.forward_sql,
                "```",
                "",
                "Rollback:",
                "",
                "```sql",
                package.rollback_sql or "-- nothing to undo",
                "```",
                "",
            ]
            lines += [f"- manual step: {step}" for step in package.manual_steps]
    return "\n".join(lines)
