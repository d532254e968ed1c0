"""Replaying statements as an application would: the demo's workload, fed to pg_stat_statements.

Every int is sent as bigint: the driver picks int2, int4 or int8 by magnitude, and
pg_stat_statements would then count one statement as several (its query id includes the
parameter types).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psycopg.types.numeric import Int8

from dbwright.engines.base import Connection


def replay(conn: Connection, sql: str, calls: Iterable[tuple[Any, ...]]) -> None:
    """Run ``sql`` once per parameter tuple in ``calls`` (``()`` for none), reading every result."""
    with conn.cursor() as cur:
        for values in calls:
            cur.execute(sql, _typed(values) or None)
            if cur.description:
                cur.fetchall()


def _typed(values: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(Int8(v) if isinstance(v, int) else v for v in values)
