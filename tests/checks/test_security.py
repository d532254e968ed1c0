"""Security checks: each has a bad-state test and a clean look-alike test on a real server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dbwright.model.findings import Severity


def apply(pg, script: str) -> None:
    """Run a package's SQL one statement at a time, as psql would (ALTER SYSTEM refuses a block)."""
    for line in script.splitlines():
        pg.execute(line)


@contextmanager
def hba_file(pg, text: str) -> Iterator[None]:
    """pg_hba_file_rules reads the file on disk: write ``text`` there, restore the original after.

    The server is not reloaded, so the connections tests make keep authenticating as before.
    """
    path = pg.cluster.hba_path
    original = path.read_text()
    try:
        path.write_text(text)
        yield
    finally:
        path.write_text(original)


# --- DW501 -----------------------------------------------------------------------------------


def test_dw501_extra_superuser_flagged(pg):
    pg.role("dw_admin", "SUPERUSER LOGIN")
    found = pg.findings("DW501")
    assert [f.object for f in found] == ["dw_admin"]
    assert found[0].evidence["bootstrap_superuser"] == "postgres"
    assert "ALTER ROLE dw_admin NOSUPERUSER;" in found[0].fix.forward_sql
    apply(pg, found[0].fix.forward_sql)
    assert pg.value("SELECT rolsuper FROM pg_roles WHERE rolname = 'dw_admin'") is False
    apply(pg, found[0].fix.rollback_sql)
    assert pg.value("SELECT rolsuper FROM pg_roles WHERE rolname = 'dw_admin'") is True


def test_dw501_membership_in_superuser_role_flagged(pg):
    pg.role("dw_root", "SUPERUSER NOLOGIN")
    pg.role("dw_ops", "NOLOGIN")
    pg.role("dw_alice", "LOGIN")
    pg.execute("GRANT dw_root TO dw_ops")
    pg.execute("GRANT dw_ops TO dw_alice")
    found = pg.findings("DW501")
    assert [f.object for f in found] == ["dw_ops"]  # the edge to cut; dw_root cannot log in itself
    assert found[0].evidence == {"superuser_role": "dw_root", "login_roles": ["dw_alice"]}
    apply(pg, found[0].fix.forward_sql)
    assert pg.findings("DW501") == []
    apply(pg, found[0].fix.rollback_sql)
    assert [f.object for f in pg.findings("DW501")] == ["dw_ops"]


def test_dw501_only_bootstrap_superuser_not_flagged(pg):
    pg.role("dw_deployer", "LOGIN CREATEDB")
    pg.role("dw_readers", "NOLOGIN")
    pg.role("dw_bob", "LOGIN IN ROLE dw_readers")
    pg.role("dw_vault", "SUPERUSER NOLOGIN")  # a superuser nobody can log in as or SET ROLE to
    pg.execute("GRANT pg_monitor TO dw_deployer")
    assert pg.findings("DW501") == []


# --- DW511 -----------------------------------------------------------------------------------


def test_dw511_login_role_with_createrole_flagged(pg):
    pg.role("dw_mgr", "LOGIN CREATEROLE")
    pg.role("dw_admins", "NOLOGIN CREATEROLE")
    pg.role("dw_carol", "LOGIN IN ROLE dw_admins")
    found = {f.object: f for f in pg.findings("DW511")}
    assert set(found) == {"dw_mgr", "dw_admins"}
    assert found["dw_admins"].evidence["login_roles"] == ["dw_carol"]
    assert "ALTER ROLE dw_mgr NOCREATEROLE;" in found["dw_mgr"].fix.forward_sql
    assert "ALTER ROLE dw_mgr CREATEROLE;" in found["dw_mgr"].fix.rollback_sql
    apply(pg, found["dw_mgr"].fix.forward_sql)
    assert pg.value("SELECT rolcreaterole FROM pg_roles WHERE rolname = 'dw_mgr'") is False


def test_dw511_createrole_without_login_path_not_flagged(pg):
    pg.role("dw_provisioning", "NOLOGIN CREATEROLE")  # no member can reach it
    pg.role("dw_builder", "LOGIN CREATEDB")
    assert pg.findings("DW511") == []


# --- DW502 -----------------------------------------------------------------------------------


def test_dw502_public_create_on_schema_flagged(pg):
    pg.execute("CREATE SCHEMA app; GRANT CREATE ON SCHEMA app TO PUBLIC")
    found = pg.findings("DW502")
    assert [f.object for f in found] == ["app"]
    assert "REVOKE CREATE ON SCHEMA app FROM PUBLIC;" in found[0].fix.forward_sql
    assert "GRANT CREATE ON SCHEMA app TO PUBLIC;" in found[0].fix.rollback_sql
    apply(pg, found[0].fix.forward_sql)
    assert pg.value("SELECT has_schema_privilege('public', 'app', 'CREATE')") is False
    assert pg.findings("DW502") == []


def test_dw502_schema_with_usage_and_role_create_not_flagged(pg):
    pg.role("dw_migrator", "LOGIN")
    pg.execute(
        "CREATE SCHEMA app; GRANT USAGE ON SCHEMA app TO PUBLIC; GRANT CREATE ON SCHEMA app TO dw_migrator"
    )
    assert pg.findings("DW502") == []


# --- DW503 -----------------------------------------------------------------------------------


def test_dw503_public_table_grants_flagged(pg):
    pg.execute("CREATE TABLE orders (id int); GRANT SELECT, INSERT ON orders TO PUBLIC")
    pg.execute(
        "CREATE TABLE notes (id int); ALTER TABLE notes ENABLE ROW LEVEL SECURITY;"
        "GRANT SELECT ON notes TO PUBLIC"
    )
    found = {f.object: f for f in pg.findings("DW503")}
    assert set(found) == {"public.orders", "public.notes"}
    orders = found["public.orders"]
    assert orders.evidence["privileges"] == ["INSERT", "SELECT"]
    assert orders.severity == Severity.HIGH
    assert found["public.notes"].severity == Severity.LOW
    assert "REVOKE INSERT, SELECT ON TABLE public.orders FROM PUBLIC;" in orders.fix.forward_sql
    apply(pg, orders.fix.forward_sql)
    assert pg.value("SELECT has_table_privilege('public', 'orders', 'SELECT')") is False
    apply(pg, orders.fix.rollback_sql)
    assert pg.value("SELECT has_table_privilege('public', 'orders', 'INSERT')") is True


def test_dw503_grants_to_named_roles_not_flagged(pg):
    pg.role("dw_app", "LOGIN")
    pg.execute("CREATE TABLE orders (id int); GRANT SELECT, INSERT ON orders TO dw_app")
    pg.execute("CREATE VIEW order_ids AS SELECT id FROM orders; GRANT SELECT ON order_ids TO dw_app")
    assert pg.findings("DW503") == []


# --- DW504 -----------------------------------------------------------------------------------

_BODY = "RETURNS int LANGUAGE sql AS 'SELECT 1'"


def test_dw504_security_definer_without_search_path_flagged(pg):
    pg.execute(f"CREATE FUNCTION open_fn(a int) {_BODY} SECURITY DEFINER")
    pg.execute(
        f'CREATE FUNCTION user_fn() {_BODY} SECURITY DEFINER SET search_path = "$user", public, pg_temp'
    )
    pg.execute(f"CREATE FUNCTION temp_fn() {_BODY} SECURITY DEFINER SET search_path = public")
    found = {f.object: f for f in pg.findings("DW504")}
    assert set(found) == {"public.open_fn(a integer)", "public.user_fn()", "public.temp_fn()"}
    assert found["public.temp_fn()"].severity == Severity.LOW  # only pg_temp is missing
    assert found["public.open_fn(a integer)"].severity is None  # the check's own: high
    fix = found["public.open_fn(a integer)"].fix
    assert (
        "ALTER FUNCTION public.open_fn(a integer) SET search_path = pg_catalog, public, pg_temp;"
        in fix.forward_sql
    )
    apply(pg, fix.forward_sql)
    assert pg.value("SELECT proconfig FROM pg_proc WHERE proname = 'open_fn'") == [
        "search_path=pg_catalog, public, pg_temp"
    ]
    apply(pg, fix.rollback_sql)
    assert pg.value("SELECT proconfig FROM pg_proc WHERE proname = 'open_fn'") is None


def test_dw504_public_writable_schema_on_path_flagged(pg):
    pg.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    pg.execute(f"CREATE FUNCTION fn() {_BODY} SECURITY DEFINER SET search_path = public, pg_temp")
    found = pg.findings("DW504")
    assert found[0].evidence["problems"] == ["schema public on the search_path is writable by PUBLIC"]
    assert "SET search_path = pg_catalog, pg_temp;" in found[0].fix.forward_sql


def test_dw504_pinned_search_path_not_flagged(pg):
    pg.execute(
        f"CREATE FUNCTION safe_fn() {_BODY} SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
    )
    pg.execute(f"CREATE FUNCTION empty_fn() {_BODY} SECURITY DEFINER SET search_path = ''")
    pg.execute(f"CREATE FUNCTION invoker_fn() {_BODY}")  # SECURITY INVOKER, no search_path needed
    assert pg.findings("DW504") == []


# --- DW510 -----------------------------------------------------------------------------------


def test_dw510_public_execute_on_security_definer_flagged(pg):
    pg.execute(f"CREATE FUNCTION grant_bonus(n int) {_BODY} SECURITY DEFINER SET search_path = ''")
    found = pg.findings("DW510")
    assert [f.object for f in found] == ["public.grant_bonus(n integer)"]
    assert found[0].evidence["owner_is_superuser"] is True
    assert found[0].severity == Severity.HIGH
    assert "REVOKE EXECUTE ON FUNCTION public.grant_bonus(n integer) FROM PUBLIC;" in found[0].fix.forward_sql
    apply(pg, found[0].fix.forward_sql)
    assert pg.value("SELECT has_function_privilege('public', 'grant_bonus(int)', 'EXECUTE')") is False
    apply(pg, found[0].fix.rollback_sql)
    assert pg.value("SELECT has_function_privilege('public', 'grant_bonus(int)', 'EXECUTE')") is True


def test_dw510_revoked_or_invoker_function_not_flagged(pg):
    pg.role("dw_payroll", "LOGIN")
    pg.execute(f"CREATE FUNCTION grant_bonus(n int) {_BODY} SECURITY DEFINER SET search_path = ''")
    pg.execute(
        "REVOKE EXECUTE ON FUNCTION grant_bonus(int) FROM PUBLIC;"
        "GRANT EXECUTE ON FUNCTION grant_bonus(int) TO dw_payroll"
    )
    pg.execute(f"CREATE FUNCTION lookup(n int) {_BODY}")  # invoker: PUBLIC EXECUTE is harmless
    assert pg.findings("DW510") == []


# --- DW505 / DW506 ---------------------------------------------------------------------------


def test_dw505_md5_password_hash_flagged(pg):
    pg.execute("SET password_encryption = 'md5'")
    pg.role("dw_legacy", "LOGIN PASSWORD 'old-secret'")
    pg.role("dw_legacy_group", "NOLOGIN PASSWORD 'unused'")
    found = {f.object: f for f in pg.findings("DW505")}
    assert set(found) == {"dw_legacy", "dw_legacy_group"}
    assert found["dw_legacy_group"].severity == Severity.LOW
    found = [found["dw_legacy"]]
    assert found[0].severity is None  # the check's own: medium
    fix = found[0].fix
    assert fix.operations == () and fix.forward_sql == ""
    assert any("\\password dw_legacy" in step for step in fix.manual_steps)
    assert "PASSWORD NULL" in fix.explanation  # and why that is not the fix


def test_dw505_scram_or_no_password_not_flagged(pg):
    pg.role("dw_modern", "LOGIN PASSWORD 'new-secret'")
    pg.role("dw_nopass", "LOGIN")
    assert pg.value("SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'dw_modern'")
    assert pg.findings("DW505") == []


def test_dw506_password_encryption_md5_flagged(pg):
    pg.alter_system("password_encryption", "md5")
    found = pg.findings("DW506")
    assert [f.object for f in found] == ["password_encryption"]
    assert "ALTER SYSTEM SET password_encryption = 'scram-sha-256';" in found[0].fix.forward_sql
    assert "ALTER SYSTEM RESET password_encryption;" in found[0].fix.rollback_sql
    apply(pg, found[0].fix.forward_sql)
    assert pg.findings("DW506") == []


def test_dw506_password_encryption_scram_not_flagged(pg):
    assert pg.value("SHOW password_encryption") == "scram-sha-256"
    assert pg.findings("DW506") == []


# --- DW507 -----------------------------------------------------------------------------------


def test_dw507_ssl_off_flagged(pg):
    pg.alter_system("ssl", "off")
    found = pg.findings("DW507")
    assert [f.object for f in found] == ["ssl"]
    assert found[0].evidence["listen_addresses"] == "127.0.0.1"
    assert found[0].severity == Severity.LOW  # the test cluster listens on loopback only
    assert "ALTER SYSTEM SET ssl = 'on';" in found[0].fix.forward_sql
    assert "SELECT pg_reload_conf();" in found[0].fix.forward_sql


def test_dw507_ssl_on_not_flagged(pg):
    assert pg.value("SHOW ssl") == "on"
    assert pg.findings("DW507") == []


# --- DW508 / DW509 ---------------------------------------------------------------------------


def test_dw508_trust_in_hba_flagged(pg):
    with hba_file(
        pg,
        "local all all trust\n"
        "host all postgres 127.0.0.1/32 trust\n"
        "host all all 0.0.0.0/0 trust\n"
        "host all all ::1/128 trust\n",
    ):
        found = {f.object: f for f in pg.findings("DW508")}
    assert set(found) == {"pg_hba.conf:1", "pg_hba.conf:2", "pg_hba.conf:3", "pg_hba.conf:4"}
    assert found["pg_hba.conf:4"].severity == Severity.HIGH  # IPv6 loopback
    assert found["pg_hba.conf:4"].evidence["address"] == "::1/128"
    assert found["pg_hba.conf:1"].severity == Severity.MEDIUM
    assert found["pg_hba.conf:2"].severity == Severity.HIGH
    assert found["pg_hba.conf:3"].severity == Severity.CRITICAL
    assert found["pg_hba.conf:3"].evidence["address"] == "0.0.0.0/0"
    steps = found["pg_hba.conf:3"].fix.manual_steps
    assert "replace `host all all 0.0.0.0/0 trust` with `host all all 0.0.0.0/0 scram-sha-256`" in steps[0]
    assert "`local all all peer`" in found["pg_hba.conf:1"].fix.manual_steps[0]
    assert found["pg_hba.conf:1"].fix.forward_sql == "SELECT pg_reload_conf();"


def test_dw508_hba_without_trust_not_flagged(pg):
    with hba_file(
        pg,
        "# trust nobody\nlocal all all peer\nhost all all 127.0.0.1/32 scram-sha-256\n"
        "host all all 0.0.0.0/0 reject\n",
    ):
        assert pg.findings("DW508") == []


def test_dw509_cleartext_password_in_hba_flagged(pg):
    with hba_file(
        pg, "local all all peer\nhost all all 10.0.0.0/8 password\nhostssl all all 0.0.0.0/0 password\n"
    ):
        found = {f.object: f for f in pg.findings("DW509")}
    assert set(found) == {"pg_hba.conf:2", "pg_hba.conf:3"}
    assert found["pg_hba.conf:2"].severity is None  # the check's own: high
    assert found["pg_hba.conf:3"].severity == Severity.MEDIUM
    assert "with `host all all 10.0.0.0/8 scram-sha-256`" in found["pg_hba.conf:2"].fix.manual_steps[0]


def test_dw509_scram_and_md5_hba_not_flagged(pg):
    with hba_file(
        pg, "local all all peer\nhost all all 10.0.0.0/8 scram-sha-256\nhost all all 0.0.0.0/0 md5\n"
    ):
        assert pg.findings("DW509") == []
