"""Plan tokens: a keyed hash of the exact statements a plan would run.

A token binds an approval to the statements that were reviewed: apply recomputes the token
from what it is about to run and refuses anything that differs by a single character. The
key is random per server process, so only this server can issue a token, and tokens expire
with the process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from typing import Any

from dbwright.errors import RefusedError

PREFIX = "dwp1-"


class PlanTokens:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def issue(self, statements: Sequence[Any]) -> str:
        """The token for an ordered list of JSON-able statement descriptions."""
        canonical = json.dumps(list(statements), sort_keys=True, separators=(",", ":"), default=str)
        return PREFIX + hmac.new(self._key, canonical.encode(), hashlib.sha256).hexdigest()

    def verify(self, token: str, statements: Sequence[Any]) -> None:
        """RefusedError unless ``token`` was issued by this server for exactly ``statements``."""
        expected = self.issue(statements)
        if not isinstance(token, str) or not hmac.compare_digest(token.strip(), expected):
            raise RefusedError(
                "the plan token does not match these exact statements (the plan changed, or the "
                "token came from another plan or server): plan again and review; nothing was applied"
            )
