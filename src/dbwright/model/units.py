"""Sizes in words: one spelling of a byte count for every report, message and page.

It lives in the model because checks, advisors and the output faces all spell sizes, and
the model is the one package every one of them may import.
"""

from __future__ import annotations

BYTE_UNITS = ("B", "kB", "MB", "GB", "TB")


def format_bytes(size: float) -> str:
    """512 -> "512 B", 1536 -> "1.5 kB", 3 * 1024**3 -> "3.0 GB" (powers of 1024, PostgreSQL's unit names)."""
    value = float(size)
    for unit in BYTE_UNITS:
        if abs(value) < 1024 or unit == BYTE_UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable: the last unit always returns")
