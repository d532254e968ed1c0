"""Audit checks on SECURITY DEFINER functions (CIS 4.5)."""

from __future__ import annotations

from collections.abc import Iterator

from dbwright.checks.audit_common import superuser_names
from dbwright.checks.registry import check, finding
from dbwright.checks.security import _routine_keyword, _routine_signature
from dbwright.model.findings import Finding, Severity
from dbwright.model.package import ChangePackage


@check(
    "DWA043",
    cis="4.5",
    category="security",
    audit_category="access",
    severity=Severity.HIGH,
    title="SECURITY DEFINER function owned by a superuser",
)
def superuser_security_definer(snap) -> Iterator[Finding]:
    """A SECURITY DEFINER function runs as its owner. Owned by a superuser, any flaw in it, a
    search_path trick (DWA042) or an injectable dynamic query, runs with no permission checks at all.

    Fix: give it an owner with just the privileges the function needs
    (``ALTER FUNCTION … OWNER TO that_role``), or make it SECURITY INVOKER.

    References: https://www.postgresql.org/docs/current/sql-createfunction.html#SQL-CREATEFUNCTION-SECURITY
    """
    superusers = superuser_names(snap)
    for function in snap.functions:
        if not function.security_definer or function.owner not in superusers:
            continue
        keyword, signature = _routine_keyword(function), _routine_signature(function)
        fix = ChangePackage.of(
            f"Give {function.signature} a non-superuser owner",
            [],
            "The function then runs with only its new owner's privileges.",
            manual_steps=(
                f"Create or pick a role with only the privileges {function.signature} needs.",
                f"ALTER {keyword} {signature} OWNER TO <that role>;  "
                f"(rollback: ALTER {keyword} {signature} OWNER TO {function.owner};)",
                f"Or, if it needs no elevation: ALTER {keyword} {signature} SECURITY INVOKER;",
            ),
        )
        yield finding(
            function.signature,
            f"SECURITY DEFINER {function.signature} runs as superuser {function.owner}",
            fix=fix,
            owner=function.owner,
        )
