"""The CIS PostgreSQL Benchmark sections that checks map to, for the audit's compliance table."""

from __future__ import annotations

#: The benchmark whose section numbers a check's ``cis`` refers to.
CIS_BENCHMARK = "CIS PostgreSQL 17 Benchmark v1.0.0"

#: Titles of the benchmark sections the checks map to; a check's ``cis`` must be one of these.
CIS_TITLES = {
    "1.4": "Ensure Data Cluster Initialized Successfully",
    "1.5": "Ensure the Latest Security Patches are Applied",
    "3.1.16": "Ensure 'debug_print_parse' is disabled",
    "3.1.20": "Ensure 'log_connections' is enabled",
    "3.1.21": "Ensure 'log_disconnections' is enabled",
    "3.1.24": "Ensure 'log_line_prefix' is set correctly",
    "3.1.25": "Ensure 'log_statement' is set correctly",
    "3.2": "Ensure the PostgreSQL Audit Extension (pgAudit) is enabled",
    "4.3": "Ensure excessive administrative privileges are revoked",
    "4.5": "Ensure excessive function privileges are revoked",
    "4.6": "Ensure excessive DML privileges are revoked",
    "4.7": "Ensure Row Level Security (RLS) is configured correctly",
    "5.2": "Ensure PostgreSQL is Bound to an IP Address",
    "5.4": 'Ensure login via "host" TCP/IP Socket is configured correctly',
    "5.5": "Ensure per-account connection limits are used",
    "5.6": "Ensure Password Complexity is configured",
    "6.8": "Ensure TLS is enabled and configured correctly",
    "6.9": "Ensure that TLSv1.3, or later, is configured",
    "6.10": "Ensure Weak SSL/TLS Ciphers Are Disabled",
    "6.11": "Ensure the pgcrypto extension is installed and configured correctly",
    "7.2": "Ensure logging of replication commands is configured",
    "7.4": "Ensure WAL archiving is configured and functional",
}


def cis_sort_key(cis: str | None) -> tuple:
    """ "3.1.20" after "3.1.3"; checks without a section last."""
    if not cis:
        return (1, ())
    return (0, tuple(int(part) if part.isdigit() else 0 for part in cis.split(".")))
