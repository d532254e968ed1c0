"""What the user named, resolved once: a live server of some engine, a saved snapshot, or the demo.

Every face (CLI, MCP) calls ``resolve_target`` with what it was given and gets a ``Target``
that says what kind of thing it is and which engine reads it. The order, when nothing is named:
``DATABASE_URL``, then an engine's own environment variables (libpq's ``PG*``), then the demo.
The demo lives outside ``engines`` and starts a server, so it comes in as a hook.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dbwright.engines.base import Engine
from dbwright.engines.registry import default_engine, engine_for_target, engines, scheme_of
from dbwright.errors import InputFileError
from dbwright.model import Snapshot
from dbwright.model.snapshot import SnapshotFormatError

TargetKind = Literal["url", "conninfo", "name", "env", "snapshot", "demo"]

#: The engine-neutral variable for a server's URL, read before any engine's own variables.
DATABASE_URL = "DATABASE_URL"
SNAPSHOT_SUFFIX = ".json"


@dataclass(frozen=True)
class Target:
    """A resolved target.

    ``kind`` says where it came from: a ``url``, a ``key=value`` ``conninfo`` (``service=NAME``
    too), a bare database ``name``, the environment (``env``: ``text`` is DATABASE_URL's value,
    or ``""`` when the engine reads its own variables), a saved ``snapshot`` file (``text`` is
    its path, ``engine`` is None) or the embedded ``demo`` (``text`` is its URL).
    """

    kind: TargetKind
    text: str
    engine: Engine | None

    @property
    def is_snapshot(self) -> bool:
        return self.kind == "snapshot"


def is_snapshot_file(text: str | None) -> bool:
    """A saved snapshot is named by its ``.json`` path; URLs and conninfo strings never are."""
    return bool(text) and text.endswith(SNAPSHOT_SUFFIX) and "://" not in text and "=" not in text


def resolve_target(
    text: str | None,
    *,
    demo: Callable[[], str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Target:
    """Resolve what the user typed (or nothing) into a Target.

    ``demo`` is called only when nothing is named and no variable names a server; it starts the
    embedded demo and returns its URL. Without it, such a target is the default engine's own
    defaults (libpq: the local socket). An unknown URL scheme raises BadTargetError.
    """
    named = (text or "").strip()
    if named:
        return _named(named)
    from_environment = environment_target(environ)
    if from_environment is not None:
        return from_environment
    if demo is not None:
        url = demo()
        return Target("demo", url, engine_for_target(url))
    return Target("env", "", default_engine())


def environment_target(environ: Mapping[str, str] | None = None) -> Target | None:
    """The server the environment names: ``DATABASE_URL``, else an engine's own variables (``PG*``);
    None when no variable names one."""
    env = os.environ if environ is None else environ
    url = env.get(DATABASE_URL, "").strip()
    if url:
        return Target("env", url, engine_for_target(url))
    for engine in engines():
        if any(env.get(name) for name in engine.environment):
            return Target("env", "", engine)
    return None


def environment_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """The variables that name the server in the environment, in the order they are read."""
    env = os.environ if environ is None else environ
    if env.get(DATABASE_URL, "").strip():
        return [DATABASE_URL]
    for engine in engines():
        names = [name for name in engine.environment if env.get(name)]
        if names:
            return names
    return []


def _named(text: str) -> Target:
    if is_snapshot_file(text):
        return Target("snapshot", text, None)
    if scheme_of(text) is not None:
        return Target("url", text, engine_for_target(text))
    kind: TargetKind = "conninfo" if "=" in text else "name"
    return Target(kind, text, default_engine())


def load_snapshot(path: Path) -> Snapshot:
    """A saved snapshot file as a Snapshot; a missing or foreign file is a one-line InputFileError."""
    try:
        return Snapshot.from_json(path.read_text())
    except FileNotFoundError:
        raise InputFileError(f"snapshot file not found: {path}") from None
    except IsADirectoryError:
        raise InputFileError(f"{path} is a folder, not a snapshot file") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{path} is not a dbwright snapshot: not UTF-8 text") from None
    except SnapshotFormatError as error:  # names the field and what it should be, never Python's words
        raise InputFileError(f"{path} is not a dbwright snapshot: {str(error).splitlines()[0]}") from None
    except (ValueError, TypeError, KeyError, AttributeError):  # a shape the field checks did not foresee
        raise InputFileError(f"{path} is not a dbwright snapshot: its fields do not fit the format") from None
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error.strerror or error}") from None
