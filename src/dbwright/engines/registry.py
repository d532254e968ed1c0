"""The engines dbwright knows, keyed by URL scheme: the one place that dispatches on a target's engine.

A new engine is one package under ``engines/`` plus one line in ``_register_builtin_engines``.
Targets without a scheme (``key=value`` conninfo, a bare database name) use libpq's syntax, so
they belong to PostgreSQL, the default engine.
"""

from __future__ import annotations

from collections.abc import Callable

from dbwright.engines.base import Engine
from dbwright.errors import BadTargetError
from dbwright.model import Snapshot

#: The engine for targets that name no scheme: conninfo and bare database names are libpq's syntax.
DEFAULT_SCHEME = "postgresql"

_by_scheme: dict[str, Engine] = {}
_builtins_loaded = False


def register(engine: Engine) -> Engine:
    """Make ``engine`` answer for each of its URL schemes; a scheme belongs to one engine only."""
    for scheme in engine.schemes:
        owner = _by_scheme.get(scheme.lower())
        if owner is not None and owner is not engine:
            raise ValueError(f"URL scheme {scheme!r} already belongs to the {owner.name} engine")
    for scheme in engine.schemes:
        _by_scheme[scheme.lower()] = engine
    return engine


def _register_builtin_engines() -> None:
    """The engines dbwright ships. Imported on first use, so engines may import this module."""
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    from dbwright.engines.postgres.engine import PostgresEngine

    register(PostgresEngine())


def engines() -> list[Engine]:
    """Every registered engine, once each, in registration order."""
    _register_builtin_engines()
    return list(dict.fromkeys(_by_scheme.values()))


def known_schemes() -> list[str]:
    _register_builtin_engines()
    return sorted(_by_scheme)


def engine_for_scheme(scheme: str) -> Engine:
    """The engine for a URL scheme; an unknown scheme is a BadTargetError naming the known ones."""
    _register_builtin_engines()
    engine = _by_scheme.get(scheme.lower())
    if engine is None:
        known = ", ".join(f"{name}://" for name in known_schemes())
        raise BadTargetError(f"unsupported URL scheme {scheme!r}: dbwright knows {known}")
    return engine


def scheme_of(target: str) -> str | None:
    """The URL scheme of ``target``, or None when it has none (conninfo, a database name)."""
    head, separator, _rest = target.strip().partition("://")
    return head.lower() if separator else None


def engine_for_target(target: str | None) -> Engine:
    """The engine a target string belongs to: by its URL scheme, else the default engine."""
    return engine_for_scheme(scheme_of(target or "") or DEFAULT_SCHEME)


def default_engine() -> Engine:
    return engine_for_scheme(DEFAULT_SCHEME)


def take_snapshot(
    target: str | None,
    *,
    server_memory_bytes: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> Snapshot:
    """Open a read-only session to ``target`` and snapshot it, through the engine its scheme names."""
    engine = engine_for_target(target)
    return engine.snapshot(target, server_memory_bytes=server_memory_bytes, progress=progress)
