"""The audit check registry: the review registry's shape, plus a CIS section and an audit category.

An audit check is a function over a Snapshot that yields ``Finding``s, registered under a stable
``DWA`` code with its CIS PostgreSQL Benchmark section (when one applies) and one of the audit
categories. Checks that the review already has (DW5xx and a few DW6xx) are *wrapped*, not copied:
the audit entry points at the same function, so a fix to the logic fixes both.

``requires`` names what a check needs to give a verified answer: a snapshot section (skipped when
the role could not read it), ``setting:NAME`` (the setting must be visible to the role) or a
derived condition from ``CONDITIONS``. When anything is missing the check is reported as skipped
with the privilege it needs, never as passed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from dbwright.checks.registry import REGISTRY as REVIEW_REGISTRY
from dbwright.checks.registry import all_checks as all_review_checks
from dbwright.model import Snapshot
from dbwright.model.findings import Finding, Severity

AUDIT_CATEGORIES = ("access", "authentication", "encryption", "logging", "data protection", "configuration")

#: The benchmark whose section numbers ``cis`` refers to.
CIS_BENCHMARK = "CIS PostgreSQL 17 Benchmark v1.0.0"

#: Titles of the benchmark sections the checks map to, for the compliance summary.
CIS_TITLES = {
    "1.4": "Ensure Data Cluster Initialized Successfully",
    "1.5": "Ensure the Latest Security Patches are Applied",
    "3.1.16": "Ensure 'debug_print_parse' is disabled",
    "3.1.20": "Ensure 'log_connections' is enabled",
    "3.1.21": "Ensure 'log_disconnections' is enabled",
    "3.1.24": "Ensure 'log_line_prefix' is set correctly",
    "3.1.25": "Ensure 'log_statement' is set correctly",
    "3.2": "Ensure the PostgreSQL Audit Extension (pgAudit) is enabled",
    "4.3": "Ensure excessive administrative privileges are revoked",
    "4.5": "Ensure excessive function privileges are revoked",
    "4.6": "Ensure excessive DML privileges are revoked",
    "4.7": "Ensure Row Level Security (RLS) is configured correctly",
    "5.2": "Ensure PostgreSQL is Bound to an IP Address",
    "5.4": 'Ensure login via "host" TCP/IP Socket is configured correctly',
    "5.5": "Ensure per-account connection limits are used",
    "5.6": "Ensure Password Complexity is configured",
    "6.8": "Ensure TLS is enabled and configured correctly",
    "6.9": "Ensure that TLSv1.3, or later, is configured",
    "6.10": "Ensure Weak SSL/TLS Ciphers Are Disabled",
    "6.11": "Ensure the pgcrypto extension is installed and configured correctly",
    "7.2": "Ensure logging of replication commands is configured",
    "7.4": "Ensure WAL archiving is configured and functional",
}

CheckFunction = Callable[[Snapshot], Iterable[Finding]]

_SETTINGS_PRIVILEGE = "needs pg_read_all_settings (part of pg_monitor) or superuser"


def _tls_state_hidden(snap: Snapshot) -> str | None:
    hidden = sum(1 for s in snap.tls_sessions if s.ssl is None)
    if hidden:
        return (
            f"the TLS state of {hidden} other session(s) is hidden from {snap.server.current_user} "
            "(some may be background processes): "
            "needs pg_read_all_stats (part of pg_monitor) or superuser"
        )
    return None


def _audit_sections_missing(snap: Snapshot) -> str | None:
    # Every database has languages (internal, c, sql, plpgsql) and the snapshotting session itself is a
    # client backend: empty lists mean a snapshot saved before these sections existed, not a clean state.
    if not snap.languages or not snap.tls_sessions:
        return (
            "this snapshot has no policies, languages or TLS sessions (saved by an older dbwright): "
            "take a new snapshot"
        )
    return None


#: Derived conditions a check may require, each returning why it cannot be verified (or None).
CONDITIONS: dict[str, Callable[[Snapshot], str | None]] = {
    "tls_state": _tls_state_hidden,
    "audit_sections": _audit_sections_missing,
}


@dataclass(frozen=True)
class AuditCheck:
    code: str
    cis: str | None
    category: str
    severity: Severity
    title: str
    function: CheckFunction
    requires: tuple[str, ...] = ()
    wraps: str | None = None  # the review check (DWxxx) whose logic this is

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.function.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.split("\n\n", 1)[0].replace("\n", " ")

    def run(self, snap: Snapshot) -> Iterator[Finding]:
        for found in self.function(snap):
            yield Finding(self.code, found.object, found.message, found.evidence, found.fix, found.severity)

    def missing(self, snap: Snapshot) -> list[str]:
        """Why this check cannot be verified on ``snap``: one reason per missing requirement."""
        reasons = []
        visible = {s.name for s in snap.server.settings}
        for need in self.requires:
            if need.startswith("setting:"):
                name = need.split(":", 1)[1]
                if name not in visible:
                    reasons.append(
                        f"setting {name} is not visible to {snap.server.current_user}: {_SETTINGS_PRIVILEGE}"
                    )
            elif need in CONDITIONS:
                if (why := CONDITIONS[need](snap)) is not None:
                    reasons.append(why)
            elif (why := snap.skipped_reason(need)) is not None:
                reasons.append(f"{need}: {why}")
        return reasons


AUDIT_REGISTRY: dict[str, AuditCheck] = {}


def _register(entry: AuditCheck) -> None:
    if entry.category not in AUDIT_CATEGORIES:
        raise ValueError(f"unknown audit category {entry.category!r}")
    if entry.code in AUDIT_REGISTRY:
        raise ValueError(f"audit check code {entry.code} registered twice")
    if not entry.doc:
        raise ValueError(f"audit check {entry.code} needs a docstring: it is the docs page")
    AUDIT_REGISTRY[entry.code] = entry


def audit_check(
    code: str,
    *,
    cis: str | None,
    category: str,
    severity: Severity,
    title: str,
    requires: tuple[str, ...] = (),
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a new audit check under a stable DWA code. Codes are never reused."""

    def register(function: CheckFunction) -> CheckFunction:
        _register(AuditCheck(code, cis, category, severity, title, function, requires))
        return function

    return register


def wrap(
    review_code: str, code: str, *, cis: str | None, category: str, requires: tuple[str, ...] = ()
) -> None:
    """Register the review check ``review_code`` in the audit under ``code``, reusing its function."""
    all_review_checks()  # make sure the review checks are registered
    source = REVIEW_REGISTRY[review_code]
    _register(
        AuditCheck(
            code,
            cis,
            category,
            source.severity,
            source.title,
            source.function,
            tuple(dict.fromkeys(source.requires + requires)),
            wraps=review_code,
        )
    )


def all_audit_checks() -> list[AuditCheck]:
    """Every audit check, in code order. Importing the package registers them."""
    import dbwright.audit.checks  # noqa: F401  (registration side effect)

    return [AUDIT_REGISTRY[c] for c in sorted(AUDIT_REGISTRY)]


def cis_sort_key(cis: str | None) -> tuple:
    """ "3.1.20" after "3.1.3"; checks without a section last."""
    if not cis:
        return (1, ())
    return (0, tuple(int(part) if part.isdigit() else 0 for part in cis.split(".")))
