"""Finding the configuration file: ``--config``, else ``DBWRIGHT_CONFIG``, else upward from the folder.

Upward from the current folder, the first folder that has either file wins: its ``dbwright.toml``,
else its ``pyproject.toml`` when that has a ``[tool.dbwright]`` table (a pyproject.toml without one
is no hit, so the search goes on, as ruff's does).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbwright.errors import ConfigError

CONFIG_FILE = "dbwright.toml"
PYPROJECT = "pyproject.toml"
PYPROJECT_TABLE = ("tool", "dbwright")
#: The variable that names the configuration file, as ``--config`` does.
CONFIG_VARIABLE = "DBWRIGHT_CONFIG"


@dataclass(frozen=True)
class ConfigFile:
    """A configuration file that was read: where, which table of it, and how it was chosen."""

    path: Path
    table: tuple[str, ...]  # () for dbwright.toml; ("tool", "dbwright") in a pyproject.toml
    chosen_by: str  # "--config", "env DBWRIGHT_CONFIG" or "found upward from FOLDER"

    def key(self, dotted: str) -> str:
        """A key as the user wrote it: ``review.fail_on``, or ``tool.dbwright.review.fail_on``."""
        return ".".join((*self.table, dotted)) if dotted else ".".join(self.table)

    def where(self, dotted: str) -> str:
        """``/repo/dbwright.toml: review.fail_on``: the file and the key, for messages and sources."""
        key = self.key(dotted)
        return f"{self.path}: {key}" if key else str(self.path)


def locate_config(
    explicit: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    start: Path | None = None,
) -> tuple[ConfigFile, dict[str, Any]] | None:
    """The configuration file to use and its table, or None when there is none.

    ``explicit`` (``--config``) wins over ``DBWRIGHT_CONFIG``, which wins over the search upward
    from ``start`` (default: the current folder). A file named explicitly must exist.
    """
    env = os.environ if environ is None else environ
    if explicit:
        return _named(Path(explicit), "--config")
    if env.get(CONFIG_VARIABLE, "").strip():
        return _named(Path(env[CONFIG_VARIABLE].strip()), f"env {CONFIG_VARIABLE}")
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        found = _in_folder(candidate, f"found upward from {folder}")
        if found is not None:
            return found
    return None


def _named(path: Path, chosen_by: str) -> tuple[ConfigFile, dict[str, Any]]:
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found (named by {chosen_by})")
    data = read_toml(path)
    if path.name != PYPROJECT:
        return ConfigFile(path, (), chosen_by), data
    table = _pyproject_table(data, path)
    if table is None:
        raise ConfigError(f"{path}: has no [tool.dbwright] table (named by {chosen_by})")
    return ConfigFile(path, PYPROJECT_TABLE, chosen_by), table


def _in_folder(folder: Path, chosen_by: str) -> tuple[ConfigFile, dict[str, Any]] | None:
    own = folder / CONFIG_FILE
    if own.is_file():
        return ConfigFile(own, (), chosen_by), read_toml(own)
    pyproject = folder / PYPROJECT
    if pyproject.is_file():
        table = _pyproject_table(read_toml(pyproject), pyproject)
        if table is not None:
            return ConfigFile(pyproject, PYPROJECT_TABLE, chosen_by), table
    return None


def _pyproject_table(data: dict[str, Any], path: Path) -> dict[str, Any] | None:
    tool = data.get("tool")
    table = tool.get("dbwright") if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: tool.dbwright: must be a table, not {type(table).__name__}")
    return table


def read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML as a dict; unreadable or malformed is one line naming the file and the place."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read it: {error.strerror or error}") from None
