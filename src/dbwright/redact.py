"""Password redaction for every message, log line and report."""

from __future__ import annotations

import re

_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@", re.I)
_KV_PASSWORD = re.compile(r"(?P<key>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^\s&]+)", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<key>[?&]password=)(?P<pw>[^&\s]+)", re.I)

MASK = "****"


def redact(text: str) -> str:
    """Mask passwords in URLs (user:pw@), key=value strings and ?password= parameters."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@" if m["pw"] else m[0], text)
    text = _KV_PASSWORD.sub(lambda m: f"{m['key']}{MASK}", text)
    return _QUERY_PASSWORD.sub(lambda m: f"{m['key']}{MASK}", text)
