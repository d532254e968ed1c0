"""The audit log: one JSON line per tool call (tool, mode, redacted arguments, duration, outcome).

It is written to a file the operator chooses (never to stdout, which the stdio transport owns)
and kept in memory for the session, so a test or the operator can read what an agent did.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dbwright.redact import MASK, redact

#: Argument names whose values are never logged.
SECRET_KEYS = ("password", "passwd", "secret", "token", "dsn", "conninfo", "url", "database_url", "key")
MAX_VALUE_CHARS = 2000


def redact_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """Secrets masked by argument name, passwords masked inside every string, long text shortened."""
    return {k: _redact_value(k, v) for k, v in arguments.items()}


def _redact_value(key: str, value: Any) -> Any:
    lower = key.lower()
    if any(word in lower for word in SECRET_KEYS) and lower != "plan_token":
        return MASK if value not in (None, "") else value
    if isinstance(value, str):
        text = redact(value)
        return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + f"… ({len(text)} chars)"
    if isinstance(value, dict):
        return redact_arguments(value)
    if isinstance(value, (list, tuple)):
        return [_redact_value(key, v) for v in value]
    return value


@dataclass
class AuditLog:
    path: Path | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(
        self,
        *,
        tool: str,
        mode: str,
        arguments: dict[str, Any],
        duration_ms: float,
        outcome: str,
        error: str | None = None,
    ) -> dict[str, Any]:
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "tool": tool,
            "mode": mode,
            "arguments": redact_arguments(arguments),
            "duration_ms": round(duration_ms, 1),
            "outcome": outcome,
        }
        if error:
            entry["error"] = redact(error)
        with self._lock:
            self.records.append(entry)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(entry, default=str) + "\n")
        return entry
