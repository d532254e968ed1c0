"""Audit checks on TLS and authentication settings and on live TLS sessions (checks/audit_tls.py).

The suite's cluster starts with TLS on and scram-sha-256. Bad states are set with ALTER SYSTEM +
reload; fixes are the packages' own SQL; everything is reset after. DWA033 (preloaded password
modules) needs a restart and is tested with the other postmaster settings in test_audit_server.py.
"""

from __future__ import annotations

import psycopg

from dbwright.model.findings import Severity
from tests.checks.audit_helpers import apply, audit


def test_dwa028_dwa029_tls_settings_flagged(pg):
    pg.alter_system("ssl_min_protocol_version", "TLSv1")
    result = audit(pg, "DWA027", "DWA028", "DWA029")
    assert result.by_code("DWA027") == []  # TLS is on in the suite's cluster
    assert result.by_code("DWA028")[0].severity is None  # below TLS 1.2: the check's own, high
    assert result.by_code("DWA029")[0].evidence["weak"] == ["MEDIUM"]  # PostgreSQL's default list
    for f in result.findings:
        apply(pg, f.finding.fix.forward_sql)
    assert pg.value("SHOW ssl_min_protocol_version") == "TLSv1.3"
    assert audit(pg, "DWA027", "DWA028", "DWA029").findings == []
    pg.alter_system("ssl", "off")
    off = audit(pg, "DWA027").by_code("DWA027")
    assert [f.object for f in off] == ["ssl"]
    apply(pg, off[0].fix.forward_sql)
    assert audit(pg, "DWA027").findings == []


def test_dwa028_protocol_at_default_flagged_low(pg):
    finding = audit(pg, "DWA028").by_code("DWA028")[0]
    assert finding.evidence["value"] == "TLSv1.2" and finding.severity == Severity.LOW


def test_dwa028_dwa029_tls13_and_strong_ciphers_not_flagged(pg):
    pg.alter_system("ssl_min_protocol_version", "TLSv1.3")
    pg.alter_system("ssl_ciphers", "HIGH:!aNULL:!eNULL:!MD5:!3DES:!RC4:!CAMELLIA")
    assert audit(pg, "DWA028", "DWA029").findings == []


def test_dwa032_long_authentication_timeout_flagged(pg):
    pg.alter_system("password_encryption", "md5")
    pg.alter_system("authentication_timeout", "5min")
    result = audit(pg, "DWA031", "DWA032")
    assert {f.finding.object for f in result.findings} == {"password_encryption", "authentication_timeout"}
    assert result.by_code("DWA032")[0].evidence["value_seconds"] == 300
    for f in result.findings:
        apply(pg, f.finding.fix.forward_sql)
    assert audit(pg, "DWA031", "DWA032").findings == []


def test_dwa032_default_authentication_timeout_not_flagged(pg):
    assert pg.value("SHOW authentication_timeout") == "1min"
    assert audit(pg, "DWA032").findings == []


def test_dwa030_tcp_session_without_tls_flagged(pg):
    plain = psycopg.connect(pg.cluster.url(pg.name, tcp=True) + "?sslmode=disable", autocommit=True)
    plain_pid = plain.info.backend_pid
    try:
        result = audit(pg, "DWA030")
        mine = [f for f in result.by_code("DWA030") if plain_pid in f.evidence["pids"]]
        assert [f.object for f in mine] == ["postgres@127.0.0.1"]
        assert mine[0].severity == Severity.LOW  # loopback
        sessions = result.encryption.in_transit["sessions"]
        assert sessions["tcp_sessions"] >= 1 and sessions["tcp_sessions"] > sessions["tcp_sessions_with_tls"]
    finally:
        plain.close()


def test_dwa030_tcp_session_with_tls_not_flagged(pg):
    # the documented fix: the client reconnects with TLS
    with psycopg.connect(pg.cluster.url(pg.name, tcp=True) + "?sslmode=require", autocommit=True) as tls:
        result = audit(pg, "DWA030")
        pids = {pid for f in result.by_code("DWA030") for pid in f.evidence["pids"]}
        assert tls.info.backend_pid not in pids
        session = next(s for s in result.snapshot.tls_sessions if s.pid == tls.info.backend_pid)
        assert session.ssl is True and session.version == "TLSv1.3"
        assert result.encryption.in_transit["sessions"]["tcp_sessions_with_tls"] >= 1
