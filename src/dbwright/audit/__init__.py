"""Security and compliance: audit checks, effective privileges, least privilege, PII and audit logging."""
