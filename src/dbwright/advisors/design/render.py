"""The design report as text and markdown (JSON: its ``to_dict()``). Renderers spell; they decide nothing."""

from __future__ import annotations

from dbwright.advisors.design.design import DesignReport
from dbwright.advisors.design.proposal import Proposal
from dbwright.model.units import format_bytes

_HEADINGS = {
    "normalize": "Normalization",
    "foreign_key": "Missing foreign keys",
    "unique_key": "Undeclared keys",
    "not_null": "Never-NULL columns",
    "check_values": "Columns with a handful of values",
    "type": "Type tightening",
    "partition": "Partitioning",
    "shard": "Sharding (advice only)",
}


def _headline(r: DesignReport) -> list[str]:
    sampled = [t for t in r.tables if t.sample.get("sampled")]
    skipped = [t for t in r.tables if t.skipped]
    lines = [
        f"engine: {r.engine}",
        f"{len(r.tables)} table(s) profiled in {r.elapsed_s:.1f} s; {len(sampled)} sampled "
        f"(over {r.budget.sample_rows:,} rows), {len(skipped)} skipped; "
        f"{len(r.proposals)} proposal(s), {len(r.rejected)} candidate(s) rejected",
        f"approximate dependencies allowed up to {r.max_error:.1%} of rows off",
    ]
    return (
        lines
        + [
            f"sampled: {t.table} — {t.sample['sample_rows']:,} of {t.rows:,} rows, {t.sample['method']}"
            for t in sampled
        ]
        + [f"skipped: {t.table} — {t.skipped}" for t in skipped]
    )


def _evidence_line(p: Proposal) -> str:
    e = p.evidence
    if p.kind == "normalize":
        deps = "; ".join(
            f"{d['rhs']}: {d['violating_rows']} row(s) off ({d['error']:.2%})" for d in e["dependencies"]
        )
        return (
            f"{e['rows']:,} rows, {e['determinant_values']:,} values of the determinant "
            f"({e['rows_per_value']} rows each); saves ≈ {format_bytes(e['storage_saved_bytes'])}, removes "
            f"{e['update_anomalies_removed']:,} redundant copies; {deps}"
        )
    if p.kind == "foreign_key":
        return f"{e['references']:,} references, {e['orphan_rows']} orphan row(s); found by {e['found_by']}"
    if p.kind == "unique_key":
        return f"{e['rows']:,} rows, no duplicates, no NULLs; found by {e['found_by']}"
    if p.kind == "type" and "rewrites_table" in e:
        rewrite = (
            f"rewrites {format_bytes(e['rewrite_bytes'])} (≈ {e['estimated_seconds']} s)"
            if e["rewrites_table"]
            else "no rewrite"
        )
        return f"declared {e['declared']} → {e['suggested']}; {rewrite}"
    if p.kind == "partition":
        return (
            f"{e['rows']:,} rows from {e['min']} to {e['max']}; {e['partition_key']} correlation "
            f"{e['correlation']}; {e['inserts']:,} inserts vs {e['updates'] or 0:,} updates and "
            f"{e['deletes'] or 0:,} deletes; {e['partitions']} partitions by {e['interval']}; "
            f"{len(e['range_queries'])} range queries in the workload" + _pruning_line(e.get("pruning"))
        )
    if p.kind == "shard":
        colocated = ", ".join(f"{c['table']} by {c['column']}" for c in e["colocated"]) or "none"
        references = ", ".join(r["table"] for r in e["reference_tables"]) or "none"
        return (
            f"{format_bytes(e['bytes'])} (threshold {format_bytes(e['threshold_bytes'])}); distribution column "
            f"{e['distribution_column']} from {e['statements_parsed']} parsed statement(s); co-located: "
            f"{colocated}; reference tables: {references}"
        )
    return ", ".join(f"{k}: {v}" for k, v in e.items() if not isinstance(v, (dict, list)))


def _pruning_line(pruning: dict | None) -> str:
    if not pruning:
        return ""
    if "skipped" in pruning:
        return f"; pruning not estimated ({pruning['skipped']})"
    if not pruning.get("queries"):
        return f"; pruning: {pruning.get('note', 'no statements')}"
    planned = [q for q in pruning["queries"] if q["pruning"] != "not planned"][:3]
    scans = "; ".join(
        f"{q['scanned'] if q['scanned'] is not None else '?'}/{q['partitions']} "
        f"({q['pruning']}) for {q['query'][:60]}"
        for q in planned
    )
    return (
        f"; pruning on a scratch copy: {pruning['pruned']} of {pruning['statements']} statement(s) pruned, "
        f"{pruning['scan_all']} scan every partition — {scans}"
    )


def text(r: DesignReport) -> str:
    lines = [f"Design review of {r.database}", *(f"  {line}" for line in _headline(r)), ""]
    number = 0
    for kind, heading in _HEADINGS.items():
        found = r.of_kind(kind)
        if not found:
            continue
        lines.append(heading)
        advice_only = [p for p in found if p.package is None and p.kind == "type"]
        found = [p for p in found if p not in advice_only]
        for advice, group in _grouped_advice(advice_only).items():
            lines.append(f"-  {len(group)} column(s), advice only: {advice}")
            lines.append(f"   {', '.join(f'{p.table}.{p.columns[0]}' for p in group)}")
        for p in found:
            number += 1
            lines.append(f"{number}. {p.title}")
            lines.append(f"   {_evidence_line(p)}")
            if p.advice:
                lines.append(f"   {p.advice}")
            if p.package:
                lines += [f"   {line}" for line in p.package.forward_sql.splitlines()]
                lines += [f"   -- manual: {step}" for step in p.package.manual_steps]
            if p.destructive_package:
                lines.append("   -- then, separately (DESTRUCTIVE):")
                lines += [f"   {line}" for line in p.destructive_package.forward_sql.splitlines()]
        lines.append("")
    for note in r.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines).rstrip() + "\n"


def _grouped_advice(proposals: list[Proposal]) -> dict[str, list[Proposal]]:
    groups: dict[str, list[Proposal]] = {}
    for p in proposals:
        groups.setdefault(p.advice, []).append(p)
    return groups


def markdown(r: DesignReport) -> str:
    out = [f"# Design review of {r.database}", "", *(f"- {line}" for line in _headline(r)), ""]
    for kind, heading in _HEADINGS.items():
        found = r.of_kind(kind)
        if not found:
            continue
        out += [f"## {heading}", ""]
        advice_only = [p for p in found if p.package is None and p.kind == "type"]
        found = [p for p in found if p not in advice_only]
        for advice, group in _grouped_advice(advice_only).items():
            out += [
                f"Advice only, {len(group)} column(s): {advice}",
                "",
                ", ".join(f"`{p.table}.{p.columns[0]}`" for p in group),
                "",
            ]
        for p in found:
            out += [f"### {p.title}", "", _evidence_line(p), ""]
            if p.advice:
                out += [p.advice, ""]
            if p.package:
                out += ["```sql", p.package.forward_sql, "-- rollback", p.package.rollback_sql, "```", ""]
                out += [f"- manual step: {step}" for step in p.package.manual_steps]
            if p.destructive_package:
                out += [
                    "Destructive, separate step:",
                    "",
                    "```sql",
                    p.destructive_package.forward_sql,
                    "-- rollback",
                    p.destructive_package.rollback_sql,
                    "```",
                    "",
                ]
    if r.rejected:
        out += ["## Rejected candidates", "", "| table | candidate | reason |", "|---|---|---|"]
        out += [f"| {x.table} | {x.what} | {x.reason} |" for x in r.rejected]
        out.append("")
    out += [f"> {note}" for note in r.notes]
    return "\n".join(out).rstrip() + "\n"
