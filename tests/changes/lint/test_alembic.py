"""Lint works on the SQL of a real Alembic project (`alembic upgrade head --sql`, offline mode)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dbwright.changes.lint import lint

PROJECT = Path(__file__).parent / "alembic_project"


def alembic_sql() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(PROJECT / "alembic.ini"), "upgrade", "head", "--sql"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def test_alembic_offline_sql_is_linted_per_revision():
    sql = alembic_sql()
    assert "-- Running upgrade 0001 -> 0002" in sql
    findings = lint(sql, filename="alembic-upgrade.sql")
    by_code = {f.code: f for f in findings}
    # Revision 0002 changes a table that revision 0001 created earlier: lock rules apply.
    assert {"DW701", "DW706", "DW708", "DW704"} <= set(by_code)
    assert "orders_customer_idx" in by_code["DW701"].sql
    # Revision 0001's index on its own new table is fine.
    assert not any("orders_region_idx" in f.sql for f in findings)
    # Alembic wraps each revision in BEGIN/COMMIT: nothing here is CONCURRENTLY, so DW703 stays quiet.
    assert "DW703" not in by_code


def test_a_single_pending_revision_can_be_linted_alone():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(PROJECT / "alembic.ini"),
            "upgrade",
            "0001:0002",
            "--sql",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    codes = {f.code for f in lint(result.stdout)}
    assert {"DW701", "DW706", "DW708", "DW704"} <= codes
