"""The review: run the registered checks over a snapshot. The one API every face calls.

``run_review`` is the one check runner: the review runs every check that applies to the
snapshot's engine, and the audit (``dbwright.audit.run``) is the same runner over its subset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from dbwright import __version__
from dbwright.checks.registry import CATEGORIES, Check, all_checks
from dbwright.model import Snapshot
from dbwright.model.findings import Finding, Severity

REVIEW_FORMAT = 1
SCORE_HALF_PENALTY = 50  # the penalty at which an area's score is 50

# Points a finding of each severity takes off its area's score (out of 100).
_PENALTY = {Severity.INFO: 0, Severity.LOW: 2, Severity.MEDIUM: 5, Severity.HIGH: 12, Severity.CRITICAL: 25}


@dataclass(frozen=True)
class ReviewedFinding:
    check: Check
    finding: Finding

    @property
    def severity(self) -> Severity:
        return self.finding.severity or self.check.severity

    def to_dict(self) -> dict[str, Any]:
        finding, check = self.finding, self.check
        return {
            "code": finding.code,
            "title": check.title,
            "category": check.category,
            "severity": self.severity.label,
            "object": finding.object,
            "message": finding.message,
            "evidence": finding.evidence,
            "fix": finding.fix.to_dict() if finding.fix else None,
            "docs": f"docs/checks/{finding.code}.md",
        }


@dataclass(frozen=True)
class SkippedCheck:
    check: Check
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Ignore:
    """A finding a project has decided to live with: a check's code, the object (or an fnmatch pattern
    such as ``public.audit_*``) and why. The review keeps it out of the findings, the scores and
    ``--fail-on``, and lists it as suppressed, so the decision stays visible."""

    check: str  # a check's code or alias
    object: str  # an object name as findings name it, or a pattern
    reason: str
    source: str = ""  # where the decision is written: "dbwright.toml: ignore[1]"

    def matches(self, check: Check, finding: Finding) -> bool:
        return check.answers_to({self.check}) and fnmatchcase(finding.object, self.object)


@dataclass(frozen=True)
class SuppressedFinding:
    """A finding an ``Ignore`` keeps out of the review, with that ignore."""

    check: Check
    finding: Finding
    ignore: Ignore

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.finding.code,
            "title": self.check.title,
            "object": self.finding.object,
            "message": self.finding.message,
            "reason": self.ignore.reason,
            "ignored_by": self.ignore.source,
        }


@dataclass(frozen=True)
class ReviewPolicy:
    """What a project decided about its review, usually in its configuration file (dbwright.toml).

    ``enabled`` (codes and areas; empty: every check) and ``disabled`` choose the checks that run
    when the caller names none; ``severities`` override a check's severity; ``check_options`` give
    per-check option values (``{"DW203": {"min_observed_days": 14}}``); ``ignores`` suppress
    findings on named objects. Checks and codes are canonical codes, not aliases.
    """

    enabled: frozenset[str] = frozenset()
    disabled: frozenset[str] = frozenset()
    severities: Mapping[str, Severity] = field(default_factory=dict)
    check_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    ignores: tuple[Ignore, ...] = ()

    def turned_off(self, check: Check) -> bool:
        """Whether the policy keeps ``check`` from running (when the caller names no codes)."""
        names = {check.code, check.category}
        if self.enabled and not names & self.enabled:
            return True
        return bool(names & self.disabled)

    def ignore_for(self, check: Check, finding: Finding) -> Ignore | None:
        return next((i for i in self.ignores if i.matches(check, finding)), None)

    def graded(self, check: Check, finding: Finding) -> Finding:
        """``finding`` at the severity the policy sets for its check, if it sets one."""
        override = self.severities.get(check.code)
        return finding if override is None else replace(finding, severity=override)

    def options_for(self, check: Check, options: Mapping[str, Any] | None) -> dict[str, Any]:
        """The check's configured options, under the caller's own ``options`` (which win)."""
        return {**self.check_options.get(check.code, {}), **(options or {})}


NO_POLICY = ReviewPolicy()


@dataclass
class Review:
    snapshot: Snapshot
    findings: list[ReviewedFinding] = field(default_factory=list)
    skipped: list[SkippedCheck] = field(default_factory=list)
    checks_run: int = 0
    ran: list[Check] = field(default_factory=list)  # the checks that ran (with findings or without)
    review_ms: float = 0.0
    suppressed: list[SuppressedFinding] = field(default_factory=list)  # kept out by the policy's ignores
    disabled: list[Check] = field(default_factory=list)  # turned off by the policy, not run

    def by_code(self, code: str) -> list[Finding]:
        return [f.finding for f in self.findings if f.check.code == code]

    @property
    def codes(self) -> set[str]:
        return {f.check.code for f in self.findings}

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def scores(self) -> dict[str, int]:
        """A 0–100 score per area that falls with the weight of the area's findings.

        Penalties have diminishing returns (100 / (1 + penalty / 50)), so an area with many
        problems still scores differently from one with twice as many: one high finding
        gives 81, a critical one 67, four high ones 51.
        """
        scores = {}
        for category in CATEGORIES:
            penalty = sum(_PENALTY[f.severity] for f in self.findings if f.check.category == category)
            scores[category] = round(100 / (1 + penalty / SCORE_HALF_PENALTY))
        return scores

    def to_dict(self) -> dict[str, Any]:
        server = self.snapshot.server
        return {
            "format": REVIEW_FORMAT,
            "dbwright_version": __version__,
            "database": server.database,
            "server_version": server.version_num,
            "taken_at": self.snapshot.taken_at,
            "summary": {
                "findings": len(self.findings),
                "by_severity": {
                    s.label: sum(1 for f in self.findings if f.severity == s)
                    for s in sorted(Severity, reverse=True)
                },
                "scores": self.scores(),
                "checks_run": self.checks_run,
                "checks_skipped": len(self.skipped),
                "checks_disabled": len(self.disabled),
                "suppressed": len(self.suppressed),
            },
            "findings": [f.to_dict() for f in self.findings],
            "suppressed": [s.to_dict() for s in self.suppressed],
            "disabled": [{"code": c.code, "title": c.title} for c in self.disabled],
            "skipped": [
                {"code": s.check.code, "title": s.check.title, "reasons": list(s.reasons)}
                for s in self.skipped
            ],
            "snapshot_skipped": [{"section": s.section, "reason": s.reason} for s in self.snapshot.skipped],
            "timings_ms": {"introspection": self.snapshot.introspection_ms, "review": self.review_ms},
        }


def run_review(
    snap: Snapshot,
    *,
    categories: Iterable[str] | None = None,
    codes: Iterable[str] | None = None,
    checks: Sequence[Check] | None = None,
    progress: Callable[[Check], None] | None = None,
    options: Mapping[str, Any] | None = None,
    policy: ReviewPolicy = NO_POLICY,
) -> Review:
    """Run every selected check that applies to the snapshot's engine.

    ``options`` are review options (``{"min_observed_days": 14}``), handed to the checks that
    declare them as keyword-only parameters; the others never see them.

    ``policy`` is the project's own decisions (``ReviewPolicy``): checks it turns off are listed as
    disabled unless ``codes`` names them, its severities and options apply, and findings its ignores
    match are listed as suppressed instead of counted.

    ``checks`` narrows the candidates (default: every registered check); ``categories`` and
    ``codes`` (codes or aliases) narrow them further. A check whose requirements are not met
    (a skipped snapshot section, a hidden setting, a derived condition) is listed as skipped
    with the reasons, not run.
    """
    import time

    started = time.perf_counter()
    wanted_categories = set(categories) if categories else None
    wanted_codes = {c.upper() for c in codes} if codes else None
    review = Review(snap)
    for check in all_checks() if checks is None else checks:
        if not check.applies_to(snap):
            continue
        if wanted_categories and check.category not in wanted_categories:
            continue
        if wanted_codes and not check.answers_to(wanted_codes):
            continue
        if not wanted_codes and policy.turned_off(check):
            review.disabled.append(check)
            continue
        if progress:
            progress(check)
        missing = check.missing(snap)
        if missing:
            review.skipped.append(SkippedCheck(check, tuple(missing)))
            continue
        review.checks_run += 1
        review.ran.append(check)
        for found in check.run(snap, policy.options_for(check, options)):
            ignore = policy.ignore_for(check, found)
            if ignore is not None:
                review.suppressed.append(SuppressedFinding(check, found, ignore))
            else:
                review.findings.append(ReviewedFinding(check, policy.graded(check, found)))
    review.findings.sort(key=lambda f: (-f.severity, f.check.category, f.check.code, f.finding.object))
    review.review_ms = round((time.perf_counter() - started) * 1000, 1)
    return review
