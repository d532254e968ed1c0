"""Checks: registered functions that read a snapshot and yield findings.

Each topic module registers its checks on import. A new check is one function in the
module of its category; a new category is one module plus one import line here.
"""

from dbwright.checks.registry import REGISTRY, Check, Finding, Severity, all_checks, check, finding

from dbwright.checks import design, indexes, maintenance, workload, security, configuration  # noqa: E402,F401,I001

__all__ = ["REGISTRY", "Check", "Finding", "Severity", "all_checks", "check", "finding"]
