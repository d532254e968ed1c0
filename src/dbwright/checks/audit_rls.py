"""Audit checks on row-level security (CIS 4.7)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from dbwright.checks.registry import check, finding
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import RawSQL, qident
from dbwright.model.package import ChangePackage


def _policies(snap) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for policy in snap.policies:
        grouped[policy.table_qname].append(policy.name)
    return grouped


@check(
    "DWA040",
    cis="4.7",
    category="compliance",
    audit_category="data protection",
    severity=Severity.HIGH,
    title="Table has policies but row-level security is off",
    requires=("audit_sections",),
)
def policies_without_rls(snap) -> Iterator[Finding]:
    """Policies do nothing until row-level security is enabled on the table: someone wrote the rules
    that should hide rows, and every role with SELECT still sees them all.

    Fix: ``ALTER TABLE … ENABLE ROW LEVEL SECURITY``. Test the policies first: with RLS on and no
    policy matching a role, that role sees no rows.

    References: https://www.postgresql.org/docs/current/ddl-rowsecurity.html
    """
    policies = _policies(snap)
    for name, names in sorted(policies.items()):
        table = snap.table(name)
        if table is None or table.rls_enabled:
            continue
        fix = ChangePackage.of(
            f"Enable row-level security on {name}",
            [
                RawSQL(
                    f"ALTER TABLE {qident(name)} ENABLE ROW LEVEL SECURITY;",
                    f"ALTER TABLE {qident(name)} DISABLE ROW LEVEL SECURITY;",
                )
            ],
            f"The policies {', '.join(names)} start filtering rows for non-owners.",
            security_notes=("Roles no policy matches see no rows at all from then on.",),
        )
        yield finding(
            name,
            f"{name} has {len(names)} polic{'y' if len(names) == 1 else 'ies'} but row-level "
            "security is disabled",
            fix=fix,
            policies=sorted(names),
        )


@check(
    "DWA041",
    cis="4.7",
    category="compliance",
    audit_category="data protection",
    severity=Severity.MEDIUM,
    title="Table owner bypasses row-level security",
    requires=("audit_sections",),
)
def owner_bypasses_rls(snap) -> Iterator[Finding]:
    """Row-level security does not apply to a table's owner unless FORCE ROW LEVEL SECURITY is set,
    and applications often connect as the owner: then the policies protect nothing. Superusers and
    BYPASSRLS roles skip policies even with FORCE (see DWA001 and DWA003).

    Flags tables with row-level security enabled but not forced.

    Fix: ``ALTER TABLE … FORCE ROW LEVEL SECURITY``, or have the application connect as a role that
    does not own the table.

    References: https://www.postgresql.org/docs/current/ddl-rowsecurity.html
    """
    roles = {r.name: r for r in snap.roles}
    for table in snap.user_tables():
        if not table.rls_enabled or table.rls_forced:
            continue
        owner = roles.get(table.owner)
        owner_bypasses_anyway = bool(owner and (owner.superuser or owner.bypassrls))
        fix = ChangePackage.of(
            f"Force row-level security on {table.qname}",
            [
                RawSQL(
                    f"ALTER TABLE {qident(table.qname)} FORCE ROW LEVEL SECURITY;",
                    f"ALTER TABLE {qident(table.qname)} NO FORCE ROW LEVEL SECURITY;",
                )
            ],
            f"Policies apply to the owner {table.owner} too"
            + (
                " (but it is a superuser or BYPASSRLS, which skip them regardless)."
                if owner_bypasses_anyway
                else "."
            ),
            security_notes=(
                "Jobs that run as the owner and need all rows (migrations, "
                "backfills) need a policy or BYPASSRLS.",
            ),
        )
        yield finding(
            table.qname,
            f"{table.owner} owns {table.qname} and bypasses its row-level security",
            fix=fix,
            owner=table.owner,
            owner_is_superuser_or_bypassrls=owner_bypasses_anyway,
            policies=sorted(p.name for p in snap.policies if p.table_qname == table.qname),
        )
