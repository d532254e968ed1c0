"""Audit checks on roles (checks/audit_roles.py), on the real PostgreSQL 15.

Each test creates the bad state, asserts the finding, applies the fix (the package's SQL, or the
documented manual step) and asserts the finding is gone; the *_not_flagged tests build clean
look-alikes.
"""

from __future__ import annotations

from tests.checks.audit_helpers import apply, audit, found


def test_dwa003_dwa004_login_role_attributes_flagged(pg):
    pg.role("a_super", "SUPERUSER LOGIN")
    pg.role("a_mgr", "LOGIN CREATEROLE")
    pg.role("a_rls", "LOGIN BYPASSRLS")
    pg.role("a_repl_group", "NOLOGIN REPLICATION")
    pg.role("a_repl_user", "LOGIN IN ROLE a_repl_group")
    result = audit(pg, "DWA001", "DWA002", "DWA003", "DWA004")
    assert [f.object for f in result.by_code("DWA001")] == ["a_super"]  # DW501, by its audit code
    assert [f.object for f in result.by_code("DWA002")] == ["a_mgr"]  # DW511
    assert [f.object for f in result.by_code("DWA003")] == ["a_rls"]
    repl = result.by_code("DWA004")
    assert [f.object for f in repl] == ["a_repl_group"]
    assert repl[0].evidence["login_roles"] == ["a_repl_user"]
    for finding in [f.finding for f in result.findings]:
        apply(pg, finding.fix.forward_sql)
    assert audit(pg, "DWA001", "DWA002", "DWA003", "DWA004").findings == []
    assert pg.value("SELECT rolbypassrls FROM pg_roles WHERE rolname = 'a_rls'") is False


def test_dwa003_dwa004_roles_nobody_can_log_in_as_not_flagged(pg):
    pg.role("a_vault", "NOLOGIN BYPASSRLS REPLICATION")  # nobody can log in as it or SET ROLE to it
    pg.role("a_root", "SUPERUSER LOGIN BYPASSRLS REPLICATION")  # a superuser: DW501's business
    assert audit(pg, "DWA003", "DWA004").findings == []


def test_dwa005_md5_hash_cleared_by_setting_the_password_again(pg):
    pg.execute("SET password_encryption = 'md5'")
    pg.role("a_legacy", "LOGIN PASSWORD 'old-secret'")
    assert list(found(pg, "DWA005")) == ["a_legacy"]
    # the documented manual step: set the same password again under scram-sha-256
    pg.execute("SET password_encryption = 'scram-sha-256'")
    pg.execute("ALTER ROLE a_legacy PASSWORD 'old-secret'")
    assert found(pg, "DWA005") == {}


def test_dwa006_login_role_without_password_where_hba_asks_for_one_flagged(pg):
    pg.role("a_nopass", "LOGIN")
    result = found(pg, "DWA006")
    assert "a_nopass" in result
    assert result["a_nopass"].evidence["hba_lines"] == [3]  # host all all 127.0.0.1/32 scram-sha-256
    apply(pg, result["a_nopass"].fix.forward_sql)
    assert "a_nopass" not in found(pg, "DWA006")


def test_dwa006_login_role_with_a_password_not_flagged(pg):
    pg.role("a_withpass", "LOGIN PASSWORD 'x-secret-1'")
    pg.role("a_nologin", "NOLOGIN")
    assert not {"a_withpass", "a_nologin"} & set(found(pg, "DWA006"))


def test_dwa007_members_of_server_file_roles_flagged(pg):
    pg.role("a_loader", "LOGIN")
    pg.role("a_ops", "NOLOGIN")
    pg.role("a_oncall", "LOGIN IN ROLE a_ops")
    pg.execute("GRANT pg_read_server_files TO a_loader")
    pg.execute("GRANT pg_execute_server_program TO a_ops")
    result = audit(pg, "DWA007").by_code("DWA007")
    pairs = {(f.object, f.evidence["predefined_role"], f.evidence["direct"]) for f in result}
    assert pairs == {
        ("a_loader", "pg_read_server_files", True),
        ("a_ops", "pg_execute_server_program", True),
        ("a_oncall", "pg_execute_server_program", False),
    }
    for finding in result:
        apply(pg, finding.fix.forward_sql)  # the indirect one has no SQL: its group's revoke clears it
    assert audit(pg, "DWA007").by_code("DWA007") == []
    assert (
        "GRANT pg_read_server_files TO a_loader;"
        in next(f for f in result if f.object == "a_loader").fix.rollback_sql
    )


def test_dwa007_monitoring_role_and_superuser_member_not_flagged(pg):
    pg.role("a_watcher", "LOGIN")
    pg.role("a_root", "SUPERUSER LOGIN")
    pg.execute("GRANT pg_monitor TO a_watcher")  # reads statistics, not the server's files
    pg.execute("GRANT pg_read_server_files TO a_root")  # a superuser reaches the files anyway
    assert found(pg, "DWA007") == {}


def test_dwa008_connection_limit_flagged(pg):
    pg.role("a_app", "LOGIN")
    result = found(pg, "DWA008")
    assert "a_app" in result
    assert "CONNECTION LIMIT 25" in result["a_app"].fix.forward_sql  # max_connections 100 / 4
    apply(pg, result["a_app"].fix.forward_sql)
    assert "a_app" not in found(pg, "DWA008")


def test_dwa008_limited_and_nologin_roles_not_flagged(pg):
    pg.role("a_limited", "LOGIN CONNECTION LIMIT 10")
    pg.role("a_group", "NOLOGIN")
    assert not {"a_limited", "a_group"} & set(found(pg, "DWA008"))
