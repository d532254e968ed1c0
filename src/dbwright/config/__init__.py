"""A project's configuration: ``dbwright.toml``, or ``[tool.dbwright]`` in ``pyproject.toml``.

``load_config`` finds the file (``--config``, ``DBWRIGHT_CONFIG``, else upward from the current
folder), reads it with ``tomllib`` and validates it into a typed ``Config``; every problem is one
``ConfigError`` line naming the file and the key. ``Config.policy()`` is what the review and the
audit honour (enabled checks, severities, thresholds, ignores); the faces turn the rest into
their options' defaults. docs/configuration.md describes every key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dbwright.config.discover import CONFIG_FILE, CONFIG_VARIABLE, ConfigFile, locate_config
from dbwright.config.effective import Setting, effective_settings, target_setting
from dbwright.config.settings import (
    DEFAULT_LINT_SERVER_VERSION,
    RESERVED_SECTIONS,
    AuditSettings,
    Config,
    LintSettings,
    ReviewSettings,
    check_options,
    parse_config,
)


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    start: str | os.PathLike[str] | None = None,
) -> Config:
    """The project's configuration: the file ``path`` names, else ``DBWRIGHT_CONFIG``'s, else the first
    found upward from ``start`` (default: the current folder); an empty ``Config`` when there is none."""
    located = locate_config(path, environ=environ, start=Path(start) if start is not None else None)
    if located is None:
        return Config()
    file, table = located
    return parse_config(table, file)


__all__ = [
    "CONFIG_FILE",
    "CONFIG_VARIABLE",
    "DEFAULT_LINT_SERVER_VERSION",
    "RESERVED_SECTIONS",
    "AuditSettings",
    "Config",
    "ConfigFile",
    "LintSettings",
    "ReviewSettings",
    "Setting",
    "check_options",
    "effective_settings",
    "load_config",
    "parse_config",
    "target_setting",
]
