"""The effective settings, each with where it came from: what ``dbwright config show`` prints.

Precedence, highest first: a command-line flag, an environment variable, the configuration file,
dbwright's default. Flags belong to one command, so they are not shown here; the environment names
the target (``DATABASE_URL``, the ``PG*`` variables) and the file (``DBWRIGHT_CONFIG``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from dbwright.checks.registry import all_checks
from dbwright.config.discover import CONFIG_VARIABLE
from dbwright.config.settings import DEFAULT_LINT_SERVER_VERSION, RESERVED_SECTIONS, Config, check_options
from dbwright.engines.targets import environment_target, environment_variables
from dbwright.model.findings import Severity
from dbwright.redact import redact

#: Where a value came from: a flag (``--config``), the environment, the file, the file search, or dbwright.
Source = Literal["flag", "env", "file", "found", "default"]


@dataclass(frozen=True)
class Setting:
    """One effective setting: its dotted key, its value, and where the value came from."""

    key: str
    value: Any
    source: Source
    origin: str  # "/repo/dbwright.toml: review.fail_on", "env DATABASE_URL", "default"
    note: str = ""  # what the value means when it is a default, or what it is for

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "source": self.source,
            "from": self.origin,
            "note": self.note,
        }


def effective_settings(config: Config, environ: Mapping[str, str] | None = None) -> list[Setting]:
    """Every setting dbwright will use, in file order, each with its source."""
    env = os.environ if environ is None else environ
    settings = [_file_setting(config), target_setting(config, env)]
    settings += [
        _from(config, "checks.enable", list(config.enable), [], "every check runs"),
        _from(config, "checks.disable", list(config.disable), [], "no check is turned off"),
    ]
    if config.severities:
        settings += [
            _from(config, f"severity.{code}", severity.label, None, "")
            for code, severity in config.severities.items()
        ]
    else:
        settings.append(Setting("severity", {}, "default", "default", "each check's own severity"))
    for check in all_checks():
        for option, default in check_options(check).items():
            key = f"thresholds.{check.code}.{option}"
            chosen = _from(config, key, config.threshold(check.code, option), default, "")
            settings.append(replace(chosen, note=f"{check.code}: {check.title}"))
    settings.append(
        _from(
            config,
            "ignore",
            [{"check": i.check, "object": i.object, "reason": i.reason} for i in config.ignores],
            [],
            "no finding is suppressed",
        )
    )
    never = "no exit 1 for findings"
    settings += [
        _from(
            config, "review.fail_on", _fail_on(config, "review.fail_on", config.review.fail_on), None, never
        ),
        _from(config, "review.server_memory", config.review.server_memory, None, "read from the server"),
        _from(config, "audit.fail_on", _fail_on(config, "audit.fail_on", config.audit.fail_on), None, never),
        _from(config, "lint.server_version", config.lint.server_version, DEFAULT_LINT_SERVER_VERSION, ""),
        _from(config, "lint.fail_on", _fail_on(config, "lint.fail_on", config.lint.fail_on), "high", ""),
    ]
    for name in RESERVED_SECTIONS:
        chosen = _from(config, name, dict(config.reserved.get(name, {})), {}, "")
        settings.append(replace(chosen, note="reserved for a later release: accepted, not used yet"))
    return settings


def target_setting(config: Config, environ: Mapping[str, str] | None = None) -> Setting:
    """The default target: the environment's server, else the file's ``target``, else none (the demo)."""
    from_environment = environment_target(environ)
    if from_environment is not None:
        variables = environment_variables(environ)
        value = redact(from_environment.text) if from_environment.text else None
        note = "" if value else f"{', '.join(variables)} (the driver reads them)"
        return Setting("target", value, "env", "env " + ", ".join(variables), note)
    if config.target is not None:
        return _from(config, "target", redact(config.target), None, "")
    note = "commands that need a server use the embedded demo database"
    return Setting("target", None, "default", "default", note)


def _file_setting(config: Config) -> Setting:
    if config.file is None:
        return Setting("config_file", None, "default", "default", "no dbwright.toml or [tool.dbwright] found")
    chosen_by = config.file.chosen_by
    source: Source = "flag" if chosen_by == "--config" else "env" if chosen_by.startswith("env ") else "found"
    note = "the [tool.dbwright] table" if config.file.table else ""
    origin = f"env {CONFIG_VARIABLE}" if source == "env" else chosen_by
    return Setting("config_file", str(config.file.path), source, origin, note)


def _from(config: Config, key: str, value: Any, default: Any, note: str) -> Setting:
    if config.file is not None and key in config.given:
        return Setting(key, value, "file", config.file.where(key))
    return Setting(key, default, "default", "default", note)


def _fail_on(config: Config, key: str, severity: Severity | None) -> str | None:
    """A fail_on as written: its severity's label, ``"none"`` when the file turns failing off."""
    return severity.label if severity is not None else "none" if key in config.given else None
