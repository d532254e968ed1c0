"""The check registry: small functions that read a snapshot and yield findings.

Modelled on Django's system checks and sqlfluff's rules: one function per stable code,
registered with a decorator, its docstring doubling as its docs page. A check never talks
to a server, so it runs offline on a saved snapshot and is trivial to test.

There is one registry for the review and the audit. Each check belongs to one area of the
review (``CATEGORIES``). The audit is the subset of checks that carry an audit category and,
where one applies, a CIS PostgreSQL Benchmark section; it shows them under their ``DWA`` code.
The audit's six categories fall into two areas of the review:

- ``security``: who can get in and what they can reach once in — the audit categories
  *access* (roles, grants, functions), *authentication* (pg_hba.conf, passwords) and
  *encryption* (TLS). The review's own DW5xx checks are here too, each carrying the CIS
  section and audit category the audit shows it under.
- ``compliance``: what an auditor asks to be in place so that what happened can be traced and
  data recovered or protected — *logging*, *data protection* (row-level security, checksums,
  WAL archiving, pgcrypto) and server *configuration* hygiene (listen_addresses, connection
  limits, extension versions, untrusted languages).

Every check in those two areas is in the audit. A check of another area may be in the audit
too by carrying an audit category: DW609 (slow statements not logged) stays a configuration
check of the review and is the audit's logging check DWA039.

Codes are never reused. A review check that the audit used to register a second time under a
``DWA`` code (DW501–DW511, DW609) is now one check with that ``DWA`` code as an *alias*: the
review reports it under its DW code, the audit under the alias (its JSON ``wraps`` field names
the DW code), and ``--check`` accepts either.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dbwright.checks.cis import CIS_TITLES
from dbwright.checks.requirements import unmet_requirements
from dbwright.errors import InvalidArgumentError
from dbwright.model import Snapshot
from dbwright.model.findings import Finding, Severity
from dbwright.model.package import ChangePackage

CATEGORIES = (
    "design",
    "integrity",
    "indexes",
    "maintenance",
    "workload",
    "security",
    "compliance",
    "configuration",
)

#: The audit's categories, and the review area each one belongs to.
AUDIT_AREAS = {
    "access": "security",
    "authentication": "security",
    "encryption": "security",
    "logging": "compliance",
    "data protection": "compliance",
    "configuration": "compliance",
}
AUDIT_CATEGORIES = tuple(AUDIT_AREAS)

DEFAULT_ENGINES = ("postgresql",)

CheckFunction = Callable[[Snapshot], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    code: str
    category: str
    severity: Severity
    title: str
    function: CheckFunction
    requires: tuple[
        str, ...
    ] = ()  # sections, setting:NAME, conditions; when one is missing the check is skipped
    references: tuple[str, ...] = ()
    engines: tuple[str, ...] = DEFAULT_ENGINES  # the snapshot engines the check applies to
    cis: str | None = None  # CIS PostgreSQL Benchmark section
    audit_category: str | None = None  # the audit category; None: not part of the audit
    aliases: tuple[str, ...] = ()  # other codes that name this check (the audit's DWA code of a DW check)

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.function.__doc__ or "")

    @property
    def summary(self) -> str:
        """The docstring's first paragraph on one line."""
        return self.doc.split("\n\n", 1)[0].replace("\n", " ")

    @property
    def in_audit(self) -> bool:
        return self.audit_category is not None

    @property
    def audit_code(self) -> str:
        """The code the audit reports this check under: its DWA alias when it has one."""
        return next((a for a in self.aliases if a.startswith("DWA")), self.code)

    def answers_to(self, codes: set[str]) -> bool:
        """Whether ``codes`` names this check, by its code or an alias."""
        return self.code in codes or any(a in codes for a in self.aliases)

    def applies_to(self, snap: Snapshot) -> bool:
        return snap.engine in self.engines

    @property
    def options(self) -> tuple[str, ...]:
        """The review options the check reads: its keyword-only parameters, each with a default."""
        parameters = inspect.signature(self.function).parameters.values()
        return tuple(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)

    def run(self, snap: Snapshot, options: Mapping[str, Any] | None = None) -> Iterator[Finding]:
        """The check's findings; ``options`` gives values for the options it declares, the rest keep
        their defaults (e.g. ``min_observed_days`` for DW203)."""
        chosen = {name: options[name] for name in self.options if options and name in options}
        for finding in self.function(snap, **chosen):
            yield finding.with_code(self.code)

    def missing(self, snap: Snapshot) -> list[str]:
        """Why this check cannot give a verified answer on ``snap``: one reason per unmet need."""
        return unmet_requirements(self.requires, snap)


REGISTRY: dict[str, Check] = {}
ALIASES: dict[str, str] = {}  # alias -> code


def check(
    code: str,
    *,
    category: str,
    severity: Severity,
    title: str,
    requires: tuple[str, ...] = (),
    references: tuple[str, ...] = (),
    engines: tuple[str, ...] = DEFAULT_ENGINES,
    cis: str | None = None,
    audit_category: str | None = None,
    aliases: tuple[str, ...] = (),
) -> Callable[[Callable], Callable]:
    """Register a check function under a stable code. Codes (and aliases) are never reused."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    _check_audit_metadata(code, category, cis, audit_category)

    def register(function: Callable[[Snapshot], Iterable[Finding]]) -> Callable:
        for name in (code, *aliases):
            if name in REGISTRY or name in ALIASES:
                raise ValueError(f"check code {name} registered twice")
        if not function.__doc__:
            raise ValueError(f"check {code} needs a docstring: it is the docs page")

        REGISTRY[code] = Check(
            code,
            category,
            severity,
            title,
            function,
            requires,
            references,
            engines,
            cis,
            audit_category,
            aliases,
        )
        ALIASES.update(dict.fromkeys(aliases, code))
        return function

    return register


def _check_audit_metadata(code: str, category: str, cis: str | None, audit_category: str | None) -> None:
    if audit_category is None:
        if category in AUDIT_AREAS.values():
            raise ValueError(f"check {code} is in the {category} area, so it needs an audit category")
        if cis:
            raise ValueError(f"check {code} has a CIS section but no audit category")
        return
    if audit_category not in AUDIT_AREAS:
        raise ValueError(f"unknown audit category {audit_category!r}")
    if category in AUDIT_AREAS.values() and AUDIT_AREAS[audit_category] != category:
        raise ValueError(
            f"check {code}: audit category {audit_category} belongs to {AUDIT_AREAS[audit_category]}"
        )
    if cis and cis not in CIS_TITLES:
        raise ValueError(f"check {code}: unknown CIS section {cis}")


def all_checks() -> list[Check]:
    """Every registered check, in code order. Importing the package registers them."""
    import dbwright.checks  # noqa: F401  (registration side effect)

    return [REGISTRY[c] for c in sorted(REGISTRY)]


def find_check(code: str) -> Check | None:
    """The check named ``code``, by its code or an alias (case-insensitive)."""
    all_checks()
    code = code.upper()
    return REGISTRY.get(ALIASES.get(code, code))


def unknown_codes(codes: Iterable[str]) -> list[str]:
    """The ``codes`` no registered check answers to (by code or alias), as given."""
    return [code for code in codes if find_check(code) is None]


def refuse_unknown(
    codes: Iterable[str] | None, categories: Iterable[str] | None = None, *, audit: bool = False
) -> None:
    """One line (InvalidArgumentError, exit 22) for a check code or area nobody registered, or with
    ``audit`` a check the audit does not run, so a typo is never "0 checks run"."""
    unknown = unknown_codes(codes or ())
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise InvalidArgumentError(
            f"unknown check code{plural} {', '.join(unknown)}; `dbwright checks` lists them"
        )
    outside = [code for code in codes or () if audit and not find_check(code).in_audit]  # type: ignore[union-attr]
    if outside:
        raise InvalidArgumentError(
            f"{', '.join(outside)}: not part of the audit; `dbwright review --check` runs it"
        )
    for category in categories or ():
        if category not in CATEGORIES:
            raise InvalidArgumentError(f"unknown category {category!r}; use one of {', '.join(CATEGORIES)}")


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
    "ALIASES",
    "AUDIT_AREAS",
    "AUDIT_CATEGORIES",
    "CATEGORIES",
    "Check",
    "CheckFunction",
    "Finding",
    "REGISTRY",
    "Severity",
    "all_checks",
    "check",
    "find_check",
    "finding",
]
