"""Audit checks on privileges (checks/audit_privileges.py), on the real PostgreSQL 15.

Each *_flagged test creates the bad state, asserts the finding, applies the fix and asserts the
finding is gone (and, where it has one, that the rollback brings it back).
"""

from __future__ import annotations

from dbwright.model.findings import Severity
from tests.checks.audit_helpers import apply, audit, found


def test_dwa011_dwa013_dwa015_dwa016_public_grants_flagged(pg):
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


def test_dwa011_dwa013_dwa015_dwa016_grants_to_roles_not_flagged(pg):
    pg.role("a_writer", "NOLOGIN")
    pg.execute("CREATE SCHEMA app")
    pg.execute("GRANT USAGE ON SCHEMA app TO a_writer")
    pg.execute("CREATE SEQUENCE app.ticket_seq")
    pg.execute("GRANT USAGE ON SEQUENCE app.ticket_seq TO a_writer")
    pg.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO a_writer")
    pg.execute(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{pg.name}" FROM PUBLIC')
    pg.execute(f'GRANT CONNECT ON DATABASE "{pg.name}" TO a_writer')
    result = audit(pg, "DWA011", "DWA013", "DWA015", "DWA016")
    # PUBLIC's USAGE on schema public is PostgreSQL's own default; DWA015 sees the other databases too
    assert [f for f in result.findings if f.check.code != "DWA015"] == []
    assert pg.name not in {f.object for f in result.by_code("DWA015")}


def test_dwa017_superuser_owned_objects_moved_to_the_database_owner_flagged(pg):
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


def test_dwa017_objects_of_an_application_owner_not_flagged(pg):
    pg.role("a_owner", "NOLOGIN")
    pg.execute("CREATE SCHEMA app AUTHORIZATION a_owner")
    pg.execute("CREATE TABLE app.t (id int)")
    pg.execute("ALTER TABLE app.t OWNER TO a_owner")
    assert "app" not in found(pg, "DWA017")


def test_dwa018_dwa019_untrusted_language_and_its_functions_flagged(pg):
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


def test_dwa018_dwa019_trusted_language_functions_not_flagged(pg):
    pg.execute("CREATE FUNCTION public.plain() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'")
    pg.execute("CREATE FUNCTION public.invoker() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    assert audit(pg, "DWA018", "DWA019").findings == []  # c and internal are always there, not flagged
