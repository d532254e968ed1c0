"""Checks: registered functions that read a snapshot and yield findings.

Each topic module registers its checks on import. A new check is one function in the
module of its topic; a new area is one entry in ``registry.CATEGORIES``. The ``audit_*``
modules hold the checks the CIS-mapped audit brought (security and compliance areas).
"""

from dbwright.checks import (  # noqa: F401  (registers them)
    audit_functions,
    audit_hba,
    audit_logging,
    audit_privileges,
    audit_rls,
    audit_roles,
    audit_server,
    audit_tls,
    configuration,
    design,
    indexes,
    integrity,
    maintenance,
    patterns,
    security,
    workload,
)
from dbwright.checks.registry import REGISTRY, Check, all_checks, check, find_check, finding
from dbwright.model.findings import Finding, Severity

__all__ = ["REGISTRY", "Check", "Finding", "Severity", "all_checks", "check", "find_check", "finding"]
