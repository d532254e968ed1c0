"""Run as a role with only pg_monitor (or nothing at all), the audit lists every check it could not
perform as not verified, with the privilege it needs, and never reports a pass it could not verify.
"""

from __future__ import annotations

from dbwright.audit.run import audit_database
from dbwright.output.audit import render_text

HBA_CHECKS = {"DWA020", "DWA021", "DWA022", "DWA023", "DWA024", "DWA025", "DWA026"}


def _bad_states_only_a_superuser_sees(pg) -> None:
    pg.execute("SET password_encryption = 'md5'")
    pg.role("a_md5", "LOGIN PASSWORD 'old-secret'")  # pg_authid
    pg.execute("RESET password_encryption")


def test_pg_monitor_role_lists_what_it_could_not_verify(pg):
    _bad_states_only_a_superuser_sees(pg)
    pg.role("a_auditor", "LOGIN")
    pg.execute("GRANT pg_monitor TO a_auditor")
    full = audit_database(pg.url)
    limited = audit_database(pg.cluster.url(pg.name, user="a_auditor"))
    assert full.skipped == []
    reasons = {s.check.code: " ".join(s.reasons) for s in limited.skipped}
    assert set(reasons) == HBA_CHECKS | {"DWA005", "DWA006"}
    for code, why in reasons.items():
        assert "superuser" in why, (code, why)
    assert "pg_hba_file_rules" in reasons["DWA020"] and "pg_authid" in reasons["DWA005"]
    # the bad state is there: the superuser sees it, pg_monitor cannot and does not call it a pass
    assert full.status("DWA005") == "fail" and limited.status("DWA005") == "skipped"
    for check, status in limited.checks():
        if status == "pass":
            assert full.status(check.code) == "pass", check.code
    rows = {r["code"]: r for r in limited.compliance()}
    assert rows["DWA020"]["status"] == "skipped" and rows["DWA020"]["skipped_because"]
    assert limited.scores()["authentication"] is not None  # DWA031–033 still verified
    text = render_text(limited)
    assert "9 not verified" in text and "Not verified" in text
    assert limited.access is not None  # has_table_privilege works for any role


def test_role_without_monitoring_privileges(pg):
    pg.role("a_nobody", "LOGIN")
    result = audit_database(pg.cluster.url(pg.name, user="a_nobody"))
    reasons = {s.check.code: " ".join(s.reasons) for s in result.skipped}
    # settings only pg_read_all_settings shows, and other sessions' TLS state (the fixture's own session)
    assert {"DWA033", "DWA038", "DWA030"} <= set(reasons)
    assert "pg_read_all_settings" in reasons["DWA033"]
    assert "pg_read_all_stats" in reasons["DWA030"]
    assert result.status("DWA030") == "skipped"
    assert result.encryption.in_transit["sessions"]["hidden_sessions"] >= 1
    assert any("shared_preload_libraries" in r for r in reasons.values())
