"""SARIF 2.1.0: reviews, audits and lint runs as static-analysis results, for code-scanning dashboards.

One builder (``sarif_log``) writes every document; the three adapters below only say what a
rule, a result and a skipped check are for their kind. Rules list every registered check or
lint rule, so a dashboard can show which ran clean. Checks skipped for lack of data or
privileges become tool execution notifications.

Every result has a physical location, as GitHub code scanning requires (docs/ci.md):
- a lint finding: its file and line, relative to ``SRCROOT`` (the folder dbwright ran in);
- a review or audit finding: the snapshot or schema file it was read from, when one was given
  (``source``), at the line that defines the object when it can be found; otherwise the
  pseudo-file ``dbwright/database/<database>`` under the ``DATABASE`` base, which stands for
  the database itself. Its object's name is a logical location too.

Every URI is absolute or relative to a base declared in ``originalUriBaseIds``, so the log is
valid against the 2.1.0 schema with format checking; rules' ``helpUri`` point into the docs
at ``DOCS_BASE_URI``, and security rules carry GitHub's ``security-severity``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from dbwright import __version__
from dbwright.errors import InvalidArgumentError
from dbwright.model.findings import Severity
from dbwright.model.package import ChangePackage
from dbwright.output.common import docs_path, server_version_label

if TYPE_CHECKING:
    from dbwright.audit.run import Audit, AuditFinding
    from dbwright.changes.lint.findings import LintFinding, LintReport
    from dbwright.checks.registry import Check
    from dbwright.review import Review, ReviewedFinding, SuppressedFinding

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

#: The driver's ``informationUri``: where dbwright is described.
INFORMATION_URI = "https://github.com/dbwright/dbwright"
#: What a rule's docs path (docs/checks/DW101.md) is resolved against, for its ``helpUri``.
DOCS_BASE_URI = f"{INFORMATION_URI}/blob/main/"

#: The base of file locations: the folder dbwright ran in (the repository's root in CI).
SRCROOT = "SRCROOT"
#: The base of the pseudo-file that stands for a reviewed database: ``dbwright/database/<name>``.
DATABASE = "DATABASE"
#: The base of the pseudo-file that stands for SQL read from standard input: ``dbwright/stdin.sql``.
STDIN = "STDIN"
BASE_DESCRIPTIONS = {
    SRCROOT: "The folder dbwright ran in (the repository's root in CI); file locations are relative to it.",
    DATABASE: "Not a file: dbwright/database/<name> stands for the database that was reviewed live, "
    "whose findings are located by object name (logicalLocations).",
    STDIN: "Not a file: dbwright/stdin.sql stands for the SQL read from standard input.",
}
STDIN_NAMES = frozenset({"<stdin>", "<sql>", "-", "stdin"})

#: GitHub's ``security-severity`` (0.0 to 10.0) of a security rule at each severity.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


# --- the one builder -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A check or lint rule as SARIF describes it; ``doc`` is the whole Markdown documentation."""

    id: str
    title: str
    doc: str
    severity: Severity
    help_uri: str  # absolute (see ``help_uri``)
    summary: str = ""  # the doc's first paragraph unless given
    properties: dict[str, Any] = field(default_factory=dict)
    security: bool = False  # a security or compliance check: GitHub's security-severity and tag


@dataclass(frozen=True)
class Artifact:
    """A file as SARIF names it: a URI relative to a base (``SRCROOT``, ``DATABASE``), or absolute."""

    uri: str
    base: str | None = None

    def to_sarif(self) -> dict[str, Any]:
        return {"uri": self.uri} | ({"uriBaseId": self.base} if self.base else {})


@dataclass(frozen=True)
class Location:
    """Where a finding is: a file (or pseudo-file) and line, with the statement there or the object's name."""

    artifact: Artifact
    line: int = 1
    snippet: str | None = None
    object: str | None = None  # a database object's fully qualified name, also a logical location

    def to_sarif(self) -> dict[str, Any]:
        region: dict[str, Any] = {"startLine": max(self.line, 1)}
        if self.snippet is not None:
            region["snippet"] = {"text": self.snippet}
        location: dict[str, Any] = {
            "physicalLocation": {"artifactLocation": self.artifact.to_sarif(), "region": region}
        }
        if self.object is not None:
            location["logicalLocations"] = [{"fullyQualifiedName": self.object}]
        return location


@dataclass(frozen=True)
class Result:
    """One finding; ``identity`` is what stays the same across runs (rule and object, or file and SQL)."""

    rule_id: str
    severity: Severity
    message: str
    location: Location
    identity: tuple[str | None, ...]
    properties: dict[str, Any] = field(default_factory=dict)
    suppressed_because: str | None = None  # an ignore with its reason
    suppression_kind: str = "inSource"  # in the SQL; "external": in the project's configuration file


@dataclass(frozen=True)
class Tool:
    """The driver's name and the fingerprint key its results carry (kept stable for dashboards)."""

    name: str
    fingerprint_key: str


def sarif_log(
    tool: Tool,
    rules: Sequence[Rule],
    results: Iterable[Result],
    *,
    skipped: Iterable[tuple[str, str]] = (),
    properties: dict[str, Any] | None = None,
    root: Path | None = None,
) -> dict[str, Any]:
    """The SARIF log of one run. ``skipped`` holds (rule id, why) for each check that did not run;
    ``root`` is the folder ``SRCROOT`` names (default: the current one)."""
    index = {rule.id: i for i, rule in enumerate(rules)}
    results = list(results)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": tool.name,
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule) for rule in rules],
            }
        },
        "originalUriBaseIds": _uri_bases({r.location.artifact.base for r in results}, root),
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {
                        "level": "note",
                        "message": {"text": why},
                        "associatedRule": {"id": rule_id, "index": index[rule_id]},
                    }
                    for rule_id, why in skipped
                ],
            }
        ],
        "results": [_result(result, index, tool.fingerprint_key) for result in results],
    }
    if properties is not None:
        run["properties"] = properties
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _uri_bases(used: set[str | None], root: Path | None) -> dict[str, Any]:
    """``SRCROOT`` always (as an absolute file URI ending in /), and the pseudo-file bases in use."""
    root_uri = Path(root or Path.cwd()).resolve().as_uri()
    bases: dict[str, Any] = {
        SRCROOT: {
            "uri": root_uri if root_uri.endswith("/") else root_uri + "/",
            "description": {"text": BASE_DESCRIPTIONS[SRCROOT]},
        }
    }
    for base in (DATABASE, STDIN):
        if base in used:  # no URI: the base is not a place, only a name for the pseudo-file
            bases[base] = {"description": {"text": BASE_DESCRIPTIONS[base]}}
    return bases


def dumps(log: dict[str, Any]) -> str:
    return json.dumps(log, indent=2, ensure_ascii=False, default=str) + "\n"


def _rule(rule: Rule) -> dict[str, Any]:
    summary = rule.summary or rule.doc.split("\n\n", 1)[0].replace("\n", " ")
    properties = {**rule.properties, "severity": rule.severity.label}
    if rule.security:
        properties["security-severity"] = SECURITY_SEVERITY[rule.severity]
        tags = properties.get("tags", [])
        properties["tags"] = tags if "security" in tags else [*tags, "security"]
    return {
        "id": rule.id,
        "name": pascal_case(rule.title),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": summary},
        "help": {"text": rule.doc, "markdown": rule.doc},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": properties,
    }


def _result(result: Result, index: dict[str, int], fingerprint_key: str) -> dict[str, Any]:
    identity = "\0".join("None" if part is None else part for part in result.identity)
    sarif: dict[str, Any] = {
        "ruleId": result.rule_id,
        "ruleIndex": index[result.rule_id],
        "level": LEVELS[result.severity],
        "message": {"text": result.message},
        "locations": [result.location.to_sarif()],
        "partialFingerprints": {fingerprint_key: hashlib.sha256(identity.encode()).hexdigest()[:32]},
        "properties": result.properties,
    }
    if result.suppressed_because is not None:
        sarif["suppressions"] = [
            {"kind": result.suppression_kind, "justification": result.suppressed_because}
        ]
    return sarif


# --- URIs and locations ----------------------------------------------------------------------


def help_uri(docs_base_uri: str | None, path: str) -> str:
    """A docs page's absolute URI: ``path`` (docs/checks/DW101.md) under ``docs_base_uri``, which must
    be absolute (``https://…/``, ``file:///…/``); None or "" means ``DOCS_BASE_URI``."""
    base = docs_base_uri or DOCS_BASE_URI
    if not urlsplit(base).scheme:
        raise InvalidArgumentError(
            f"docs base URI {base!r} is not absolute; give one such as {DOCS_BASE_URI}"
        )
    return (base if base.endswith("/") else base + "/") + path


def file_artifact(path: str | os.PathLike[str], root: Path | None = None) -> Artifact:
    """A file relative to ``SRCROOT`` when it lies under ``root`` (the current folder), else its absolute
    file URI; SQL read from standard input is the pseudo-file ``dbwright/stdin.sql``."""
    if str(path) in STDIN_NAMES:
        return Artifact("dbwright/stdin.sql", STDIN)
    root = Path(root or Path.cwd()).resolve()
    absolute = (root / path).resolve()
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        return Artifact(absolute.as_uri())
    return Artifact(quote(relative.as_posix()), SRCROOT)


def database_artifact(database: str) -> Artifact:
    """The pseudo-file that stands for a database reviewed live: ``dbwright/database/<name>``."""
    return Artifact("dbwright/database/" + quote(database, safe=""), DATABASE)


class ObjectLocator:
    """Locates a finding's object: in the snapshot or schema file it was read from (the line that
    defines it, when found; else line 1), or in the database's pseudo-file when there is no file.
    The file is indexed once (its ``"name"`` lines, or its SQL words), so a large file stays fast."""

    def __init__(
        self, database: str, source: str | os.PathLike[str] | None = None, root: Path | None = None
    ) -> None:
        self.path = Path(source) if source is not None else None
        self.artifact = file_artifact(self.path, root) if self.path else database_artifact(database)
        self.lines = _read_lines(self.path) if self.path else []
        self.is_json = self.path is not None and self.path.suffix.lower() == ".json"
        self._index: dict[str, list[int]] = {}  # a "name" value (JSON) or a lower-case word (SQL): its lines
        for number, line in enumerate(self.lines):
            if self.is_json:
                key, _, value = line.strip().rstrip(",").partition(": ")
                if key == '"name"' and value.startswith('"'):
                    self._index.setdefault(_json_string(value), []).append(number)
            else:
                for word in set(_SQL_WORD.findall(line.lower())):
                    self._index.setdefault(word, []).append(number)
        self._found: dict[str, int] = {}

    def __call__(self, name: str) -> Location:
        return Location(self.artifact, self.line_of(name), object=name)

    def line_of(self, name: str) -> int:
        if name not in self._found:
            found = self._json_line(name) if self.is_json else self._sql_line(name)
            self._found[name] = (found or 0) + 1
        return self._found[name]

    def _json_line(self, name: str) -> int | None:
        """The ``"name": "<table>"`` line of the object whose ``"schema"`` is the name's schema (in a
        snapshot as ``dbwright snapshot`` writes it, one key a line), else of ``"name": "<whole name>"``."""
        parts = name.split(".")
        if len(parts) >= 2:
            schema_key = _json_pair("schema", parts[0])
            for number in self._index.get(parts[1], []):
                if any(key.startswith(schema_key) for key in self._sibling_keys(number)):
                    return number
        return next(iter(self._index.get(name, [])), None)

    def _sibling_keys(self, number: int) -> list[str]:
        """The lines of the other keys of the JSON object the key on line ``number`` belongs to."""
        indent = _indent(self.lines[number])
        siblings: list[str] = []
        for step in (-1, 1):
            at = number + step
            while 0 <= at < len(self.lines) and _indent(self.lines[at]) >= indent:
                if _indent(self.lines[at]) == indent:
                    siblings.append(self.lines[at].strip())
                at += step
        return siblings

    def _sql_line(self, name: str) -> int | None:
        """The first CREATE or ALTER naming the object's table (or the object), else the first mention."""
        parts = name.split(".")
        mentions = self._index.get((parts[1] if len(parts) >= 2 else name).lower(), [])
        ddl = [n for n in mentions if _SQL_DDL.match(self.lines[n])]
        return (ddl or mentions or [None])[0]


_SQL_WORD = re.compile(r"[\w$]+")
_SQL_DDL = re.compile(r"\s*(create|alter)\b", re.IGNORECASE)


def _json_string(text: str) -> str:
    try:
        return str(json.loads(text))
    except ValueError:
        return text


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _json_pair(key: str, value: str) -> str:
    return f"{json.dumps(key)}: {json.dumps(value)}"


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError:
        return []


def fix_properties(fix: ChangePackage) -> dict[str, Any]:
    """A fix as result properties: the SQL both ways, how long it takes, what must be done by hand."""
    return {
        "title": fix.title,
        "explanation": fix.explanation,
        "forwardSql": fix.forward_sql,
        "rollbackSql": fix.rollback_sql,
        "transactional": fix.transactional,
        "estimatedSeconds": round(fix.estimated_seconds, 3),
        "manualSteps": list(fix.manual_steps),
    }


def pascal_case(title: str) -> str:
    """ "Table without a primary key" -> "TableWithoutAPrimaryKey", SARIF's rule name style."""
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^0-9A-Za-z]+", title) if word)


# --- the review ------------------------------------------------------------------------------

#: The file a review or audit was read from: a snapshot .json or a schema .sql (None: a live database).
Source = str | os.PathLike[str] | None


def review_log(
    review: Review, docs_base_uri: str | None = None, source: Source = None, root: Path | None = None
) -> dict[str, Any]:
    """The review as a SARIF log. ``source`` is the file it was read from, which locates its findings."""
    from dbwright.checks.registry import all_checks

    server = review.snapshot.server
    locate = ObjectLocator(server.database, source, root)
    return sarif_log(
        Tool("dbwright", "dbwrightFinding/v1"),
        [_check_rule(check, docs_base_uri) for check in all_checks()],
        [
            *(_review_result(f, locate) for f in review.findings),
            *(_suppressed_result(s, s.check.code, locate) for s in review.suppressed),
        ],
        skipped=(
            (s.check.code, f"{s.check.code} {s.check.title} was skipped: " + "; ".join(s.reasons))
            for s in review.skipped
        ),
        properties={
            "database": server.database,
            "serverVersion": server_version_label(server.version_num),
            "takenAt": review.snapshot.taken_at,
            "scores": review.scores(),
            "snapshotSkipped": [{"section": s.section, "reason": s.reason} for s in review.snapshot.skipped],
        },
        root=root,
    )


def render_review(
    review: Review, docs_base_uri: str | None = None, source: Source = None, root: Path | None = None
) -> str:
    """The review's SARIF log. ``docs_base_uri`` (absolute) prefixes each rule's docs/checks/CODE.md;
    ``source`` is the snapshot or schema file the review read, else the database's pseudo-file."""
    return dumps(review_log(review, docs_base_uri, source, root))


def _check_rule(check: Check, docs_base_uri: str | None) -> Rule:
    return Rule(
        id=check.code,
        title=check.title,
        doc=check.doc,
        severity=check.severity,
        help_uri=help_uri(docs_base_uri, docs_path(check.code)),
        properties={"category": check.category, "tags": [check.category], "requires": list(check.requires)},
        security=check.in_audit,
    )


def _review_result(reviewed: ReviewedFinding, locate: ObjectLocator) -> Result:
    finding = reviewed.finding
    properties: dict[str, Any] = {
        "category": reviewed.check.category,
        "severity": reviewed.severity.label,
        "evidence": finding.evidence,
    }
    if finding.fix:
        properties["fix"] = fix_properties(finding.fix)
    return Result(
        rule_id=finding.code,
        severity=reviewed.severity,
        message=finding.message,
        location=locate(finding.object),
        identity=(finding.code, finding.object),
        properties=properties,
    )


def _suppressed_result(suppressed: SuppressedFinding, rule_id: str, locate: ObjectLocator) -> Result:
    """A finding the project's configuration ignores, with its reason: a result with an external
    suppression, so a dashboard shows it as suppressed rather than losing it."""
    finding = suppressed.finding
    severity = finding.severity or suppressed.check.severity
    return Result(
        rule_id=rule_id,
        severity=severity,
        message=finding.message,
        location=locate(finding.object),
        identity=(rule_id, finding.object),
        properties={"severity": severity.label, "ignoredBy": suppressed.ignore.source},
        suppressed_because=suppressed.ignore.reason,
        suppression_kind="external",
    )


# --- the audit -------------------------------------------------------------------------------


def audit_log(
    audit: Audit, docs_base_uri: str | None = None, source: Source = None, root: Path | None = None
) -> dict[str, Any]:
    from dbwright.audit.run import CIS_BENCHMARK, all_audit_checks

    server = audit.snapshot.server
    locate = ObjectLocator(server.database, source, root)
    rules = [
        Rule(
            id=check.code,
            title=check.title,
            doc=check.doc,
            summary=check.summary,
            severity=check.severity,
            help_uri=help_uri(docs_base_uri, f"docs/audit.md#{check.code.lower()}"),
            properties={
                "category": check.category,
                "cis": check.cis,
                "tags": [check.category] + ([f"CIS-{check.cis}"] if check.cis else []),
                "requires": list(check.requires),
            },
            security=True,
        )
        for check in all_audit_checks()
    ]
    return sarif_log(
        Tool("dbwright-audit", "dbwrightAudit/v1"),
        rules,
        [
            *(_audit_result(f, locate) for f in audit.findings),
            *(
                _suppressed_result(s, s.check.audit_code, locate)
                for s in audit.suppressed
                if s.check.in_audit
            ),
        ],
        skipped=(
            (s.check.code, f"{s.check.code} {s.check.title} was not verified: " + "; ".join(s.reasons))
            for s in audit.skipped
        ),
        properties={
            "database": server.database,
            "serverVersion": server_version_label(server.version_num),
            "benchmark": CIS_BENCHMARK,
            "scores": audit.scores(),
            "compliance": audit.compliance(),
        },
        root=root,
    )


def render_audit(
    audit: Audit, docs_base_uri: str | None = None, source: Source = None, root: Path | None = None
) -> str:
    return dumps(audit_log(audit, docs_base_uri, source, root))


def _audit_result(f: AuditFinding, locate: ObjectLocator) -> Result:
    properties: dict[str, Any] = {
        "category": f.check.category,
        "cis": f.check.cis,
        "severity": f.severity.label,
        "evidence": f.finding.evidence,
    }
    if f.finding.fix:
        properties["fix"] = fix_properties(f.finding.fix)
    return Result(
        rule_id=f.check.code,
        severity=f.severity,
        message=f.finding.message,
        location=locate(f.finding.object),
        identity=(f.check.code, f.finding.object),
        properties=properties,
    )


# --- lint ------------------------------------------------------------------------------------


def lint_log(
    report: LintReport, docs_base_uri: str | None = None, root: Path | None = None
) -> dict[str, Any]:
    from dbwright.changes.lint.rules import all_rules

    rules = [
        Rule(
            id=rule.code,
            title=rule.title,
            doc=rule.doc,
            severity=rule.severity,
            help_uri=help_uri(docs_base_uri, f"docs/lint-rules/{rule.code}.md"),
        )
        for rule in all_rules()
    ]
    return sarif_log(
        Tool("dbwright-lint", "dbwrightLint/v1"),
        rules,
        [_lint_result(f, root) for f in report.findings],
        root=root,
    )


def render_lint(report: LintReport, docs_base_uri: str | None = None, root: Path | None = None) -> str:
    return dumps(lint_log(report, docs_base_uri, root))


def _lint_result(f: LintFinding, root: Path | None) -> Result:
    return Result(
        rule_id=f.code,
        severity=f.severity,
        message=f.message + (f"\nSafe rewrite:\n{f.safe_rewrite}" if f.safe_rewrite else ""),
        location=Location(file_artifact(f.file or "<stdin>", root), f.line, snippet=f.sql),
        identity=(f.code, f.file, f.sql),
        properties={"lock": f.lock, "severity": f.severity.label, "safeRewrite": f.safe_rewrite},
        suppressed_because=(f.ignore_reason or "") if f.ignored else None,
    )


RENDERERS = {"review": render_review, "audit": render_audit, "lint": render_lint}
