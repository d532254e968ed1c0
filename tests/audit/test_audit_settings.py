"""Audit checks on reloadable settings (TLS, authentication, logging) and on live TLS sessions.

The suite's cluster starts with TLS on, scram-sha-256 and PostgreSQL's default logging. Bad states
are set with ALTER SYSTEM + reload; fixes are the packages' own SQL; everything is reset after.
"""

from __future__ import annotations

import psycopg

from dbwright.model.findings import Severity
from tests.audit.helpers import apply, audit


def test_tls_settings(pg):
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


def test_tls_protocol_at_default_is_low(pg):
    finding = audit(pg, "DWA028").by_code("DWA028")[0]
    assert finding.evidence["value"] == "TLSv1.2" and finding.severity == Severity.LOW


def test_authentication_settings(pg):
    pg.alter_system("password_encryption", "md5")
    pg.alter_system("authentication_timeout", "5min")
    result = audit(pg, "DWA031", "DWA032")
    assert {f.finding.object for f in result.findings} == {"password_encryption", "authentication_timeout"}
    assert result.by_code("DWA032")[0].evidence["value_seconds"] == 300
    for f in result.findings:
        apply(pg, f.finding.fix.forward_sql)
    assert audit(pg, "DWA031", "DWA032").findings == []


def test_logging_settings(pg):
    pg.alter_system("debug_print_parse", "on")
    pg.alter_system("log_min_duration_statement", "-1")
    codes = ("DWA034", "DWA035", "DWA036", "DWA037", "DWA038", "DWA039", "DWA048", "DWA049")
    result = audit(pg, *codes)
    assert {(f.check.code, f.finding.object) for f in result.findings} == {
        ("DWA034", "log_connections"),
        ("DWA035", "log_disconnections"),
        ("DWA036", "log_line_prefix"),
        ("DWA037", "log_statement"),
        ("DWA038", "pgaudit.log"),
        ("DWA039", "log_min_duration_statement"),
        ("DWA048", "debug_print_parse"),
        ("DWA049", "log_replication_commands"),
    }
    assert result.by_code("DWA036")[0].evidence["missing"] == ["user", "database", "client"]
    assert result.by_code("DWA038")[0].evidence["loaded"] is True  # preloaded, logging nothing
    for f in result.findings:
        apply(pg, f.finding.fix.forward_sql)
    assert pg.value("SHOW pgaudit.log") == "ddl, role"
    assert audit(pg, *codes).findings == []


def test_dwa030_tcp_session_without_tls(pg):
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
    # the documented fix: the client reconnects with TLS
    with psycopg.connect(pg.cluster.url(pg.name, tcp=True) + "?sslmode=require", autocommit=True) as tls:
        result = audit(pg, "DWA030")
        pids = {pid for f in result.by_code("DWA030") for pid in f.evidence["pids"]}
        assert plain_pid not in pids and tls.info.backend_pid not in pids
        session = next(s for s in result.snapshot.tls_sessions if s.pid == tls.info.backend_pid)
        assert session.ssl is True and session.version == "TLSv1.3"
        assert result.encryption.in_transit["sessions"]["tcp_sessions_with_tls"] >= 1
