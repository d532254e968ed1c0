"""Checks: registered functions that read a snapshot and yield findings.

Each topic module registers its checks on import; add a check by adding a function to
the module of its category (or a new module listed here).
"""

from dbwright.checks.registry import REGISTRY, Check, Finding, Severity, all_checks, check, finding
from dbwright.checks import design  # noqa: F401,E402  (registers checks)

__all__ = ["REGISTRY", "Check", "Finding", "Severity", "all_checks", "check", "finding"]
