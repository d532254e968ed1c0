"""Audit logging set-up on a real PostgreSQL 15: audited statements arrive in the log, rollback undoes it."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from dbwright.audit.logging import build_plan, plan_audit_logging
from dbwright.cli import main
from dbwright.engines.postgres.audit_logging import AuditContext
from dbwright.errors import InvalidArgumentError

AUDITOR = "tr_auditor"


@pytest.fixture
def crm(pg):
    pg.execute("""
        CREATE SCHEMA crm;
        CREATE TABLE crm.customers (id int PRIMARY KEY, email text, phone text);
        INSERT INTO crm.customers
        SELECT g, 'person' || g || '@example.com', '+44 20 7946 0' || lpad(g::text, 3, '0')
        FROM generate_series(1, 50) g;
        CREATE TABLE crm.orders (id int PRIMARY KEY, total numeric);
    """)
    yield pg
    pg.execute(
        f"DROP OWNED BY {AUDITOR} CASCADE; DROP ROLE IF EXISTS {AUDITOR}"
        if pg.value(f"SELECT 1 FROM pg_roles WHERE rolname = '{AUDITOR}'")
        else "SELECT 1"
    )


def _log_lines(pg, marker: str, tries: int = 20) -> list[str]:
    for _ in range(tries):
        lines = [line for line in pg.cluster.log.read_text(errors="replace").splitlines() if marker in line]
        if lines:
            return lines
        time.sleep(0.05)
    return []


def test_pgaudit_statements_arrive_in_the_server_log(crm):
    pg = crm
    plan = plan_audit_logging(pg.url, mode="auto", auditor=AUDITOR)
    assert plan.mode == "pgaudit" and plan.context.tables == ("crm.customers",)  # found by PII discovery
    for package in plan.packages:
        pg.execute(package.forward_sql)
    marker = f"probe_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg.url, autocommit=True) as session:  # settings apply to new sessions
        session.execute(f"CREATE TABLE {marker} (id int)")
        session.execute(f"SELECT email /* {marker}_read */ FROM crm.customers WHERE id = 1")
        session.execute(f"UPDATE crm.customers SET phone = phone /* {marker}_write */ WHERE id = 2")
        session.execute(f"SELECT total /* {marker}_orders */ FROM crm.orders")
        session.execute(f"GRANT SELECT ON {marker} TO {AUDITOR}")
    ddl = _log_lines(pg, f"CREATE TABLE {marker}")
    assert any("AUDIT: SESSION" in line and ",DDL,CREATE TABLE," in line for line in ddl), ddl
    assert any(
        "AUDIT: OBJECT" in line and ",READ,SELECT,TABLE,crm.customers," in line
        for line in _log_lines(pg, f"{marker}_read")
    )
    assert any(
        "AUDIT: OBJECT" in line and ",WRITE,UPDATE,TABLE,crm.customers," in line
        for line in _log_lines(pg, f"{marker}_write")
    )
    assert any(",ROLE,GRANT," in line for line in _log_lines(pg, f"GRANT SELECT ON {marker}"))
    assert not _log_lines(pg, f"{marker}_orders", tries=1)  # not a PII table: no object logging
    pg.execute(f"REVOKE ALL ON {marker} FROM {AUDITOR}; DROP TABLE {marker}")

    for package in reversed(plan.packages):
        pg.execute(package.rollback_sql)
    assert (
        pg.value(
            "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
            "WHERE d.datname = current_database()"
        )
        == 0
    )
    assert pg.value(f"SELECT count(*) FROM pg_roles WHERE rolname = '{AUDITOR}'") == 0
    assert pg.value("SELECT count(*) FROM pg_extension WHERE extname = 'pgaudit'") == 0
    after = f"probe_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg.url, autocommit=True) as session:
        session.execute(f"CREATE TABLE {after} (id int)")
    time.sleep(0.2)
    assert not any("AUDIT:" in line for line in _log_lines(pg, after, tries=1))


def test_trigger_audit_log_records_changes_without_values(crm):
    pg = crm
    pg.role("tr_app", "NOLOGIN")
    pg.execute(
        "GRANT USAGE ON SCHEMA crm TO tr_app; GRANT SELECT, INSERT, UPDATE, DELETE ON crm.customers TO tr_app"
    )
    plan = plan_audit_logging(pg.url, tables=["crm.customers"], mode="trigger", auditor=AUDITOR)
    (package,) = plan.packages
    assert "SET search_path = pg_catalog, pg_temp" in package.forward_sql
    pg.execute(package.forward_sql)
    pg.execute("""
        SET ROLE tr_app;
        INSERT INTO crm.customers VALUES (100, 'secret.person@example.com', '+44 20 7946 0999');
        UPDATE crm.customers SET phone = '+44 20 7946 0111' WHERE id = 100;
        DELETE FROM crm.customers WHERE id = 100;
        RESET ROLE;
        ALTER TABLE crm.customers ADD COLUMN note text;
    """)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        pg.execute(
            "SET ROLE tr_app; INSERT INTO dbwright_audit.log (table_name, operation) VALUES ('x', 'y')"
        )
    pg.execute("RESET ROLE")
    rows = pg.execute(
        "SELECT role_name, table_name, operation, row_key::text, changed_columns "
        "FROM dbwright_audit.log WHERE table_name = 'crm.customers' ORDER BY id"
    )
    assert rows[:3] == [
        ("tr_app", "crm.customers", "INSERT", '{"id": 100}', ["email", "id", "phone"]),
        ("tr_app", "crm.customers", "UPDATE", '{"id": 100}', ["phone"]),
        ("tr_app", "crm.customers", "DELETE", '{"id": 100}', ["email", "id", "phone"]),
    ]
    assert rows[3][1:3] == ("crm.customers", "ALTER TABLE")
    everything = pg.value("SELECT string_agg(l::text, ' ') FROM dbwright_audit.log l")
    assert "secret.person" not in everything and "7946" not in everything
    assert pg.value(f"SELECT has_table_privilege('{AUDITOR}', 'dbwright_audit.log', 'SELECT')")
    assert not pg.value(f"SELECT has_table_privilege('{AUDITOR}', 'dbwright_audit.log', 'INSERT')")

    pg.execute("ALTER TABLE crm.customers DROP COLUMN note")
    pg.execute(package.rollback_sql)
    assert pg.value("SELECT to_regnamespace('dbwright_audit')") is None
    assert pg.value("SELECT count(*) FROM pg_event_trigger") == 0
    assert pg.value("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'crm.customers'::regclass") == 0
    assert pg.value(f"SELECT count(*) FROM pg_roles WHERE rolname = '{AUDITOR}'") == 0


def _context(**overrides) -> AuditContext:
    values = dict(
        database="app",
        pgaudit_preloaded=False,
        pgaudit_available=True,
        pgaudit_installed=False,
        shared_preload_libraries="pg_stat_statements",
        database_settings={},
        existing_roles=frozenset(),
        tables=("crm.customers",),
        table_keys={"crm.customers": ("id",)},
    )
    values.update(overrides)
    return AuditContext(**values)


def test_auto_mode_falls_back_to_triggers_and_pgaudit_mode_preloads():
    plan = build_plan(_context())
    assert plan.mode == "trigger" and "restart" in plan.notes[0]
    forced = build_plan(_context(), mode="pgaudit", scope="system")
    assert forced.packages[0].requires_restart
    assert "shared_preload_libraries = 'pg_stat_statements,pgaudit'" in forced.packages[0].forward_sql
    assert (
        "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" in forced.packages[0].rollback_sql
    )
    system = forced.packages[1]
    assert "ALTER SYSTEM SET pgaudit.log = 'ddl, role';" in system.forward_sql
    rollback = system.rollback_sql
    assert rollback.index("SELECT pg_reload_conf();") > rollback.rindex("ALTER SYSTEM RESET pgaudit")


def test_cli_and_bad_input(crm, capsys):
    assert main(["audit-logging", "plan", crm.url, "--table", "crm.customers", "--auditor", AUDITOR]) == 0
    text = capsys.readouterr().out
    assert "pgaudit object logging on the PII tables" in text and "ALTER DATABASE" in text
    assert main(["audit-logging", "plan", crm.url, "--table", "crm.nope"]) == 22
    with pytest.raises(InvalidArgumentError):
        plan_audit_logging(crm.url, tables=[], mode="sometimes")
