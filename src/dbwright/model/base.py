"""What every engine's snapshot has, whatever the engine: the engine-neutral base."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class EngineSnapshot(Protocol):
    """The engine-neutral face of a snapshot: which engine, which version, when, and what was skipped.

    Each engine's snapshot (PostgreSQL's is ``model.snapshot.Snapshot``) has these, so reports,
    the check runner and the faces can handle any engine's snapshot the same way.
    """

    @property
    def engine(self) -> str: ...

    @property
    def server_version(self) -> int: ...

    @property
    def taken_at(self) -> str: ...

    def skipped_reason(self, section: str) -> str | None: ...
