"""Shared helpers for the audit tests: run the audit on a pg fixture, apply fixes as psql would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from dbwright.audit.run import Audit, run_audit
from dbwright.model.findings import Finding


def audit(pg, *codes: str) -> Audit:
    return run_audit(pg.snapshot(), codes=list(codes) or None)


def found(pg, code: str) -> dict[str, Finding]:
    return {f.object: f for f in audit(pg, code).by_code(code)}


def apply(pg, script: str) -> None:
    """Run a package's SQL one statement a line (ALTER SYSTEM refuses a transaction block).

    Settings changed by ALTER SYSTEM are reset when the test ends, like ``pg.alter_system``.
    """
    for line in script.splitlines():
        if not line.strip():
            continue
        match = re.match(r"ALTER SYSTEM SET (\S+)", line)
        if match and match[1] not in pg._system_settings:
            pg._system_settings.append(match[1])
        pg.execute(line)
    if "pg_reload_conf" in script:
        import time

        time.sleep(0.15)


@contextmanager
def hba_file(pg, text: str) -> Iterator[None]:
    """pg_hba_file_rules reads the file on disk: write ``text`` there and restore the original after.

    The server is not reloaded, so the test's own connections keep authenticating as before.
    """
    path = pg.cluster.hba_path
    original = path.read_text()
    try:
        path.write_text(text)
        yield
    finally:
        path.write_text(original)
