"""Sizes in words: one spelling of a byte count for every report, message and page.

It lives in the model because checks, advisors and the output faces all spell sizes, and
the model is the one package every one of them may import.
"""

from __future__ import annotations

import re

BYTE_UNITS = ("B", "kB", "MB", "GB", "TB")
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*", re.I)
_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def format_bytes(size: float) -> str:
    """512 -> "512 B", 1536 -> "1.5 kB", 3 * 1024**3 -> "3.0 GB" (powers of 1024, PostgreSQL's unit names)."""
    value = float(size)
    for unit in BYTE_UNITS:
        if abs(value) < 1024 or unit == BYTE_UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable: the last unit always returns")


def parse_bytes(text: str) -> int:
    """Bytes from ``512MB``, ``16GB``, ``1.5 GiB`` or a plain number (powers of 1024); ValueError otherwise."""
    match = _SIZE.fullmatch(text)
    if not match:
        raise ValueError(f"cannot read size {text!r}; use e.g. 512MB or 16GB")
    unit = (match[2] or "b").lower().rstrip("b").rstrip("i")
    return int(float(match[1]) * _FACTORS[unit])
