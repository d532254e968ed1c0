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
from dbwright.checks import frameworks as schema_owners
from dbwright.checks.registry import CATEGORIES, Check, all_checks, refuse_unknown
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


#: Why an area was not checked when --check or --category left it out.
NOT_SELECTED = "not selected"


@dataclass(frozen=True)
class AreaStatus:
    """How far the review covered one area: its score counts only the checks that ran, so an area
    none of whose checks ran has no score ("not checked"), never a clean 100."""

    score: int | None  # None: no check of the area ran
    checks_run: int
    checks_skipped: int
    why: str | None  # why checks of the area did not run (their skip reasons, or "not selected")

    @property
    def checked(self) -> bool:
        return self.score is not None

    @property
    def partial(self) -> bool:
        return self.checks_run > 0 and self.checks_skipped > 0

    def label(self) -> str:
        """``87/100``, ``81/100, 3 of 9 checks not run (why)``, ``partly checked: …`` (an area that
        would score a clean 100 only because its main checks could not run) or ``not checked (why)``."""
        if self.score is None and self.checks_run:
            total = self.checks_run + self.checks_skipped
            return (
                f"partly checked: {self.checks_run} of {total} checks ran and found nothing; "
                f"{self.checks_skipped} not run ({self.why})"
            )
        if self.score is None:
            return f"not checked ({self.why})"
        if self.partial:
            total = self.checks_run + self.checks_skipped
            return f"{self.score}/100, {self.checks_skipped} of {total} checks not run ({self.why})"
        return f"{self.score}/100"

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "checks_run": self.checks_run,
            "checks_skipped": self.checks_skipped,
            "not_checked_because": self.why,
        }


def _why_skipped(reasons: list[str]) -> str:
    """The skip reasons of an area's checks, short: the first one, then how many other reasons there
    are (the skipped list has them all)."""
    distinct = list(dict.fromkeys(reasons))
    more = f"; {len(distinct) - 1} other reason(s) under Skipped" if len(distinct) > 1 else ""
    return distinct[0] + more


@dataclass
class Review:
    snapshot: Snapshot
    findings: list[ReviewedFinding] = field(default_factory=list)
    skipped: list[SkippedCheck] = field(default_factory=list)
    checks_run: int = 0
    ran: list[Check] = field(default_factory=list)  # the checks that ran (with findings or without)
    review_ms: float = 0.0
    #: With ``listing_at_or_above``: the listed findings are only those at or above this severity,
    #: while scores and counts of what was found use ``all_findings``.
    min_severity: Severity | None = None
    all_findings: list[ReviewedFinding] | None = None
    suppressed: list[SuppressedFinding] = field(default_factory=list)  # kept out by the policy's ignores
    disabled: list[Check] = field(default_factory=list)  # turned off by the policy, not run
    #: The migration frameworks that manage the schemas (Django, Rails, Alembic, …), from their tables.
    frameworks: tuple[schema_owners.Framework, ...] = ()

    def by_code(self, code: str) -> list[Finding]:
        return [f.finding for f in self.findings if f.check.code == code]

    @property
    def codes(self) -> set[str]:
        return {f.check.code for f in self.findings}

    @property
    def found(self) -> list[ReviewedFinding]:
        """Every finding of the review, listed or not (scores and --fail-on go by these)."""
        return self.findings if self.all_findings is None else self.all_findings

    @property
    def not_listed(self) -> int:
        """Findings below ``min_severity``, left out of the listing."""
        return len(self.found) - len(self.findings)

    def listing_at_or_above(self, severity: Severity | None) -> Review:
        """This review listing only the findings at or above ``severity``; scores are unchanged."""
        if severity is None:
            return self
        return replace(
            self,
            findings=[f for f in self.found if f.severity >= severity],
            min_severity=severity,
            all_findings=self.found,
        )

    def serious(self) -> list[dict[str, Any]]:
        """The high and critical findings by check, worst first: how many, and why they rank so."""
        counts: dict[tuple[Severity, str], int] = {}
        checks: dict[str, Check] = {}
        for f in self.found:
            if f.severity >= Severity.HIGH:
                counts[(f.severity, f.check.code)] = counts.get((f.severity, f.check.code), 0) + 1
                checks[f.check.code] = f.check
        return [
            {"severity": severity.label, "code": code, "count": n, "why": checks[code].title}
            for (severity, code), n in sorted(counts.items(), key=lambda item: (-item[0][0], item[0][1]))
        ]

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.found), default=None)

    def areas(self) -> dict[str, AreaStatus]:
        """Each area's score and how far it was checked.

        Penalties have diminishing returns (100 / (1 + penalty / 50)), so an area with many
        problems still scores differently from one with twice as many: one high finding
        gives 81, a critical one 67, four high ones 51. An area none of whose checks ran has
        no score: it says why instead.
        """
        ran = [check.category for check in self.ran]
        areas = {}
        for category in CATEGORIES:
            reasons = [r for s in self.skipped if s.check.category == category for r in s.reasons]
            skipped = sum(1 for s in self.skipped if s.check.category == category)
            run = ran.count(category)
            turned_off = any(c.category == category for c in self.disabled)
            unselected = "turned off in the configuration" if turned_off else NOT_SELECTED
            why = _why_skipped(reasons) if reasons else None if run else unselected
            score = None
            if run:
                penalty = sum(_PENALTY[f.severity] for f in self.found if f.check.category == category)
                score = round(100 / (1 + penalty / SCORE_HALF_PENALTY))
                if skipped and not penalty:
                    score = None  # never a clean 100 for an area whose other checks could not run
            areas[category] = AreaStatus(score, run, skipped, why)
        return areas

    def scores(self) -> dict[str, int | None]:
        """A 0–100 score per area that falls with the weight of the area's findings; None for an
        area none of whose checks ran (``areas()`` says why)."""
        return {category: status.score for category, status in self.areas().items()}

    def to_dict(self) -> dict[str, Any]:
        server = self.snapshot.server
        areas = self.areas()
        return {
            "format": REVIEW_FORMAT,
            "dbwright_version": __version__,
            "database": server.database,
            "server_version": server.version_num,
            "taken_at": self.snapshot.taken_at,
            "summary": {
                "findings": len(self.found),
                "by_severity": {
                    s.label: sum(1 for f in self.found if f.severity == s)
                    for s in sorted(Severity, reverse=True)
                },
                "scores": {category: status.score for category, status in areas.items()},
                "areas": {category: status.to_dict() for category, status in areas.items()},
                "checks_run": self.checks_run,
                "checks_skipped": len(self.skipped),
                "listed_at_or_above": self.min_severity.label if self.min_severity else None,
                "not_listed": self.not_listed,
                "checks_disabled": len(self.disabled),
                "suppressed": len(self.suppressed),
                "high_and_critical": self.serious(),
                "managed_by": [f.to_dict() for f in self.frameworks],
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
    refuse_unknown(codes, categories)
    wanted_categories = set(categories) if categories else None
    wanted_codes = {c.upper() for c in codes} if codes else None
    review = Review(snap, frameworks=schema_owners.detect(snap))
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
            found = schema_owners.judged(snap, found, review.frameworks)
            ignore = policy.ignore_for(check, found)
            if ignore is not None:
                review.suppressed.append(SuppressedFinding(check, found, ignore))
            else:
                review.findings.append(ReviewedFinding(check, policy.graded(check, found)))
    review.findings.sort(key=lambda f: (-f.severity, f.check.category, f.check.code, f.finding.object))
    review.review_ms = round((time.perf_counter() - started) * 1000, 1)
    return review
