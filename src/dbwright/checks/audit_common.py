"""Helpers the audit checks share: who can reach a role, hba rule matching, settings fixes."""

from __future__ import annotations

from dbwright.checks.security import _hba_address, _is_loopback, _login_members, hba_line
from dbwright.model import HbaRule, Role, Snapshot

__all__ = [
    "hba_line",
    "hba_address",
    "is_loopback",
    "reached_by",
    "rule_matches_role",
    "superuser_names",
    "is_remote",
    "PASSWORD_METHODS",
]

PASSWORD_METHODS = ("scram-sha-256", "md5", "password")

hba_address = _hba_address
is_loopback = _is_loopback


def reached_by(snap: Snapshot, role: Role) -> list[str]:
    """Login roles that are ``role`` or can SET ROLE to it through membership."""
    members = _login_members(snap)
    return ([role.name] if role.login else []) + sorted(members.get(role.name, []))


def superuser_names(snap: Snapshot) -> set[str]:
    return {r.name for r in snap.roles if r.superuser}


def rule_matches_role(rule: HbaRule, role: Role) -> bool:
    """Whether the hba line's user column matches ``role`` (``all``, the name, or ``+group``)."""
    for entry in rule.user_name:
        if entry == "all" or entry == role.name:
            return True
        if entry.startswith("+") and entry[1:] in role.member_of_all:
            return True
    return False


def is_remote(rule: HbaRule) -> bool:
    """A TCP line that admits more than loopback addresses."""
    return rule.type != "local" and not is_loopback(rule)
