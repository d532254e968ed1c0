"""Run the audit: the security and compliance checks over a snapshot, plus effective privileges and encryption.

The audit is no second engine: ``run_audit`` asks the review's runner (``run_review``) for the
checks that carry an audit category (the security and compliance areas, plus DW609) and adds what
only an audit reports: the CIS compliance table, the access matrix and the encryption report.
Each check appears under its audit code (``DWA…``; the alias of a DW check) and audit category.

``run_audit(snapshot)`` is pure (a saved snapshot audits offline, without the access matrix);
``audit_database(target)`` opens one read-only session for the snapshot and the access matrix.
Each check ends as failed (with findings), passed, or skipped with the privilege it needs: a check
whose input the role could not read is never counted as passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dbwright import __version__
from dbwright.audit.access import AccessMatrix, effective_privileges
from dbwright.audit.encryption import EncryptionReport, encryption_report
from dbwright.checks.cis import CIS_BENCHMARK, CIS_TITLES, cis_sort_key
from dbwright.checks.registry import (
    AUDIT_CATEGORIES,
    Check,
    CheckFunction,
    all_checks,
    refuse_unknown,
)
from dbwright.model import Snapshot
from dbwright.model.findings import Finding, Severity
from dbwright.review import (
    _PENALTY,
    NO_POLICY,
    SCORE_HALF_PENALTY,
    ReviewPolicy,
    SuppressedFinding,
    run_review,
)

AUDIT_FORMAT = 1

__all__ = [
    "AUDIT_CATEGORIES",
    "CIS_BENCHMARK",
    "Audit",
    "AuditCheck",
    "AuditFinding",
    "SkippedAuditCheck",
    "all_audit_checks",
    "audit_database",
    "run_audit",
]


@dataclass(frozen=True)
class AuditCheck:
    """A registered check as the audit shows it: under its audit code and audit category."""

    check: Check

    @property
    def code(self) -> str:
        return self.check.audit_code

    @property
    def category(self) -> str:
        return self.check.audit_category or ""

    @property
    def wraps(self) -> str | None:
        """The review code of a check the audit shows under a DWA alias (DWA001 is DW501)."""
        return self.check.code if self.check.code != self.code else None

    @property
    def cis(self) -> str | None:
        return self.check.cis

    @property
    def title(self) -> str:
        return self.check.title

    @property
    def severity(self) -> Severity:
        return self.check.severity

    @property
    def requires(self) -> tuple[str, ...]:
        return self.check.requires

    @property
    def function(self) -> CheckFunction:
        return self.check.function

    @property
    def doc(self) -> str:
        return self.check.doc

    @property
    def summary(self) -> str:
        return self.check.summary


def all_audit_checks() -> list[AuditCheck]:
    """Every check of the audit, in audit-code order."""
    return sorted((AuditCheck(c) for c in all_checks() if c.in_audit), key=lambda c: c.code)


@dataclass(frozen=True)
class AuditFinding:
    check: AuditCheck
    finding: Finding

    @property
    def severity(self) -> Severity:
        return self.finding.severity or self.check.severity

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.check.code,
            "title": self.check.title,
            "cis": self.check.cis,
            "category": self.check.category,
            "severity": self.severity.label,
            "object": self.finding.object,
            "message": self.finding.message,
            "evidence": self.finding.evidence,
            "fix": self.finding.fix.to_dict() if self.finding.fix else None,
            "wraps": self.check.wraps,
            "docs": f"docs/audit.md#{self.check.code.lower()}",
        }


@dataclass(frozen=True)
class SkippedAuditCheck:
    check: AuditCheck
    reasons: tuple[str, ...]


@dataclass
class Audit:
    snapshot: Snapshot
    findings: list[AuditFinding] = field(default_factory=list)
    skipped: list[SkippedAuditCheck] = field(default_factory=list)
    passed: list[AuditCheck] = field(default_factory=list)
    access: AccessMatrix | None = None
    access_skipped: str | None = None
    encryption: EncryptionReport = field(default_factory=EncryptionReport)
    audit_ms: float = 0.0
    suppressed: list[SuppressedFinding] = field(default_factory=list)  # kept out by the policy's ignores
    disabled: list[AuditCheck] = field(default_factory=list)  # turned off by the policy, not run

    @property
    def codes(self) -> set[str]:
        return {f.check.code for f in self.findings}

    def by_code(self, code: str) -> list[Finding]:
        return [f.finding for f in self.findings if f.check.code == code]

    def status(self, code: str) -> str:
        """fail, pass or skipped."""
        if code in self.codes:
            return "fail"
        if any(s.check.code == code for s in self.skipped):
            return "skipped"
        return "pass"

    def checks(self) -> list[tuple[AuditCheck, str]]:
        ran = (
            {c.code: c for c in self.passed}
            | {f.check.code: f.check for f in self.findings}
            | {s.check.code: s.check for s in self.skipped}
        )
        return [(ran[code], self.status(code)) for code in sorted(ran)]

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def scores(self) -> dict[str, int | None]:
        """0–100 per category, the review's formula; None when every check of the category was skipped."""
        scores: dict[str, int | None] = {}
        for category in AUDIT_CATEGORIES:
            verified = [c for c, status in self.checks() if c.category == category and status != "skipped"]
            if not verified:
                scores[category] = None
                continue
            penalty = sum(_PENALTY[f.severity] for f in self.findings if f.check.category == category)
            scores[category] = round(100 / (1 + penalty / SCORE_HALF_PENALTY))
        return scores

    def compliance(self) -> list[dict[str, Any]]:
        """One row per check, CIS section order: what an auditor ticks off."""
        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.check.code] = counts.get(f.check.code, 0) + 1
        reasons = {s.check.code: list(s.reasons) for s in self.skipped}
        rows = [
            {
                "cis": c.cis,
                "cis_title": CIS_TITLES.get(c.cis or ""),
                "code": c.code,
                "title": c.title,
                "category": c.category,
                "status": status,
                "findings": counts.get(c.code, 0),
                "skipped_because": reasons.get(c.code, []),
            }
            for c, status in self.checks()
        ]
        return sorted(rows, key=lambda r: (cis_sort_key(r["cis"]), r["code"]))

    def to_dict(self) -> dict[str, Any]:
        server = self.snapshot.server
        statuses = [status for _, status in self.checks()]
        return {
            "format": AUDIT_FORMAT,
            "dbwright_version": __version__,
            "benchmark": CIS_BENCHMARK,
            "database": server.database,
            "server_version": server.version_num,
            "audited_as": server.current_user,
            "audited_as_superuser": server.is_superuser,
            "taken_at": self.snapshot.taken_at,
            "summary": {
                "checks": len(statuses),
                "passed": statuses.count("pass"),
                "failed": statuses.count("fail"),
                "skipped": statuses.count("skipped"),
                "findings": len(self.findings),
                "by_severity": {
                    s.label: sum(1 for f in self.findings if f.severity == s)
                    for s in sorted(Severity, reverse=True)
                },
                "scores": self.scores(),
                "suppressed": len(self.suppressed),
                "checks_disabled": len(self.disabled),
            },
            "compliance": self.compliance(),
            "findings": [f.to_dict() for f in self.findings],
            "suppressed": [
                s.to_dict() | {"code": AuditCheck(s.check).code, "wraps": AuditCheck(s.check).wraps}
                for s in self.suppressed
            ],
            "disabled": [{"code": c.code, "title": c.title} for c in self.disabled],
            "skipped": [
                {"code": s.check.code, "cis": s.check.cis, "title": s.check.title, "reasons": list(s.reasons)}
                for s in self.skipped
            ],
            "access": self.access.to_dict() if self.access else None,
            "access_skipped": self.access_skipped,
            "encryption": self.encryption.to_dict(),
            "snapshot_skipped": [{"section": s.section, "reason": s.reason} for s in self.snapshot.skipped],
            "timings_ms": {"introspection": self.snapshot.introspection_ms, "audit": self.audit_ms},
        }


def run_audit(
    snap: Snapshot,
    *,
    codes: list[str] | None = None,
    categories: list[str] | None = None,
    access: AccessMatrix | None = None,
    host: bool = False,
    pii_columns: tuple[str, ...] = (),
    progress: Callable[[AuditCheck], None] | None = None,
    policy: ReviewPolicy = NO_POLICY,
) -> Audit:
    """Run the selected audit checks on ``snap``; checks missing an input are skipped with the reason.

    ``codes`` are audit codes (DWA…) or review codes; ``categories`` are audit categories.
    ``policy`` is the project's own decisions, as for the review (disabled checks, severities, ignores).
    """
    started = time.perf_counter()
    for category in categories or []:
        if category not in AUDIT_CATEGORIES:
            raise ValueError(f"unknown audit category {category!r}; use one of {', '.join(AUDIT_CATEGORIES)}")
    audit = Audit(snap, access=access)
    if access is None:
        audit.access_skipped = "effective privileges are read from a live server, not from a saved snapshot"
    views = {c.check.code: c for c in _selected(codes, categories)}
    review = run_review(
        snap,
        checks=[view.check for view in views.values()],
        progress=(lambda check: progress(views[check.code])) if progress else None,
        codes=codes,
        policy=policy,
    )
    audit.suppressed = review.suppressed
    audit.disabled = [views[c.code] for c in review.disabled]
    audit.findings = [
        AuditFinding(views[f.check.code], f.finding.with_code(views[f.check.code].code))
        for f in review.findings
    ]
    audit.skipped = [SkippedAuditCheck(views[s.check.code], s.reasons) for s in review.skipped]
    failed = {f.check.code for f in review.findings}
    audit.passed = [views[c.code] for c in review.ran if c.code not in failed]
    audit.findings.sort(key=lambda f: (-f.severity, f.check.category, f.check.code, f.finding.object))
    audit.encryption = encryption_report(snap, host=host, pii_columns=pii_columns)
    audit.audit_ms = round((time.perf_counter() - started) * 1000, 1)
    return audit


def _selected(codes: Iterable[str] | None, categories: Iterable[str] | None) -> list[AuditCheck]:
    """The audit checks ``codes`` and ``categories`` select; a code nobody registered, or a check that
    is not part of the audit, is one line (exit 22), never an audit of nothing."""
    refuse_unknown(codes, audit=True)
    wanted = {c.upper() for c in codes} if codes else None
    wanted_categories = set(categories) if categories else None
    return [
        c
        for c in all_audit_checks()
        if (not wanted or c.check.answers_to(wanted))
        and (not wanted_categories or c.category in wanted_categories)
    ]


def audit_database(
    target: str | None,
    *,
    codes: list[str] | None = None,
    categories: list[str] | None = None,
    access: bool = True,
    host: bool = False,
    pii: bool = False,
    progress: Callable[[str], None] | None = None,
    policy: ReviewPolicy = NO_POLICY,
) -> Audit:
    """Snapshot ``target`` and compute its access matrix in one read-only session, then audit.

    With ``pii``, the bounded PII discovery of ``dbwright pii`` runs first (read-only, sampled) and
    the encryption report says, for each PII column it finds, whether it is stored as bytea (where
    pgcrypto ciphertext lives) or in plain text. Only column names cross over, never values.
    """
    from dbwright.engines.postgres.connect import open_session
    from dbwright.engines.postgres.introspect import snapshot
    from dbwright.engines.postgres.query_errors import translating
    from dbwright.errors import QueryTimeoutError, ServerError

    try:
        with translating(), open_session(target) as conn:
            snap = snapshot(conn, progress=progress)
            matrix, access_skipped = None, None
            if access:
                if progress:
                    progress("effective privileges")
                try:
                    matrix = effective_privileges(conn)
                except QueryTimeoutError as error:
                    access_skipped = (
                        f"the roles × objects query was cancelled ({error}); "
                        "use dbwright access ROLE for one role at a time"
                    )
    except ServerError as error:  # the engine names the driver's error: "UndefinedTable: …"
        raise ServerError(f"reading the catalog failed: {error}") from None
    pii_columns: tuple[str, ...] = ()
    if pii:
        from dbwright.audit.pii.classify import discover_pii

        if progress:
            progress("sampling for PII")
        found = discover_pii(target, recommend=False).findings
        pii_columns = tuple(dict.fromkeys(f"{f.schema}.{f.table}.{f.column}" for f in found))
    result = run_audit(
        snap,
        codes=codes,
        categories=categories,
        access=matrix,
        host=host,
        pii_columns=pii_columns,
        policy=policy,
    )
    if not access:
        result.access_skipped = "not requested (--no-access)"
    elif access_skipped:
        result.access_skipped = access_skipped
    return result
