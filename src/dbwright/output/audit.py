"""The audit report as text, Markdown and HTML (JSON and SARIF: output/json.py, output/sarif.py).

Text, Markdown and HTML are built from one list of blocks (heading, paragraph, table, list,
code), so the three say the same thing in the same order: the compliance summary an auditor
reads first (every check with its CIS section and pass / fail / not verified), the scores per
category, the findings with their fixes, the checks that could not be verified and why, the
effective-privilege matrix, and encryption in transit and at rest with what cannot be known.
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dbwright.audit.access import AccessMatrix
from dbwright.audit.run import AUDIT_CATEGORIES, CIS_BENCHMARK, Audit, AuditFinding
from dbwright.model.findings import Severity
from dbwright.output import markdown as md
from dbwright.output.common import evidence_value, server_version_label
from dbwright.output.html import CSS
from dbwright.output.html_base import page

MATRIX_MAX_OBJECTS = 25
STATUS_LABEL = {"pass": "pass", "fail": "FAIL", "skipped": "not verified"}


# --- blocks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Code:
    text: str


Block = Heading | Para | Table | Bullets | Code


def document(audit: Audit, min_severity: Severity | None = None) -> list[Block]:
    """The audit as blocks; ``min_severity`` lists only findings at or above it (the compliance
    table and the counts still cover every finding)."""
    return [
        *_header(audit),
        *_compliance(audit),
        *_findings(audit, min_severity),
        *_skipped(audit),
        *_access(audit),
        *_encryption(audit),
    ]


def _header(audit: Audit) -> Iterator[Block]:
    server = audit.snapshot.server
    who = f"{server.current_user} ({'superuser' if server.is_superuser else 'not a superuser'})"
    yield Heading(1, f"dbwright security audit of {server.database}")
    yield Para(
        f"PostgreSQL {server_version_label(server.version_num)} · audited as {who} · {audit.snapshot.taken_at}"
        f" · CIS section numbers from the {CIS_BENCHMARK}"
    )


def _compliance(audit: Audit) -> Iterator[Block]:
    summary = audit.to_dict()["summary"]
    yield Heading(2, "Compliance summary")
    verdict = (
        "No check failed."
        if not summary["failed"]
        else f"{summary['failed']} check(s) failed with {summary['findings']} finding(s); the worst is "
        f"{audit.worst().label}."
    )
    unverified = (
        f" {summary['skipped']} check(s) could not be verified with this role's privileges and are not "
        "counted as passed (see 'Not verified')."
        if summary["skipped"]
        else " Every check could be verified."
    )
    yield Para(
        f"{summary['checks']} automated checks: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['skipped']} not verified. {verdict}{unverified}"
    )
    scores = audit.scores()
    rows = []
    for category in AUDIT_CATEGORIES:
        statuses = [s for c, s in audit.checks() if c.category == category]
        score = scores[category]
        verified = len(statuses) - statuses.count("skipped")
        shown = (
            "not verified"
            if score is None
            else str(score)
            if verified == len(statuses)
            else f"{score} ({verified} of {len(statuses)} checks verified)"
        )
        rows.append(
            [
                category,
                shown,
                str(statuses.count("pass")),
                str(statuses.count("fail")),
                str(statuses.count("skipped")),
            ]
        )
    yield Table(["Category", "Score /100", "Passed", "Failed", "Not verified"], rows)
    rows, current = [], None
    for r in audit.compliance():
        section = r["cis"] or "—"
        label = (
            ""
            if section == current
            else f"{section} {r['cis_title'] or ''}".strip()
            if r["cis"]
            else "— no CIS section"
        )
        current = section
        rows.append([label, r["code"], STATUS_LABEL[r["status"]], str(r["findings"]), r["title"]])
    yield Table(["CIS section", "Check", "Status", "Findings", "Title"], rows)


def _findings(audit: Audit, min_severity: Severity | None = None) -> Iterator[Block]:
    yield Heading(2, "Findings")
    listed = [f for f in audit.findings if min_severity is None or f.severity >= min_severity]
    if min_severity is not None:
        yield Para(
            f"Listing findings at or above {min_severity.label}: "
            f"{len(audit.findings) - len(listed)} below it not listed."
        )
    if not listed:
        yield Para("No findings.")
        return
    for f in listed:
        yield from _finding(f)


def _finding(f: AuditFinding) -> Iterator[Block]:
    check = f.check
    cis = f"CIS {check.cis}" if check.cis else "no CIS section"
    yield Heading(3, f"[{f.severity.label.upper()}] {check.code} {check.title} — {f.finding.object}")
    yield Para(
        f"{f.finding.message}. ({cis} · {check.category}"
        + (f" · same logic as review check {check.wraps}" if check.wraps else "")
        + ")"
    )
    if f.finding.evidence:
        yield Bullets([f"{k}: {evidence_value(v, k)}" for k, v in f.finding.evidence.items()])
    fix = f.finding.fix
    if fix is None:
        return
    yield Para(f"Fix: {fix.title}. {fix.explanation}")
    if fix.forward_sql:
        yield Code(fix.forward_sql)
    if fix.rollback_sql:
        yield Para("Rollback:")
        yield Code(fix.rollback_sql)
    notes = (
        [f"manual: {s}" for s in fix.manual_steps]
        + [f"security: {s}" for s in fix.security_notes]
        + [f"performance: {s}" for s in fix.performance_notes]
    )
    if fix.requires_restart:
        notes.append("needs a server restart")
    if notes:
        yield Bullets(notes)


def _skipped(audit: Audit) -> Iterator[Block]:
    yield Heading(2, "Not verified")
    if not audit.skipped:
        yield Para("Every check ran: nothing was hidden from the auditing role.")
        return
    yield Para(
        "These checks could not read what they need with the auditing role's privileges. They are neither "
        "passed nor failed; run the audit as a role with the privilege named to verify them."
    )
    yield Table(
        ["CIS", "Check", "Title", "Why"],
        [[s.check.cis or "—", s.check.code, s.check.title, "; ".join(s.reasons)] for s in audit.skipped],
    )


def _access(audit: Audit) -> Iterator[Block]:
    yield Heading(2, "Effective privileges")
    matrix = audit.access
    if matrix is None:
        yield Para(f"Not computed: {audit.access_skipped}.")
        return
    yield Para(
        "Resolved by the server (has_table_privilege, has_schema_privilege, pg_has_role) through role "
        "membership and INHERIT; a grant without USAGE on the schema or CONNECT on the database does not "
        "count. Superusers can do everything: " + (", ".join(matrix.superusers) or "none") + "."
    )
    yield Table(
        ["Role", "Login", "Connect", "Can read", "Can write", "Owns"],
        [
            [r["role"], _yes(r["login"]), _yes(r["connect"]), str(r["read"]), str(r["write"]), str(r["own"])]
            for r in matrix.summary()
        ],
    )
    levels = matrix.relation_levels()
    objects = sorted({obj for per_role in levels.values() for obj in per_role})
    if not objects:
        return
    roles = [r.name for r in matrix.roles if not r.superuser and r.name in levels]
    shown = objects[:MATRIX_MAX_OBJECTS]
    yield Para(
        "Who can do what (own > write > read; * rows filtered by row-level security; "
        "(cols) some columns only)"
        + (
            f"; first {len(shown)} of {len(objects)} objects, all are in the JSON output"
            if len(objects) > len(shown)
            else ""
        )
        + ":"
    )
    marks = {(e.role, e.object_name): e for e in matrix.entries}
    rows = []
    for obj in shown:
        row = [obj]
        for role in roles:
            entry = marks.get((role, obj))
            level = levels.get(role, {}).get(obj, "")
            suffix = ("*" if entry and entry.rls else "") + (
                " (cols)" if entry and entry.columns_only else ""
            )
            row.append(level + suffix if level else "—")
        rows.append(row)
    yield Table(["Object", *roles], rows)


def _encryption(audit: Audit) -> Iterator[Block]:
    enc = audit.encryption
    transit, rest = enc.in_transit, enc.at_rest
    yield Heading(2, "Encryption")
    yield Heading(3, "In transit")
    sessions = transit.get("sessions", {})
    share = sessions.get("tls_share_of_tcp")
    items = [
        f"ssl: {transit.get('ssl') or 'not visible'}",
        f"ssl_min_protocol_version: {transit.get('ssl_min_protocol_version') or 'not visible'}",
        f"ssl_ciphers: {transit.get('ssl_ciphers') or 'not visible'}",
    ]
    hba = transit.get("hba")
    if hba is None:
        items.append("pg_hba.conf: not readable by this role")
    else:
        items.append(
            f"pg_hba.conf: hostssl lines {hba['hostssl_lines'] or 'none'}; network lines without TLS "
            f"{hba['non_loopback_lines_without_tls'] or 'none'}; loopback lines without TLS "
            f"{hba['loopback_lines_without_tls'] or 'none'}"
        )
    items.append(
        f"live sessions: {sessions.get('client_sessions', 0)} client session(s), "
        f"{sessions.get('unix_socket_sessions', 0)} over the unix socket, {sessions.get('tcp_sessions', 0)} "
        f"over TCP of which {sessions.get('tcp_sessions_with_tls', 0)} use TLS"
        + (f" ({share:.0%})" if share is not None else "")
        + (
            f"; {sessions['hidden_sessions']} session(s) hidden from this role"
            if sessions.get("hidden_sessions")
            else ""
        )
    )
    yield Bullets(items)
    yield Heading(3, "At rest")
    device = rest.get("data_directory_device")
    items = [
        f"pgcrypto: {'installed' if rest.get('pgcrypto_installed') else 'not installed'} in this database"
        + ("" if rest.get("pgcrypto_available") else " (not available on the server)"),
        f"bytea columns (where pgcrypto ciphertext would be stored): {rest.get('bytea_column_count', 0)}"
        + (f" — {', '.join(rest['bytea_columns'][:10])}" if rest.get("bytea_columns") else ""),
        f"data checksums: {_onoff(rest.get('data_checksums'))}",
    ]
    if device:
        state = {True: "encrypted (dm-crypt)", False: "no dm-crypt layer", None: "unknown"}[
            device.get("encrypted")
        ]
        items.append(f"data directory storage: {state} — {device.get('reason')}")
    for column in rest.get("pii_columns", []):
        items.append(
            f"PII column {column['column']}: "
            + (
                "stored as bytea (where pgcrypto ciphertext lives)"
                if column["stored_as_bytea"]
                else f"stored in plain text ({column['type']})"
            )
        )
    if "pii_columns" not in rest:
        items.append("PII columns: not scanned (add --pii to sample the tables the way dbwright pii does)")
    yield Bullets(items)
    yield Heading(3, "What cannot be determined from here")
    yield Bullets(list(enc.undetermined))


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _onoff(flag: bool | None) -> str:
    return "unknown" if flag is None else "on" if flag else "off"


# --- text ----------------------------------------------------------------------------------


def render_text(audit: Audit, min_severity: Severity | None = None) -> str:
    return render_text_blocks(document(audit, min_severity))


def render_text_blocks(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            text = block.text
            out += (
                ["", text, ("=" if block.level == 1 else "-") * min(len(text), 100)]
                if block.level < 3
                else ["", text]
            )
        elif isinstance(block, Para):
            out.append(block.text)
        elif isinstance(block, Table):
            out += _text_table(block)
        elif isinstance(block, Bullets):
            out += [f"  - {item}" for item in block.items]
        elif isinstance(block, Code):
            out += [f"    {line}" for line in block.text.splitlines()]
    return "\n".join(line.rstrip() for line in out).strip() + "\n"


def _text_table(table: Table) -> list[str]:
    widths = [
        max(len(str(row[i])) for row in [table.headers, *table.rows]) for i in range(len(table.headers))
    ]
    widths = [min(w, 72) for w in widths]

    def line(cells: list[str]) -> str:
        return "  " + "  ".join(str(c)[:w].ljust(w) for c, w in zip(cells, widths, strict=True))

    return [line(table.headers), "  " + "  ".join("-" * w for w in widths), *(line(r) for r in table.rows)]


# --- markdown ------------------------------------------------------------------------------


def render_markdown(audit: Audit, min_severity: Severity | None = None) -> str:
    return render_markdown_blocks(document(audit, min_severity))


def render_markdown_blocks(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"{'#' * block.level} {md.prose(block.text)}\n")
        elif isinstance(block, Para):
            out.append(md.prose(block.text) + "\n")
        elif isinstance(block, Table):
            out.append(md.table(block.headers, block.rows))
        elif isinstance(block, Bullets):
            out.append("\n".join(f"- {md.prose(item)}" for item in block.items) + "\n")
        elif isinstance(block, Code):
            out.append(md.fenced(block.text, "sql"))
    return "\n".join(out)


# --- html ----------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return _html.escape(str(value), quote=True)


def render_html(audit: Audit, min_severity: Severity | None = None) -> str:
    parts: list[str] = []
    for block in document(audit, min_severity):
        if isinstance(block, Heading):
            parts.append(f"<h{block.level}>{_e(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            parts.append(f"<p>{_e(block.text)}</p>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{_e(h)}</th>" for h in block.headers)
            body = "".join(
                "<tr>"
                + "".join(
                    f'<td data-label="{_e(h)}"{_status_class(c)}>{_e(c)}</td>'
                    for h, c in zip(block.headers, row, strict=False)
                )
                + "</tr>"
                for row in block.rows
            )  # class rows: one labelled card per row on a phone (output/html_base.py)
            parts.append(f'<table class="rows"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')
        elif isinstance(block, Bullets):
            parts.append("<ul>" + "".join(f"<li>{_e(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Code):
            parts.append(f"<pre><code>{_e(block.text)}</code></pre>")
    title = f"dbwright audit · {audit.snapshot.server.database}"
    return page(title, "\n".join(parts), CSS + _AUDIT_CSS)


_AUDIT_CSS = (
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid var(--line);padding:.2em .5em;"
    "text-align:left}td.fail{color:var(--high);font-weight:bold}td.pass{color:var(--good)}"
    "td.skipped{color:var(--muted);font-style:italic}"
)


def _status_class(text: str) -> str:
    return {"FAIL": ' class="fail"', "pass": ' class="pass"', "not verified": ' class="skipped"'}.get(
        text, ""
    )


# --- one role's access (dbwright access ROLE) ----------------------------------------------


def role_access_document(matrix: AccessMatrix) -> list[Block]:
    role = matrix.roles[0]
    blocks: list[Block] = [Heading(1, f"What {role.name} can do in {matrix.database}")]
    attributes = [
        name
        for name, on in (
            ("LOGIN", role.login),
            ("SUPERUSER", role.superuser),
            ("BYPASSRLS", role.bypassrls),
            ("NOINHERIT", not role.inherit),
        )
        if on
    ]
    blocks.append(
        Para(
            f"Attributes: {', '.join(attributes) or 'none'} · member of: "
            f"{', '.join(role.member_of) or 'no role'} · can connect: {_yes(role.can_connect)}"
        )
    )
    if role.superuser:
        blocks.append(
            Para(
                f"{role.name} is a superuser: every permission check passes, row-level security "
                "included. Nothing below limits it."
            )
        )
        return blocks
    if not role.inherit:
        blocks.append(
            Para(
                "NOINHERIT: privileges of the roles it belongs to apply only after SET ROLE, so they "
                "are not counted here."
            )
        )
    entries = [e for e in matrix.entries if e.level != "none" or e.object_type == "database"]
    by_type: dict[str, list] = {}
    for entry in entries:
        by_type.setdefault(entry.object_type, []).append(entry)
    order = [
        "database",
        "schema",
        "table",
        "view",
        "materialized view",
        "foreign table",
        "sequence",
        "function",
    ]
    for object_type in sorted(by_type, key=lambda t: order.index(t) if t in order else len(order)):
        items = by_type[object_type]
        blocks.append(Heading(2, f"{object_type.capitalize()}s ({len(items)})"))
        blocks.append(
            Table(
                ["Object", "Level", "Privileges", "Notes"],
                [
                    [
                        e.object_name,
                        e.level,
                        ", ".join(e.privileges) or "—",
                        "; ".join(
                            n
                            for n, on in (
                                ("owner", e.owner),
                                ("some columns only", e.columns_only),
                                ("rows filtered by RLS", e.rls),
                                ("granted but unreachable (no schema USAGE or CONNECT)", not e.reachable),
                            )
                            if on
                        ),
                    ]
                    for e in items
                ],
            )
        )
    unreachable = [e for e in matrix.entries if not e.reachable and e.privileges]
    if unreachable:
        blocks.append(
            Para(
                f"{len(unreachable)} object(s) carry grants the role cannot use: no USAGE on their "
                "schema or no CONNECT on the database."
            )
        )
    return blocks


def role_access_dict(matrix: AccessMatrix) -> dict[str, Any]:
    """The JSON of ``dbwright access ROLE``: the role's attributes and every object it can reach."""
    role = matrix.roles[0]
    return {
        "role": role.name,
        "database": matrix.database,
        "login": role.login,
        "superuser": role.superuser,
        "bypassrls": role.bypassrls,
        "inherit": role.inherit,
        "can_connect": role.can_connect,
        "member_of": list(role.member_of),
        "objects": [e.to_dict() for e in matrix.entries],
    }


def render_role_access_text(matrix: AccessMatrix) -> str:
    return render_text_blocks(role_access_document(matrix))


def render_role_access_markdown(matrix: AccessMatrix) -> str:
    return render_markdown_blocks(role_access_document(matrix))
