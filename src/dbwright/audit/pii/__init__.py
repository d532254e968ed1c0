"""PII discovery: column names and types plus a bounded sample of values, reported masked.

``discover_pii(target)`` samples each table in a read-only session, runs the detectors on
the values, classifies each column with a confidence and a match rate, and proposes change
packages (encryption, masking views, column grants, RLS, retention). Values never leave this
package unmasked: a ``ColumnFinding`` carries masked examples only.
"""

from __future__ import annotations

from dbwright.audit.pii.classify import ColumnFinding, PiiReport, classify_column, discover_pii

__all__ = ["ColumnFinding", "PiiReport", "classify_column", "discover_pii"]
