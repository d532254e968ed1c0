"""Helpers for migration tests: write migration files, read the history and the live schema."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from dbwright.changes.migrations import fingerprint, history
from dbwright.changes.migrations.runner import ApplyOptions

FAST = ApplyOptions(lock_timeout="500ms", statement_timeout="30s", retries=2, backoff_s=0.05, lock_wait_s=10)


def write(directory: Path, version: int | str, name: str, up: str, down: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"V{version}__{name}.sql"
    path.write_text(f"-- {name}\n-- migrate:up\n{up.strip()}\n\n-- migrate:down\n{down.strip()}\n")
    return path


def rows(url: str) -> list[history.HistoryRow]:
    with psycopg.connect(url, autocommit=True) as conn:
        return history.read(conn)


def live_schema(url: str) -> fingerprint.Document:
    with psycopg.connect(url) as conn:
        return fingerprint.read(conn)


@pytest.fixture
def mdir(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    directory.mkdir()
    return directory
