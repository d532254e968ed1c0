"""Checks: registered functions that read a snapshot and yield findings.

Each topic module registers its checks on import. A new check is one function in the
module of its category; a new category is one module plus one import line here.
"""

from dbwright.checks import configuration, design, indexes, maintenance, security, workload  # noqa: F401  (registers them)
from dbwright.checks.registry import REGISTRY, Check, all_checks, check, finding
from dbwright.model.findings import Finding, Severity

__all__ = ["REGISTRY", "Check", "Finding", "Severity", "all_checks", "check", "finding"]
