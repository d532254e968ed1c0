"""The configuration's typed settings, and the validation that turns a TOML table into them.

Every problem is one ``ConfigError`` line that names the file and the key
(``/repo/dbwright.toml: checks.disable[2]: unknown check code or area 'DW999'``), so a typo in
a project's configuration never passes silently and never shows a traceback.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dbwright.checks.registry import CATEGORIES, Check, find_check
from dbwright.config.discover import ConfigFile
from dbwright.engines.targets import is_snapshot_file
from dbwright.errors import ConfigError
from dbwright.model.findings import Severity
from dbwright.model.units import parse_bytes
from dbwright.review import Ignore, ReviewPolicy

#: The lint's target server version when nothing sets one (``dbwright lint --server-version``).
DEFAULT_LINT_SERVER_VERSION = "15"
#: Sections a later issue fills in (the metrics exporter, snapshot retention): accepted as tables
#: and shown by ``dbwright config show``; their keys are not checked yet.
RESERVED_SECTIONS = ("exporter", "retention")

#: Every key the file may hold, per table ("" is the top level; ``severity`` and ``thresholds`` are keyed
#: by check code, reserved sections are free-form). docs/configuration.md documents each one (tested).
KEYS: dict[str, tuple[str, ...]] = {
    "": (
        "target",
        "checks",
        "severity",
        "thresholds",
        "ignore",
        "review",
        "audit",
        "lint",
        *RESERVED_SECTIONS,
    ),
    "checks": ("enable", "disable"),
    "ignore": ("check", "object", "reason"),
    "review": ("fail_on", "server_memory"),
    "audit": ("fail_on",),
    "lint": ("server_version", "fail_on"),
}

_SEVERITIES = ", ".join(s.label for s in Severity)
_SERVER_VERSION = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class ReviewSettings:
    """``[review]``: the defaults of ``dbwright review`` (and ``snapshot``/``fix`` for server_memory)."""

    fail_on: Severity | None = None
    server_memory: str | None = None


@dataclass(frozen=True)
class AuditSettings:
    """``[audit]``: the defaults of ``dbwright audit``."""

    fail_on: Severity | None = None


@dataclass(frozen=True)
class LintSettings:
    """``[lint]``: the defaults of ``dbwright lint``."""

    server_version: str | None = None
    fail_on: Severity | None = None


@dataclass(frozen=True)
class Config:
    """A project's settings: the file they came from (None: no file) and each section, validated.

    ``given`` holds the dotted keys the file set (``review.fail_on``, ``thresholds.DW203.min_observed_days``),
    so ``dbwright config show`` can say where each effective value came from.
    """

    file: ConfigFile | None = None
    target: str | None = None
    enable: tuple[str, ...] = ()  # check codes and areas; empty: every check
    disable: tuple[str, ...] = ()
    severities: Mapping[str, Severity] = field(default_factory=dict)  # canonical check code -> severity
    thresholds: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # code -> option -> value
    ignores: tuple[Ignore, ...] = ()
    review: ReviewSettings = ReviewSettings()
    audit: AuditSettings = AuditSettings()
    lint: LintSettings = LintSettings()
    reserved: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # exporter, retention: as read
    given: frozenset[str] = frozenset()

    def policy(self) -> ReviewPolicy:
        """What the review and the audit honour: enabled and disabled checks, severities, thresholds, ignores."""
        return ReviewPolicy(
            enabled=frozenset(self.enable),
            disabled=frozenset(self.disable),
            severities=dict(self.severities),
            check_options={code: dict(options) for code, options in self.thresholds.items()},
            ignores=self.ignores,
        )

    def threshold(self, code: str, option: str) -> Any:
        """A check option's configured value, or None."""
        return self.thresholds.get(code, {}).get(option)


def check_options(check: Check) -> dict[str, Any]:
    """A check's options (its thresholds) with their defaults: ``{"min_observed_days": 7.0}`` for DW203."""
    parameters = inspect.signature(check.function).parameters
    return {name: parameters[name].default for name in check.options}


def parse_config(table: Mapping[str, Any], file: ConfigFile | None = None) -> Config:
    """Validate a configuration table (a whole dbwright.toml, or pyproject's ``[tool.dbwright]``)."""
    return _Reader(file).config(table)


class _Reader:
    """Validates one file's table; every error names the file and the key."""

    def __init__(self, file: ConfigFile | None) -> None:
        self.file = file
        self.given: set[str] = set()

    def fail(self, key: str, problem: str) -> ConfigError:
        where = self.file.where(key) if self.file else key
        return ConfigError(f"{where}: {problem}")

    # --- the sections -----------------------------------------------------------------------------

    def config(self, table: Mapping[str, Any]) -> Config:
        self.only_known(table, "", KEYS[""])
        config = Config(
            file=self.file,
            target=self.target(self.optional_string(table, "target")),
            **self.checks(self.table(table, "checks")),
            severities=self.severities(self.table(table, "severity")),
            thresholds=self.thresholds(self.table(table, "thresholds")),
            ignores=self.ignores(table.get("ignore", [])),
            review=self.review(self.table(table, "review")),
            audit=self.audit(self.table(table, "audit")),
            lint=self.lint(self.table(table, "lint")),
            reserved={name: self.table(table, name) for name in RESERVED_SECTIONS if name in table},
        )
        self.given.update(name for name in RESERVED_SECTIONS if name in table)
        return replace(config, given=frozenset(self.given))

    def target(self, text: str | None) -> str | None:
        """The target as written; a relative snapshot file is relative to the configuration file's folder."""
        if text is None or self.file is None or not is_snapshot_file(text) or Path(text).is_absolute():
            return text
        return str(self.file.path.parent / text)

    def checks(self, table: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
        self.only_known(table, "checks", KEYS["checks"])
        return {
            name: tuple(
                self.check_or_area(item, f"checks.{name}[{n}]") for n, item in self.strings(table, name)
            )
            for name in ("enable", "disable")
        }

    def severities(self, table: Mapping[str, Any]) -> dict[str, Severity]:
        chosen = {}
        for code, value in table.items():
            key = f"severity.{code}"
            chosen[self.check(code, key).code] = self.parse_severity(value, key)
            self.given.add(key)
        return chosen

    def thresholds(self, table: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        chosen: dict[str, dict[str, Any]] = {}
        for code, options in table.items():
            key = f"thresholds.{code}"
            check = self.check(code, key)
            defaults = check_options(check)
            if not defaults:
                having = ", ".join(f"{c} ({', '.join(o)})" for c, o in checks_with_options().items())
                raise self.fail(key, f"{check.code} has no thresholds; these checks do: {having}")
            options = self.as_table(options, key)
            self.only_known(options, key, tuple(defaults))
            for name, value in options.items():
                self.given.add(f"thresholds.{check.code}.{name}")
                chosen.setdefault(check.code, {})[name] = self.option(value, defaults[name], f"{key}.{name}")
        return chosen

    def ignores(self, entries: Any) -> tuple[Ignore, ...]:
        if not isinstance(entries, list):
            raise self.fail("ignore", f"must be an array of tables ([[ignore]]), not {_kind(entries)}")
        ignores = []
        for number, entry in enumerate(entries, start=1):
            key = f"ignore[{number}]"
            entry = self.as_table(entry, key)
            self.only_known(entry, key, KEYS["ignore"])
            for required in ("check", "object", "reason"):
                if required not in entry:
                    why = "every ignore needs a reason" if required == "reason" else "an ignore names both"
                    raise self.fail(f"{key}.{required}", f"missing ({why}: check, object, reason)")
            reason = self.string(entry["reason"], f"{key}.reason").strip()
            if not reason:
                raise self.fail(f"{key}.reason", "is empty: every ignore needs a reason")
            obj = self.string(entry["object"], f"{key}.object").strip()
            if not obj:
                raise self.fail(f"{key}.object", "is empty: name the object, e.g. public.orders")
            code = self.check(self.string(entry["check"], f"{key}.check"), f"{key}.check").code
            ignores.append(Ignore(code, obj, reason, self.file.where(key) if self.file else key))
        if ignores:
            self.given.add("ignore")
        return tuple(ignores)

    def review(self, table: Mapping[str, Any]) -> ReviewSettings:
        self.only_known(table, "review", KEYS["review"])
        memory = table.get("server_memory")
        if memory is not None:
            self.given.add("review.server_memory")
            if isinstance(memory, bool) or not isinstance(memory, str | int):
                raise self.fail("review.server_memory", f'must be a size such as "16GB", not {_kind(memory)}')
            try:
                parse_bytes(str(memory))
            except ValueError as error:
                raise self.fail("review.server_memory", str(error)) from None
            memory = str(memory)
        return ReviewSettings(fail_on=self.fail_on(table, "review.fail_on"), server_memory=memory)

    def audit(self, table: Mapping[str, Any]) -> AuditSettings:
        self.only_known(table, "audit", KEYS["audit"])
        return AuditSettings(fail_on=self.fail_on(table, "audit.fail_on"))

    def lint(self, table: Mapping[str, Any]) -> LintSettings:
        self.only_known(table, "lint", KEYS["lint"])
        version = table.get("server_version")
        if version is not None:
            self.given.add("lint.server_version")
            if isinstance(version, bool) or not isinstance(version, str | int | float):
                raise self.fail(
                    "lint.server_version", f'must be a version such as 15 or "9.6", not {_kind(version)}'
                )
            version = str(version).strip()
            if not _SERVER_VERSION.fullmatch(version) or version.strip("0.") == "":
                raise self.fail(
                    "lint.server_version", f"cannot read server version {version!r}; use e.g. 15 or 150004"
                )
        return LintSettings(server_version=version, fail_on=self.fail_on(table, "lint.fail_on"))

    # --- values -----------------------------------------------------------------------------------

    def table(self, parent: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        return self.as_table(parent.get(name, {}), name)

    def as_table(self, value: Any, key: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {_kind(value)}")
        return value

    def only_known(self, table: Mapping[str, Any], where: str, known: tuple[str, ...]) -> None:
        for name in table:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"use {', '.join(known)}"
                raise self.fail(f"{where}.{name}" if where else name, f"unknown key; {hint}")

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {_kind(value)}")
        return value

    def optional_string(self, table: Mapping[str, Any], key: str) -> str | None:
        if key not in table:
            return None
        self.given.add(key)
        value = self.string(table[key], key).strip()
        if not value:
            raise self.fail(key, "is empty")
        return value

    def strings(self, table: Mapping[str, Any], name: str) -> list[tuple[int, str]]:
        value = table.get(name, [])
        key = f"checks.{name}"
        if not isinstance(value, list):
            raise self.fail(key, f"must be an array of strings, not {_kind(value)}")
        if name in table:
            self.given.add(key)
        return [(n, self.string(item, f"{key}[{n}]")) for n, item in enumerate(value, start=1)]

    def check(self, code: str, key: str) -> Check:
        check = find_check(code)
        if check is None:
            raise self.fail(
                key, _not_a_check(code, f"unknown check code {code!r}; `dbwright checks` lists them")
            )
        return check

    def check_or_area(self, name: str, key: str) -> str:
        if name.lower() in CATEGORIES:
            return name.lower()
        check = find_check(name)
        if check is None:
            unknown = f"unknown check code or area {name!r}; areas: {', '.join(CATEGORIES)}"
            raise self.fail(key, _not_a_check(name, unknown))
        return check.code

    def fail_on(self, table: Mapping[str, Any], key: str) -> Severity | None:
        """A ``fail_on`` severity; ``"none"`` (never fail) reads as None, as when the key is absent."""
        name = key.rsplit(".", 1)[1]
        if name not in table:
            return None
        self.given.add(key)
        if isinstance(table[name], str) and table[name].strip().lower() == "none":
            return None
        return self.parse_severity(table[name], key)

    def parse_severity(self, value: Any, key: str) -> Severity:
        if not isinstance(value, str):
            raise self.fail(key, f"must be a severity ({_SEVERITIES}), not {_kind(value)}")
        try:
            return Severity.parse(value)
        except ValueError:
            raise self.fail(key, f"unknown severity {value!r}; use one of {_SEVERITIES}") from None

    def option(self, value: Any, default: Any, key: str) -> Any:
        """A check option's value, of its default's type (an integer does for a float); numbers are 0 or more."""
        wanted = type(default)
        fits = isinstance(value, wanted) and not (isinstance(value, bool) and wanted is not bool)
        if wanted is float and isinstance(value, int) and not isinstance(value, bool):
            value, fits = float(value), True
        if not fits:
            raise self.fail(key, f"must be {_kind(default, article=True)}, not {_kind(value)}")
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise self.fail(key, f"must be 0 or more, not {value:g}")
        return value


def _not_a_check(code: str, otherwise: str) -> str:
    """Why ``code`` cannot be configured here: a lint rule is silenced in the migration, else ``otherwise``."""
    from dbwright.changes.lint import get_rule  # only on this error path: the lint pulls in the SQL parser

    try:
        rule = get_rule(code.strip().upper())
    except KeyError:
        return otherwise
    return (
        f"{rule.code} is a lint rule, not a review check: silence it in the migration with "
        f"'-- dbwright:ignore {rule.code} reason: …'"
    )


def checks_with_options() -> dict[str, tuple[str, ...]]:
    """The checks that take thresholds, and their option names."""
    from dbwright.checks.registry import all_checks

    return {c.code: c.options for c in all_checks() if c.options}


_TOML_KINDS = {
    bool: "boolean",
    int: "integer",
    float: "float",
    str: "string",
    list: "array",
    dict: "table",
}


def _kind(value: Any, *, article: bool = False) -> str:
    """The TOML name of a value's type, as the user wrote it: "string", "integer", "table"."""
    name = next((kind for t, kind in _TOML_KINDS.items() if isinstance(value, t)), "date or time")
    name = "number" if name == "float" and article else name
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}" if article else name
