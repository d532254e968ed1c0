"""The check registry: small functions that read a snapshot and yield findings.

Modelled on Django's system checks and sqlfluff's rules: one function per stable code,
registered with a decorator, its docstring doubling as its docs page. A check never talks
to a server, so it runs offline on a saved snapshot and is trivial to test.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from dbwright.model import Snapshot
from dbwright.model.findings import Finding, Severity
from dbwright.model.package import ChangePackage

CATEGORIES = ("design", "indexes", "maintenance", "workload", "security", "configuration")


CheckFunction = Callable[[Snapshot], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    code: str
    category: str
    severity: Severity
    title: str
    function: CheckFunction
    requires: tuple[str, ...] = ()  # snapshot sections; when one is skipped, so is the check
    references: tuple[str, ...] = ()

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.function.__doc__ or "")

    def run(self, snap: Snapshot) -> Iterator[Finding]:
        for finding in self.function(snap):
            yield finding.with_code(self.code)

    def missing_sections(self, snap: Snapshot) -> list[tuple[str, str]]:
        return [(s, reason) for s in self.requires if (reason := snap.skipped_reason(s))]


REGISTRY: dict[str, Check] = {}


def check(
    code: str,
    *,
    category: str,
    severity: Severity,
    title: str,
    requires: tuple[str, ...] = (),
    references: tuple[str, ...] = (),
) -> Callable[[Callable], Callable]:
    """Register a check function under a stable code. Codes are never reused."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")

    def register(function: Callable[[Snapshot], Iterable[Finding]]) -> Callable:
        if code in REGISTRY:
            raise ValueError(f"check code {code} registered twice")
        if not function.__doc__:
            raise ValueError(f"check {code} needs a docstring: it is the docs page")

        REGISTRY[code] = Check(code, category, severity, title, function, requires, references)
        return function

    return register


def all_checks() -> list[Check]:
    """Every registered check, in code order. Importing the package registers them."""
    import dbwright.checks  # noqa: F401  (registration side effect)

    return [REGISTRY[c] for c in sorted(REGISTRY)]


def finding(
    obj: str,
    message: str,
    *,
    fix: ChangePackage | None = None,
    severity: Severity | None = None,
    **evidence: Any,
) -> Finding:
    """Build a finding; the registry fills in the code of the check that yielded it."""
    return Finding("", obj, message, evidence, fix, severity)


__all__ = [
    "CATEGORIES",
    "Check",
    "CheckFunction",
    "Finding",
    "REGISTRY",
    "Severity",
    "all_checks",
    "check",
    "finding",
]
