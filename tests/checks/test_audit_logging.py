"""Audit checks on logging and audit settings (checks/audit_logging.py).

The suite's cluster starts with PostgreSQL's default logging and pgaudit preloaded but logging
nothing. Bad states are set with ALTER SYSTEM + reload; fixes are the packages' own SQL.
"""

from __future__ import annotations

from tests.checks.audit_helpers import apply, audit

LOGGING_CODES = ("DWA034", "DWA035", "DWA036", "DWA037", "DWA038", "DWA039", "DWA048", "DWA049")


def test_dwa034_dwa035_dwa036_dwa037_dwa038_dwa048_dwa049_logging_settings_flagged(pg):
    pg.alter_system("debug_print_parse", "on")
    pg.alter_system("log_min_duration_statement", "-1")
    result = audit(pg, *LOGGING_CODES)
    assert {(f.check.code, f.finding.object) for f in result.findings} == {
        ("DWA034", "log_connections"),
        ("DWA035", "log_disconnections"),
        ("DWA036", "log_line_prefix"),
        ("DWA037", "log_statement"),
        ("DWA038", "pgaudit.log"),
        ("DWA039", "log_min_duration_statement"),  # DW609, by its audit code
        ("DWA048", "debug_print_parse"),
        ("DWA049", "log_replication_commands"),
    }
    assert result.by_code("DWA036")[0].evidence["missing"] == ["user", "database", "client"]
    assert result.by_code("DWA038")[0].evidence["loaded"] is True  # preloaded, logging nothing
    for f in result.findings:
        apply(pg, f.finding.fix.forward_sql)
    assert pg.value("SHOW pgaudit.log") == "ddl, role"
    assert audit(pg, *LOGGING_CODES).findings == []


def test_dwa034_dwa035_dwa036_dwa037_dwa038_dwa048_dwa049_audit_trail_settings_not_flagged(pg):
    for name, value in (
        ("log_connections", "on"),
        ("log_disconnections", "on"),
        ("log_line_prefix", "%t [%p] %u@%d from %h "),
        ("log_statement", "mod"),
        ("pgaudit.log", "write, ddl"),
        ("log_replication_commands", "on"),
        ("debug_print_plan", "off"),
    ):
        pg.alter_system(name, value)
    assert audit(pg, "DWA034", "DWA035", "DWA036", "DWA037", "DWA038", "DWA048", "DWA049").findings == []
