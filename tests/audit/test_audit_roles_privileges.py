"""Audit checks on roles, privileges, functions, RLS and extensions, on the real PostgreSQL 15.

Each test creates the bad state, asserts the finding, applies the fix (the package's SQL, or the
documented manual step) and asserts the finding is gone.
"""

from __future__ import annotations

from dbwright.model.findings import Severity
from tests.audit.helpers import apply, audit, found


def test_dwa001_to_dwa004_role_attributes(pg):
    pg.role("a_super", "SUPERUSER LOGIN")
    pg.role("a_mgr", "LOGIN CREATEROLE")
    pg.role("a_rls", "LOGIN BYPASSRLS")
    pg.role("a_repl_group", "NOLOGIN REPLICATION")
    pg.role("a_repl_user", "LOGIN IN ROLE a_repl_group")
    result = audit(pg, "DWA001", "DWA002", "DWA003", "DWA004")
    assert [f.object for f in result.by_code("DWA001")] == ["a_super"]
    assert [f.object for f in result.by_code("DWA002")] == ["a_mgr"]
    assert [f.object for f in result.by_code("DWA003")] == ["a_rls"]
    repl = result.by_code("DWA004")
    assert [f.object for f in repl] == ["a_repl_group"]
    assert repl[0].evidence["login_roles"] == ["a_repl_user"]
    for finding in [f.finding for f in result.findings]:
        apply(pg, finding.fix.forward_sql)
    assert audit(pg, "DWA001", "DWA002", "DWA003", "DWA004").findings == []
    assert pg.value("SELECT rolbypassrls FROM pg_roles WHERE rolname = 'a_rls'") is False


def test_dwa005_md5_hash_cleared_by_setting_the_password_again(pg):
    pg.execute("SET password_encryption = 'md5'")
    pg.role("a_legacy", "LOGIN PASSWORD 'old-secret'")
    assert list(found(pg, "DWA005")) == ["a_legacy"]
    # the documented manual step: set the same password again under scram-sha-256
    pg.execute("SET password_encryption = 'scram-sha-256'")
    pg.execute("ALTER ROLE a_legacy PASSWORD 'old-secret'")
    assert found(pg, "DWA005") == {}


def test_dwa006_login_role_without_password_where_hba_asks_for_one(pg):
    pg.role("a_nopass", "LOGIN")
    pg.role("a_withpass", "LOGIN PASSWORD 'x-secret-1'")
    result = found(pg, "DWA006")
    assert "a_nopass" in result and "a_withpass" not in result
    assert result["a_nopass"].evidence["hba_lines"] == [3]  # host all all 127.0.0.1/32 scram-sha-256
    apply(pg, result["a_nopass"].fix.forward_sql)
    assert "a_nopass" not in found(pg, "DWA006")


def test_dwa007_members_of_server_file_roles(pg):
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


def test_dwa008_connection_limit(pg):
    pg.role("a_app", "LOGIN")
    pg.role("a_limited", "LOGIN CONNECTION LIMIT 10")
    result = found(pg, "DWA008")
    assert "a_app" in result and "a_limited" not in result
    assert "CONNECTION LIMIT 25" in result["a_app"].fix.forward_sql  # max_connections 100 / 4
    apply(pg, result["a_app"].fix.forward_sql)
    assert "a_app" not in found(pg, "DWA008")


def test_public_grants_default_privileges_and_schema_create(pg):
    pg.execute("CREATE SCHEMA app")
    pg.execute("GRANT USAGE ON SCHEMA app TO PUBLIC")
    pg.execute("CREATE TABLE app.orders (id int PRIMARY KEY)")
    pg.execute("GRANT SELECT, INSERT ON app.orders TO PUBLIC")
    pg.execute("CREATE SEQUENCE app.ticket_seq")
    pg.execute("GRANT USAGE ON SEQUENCE app.ticket_seq TO PUBLIC")
    pg.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    pg.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO PUBLIC")
    codes = ("DWA010", "DWA011", "DWA013", "DWA014", "DWA015", "DWA016")

    def ours(result):  # DWA015 sees every database of the cluster; this test is about its own
        return [f for f in result.findings if f.check.code != "DWA015" or f.finding.object == pg.name]

    result = audit(pg, *codes)
    objects = {(f.check.code, f.finding.object) for f in ours(result)}
    assert objects == {
        ("DWA010", "app.orders"),
        ("DWA011", "app.ticket_seq"),
        ("DWA013", "app"),
        ("DWA014", "public"),
        ("DWA015", pg.name),
        ("DWA016", "postgres:app:table"),
    }
    assert result.by_code("DWA010")[0].severity == Severity.HIGH  # INSERT for everyone
    assert next(f for f in result.by_code("DWA015") if f.object == pg.name).evidence["privileges"] == [
        "CONNECT",
        "TEMPORARY",
    ]
    for f in ours(result):
        apply(pg, f.finding.fix.forward_sql)
    assert ours(audit(pg, *codes)) == []
    for f in ours(result):  # and every rollback brings the finding back
        apply(pg, f.finding.fix.rollback_sql)
    assert {(f.check.code, f.finding.object) for f in ours(audit(pg, *codes))} == objects


def test_security_definer_functions(pg):
    pg.role("a_fn_owner", "NOLOGIN")
    pg.execute(
        "CREATE FUNCTION public.bump(i int) RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT i + 1'"
    )
    result = audit(pg, "DWA012", "DWA042", "DWA043")
    assert {(f.check.code, f.finding.object) for f in result.findings} == {
        ("DWA012", "public.bump(i integer)"),
        ("DWA042", "public.bump(i integer)"),
        ("DWA043", "public.bump(i integer)"),
    }
    assert result.by_code("DWA012")[0].severity == Severity.HIGH  # owned by a superuser
    apply(pg, result.by_code("DWA012")[0].fix.forward_sql)
    apply(pg, result.by_code("DWA042")[0].fix.forward_sql)
    # DWA043's fix is the documented manual step: a non-superuser owner
    assert any("OWNER TO" in step for step in result.by_code("DWA043")[0].fix.manual_steps)
    pg.execute("ALTER FUNCTION public.bump(int) OWNER TO a_fn_owner")
    assert audit(pg, "DWA012", "DWA042", "DWA043").findings == []


def test_dwa017_superuser_owned_objects_moved_to_the_database_owner(pg):
    pg.role("a_db_owner", "NOLOGIN")
    pg.execute("CREATE SCHEMA app")
    pg.execute("CREATE TABLE app.items (id int)")
    pg.execute("CREATE VIEW app.item_ids AS SELECT id FROM app.items")
    first = found(pg, "DWA017")["app"]
    assert first.fix.operations == ()  # the database owner is a superuser: manual steps only
    assert first.evidence["count"] == 3
    pg.execute(f'ALTER DATABASE "{pg.name}" OWNER TO a_db_owner')
    result = found(pg, "DWA017")
    assert set(result) == {"app"}
    fix = result["app"].fix
    assert "ALTER TABLE app.items OWNER TO a_db_owner;" in fix.forward_sql
    apply(pg, fix.forward_sql)
    assert found(pg, "DWA017") == {}
    apply(pg, fix.rollback_sql)
    assert set(found(pg, "DWA017")) == {"app"}
    pg.execute(f'ALTER DATABASE "{pg.name}" OWNER TO postgres')


def test_untrusted_language_and_its_functions(pg):
    pg.execute(
        "CREATE FUNCTION public.evil_handler() RETURNS language_handler "
        "AS '$libdir/plpgsql', 'plpgsql_call_handler' LANGUAGE c"
    )
    pg.execute("CREATE LANGUAGE plevil HANDLER public.evil_handler")  # not TRUSTED
    pg.execute("CREATE FUNCTION public.shell() RETURNS int LANGUAGE plevil AS 'BEGIN RETURN 1; END'")
    result = audit(pg, "DWA018", "DWA019")
    assert [f.object for f in result.by_code("DWA018")] == ["plevil"]
    assert {f.object for f in result.by_code("DWA019")} == {"public.shell()", "public.evil_handler()"}
    language_fix = result.by_code("DWA018")[0].fix
    assert language_fix.operations == () and "public.shell()" in language_fix.manual_steps[0]
    for f in result.by_code("DWA019"):
        apply(pg, f.fix.forward_sql)
    assert audit(pg, "DWA019").findings == []
    pg.execute("DROP FUNCTION public.shell()")  # the manual step DWA018 lists
    language_fix = found(pg, "DWA018")["plevil"].fix
    assert language_fix.forward_sql == "DROP LANGUAGE plevil;"
    apply(pg, language_fix.forward_sql)
    assert found(pg, "DWA018") == {}


def test_row_level_security(pg):
    pg.execute("CREATE TABLE public.notes (owner name, body text)")
    pg.execute("CREATE POLICY own_notes ON public.notes USING (owner = current_user)")
    assert list(found(pg, "DWA040")) == ["public.notes"]
    assert found(pg, "DWA040")["public.notes"].evidence["policies"] == ["own_notes"]
    apply(pg, found(pg, "DWA040")["public.notes"].fix.forward_sql)
    assert found(pg, "DWA040") == {}
    owner = found(pg, "DWA041")["public.notes"]  # now enabled, but its owner is not subject to it
    assert owner.evidence["owner_is_superuser_or_bypassrls"] is True
    apply(pg, owner.fix.forward_sql)
    assert found(pg, "DWA041") == {}
    assert pg.value("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'notes'") is True


def test_dwa047_extension_behind_the_package(pg):
    pg.execute("CREATE EXTENSION pg_stat_statements VERSION '1.9'")
    result = found(pg, "DWA047")
    assert result["pg_stat_statements"].evidence == {"installed_version": "1.9", "default_version": "1.10"}
    apply(pg, result["pg_stat_statements"].fix.forward_sql)
    assert found(pg, "DWA047") == {}


def test_dwa050_pgcrypto_not_installed(pg):
    finding = found(pg, "DWA050")["pgcrypto"]
    assert finding.evidence["available"] is True and finding.severity is None  # the check's own: low
    apply(pg, finding.fix.forward_sql)
    assert found(pg, "DWA050") == {}
    apply(pg, finding.fix.rollback_sql)
    assert list(found(pg, "DWA050")) == ["pgcrypto"]


def test_clean_look_alikes_are_not_flagged(pg):
    pg.role("a_vault", "NOLOGIN BYPASSRLS REPLICATION")  # nobody can log in as it or SET ROLE to it
    pg.role("a_owner", "NOLOGIN")
    pg.execute("CREATE FUNCTION public.plain() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'")
    pg.execute("CREATE FUNCTION public.invoker() RETURNS int LANGUAGE sql AS 'SELECT 1'")  # superuser-owned
    pg.execute("CREATE SCHEMA app AUTHORIZATION a_owner")
    pg.execute("CREATE TABLE app.t (id int)")
    pg.execute("ALTER TABLE app.t OWNER TO a_owner")
    pg.execute("ALTER TABLE app.t ENABLE ROW LEVEL SECURITY")
    pg.execute("ALTER TABLE app.t FORCE ROW LEVEL SECURITY")
    pg.execute("CREATE POLICY p ON app.t USING (true)")
    result = audit(
        pg, "DWA003", "DWA004", "DWA013", "DWA018", "DWA019", "DWA040", "DWA041", "DWA043", "DWA047"
    )
    assert result.findings == []  # PUBLIC's USAGE on schema public is PostgreSQL's own default
    assert {f.object for f in found(pg, "DWA017").values()} == {"public"}  # the two functions, not app.*
