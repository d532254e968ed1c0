"""Audit checks on pg_hba.conf, read through pg_hba_file_rules (needs superuser on PostgreSQL 15)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from dbwright.checks.audit_common import hba_address, hba_line, is_remote, rule_matches_role
from dbwright.checks.registry import check, finding
from dbwright.checks.security import _hba_fix, _hba_rule_name
from dbwright.model import HbaRule
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import ReloadConfig
from dbwright.model.package import ChangePackage

#: Prefix lengths shorter than these admit "too many" addresses for one rule.
_WIDE_PREFIX = {4: 16, 6: 48}
_ANY_ADDRESS = ("all",)


def _rules(snap) -> Iterator[HbaRule]:
    return (r for r in snap.hba_rules if not r.error and r.auth_method != "reject")


def _edit_package(rule: HbaRule, title: str, replacement: str, why: str) -> ChangePackage:
    return ChangePackage.of(
        title,
        [ReloadConfig()],
        f"{why} pg_hba.conf is a file, not SQL: edit it, then reload.",
        manual_steps=(
            f"In pg_hba.conf (SHOW hba_file), line {rule.line}: replace `{hba_line(rule)}` with {replacement}.",
            "Check the file with: SELECT * FROM pg_hba_file_rules WHERE error IS NOT NULL;",
            "Then reload (the SQL below); rollback is restoring the old line and reloading.",
        ),
        security_notes=(
            "Clients that matched the old line and not the new one are refused from the reload on.",
        ),
    )


def _evidence(rule: HbaRule) -> dict:
    return {
        "line": rule.line,
        "type": rule.type,
        "database": list(rule.database),
        "user_name": list(rule.user_name),
        "address": hba_address(rule),
        "auth_method": rule.auth_method,
    }


@check(
    "DWA021",
    cis="5.4",
    category="security",
    audit_category="authentication",
    severity=Severity.MEDIUM,
    title="pg_hba.conf uses md5",
    requires=("hba_rules",),
)
def hba_md5(snap) -> Iterator[Finding]:
    """The ``md5`` method is open to replay by anyone holding the stored hash and falls back to the
    weak MD5 challenge for roles with MD5 hashes. ``scram-sha-256`` is the CIS recommendation (5.4).

    (With SCRAM verifiers stored, an ``md5`` line already authenticates with SCRAM; the line still
    lets MD5 hashes in.)

    Fix: replace ``md5`` with ``scram-sha-256`` and reload, after re-setting MD5 passwords (DWA005).

    References: https://www.postgresql.org/docs/current/auth-password.html
    """
    for rule in _rules(snap):
        if rule.auth_method == "md5":
            fix = _hba_fix(rule, "scram-sha-256", "MD5 challenge-response is no longer offered.")
            yield finding(
                _hba_rule_name(rule),
                f"pg_hba.conf line {rule.line} uses md5: `{hba_line(rule)}`",
                fix=fix,
                **_evidence(rule),
            )


def _network(rule: HbaRule) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(hba_address(rule) or "", strict=False)
    except ValueError:
        return None


@check(
    "DWA023",
    cis="5.4",
    category="security",
    audit_category="authentication",
    severity=Severity.HIGH,
    title="pg_hba.conf admits the whole internet or a very wide range",
    requires=("hba_rules",),
)
def hba_wide_ranges(snap) -> Iterator[Finding]:
    """A line for ``0.0.0.0/0``, ``::/0`` or ``all`` lets any address on the internet try to log in;
    only the password stands between an attacker and the data. Ranges wider than /16 (IPv4) or /48
    (IPv6) are medium: usually far more than the application servers that need access.

    Fix: list the application servers' addresses or subnets instead, and reload.

    References: https://www.postgresql.org/docs/current/auth-pg-hba-conf.html
    """
    for rule in _rules(snap):
        if rule.type == "local" or rule.address is None:
            continue
        network = _network(rule)
        if rule.address in _ANY_ADDRESS or (network is not None and network.prefixlen == 0):
            severity = None
        elif network is not None and network.prefixlen < _WIDE_PREFIX[network.version]:
            severity = Severity.MEDIUM
        else:
            continue
        fix = _edit_package(
            rule,
            f"Narrow the addresses of pg_hba.conf line {rule.line}",
            "the same line with the application servers' subnet (e.g. 10.1.2.0/24)",
            "Only the listed networks can attempt to authenticate.",
        )
        yield finding(
            _hba_rule_name(rule),
            f"pg_hba.conf line {rule.line} admits {hba_address(rule)}: `{hba_line(rule)}`",
            fix=fix,
            severity=severity,
            **_evidence(rule),
        )


@check(
    "DWA024",
    cis="5.4",
    category="security",
    audit_category="authentication",
    severity=Severity.MEDIUM,
    title="pg_hba.conf rule for all databases and all users over TCP",
    requires=("hba_rules",),
)
def hba_all_all(snap) -> Iterator[Finding]:
    """A TCP line with ``all`` databases and ``all`` users lets every role try every database from
    those addresses. Least privilege names the databases and users (or ``+group``) each client
    network needs. Loopback lines are left out (they are a local matter); ``local`` lines too.

    Fix: split the line into lines per application: database, role (or ``+group``) and subnet.

    References: https://www.postgresql.org/docs/current/auth-pg-hba-conf.html
    """
    for rule in _rules(snap):
        if not is_remote(rule) or "all" not in rule.database or "all" not in rule.user_name:
            continue
        fix = _edit_package(
            rule,
            f"Name the databases and users of pg_hba.conf line {rule.line}",
            "one line per application, e.g. `hostssl appdb +app_users 10.1.2.0/24 scram-sha-256`",
            "Each client network reaches only its own database, as its own roles.",
        )
        yield finding(
            _hba_rule_name(rule),
            f"pg_hba.conf line {rule.line} admits all users to all databases: `{hba_line(rule)}`",
            fix=fix,
            **_evidence(rule),
        )


@check(
    "DWA025",
    cis="6.8",
    category="security",
    audit_category="encryption",
    severity=Severity.HIGH,
    title="pg_hba.conf accepts connections without TLS from the network",
    requires=("hba_rules",),
)
def hba_host_without_ssl(snap) -> Iterator[Finding]:
    """A ``host`` line accepts TLS and plain connections alike; for addresses beyond loopback the
    client decides, and libpq's default ``sslmode=prefer`` silently falls back to plain text, which
    an attacker on the path can force. ``hostssl`` lines refuse plain connections.

    Fix: change ``host`` to ``hostssl`` on non-loopback lines (TLS must be on: DWA027), and reload.

    References: https://www.postgresql.org/docs/current/auth-pg-hba-conf.html,
    https://www.postgresql.org/docs/current/ssl-tcp.html
    """
    for rule in _rules(snap):
        if rule.type not in ("host", "hostnossl") or not is_remote(rule):
            continue
        corrected = HbaRule(
            rule.line,
            "hostssl",
            rule.database,
            rule.user_name,
            rule.address,
            rule.netmask,
            rule.auth_method,
            rule.options,
        )
        fix = _edit_package(
            rule,
            f"Require TLS on pg_hba.conf line {rule.line}",
            f"`{hba_line(corrected)}`",
            "Clients from these addresses must use TLS.",
        )
        yield finding(
            _hba_rule_name(rule),
            f"pg_hba.conf line {rule.line} accepts plain-text connections from "
            f"{hba_address(rule)}: `{hba_line(rule)}`",
            fix=fix,
            **_evidence(rule),
        )


def _rejected_earlier(earlier: list[HbaRule], rule: HbaRule, role) -> bool:
    """Whether an earlier ``reject`` line catches every connection ``rule`` would let ``role`` make."""
    network = _network(rule)
    for previous in earlier:
        if previous.auth_method != "reject" or not rule_matches_role(previous, role):
            continue
        if previous.type not in ("host", rule.type) or "all" not in previous.database:
            continue
        covering = _network(previous)
        if previous.address in _ANY_ADDRESS or (
            network is not None
            and covering is not None
            and network.version == covering.version
            and network.subnet_of(covering)
        ):
            return True
    return False


@check(
    "DWA026",
    cis="5.4",
    category="security",
    audit_category="authentication",
    severity=Severity.HIGH,
    title="Superuser can log in from the network",
    requires=("hba_rules",),
)
def remote_superuser_login(snap) -> Iterator[Finding]:
    """A superuser that can log in from beyond loopback turns one leaked password into the whole
    cluster. Administration over SSH to the host and a local or loopback connection keeps that
    door shut; CIS asks at least for ``hostssl`` for superuser logins.

    Flags TCP lines for non-loopback addresses whose user column matches a login superuser
    (``all``, its name, or a ``+group`` it belongs to), unless the method is ``reject`` or an
    earlier ``reject`` line already catches that superuser from those addresses.

    Fix: add ``host all <superuser> 0.0.0.0/0 reject`` (and ``::/0``) above the line, or narrow it.

    References: https://www.postgresql.org/docs/current/auth-pg-hba-conf.html
    """
    superusers = [r for r in snap.roles if r.superuser and r.login]
    rules = [r for r in snap.hba_rules if not r.error]
    for position, rule in enumerate(rules):
        if rule.auth_method == "reject" or not is_remote(rule):
            continue
        matched = sorted(
            r.name
            for r in superusers
            if rule_matches_role(rule, r) and not _rejected_earlier(rules[:position], rule, r)
        )
        if not matched:
            continue
        fix = _edit_package(
            rule,
            f"Refuse superuser logins on pg_hba.conf line {rule.line}",
            f"the same line, preceded by `host all {','.join(matched)} 0.0.0.0/0 reject` and "
            f"`host all {','.join(matched)} ::/0 reject`",
            "Superusers connect only from the host itself.",
        )
        yield finding(
            _hba_rule_name(rule),
            f"superuser(s) {', '.join(matched)} can log in from "
            f"{hba_address(rule)} (pg_hba.conf line {rule.line})",
            fix=fix,
            superusers=matched,
            **_evidence(rule),
        )
