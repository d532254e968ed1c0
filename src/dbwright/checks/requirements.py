"""What a check needs to give a verified answer, and why it cannot when something is missing.

A check's ``requires`` names three kinds of need:

- a snapshot section (``hba_rules``, ``password_hashes``, ``statements``…), skipped by the snapshot
  when the role could not read it; the reason is the snapshot's own;
- ``setting:NAME``: the setting must be visible to the role (superuser-only settings need
  pg_read_all_settings);
- a named derived condition from ``CONDITIONS`` (``tls_state``, ``audit_sections``).

A check with a missing need is reported as skipped with these reasons, never as passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dbwright.model import Snapshot

SETTING_PREFIX = "setting:"
SETTINGS_PRIVILEGE = "needs pg_read_all_settings (part of pg_monitor) or superuser"


def _tls_state_hidden(snap: Snapshot) -> str | None:
    hidden = sum(1 for s in snap.tls_sessions if s.ssl is None)
    if hidden:
        return (
            f"the TLS state of {hidden} other session(s) is hidden from {snap.server.current_user} "
            "(some may be background processes): "
            "needs pg_read_all_stats (part of pg_monitor) or superuser"
        )
    return None


def _audit_sections_missing(snap: Snapshot) -> str | None:
    # Every database has languages (internal, c, sql, plpgsql) and the snapshotting session itself is a
    # client backend: empty lists mean a snapshot saved before these sections existed, not a clean state.
    if not snap.languages or not snap.tls_sessions:
        return (
            "this snapshot has no policies, languages or TLS sessions (saved by an older dbwright): "
            "take a new snapshot"
        )
    return None


@dataclass(frozen=True)
class Condition:
    """A need derived from the snapshot: ``unmet`` says why it is not met, or None."""

    description: str
    unmet: Callable[[Snapshot], str | None]


#: Derived conditions a check may require by name.
CONDITIONS: dict[str, Condition] = {
    "tls_state": Condition(
        "every client session's TLS state is visible (pg_read_all_stats, part of pg_monitor)",
        _tls_state_hidden,
    ),
    "audit_sections": Condition(
        "the snapshot has row-level security policies, procedural languages and TLS sessions "
        "(taken by a dbwright that reads them)",
        _audit_sections_missing,
    ),
}


def setting_name(requirement: str) -> str | None:
    """NAME for ``setting:NAME``, else None."""
    return requirement[len(SETTING_PREFIX) :] if requirement.startswith(SETTING_PREFIX) else None


def unmet_requirements(requires: tuple[str, ...], snap: Snapshot) -> list[str]:
    """Why each of ``requires`` is not met on ``snap``: one reason per missing need, in order."""
    reasons = []
    visible: set[str] | None = None
    for need in requires:
        if (name := setting_name(need)) is not None:
            if visible is None:
                visible = {s.name for s in snap.server.settings}
            if name not in visible:
                reasons.append(
                    f"setting {name} is not visible to {snap.server.current_user}: {SETTINGS_PRIVILEGE}"
                )
        elif need in CONDITIONS:
            if (why := CONDITIONS[need].unmet(snap)) is not None:
                reasons.append(why)
        elif (why := snap.skipped_reason(need)) is not None:
            reasons.append(f"{need}: {why}")
    return reasons
