"""The audit's checks. Importing this package registers every one of them."""

from dbwright.audit.checks import functions, hba, logs, privileges, rls, roles, server, tls  # noqa: F401
from dbwright.audit.checks.registry import AUDIT_CATEGORIES, AuditCheck, all_audit_checks

__all__ = ["AUDIT_CATEGORIES", "AuditCheck", "all_audit_checks"]
