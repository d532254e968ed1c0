"""Apply every fix a review proposes to a copy of the reviewed database, as `dbwright fix` would leave
them for a user to run: in the review's order, each package's forward SQL through psql, stopping that
package at its first error. The issue's rule: every fix applies on the object it is made for.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import psycopg

from dbwright.review import Review
from tests.pgcluster import PG_BIN


def failing_fixes(url_of: Callable[[str], str], database: str, review: Review) -> dict[int, str]:
    """Positions in ``review.findings`` whose fix fails on a copy of ``database``, with psql's first error."""
    copy = f"{database}_fixes"
    with psycopg.connect(url_of("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{database}"')
    failed = {}
    try:
        for position, reviewed in enumerate(review.findings):
            fix = reviewed.finding.fix
            if fix is None:
                continue
            done = subprocess.run(
                [str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url_of(copy), "-f", "-"],
                input=fix.forward_sql,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                errors = [line for line in done.stderr.splitlines() if "ERROR" in line] or [
                    done.stderr.strip()
                ]
                failed[position] = errors[0].split("ERROR:", 1)[-1].strip()
    finally:
        with psycopg.connect(url_of("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    return failed
