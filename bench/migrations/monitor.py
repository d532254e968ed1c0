"""A monitor thread: every 100 ms, which backends wait for a lock, which lock, and since when.

PostgreSQL 14+ records in ``pg_locks.waitstart`` when a backend began to wait, so each sample
gives the wait's age directly; a wait's length is the largest age seen for (pid, waitstart).
The resolution is the sampling interval: a wait shorter than 100 ms may be missed or
measured short by up to 100 ms.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

SAMPLE = """
SELECT l.pid, coalesce(a.application_name, ''), l.locktype, l.mode,
       coalesce(l.relation::regclass::text, ''), extract(epoch FROM clock_timestamp() - l.waitstart)::float8,
       l.waitstart
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE NOT l.granted AND l.waitstart IS NOT NULL
"""


@dataclass
class Wait:
    pid: int
    application: str
    locktype: str
    mode: str
    relation: str
    seconds: float
    started: float  # epoch

    def to_dict(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "application": self.application,
            "locktype": self.locktype,
            "mode": self.mode,
            "relation": self.relation,
            "seconds": round(self.seconds, 3),
            "started": round(self.started, 3),
        }


@dataclass
class LockMonitor:
    url: str
    interval: float = 0.1
    waits: dict[tuple[int, float], Wait] = field(default_factory=dict)
    waiting_per_sample: list[tuple[float, int]] = field(default_factory=list)  # (epoch, backends waiting)
    samples: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lock-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True, application_name="bench monitor") as conn:
            while not self._stop.is_set():
                began = time.monotonic()
                now = time.time()
                rows = conn.execute(SAMPLE).fetchall()
                self.samples += 1
                self.waiting_per_sample.append((now, len({r[0] for r in rows})))
                for pid, app, locktype, mode, relation, seconds, waitstart in rows:
                    key = (pid, waitstart.timestamp())
                    seen = self.waits.get(key)
                    if seen is None or seconds > seen.seconds:
                        self.waits[key] = Wait(
                            pid, app, locktype, mode, relation, seconds, waitstart.timestamp()
                        )
                self._stop.wait(max(0.0, self.interval - (time.monotonic() - began)))

    def longest(self, *, application: str | None = None, exclude: tuple[str, ...] = ()) -> Wait | None:
        chosen = [
            w
            for w in self.waits.values()
            if (application is None or w.application == application) and w.application not in exclude
        ]
        return max(chosen, key=lambda w: w.seconds, default=None)

    def summary(self) -> dict[str, Any]:
        by_app: dict[str, Wait] = {}
        for wait in self.waits.values():
            if wait.application not in by_app or wait.seconds > by_app[wait.application].seconds:
                by_app[wait.application] = wait
        longest = self.longest()
        return {
            "samples": self.samples,
            "waits_seen": len(self.waits),
            "longest": longest.to_dict() if longest else None,
            "longest_by_application": {app: w.to_dict() for app, w in sorted(by_app.items())},
            "max_backends_waiting": max((n for _, n in self.waiting_per_sample), default=0),
        }


def relfilenodes(url: str, tables: tuple[str, ...]) -> dict[str, int]:
    """The file each table lives in: a table rewrite gives it a new one."""
    with psycopg.connect(url, autocommit=True) as conn:
        return {
            t: conn.execute("SELECT pg_relation_filenode(%s::regclass)", (t,)).fetchone()[0] for t in tables
        }
