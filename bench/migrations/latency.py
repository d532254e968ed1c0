"""pgbench's per-transaction log as per-second and per-phase latency.

Log line (PostgreSQL 15, with --rate and --max-tries):
``client_id transaction_no time script_no time_epoch time_us schedule_lag retries``.
With --rate, ``time`` is measured from the transaction's *scheduled* start, so a transaction
that queued behind a lock, or behind earlier ones that did, shows the whole delay a user
would have seen. ``time`` reads ``failed``/``serialization``/``deadlock`` for a failed one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

FAILED = {"failed", "serialization", "deadlock", "other"}


def read_logs(prefix: Path) -> tuple[list[tuple[float, float]], int]:
    """(end epoch, latency ms) of each transaction, and the number that failed."""
    done: list[tuple[float, float]] = []
    failed = 0
    for path in sorted(prefix.parent.glob(prefix.name + ".*")):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) < 6:
                continue
            end = int(parts[4]) + int(parts[5]) / 1e6
            if parts[2] in FAILED:
                failed += 1
                continue
            if parts[2] == "skipped":
                continue
            done.append((end, int(parts[2]) / 1000.0))
    done.sort()
    return done, failed


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def stats(latencies: list[float]) -> dict[str, Any]:
    values = sorted(latencies)
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 50), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(values[-1], 2) if values else None,
        "over_1s": sum(1 for v in values if v > 1000),
    }


def per_second(done: list[tuple[float, float]], start: float) -> list[dict[str, Any]]:
    """p50, p99 and max of the transactions that ended in each second since ``start``."""
    buckets: dict[int, list[float]] = {}
    for end, latency in done:
        buckets.setdefault(int(end - start), []).append(latency)
    last = max(buckets, default=-1)
    return [{"second": s, **stats(buckets.get(s, []))} for s in range(0, last + 1)]
