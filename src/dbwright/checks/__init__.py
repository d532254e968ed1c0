"""Checks: registered functions that read a snapshot and yield findings.

Each topic module registers its checks on import. A new check is one function in the
module of its category; a new category is one module plus one import line here.
"""

from dbwright.checks import configuration, design, indexes, maintenance, security, workload  # noqa: E402,F401,I001
from dbwright.checks.registry import REGISTRY, Check, Finding, Severity, all_checks, check, finding

__all__ = ["REGISTRY", "Check", "Finding", "Severity", "all_checks", "check", "finding"]
