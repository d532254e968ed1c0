"""Verdict files: a senior DBA's judgement of every kind of finding the review makes on a corpus schema.

``tests/realworld/verdicts/<schema>.toml`` lists kinds in order; a finding takes the first kind
whose ``code`` is its check code, whose optional ``match`` (a regular expression searched in
``object | message | fix: <the fix's title, or none>``) matches, and whose optional ``fix_fails`` agrees with whether the
finding's fix failed when applied to a copy of the database (tests/realworld/fixes.py). A finding
whose fix fails is covered only by a kind with ``fix_fails = true``: a fix that errors out must be
judged on its own. A kind is labelled useful, debatable or wrong, with a
one-line reason. ``wrong_max`` records how many findings may be in wrong kinds: a ratchet that
precision work can only lower, down to the issue's bar of zero.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from dbwright.review import Review

VERDICTS_DIR = Path(__file__).parent / "verdicts"
LABELS = ("useful", "debatable", "wrong")

#: The review areas a schema's own design decides; security, compliance and configuration
#: findings judge the suite's test cluster (trust pg_hba, no TLS policy), not the schema.
SCHEMA_CATEGORIES = ("design", "integrity", "indexes", "maintenance", "workload")


@dataclass(frozen=True)
class Kind:
    code: str
    match: str | None
    verdict: str
    reason: str
    fix_fails: bool = False

    @property
    def key(self) -> str:
        key = f"{self.code} ~ {self.match}" if self.match else self.code
        return f"{key} [fix fails]" if self.fix_fails else key

    def covers(self, code: str, text: str, fix_failed: bool) -> bool:
        return (
            code == self.code
            and self.fix_fails == fix_failed
            and (self.match is None or re.search(self.match, text) is not None)
        )


@dataclass(frozen=True)
class Verdicts:
    schema: str
    wrong_max: int
    kinds: tuple[Kind, ...]

    def kind_of(
        self,
        code: str,
        object_name: str,
        message: str,
        fix_title: str | None = None,
        fix_failed: bool = False,
    ) -> Kind | None:
        text = f"{object_name} | {message} | fix: {fix_title or 'none'}"
        return next((kind for kind in self.kinds if kind.covers(code, text, fix_failed)), None)


def load(schema: str) -> Verdicts:
    data = tomllib.loads((VERDICTS_DIR / f"{schema}.toml").read_text())
    kinds = tuple(
        Kind(k["code"], k.get("match"), k["verdict"], k["reason"], bool(k.get("fix_fails", False)))
        for k in data.get("kind", [])
    )
    bad = [k.key for k in kinds if k.verdict not in LABELS]
    if bad:
        raise ValueError(f"{schema}.toml: verdict must be one of {LABELS}: {bad}")
    return Verdicts(data["schema"], int(data["wrong_max"]), kinds)


@dataclass
class Judged:
    """A review's findings sorted into the verdict file's kinds."""

    counts: Counter[str]  # kind key -> findings
    labels: Counter[str]  # useful/debatable/wrong -> findings
    unlabelled: list[str]  # one line per finding no kind covers
    unused_kinds: list[str]  # kinds in the file that no finding took

    @property
    def total(self) -> int:
        return sum(self.labels.values()) + len(self.unlabelled)

    @property
    def useful_share(self) -> float:
        """Share of findings labelled useful or debatable (the issue's bar: at least 80%)."""
        return (self.labels["useful"] + self.labels["debatable"]) / self.total if self.total else 1.0


def judge(review: Review, verdicts: Verdicts, failed_fixes: dict[int, str] | None = None) -> Judged:
    """Sort the findings into kinds; ``failed_fixes`` maps a finding's position to its fix's error."""
    failed_fixes = failed_fixes or {}
    counts: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    unlabelled = []
    for position, reviewed in enumerate(review.findings):
        finding = reviewed.finding
        error = failed_fixes.get(position)
        fix_title = finding.fix.title if finding.fix else None
        kind = verdicts.kind_of(
            reviewed.check.code, finding.object, finding.message, fix_title, error is not None
        )
        if kind is None:
            line = f"{reviewed.check.code} [{reviewed.severity.label}] {finding.object}: {finding.message}"
            unlabelled.append(f"{line} (its fix fails: {error})" if error else line)
            continue
        counts[kind.key] += 1
        labels[kind.verdict] += 1
    unused = [kind.key for kind in verdicts.kinds if kind.key not in counts]
    return Judged(counts, labels, unlabelled, unused)
