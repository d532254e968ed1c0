"""One change package as indented plain-text lines, for the audit plans' text renderers (roles, logging)."""

from __future__ import annotations

from dbwright.model.package import ChangePackage


def package_lines(number: int, package: ChangePackage) -> list[str]:
    """Title, explanation, security notes, manual steps, forward and rollback SQL; no blank lines around."""
    lines = [f"{number}. {package.title}"]
    lines += [f"   {line}" for line in package.explanation.splitlines()]
    lines += [f"   security: {note}" for note in package.security_notes]
    lines += [f"   manual step: {step}" for step in package.manual_steps]
    lines.append("   forward:")
    lines += [f"     {line}" for line in package.forward_sql.splitlines()]
    lines.append("   rollback:")
    lines += [f"     {line}" for line in (package.rollback_sql or "-- nothing to undo").splitlines()]
    return lines
