"""Audit checks on the server (checks/audit_server.py, and DWA033 of checks/audit_tls.py).

Postmaster-level state (preloaded libraries, WAL archiving, listen_addresses, data checksums) needs
restarts (and, for checksums, pg_checksums on the stopped cluster), so those tests run on the
suite's own cluster, which the suite owns, and restore it before they end. Their clean state needs
a restart too, so each is one *_flagged_until_fixed test: the fixed server is the clean look-alike.
"""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.checks.audit_helpers import apply, audit, found
from tests.pgcluster import PG_BIN


def _reconnect(pg) -> None:
    pg.conn = psycopg.connect(pg.url, autocommit=True)


def _restart(pg) -> None:
    pg.conn.close()
    pg.cluster.restart()
    _reconnect(pg)


def _run_lines(pg, script: str) -> None:
    for line in script.splitlines():
        if line.strip():
            pg.execute(line)


def test_dwa033_dwa045_dwa046_postmaster_settings_flagged_until_fixed(pg):
    changed = ("listen_addresses", "archive_mode", "archive_command", "shared_preload_libraries")
    pg.execute("ALTER SYSTEM SET listen_addresses = '*'")
    try:
        _restart(pg)
        codes = ("DWA033", "DWA045", "DWA046")
        result = audit(pg, *codes)
        assert {(f.check.code, f.finding.object) for f in result.findings} == {
            ("DWA033", "shared_preload_libraries"),
            ("DWA045", "archive_mode"),
            ("DWA046", "listen_addresses"),
        }
        for f in result.findings:
            assert f.finding.fix.requires_restart
        preload = result.by_code("DWA033")[0].fix.forward_sql
        assert "'pg_stat_statements', 'pgaudit', 'passwordcheck', 'auth_delay'" in preload
        for f in result.findings:
            _run_lines(pg, f.finding.fix.forward_sql)
        pg.execute("ALTER SYSTEM SET archive_command = '/bin/true'")  # DWA045's manual step
        _restart(pg)
        assert pg.value("SHOW archive_mode") == "on"
        assert audit(pg, *codes).findings == []
    finally:
        for name in changed:
            pg.execute(f"ALTER SYSTEM RESET {name}")
        _restart(pg)
    assert pg.value("SHOW listen_addresses") == "127.0.0.1"


def _stop_fast(pg) -> None:
    pg.conn.close()
    pg.cluster._run(PG_BIN / "pg_ctl", "-D", pg.cluster.data, "-m", "fast", "-w", "stop")


def _start(pg) -> None:
    pg.cluster.start()
    deadline = time.time() + 30
    while True:
        try:
            _reconnect(pg)
            return
        except psycopg.OperationalError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.slow
def test_dwa044_data_checksums_flagged_until_fixed(pg):
    findings = audit(pg, "DWA044").by_code("DWA044")
    assert [f.object for f in findings] == ["data_checksums"]
    assert any("pg_checksums --enable" in step for step in findings[0].fix.manual_steps)
    _stop_fast(pg)
    try:
        pg.cluster._run(PG_BIN / "pg_checksums", "--enable", "-D", pg.cluster.data)  # the documented step
        _start(pg)
        assert pg.value("SHOW data_checksums") == "on"
        assert audit(pg, "DWA044").findings == []
    finally:
        _stop_fast(pg)
        pg.cluster._run(PG_BIN / "pg_checksums", "--disable", "-D", pg.cluster.data)
        _start(pg)
    assert pg.value("SHOW data_checksums") == "off"


def test_dwa046_listening_on_loopback_only_not_flagged(pg):
    assert pg.value("SHOW listen_addresses") == "127.0.0.1"  # the suite's cluster
    assert audit(pg, "DWA046").findings == []


def test_dwa047_extension_behind_the_package_flagged(pg):
    pg.execute("CREATE EXTENSION pg_stat_statements VERSION '1.9'")
    result = found(pg, "DWA047")
    assert result["pg_stat_statements"].evidence == {"installed_version": "1.9", "default_version": "1.10"}
    apply(pg, result["pg_stat_statements"].fix.forward_sql)
    assert found(pg, "DWA047") == {}


def test_dwa047_extension_at_the_package_version_not_flagged(pg):
    pg.execute("CREATE EXTENSION pg_stat_statements")
    assert found(pg, "DWA047") == {}


def test_dwa050_pgcrypto_not_installed_flagged(pg):
    finding = found(pg, "DWA050")["pgcrypto"]
    assert finding.evidence["available"] is True and finding.severity is None  # the check's own: low
    apply(pg, finding.fix.forward_sql)
    assert found(pg, "DWA050") == {}
    apply(pg, finding.fix.rollback_sql)
    assert list(found(pg, "DWA050")) == ["pgcrypto"]


def test_dwa050_pgcrypto_installed_not_flagged(pg):
    pg.execute("CREATE EXTENSION pgcrypto")
    assert found(pg, "DWA050") == {}
