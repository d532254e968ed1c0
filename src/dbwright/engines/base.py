"""What every engine offers the rest of dbwright: the ``Engine`` protocol and a ``Connection`` type.

Generic code (advisors, changes, faces) names a live session as ``Connection`` and never
imports a driver; only ``engines/<name>/`` knows the driver behind it.
"""

from __future__ import annotations

from typing import Any, Protocol


class Connection(Protocol):
    """A live session to a server, as the engine's driver gives it (psycopg's for PostgreSQL)."""

    def execute(self, query: Any, params: Any = None, /, **kwargs: Any) -> Any: ...

    def cursor(self, *args: Any, **kwargs: Any) -> Any: ...

    def close(self) -> None: ...
