"""Safe rewrites: each unsafe statement becomes its safe sequence, as change packages with rollback."""

from __future__ import annotations


def safe_rewrite(sql: str, server_version: int = 150000, *, filename: str | None = None) -> list:
    raise NotImplementedError("safe_rewrite is being written")
