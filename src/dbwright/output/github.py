"""GitHub Actions workflow commands: one ``::error`` / ``::warning`` / ``::notice`` line per finding.

Printed in a workflow step, each line becomes an annotation on the run (and, for a lint
finding with a file and line, on that line of the pull request; for a review or audit of a
snapshot or schema file in the repository, on the line that defines the object, as in SARIF).
The severity maps as in SARIF: critical and high are errors, medium warnings, low and info
notices. The last line is a plain summary, which GitHub shows as ordinary log output.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dbwright.model.findings import Severity
from dbwright.output.sarif import LEVELS, ObjectLocator, Source

if TYPE_CHECKING:
    from dbwright.audit.run import Audit
    from dbwright.changes.lint.findings import LintReport
    from dbwright.review import Review

COMMANDS = {"error": "error", "warning": "warning", "note": "notice"}


def annotation(
    severity: Severity, title: str, message: str, *, file: str | None = None, line: int | None = None
) -> str:
    """``::error file=db/V2.sql,line=3,title=DW701 …::message``, escaped as the runner requires."""
    properties = ([f"file={_property(file)}"] if file else []) + ([f"line={line}"] if line else [])
    properties.append(f"title={_property(title)}")
    return f"::{COMMANDS[LEVELS[severity]]} {','.join(properties)}::{_data(message)}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def object_place(source: Source, root: Path | None = None) -> Callable[[str], dict[str, str | int]]:
    """``file=`` and ``line=`` of an object in the snapshot or schema file ``source``, when that file lies
    in the repository (``root``, default the current folder); nothing for a live database."""
    if source is None:
        return lambda name: {}
    root = Path(root or Path.cwd()).resolve()
    try:
        file = (root / source).resolve().relative_to(root).as_posix()
    except ValueError:
        return lambda name: {}
    locate = ObjectLocator("", source, root)
    return lambda name: {"file": file, "line": locate.line_of(name)}


def render_review(review: Review, source: Source = None, root: Path | None = None) -> str:
    """One annotation per finding; ``source`` is the snapshot or schema file the review read."""
    place = object_place(source, root)
    lines = [
        annotation(
            f.severity,
            f"{f.check.code} {f.check.title}",
            f"{f.finding.object}: {f.finding.message}",
            **place(f.finding.object),
        )
        for f in review.findings
    ]
    return "\n".join([*lines, f"dbwright review: {len(review.findings)} finding(s)"]) + "\n"


def render_audit(audit: Audit, source: Source = None, root: Path | None = None) -> str:
    place = object_place(source, root)
    lines = [
        annotation(
            f.severity,
            f"{f.check.code} {f.check.title}" + (f" (CIS {f.check.cis})" if f.check.cis else ""),
            f"{f.finding.object}: {f.finding.message}",
            **place(f.finding.object),
        )
        for f in audit.findings
    ]
    return "\n".join([*lines, f"dbwright audit: {len(audit.findings)} finding(s)"]) + "\n"


def render_lint(report: LintReport) -> str:
    active = [f for f in report.findings if not f.ignored]
    lines = [
        annotation(
            f.severity,
            f"{f.code} {f.title}",
            f"{f.message} (lock: {f.lock})"
            + (f"\nSafe rewrite:\n{f.safe_rewrite}" if f.safe_rewrite else ""),
            file=f.file if f.file and f.file != "<stdin>" else None,
            line=f.line if f.file and f.file != "<stdin>" else None,
        )
        for f in active
    ]
    ignored = len(report.findings) - len(active)
    summary = f"dbwright lint: {len(active)} finding(s)" + (
        f", {ignored} ignored with a reason" if ignored else ""
    )
    return "\n".join([*lines, summary]) + "\n"


RENDERERS = {"review": render_review, "audit": render_audit, "lint": render_lint}
