"""`dbwright roles plan`: apply the packages on a real server, verify effective privileges, roll back."""

from __future__ import annotations

import json

import pytest

from dbwright.audit.access import effective_privileges
from dbwright.audit.roles import AppUser, CreateRole, DefaultPrivileges, GrantRole, plan_roles
from dbwright.cli import main
from dbwright.engines.postgres.connect import open_session
from dbwright.errors import InvalidArgumentError

PREFIX = "tr_"

STATE = """
SELECT 'role', rolname, '' FROM pg_roles WHERE rolname LIKE 'tr\\_%'
UNION ALL
SELECT 'member', pg_get_userbyid(roleid), pg_get_userbyid(member) FROM pg_auth_members
WHERE pg_get_userbyid(roleid) LIKE 'tr\\_%' OR pg_get_userbyid(member) LIKE 'tr\\_%'
UNION ALL
SELECT 'db', a.grantee::regrole::text, a.privilege_type
FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
WHERE d.datname = current_database()
UNION ALL
SELECT 'schema:' || nspname, a.grantee::regrole::text, a.privilege_type
FROM pg_namespace, aclexplode(coalesce(nspacl, acldefault('n', nspowner))) a WHERE nspname IN ('public', 'shop')
UNION ALL
SELECT 'rel:' || c.oid::regclass::text, a.grantee::regrole::text, a.privilege_type
FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char",
                                                           c.relowner))) a
WHERE c.relnamespace::regnamespace::text IN ('public', 'shop') AND c.relkind IN ('r', 'S', 'v')
UNION ALL
SELECT 'defacl', defaclrole::regrole::text, defaclacl::text FROM pg_default_acl
ORDER BY 1, 2, 3
"""


@pytest.fixture
def shop(pg):
    pg.role("tr_owner", "NOLOGIN")
    pg.role("tr_outsider", "LOGIN")
    pg.execute("""
        CREATE SCHEMA shop AUTHORIZATION tr_owner;
        SET ROLE tr_owner;
        CREATE TABLE shop.orders (id bigserial PRIMARY KEY, total numeric);
        CREATE TABLE shop.products (id int PRIMARY KEY, name text);
        GRANT SELECT ON shop.products TO PUBLIC;
        RESET ROLE;
        GRANT USAGE ON SCHEMA shop TO PUBLIC;
    """)
    yield pg
    pg.execute("""
        DO $$ DECLARE r text; BEGIN
          FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE 'tr\\_%' AND rolname NOT IN ('tr_owner', 'tr_outsider')
          LOOP EXECUTE format('DROP OWNED BY %I', r); EXECUTE format('DROP ROLE %I', r); END LOOP; END $$;
    """)


def _priv(pg, sql: str) -> bool:
    return bool(pg.value(sql))


def test_plan_apply_verify_rollback(shop):
    pg = shop
    before = pg.execute(STATE)
    plan = plan_roles(
        pg.url,
        schemas=["shop"],
        app_users=["tr_api", "tr_report:readonly", "tr_deploy:migrator"],
        prefix=PREFIX,
    )
    titles = [p.title for p in plan.packages]
    assert len(titles) == 4 and titles[-1] == "Revoke what PUBLIC was granted"
    assert all(p.rollback_sql for p in plan.packages)

    for package in plan.packages:
        pg.execute(package.forward_sql)

    # intended effective privileges, resolved by the server through membership
    assert _priv(pg, "SELECT has_table_privilege('tr_report', 'shop.orders', 'SELECT')")
    assert not _priv(pg, "SELECT has_table_privilege('tr_report', 'shop.orders', 'INSERT')")
    assert not _priv(pg, "SELECT has_schema_privilege('tr_report', 'shop', 'CREATE')")
    for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
        assert _priv(pg, f"SELECT has_table_privilege('tr_api', 'shop.orders', '{privilege}')")
    assert not _priv(pg, "SELECT has_table_privilege('tr_api', 'shop.orders', 'TRUNCATE')")
    assert _priv(pg, "SELECT has_sequence_privilege('tr_api', 'shop.orders_id_seq', 'USAGE')")
    assert not _priv(pg, "SELECT has_schema_privilege('tr_api', 'shop', 'CREATE')")
    assert _priv(pg, "SELECT has_schema_privilege('tr_deploy', 'shop', 'CREATE')")
    assert not _priv(pg, "SELECT has_table_privilege('tr_deploy', 'shop.orders', 'SELECT')")
    assert not _priv(pg, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'tr_readonly'")
    # PUBLIC lost what it had: an outsider login can no longer connect or read
    assert not _priv(pg, "SELECT has_database_privilege('tr_outsider', current_database(), 'CONNECT')")
    assert not _priv(pg, "SELECT has_table_privilege('tr_outsider', 'shop.products', 'SELECT')")
    assert not _priv(pg, "SELECT has_schema_privilege('tr_outsider', 'shop', 'USAGE')")
    assert _priv(pg, "SELECT has_database_privilege('tr_report', current_database(), 'CONNECT')")
    # future objects: default privileges for both migrator and today's owner
    pg.execute(
        "SET ROLE tr_migrator; CREATE TABLE shop.later (id int); RESET ROLE;"
        "SET ROLE tr_owner; CREATE TABLE shop.later2 (id int); RESET ROLE;"
    )
    for table in ("shop.later", "shop.later2"):
        assert _priv(pg, f"SELECT has_table_privilege('tr_report', '{table}', 'SELECT')")
        assert not _priv(pg, f"SELECT has_table_privilege('tr_report', '{table}', 'UPDATE')")
        assert _priv(pg, f"SELECT has_table_privilege('tr_api', '{table}', 'UPDATE')")
    pg.execute("DROP TABLE shop.later, shop.later2")

    # the same check through dbwright's own effective-privilege matrix (dbwright.audit.access)
    with open_session(pg.url) as conn:
        levels = effective_privileges(
            conn, ["tr_report", "tr_api", "tr_deploy", "tr_outsider"]
        ).relation_levels()
    relations = {"shop.orders", "shop.products", "shop.orders_id_seq"}
    assert {k: v for k, v in levels.get("tr_report", {}).items() if k in relations} == dict.fromkeys(
        relations, "read"
    )
    assert {k: v for k, v in levels.get("tr_api", {}).items() if k in relations} == {
        "shop.orders": "write",
        "shop.products": "write",
        "shop.orders_id_seq": "write",
    }
    assert not levels.get("tr_deploy") and not levels.get("tr_outsider")

    for package in reversed(plan.packages):
        pg.execute(package.rollback_sql)
    assert pg.execute(STATE) == before
    assert _priv(pg, "SELECT has_database_privilege('tr_outsider', current_database(), 'CONNECT')")
    assert _priv(pg, "SELECT has_table_privilege('tr_outsider', 'shop.products', 'SELECT')")


def test_plan_reads_public_grants_and_warns_about_logins(shop):
    plan = plan_roles(shop.url, schemas=["shop"], prefix=PREFIX)
    revoke = plan.packages[-1]
    assert "REVOKE CONNECT, TEMPORARY ON DATABASE" in revoke.forward_sql
    assert "REVOKE SELECT ON TABLE shop.products FROM PUBLIC;" in revoke.forward_sql
    assert "REVOKE USAGE ON SCHEMA shop FROM PUBLIC;" in revoke.forward_sql
    assert "GRANT SELECT ON TABLE shop.products TO PUBLIC;" in revoke.rollback_sql
    assert any("tr_outsider" in note for note in revoke.security_notes)
    assert "tr_owner" in plan.context.owners


def test_existing_group_and_membership_are_reused_not_undone(shop):
    shop.role("tr_readonly", "NOLOGIN")
    shop.role("tr_existing", "LOGIN")
    shop.execute("GRANT tr_readonly TO tr_existing")
    plan = plan_roles(shop.url, schemas=["shop"], app_users=["tr_existing:readonly"], prefix=PREFIX)
    groups, _, users, _ = plan.packages
    assert (
        "CREATE ROLE tr_readonly" not in groups.forward_sql
        and "DROP ROLE IF EXISTS tr_readonly" not in groups.rollback_sql
    )
    assert any("already exists" in note for note in groups.security_notes)
    assert "tr_existing" not in users.rollback_sql  # neither dropped nor removed from the group


def test_operations_reverse():
    assert CreateRole("a").reverse().sql() == "DROP ROLE IF EXISTS a;"
    assert GrantRole("g", "u").reverse().sql() == "REVOKE g FROM u;"
    op = DefaultPrivileges("m", "s", "SELECT", "TABLES", "r")
    assert (
        op.reverse().sql()
        == "ALTER DEFAULT PRIVILEGES FOR ROLE m IN SCHEMA s REVOKE SELECT ON TABLES FROM r;"
    )
    assert op.reverse().reverse() == op


def test_app_user_parse_and_bad_schema(pg):
    assert AppUser.parse("x:readonly") == AppUser("x", "readonly")
    with pytest.raises(InvalidArgumentError):
        AppUser.parse("x:admin")
    with pytest.raises(InvalidArgumentError, match="schema does not exist"):
        plan_roles(pg.url, schemas=["nope"])


def test_cli_roles_plan_json_and_out(shop, tmp_path, capsys):
    out = tmp_path / "roles.sql"
    code = main(
        [
            "roles",
            "plan",
            shop.url,
            "--schema",
            "shop",
            "--prefix",
            PREFIX,
            "--app-user",
            "tr_api",
            "--format",
            "json",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["groups"]["readonly"] == "tr_readonly"
    assert "-- migrate:up" in out.read_text() and "DROP ROLE IF EXISTS tr_readonly;" in out.read_text()
    assert (
        main(["roles", "plan", shop.url, "--app-user", "x:admin"]) == 22
    )  # an option value: invalid argument


def test_plan_never_grants_application_roles_access_to_the_dbwright_schema(shop, tmp_path):
    pg = shop
    (tmp_path / "V1__t.sql").write_text(
        "-- migrate:up\nCREATE TABLE shop_t(id int);\n-- migrate:down\nDROP TABLE shop_t;\n"
    )
    from dbwright import api

    api.migrate_apply(pg.url, tmp_path)  # creates dbwright.schema_history for real
    plan = plan_roles(pg.url, app_users=["tr_api", "tr_report:readonly", "tr_deploy:migrator"], prefix=PREFIX)
    assert "dbwright" not in plan.context.schemas and "shop" in plan.context.schemas
    text = "\n".join(p.forward_sql for p in plan.packages)
    assert "dbwright" not in text.replace("-- Generated by dbwright", "")
    for package in plan.packages:
        pg.execute(package.forward_sql)
    for role in ("tr_api", "tr_report", "tr_readwrite", "tr_readonly"):
        for privilege in ("INSERT", "UPDATE", "DELETE", "TRUNCATE"):
            assert not _priv(
                pg, f"SELECT has_table_privilege('{role}', 'dbwright.schema_history', '{privilege}')"
            )
        assert not _priv(pg, f"SELECT has_schema_privilege('{role}', 'dbwright', 'CREATE')")
    with pytest.raises(InvalidArgumentError, match="dbwright's own schema"):
        plan_roles(pg.url, schemas=["dbwright"], app_users=["tr_api"], prefix=PREFIX)
