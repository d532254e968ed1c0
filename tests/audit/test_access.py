"""Effective privileges: the matrix must say what the server really allows. Each claim is checked
by doing it: SET ROLE to the role and run the statement in a rolled-back transaction.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from dbwright.audit.access import effective_privileges, role_access
from dbwright.engines.postgres.connect import open_session
from dbwright.output import render
from tests.cli.test_cli_errors import run_cli

ROLES = ("a_readers", "a_alice", "a_bob", "a_carol", "a_dave", "a_erin", "a_owners")


@pytest.fixture
def shop(pg):
    pg.role("a_readers", "NOLOGIN")
    pg.role("a_owners", "NOLOGIN")
    pg.role("a_alice", "LOGIN IN ROLE a_readers")  # inherits a_readers
    pg.role("a_bob", "LOGIN NOINHERIT IN ROLE a_readers")  # member, but must SET ROLE to use it
    pg.role("a_carol", "LOGIN")  # a grant on a table in a schema she cannot use
    pg.role("a_dave", "LOGIN IN ROLE a_owners")  # owns through membership
    pg.role("a_erin", "LOGIN")  # some columns only
    pg.execute("CREATE SCHEMA shop")
    pg.execute("CREATE TABLE shop.orders (id int PRIMARY KEY, customer text, total numeric)")
    pg.execute("CREATE TABLE shop.ledger (id int)")
    pg.execute("ALTER TABLE shop.ledger OWNER TO a_owners")
    pg.execute("GRANT USAGE ON SCHEMA shop TO a_readers, a_erin, a_owners")
    pg.execute("GRANT SELECT ON shop.orders TO a_readers")
    pg.execute("GRANT INSERT ON shop.orders TO a_carol")
    pg.execute("GRANT SELECT (id, total) ON shop.orders TO a_erin")
    pg.execute("ALTER TABLE shop.orders ENABLE ROW LEVEL SECURITY")
    pg.execute("CREATE POLICY everyone ON shop.orders USING (true)")
    return pg


def _can(pg, role: str, sql: str) -> bool:
    """Whether ``role`` can really run ``sql``: SET ROLE in a transaction that is rolled back."""
    with psycopg.connect(pg.url) as conn:
        try:
            conn.execute(f"SET ROLE {role}")
            conn.execute(sql)
            return True
        except psycopg.errors.InsufficientPrivilege:
            return False
        finally:
            conn.rollback()


def test_matrix_matches_what_the_server_allows(shop):
    with open_session(shop.url) as conn:
        matrix = effective_privileges(conn, ROLES)
    levels = matrix.relation_levels()
    assert levels.get("a_alice") == {"shop.orders": "read"}
    assert "a_bob" not in levels  # NOINHERIT: the group's SELECT needs SET ROLE first
    assert "a_carol" not in levels  # INSERT granted, but no USAGE on the schema
    assert levels.get("a_dave") == {"shop.ledger": "own"}
    assert levels.get("a_erin") == {"shop.orders": "read"}
    entries = {(e.role, e.object_name): e for e in matrix.entries}
    assert entries[("a_erin", "shop.orders")].columns_only is True
    assert entries[("a_alice", "shop.orders")].rls is True
    assert entries[("a_carol", "shop.orders")].reachable is False
    assert entries[("a_carol", "shop.orders")].privileges == ("INSERT",)
    # every claim, done for real
    assert _can(shop, "a_alice", "SELECT * FROM shop.orders")
    assert not _can(shop, "a_alice", "INSERT INTO shop.orders VALUES (1, 'x', 1)")
    assert not _can(shop, "a_bob", "SELECT * FROM shop.orders")
    assert not _can(shop, "a_carol", "INSERT INTO shop.orders VALUES (1, 'x', 1)")
    assert _can(shop, "a_dave", "TRUNCATE shop.ledger")
    assert _can(shop, "a_erin", "SELECT id, total FROM shop.orders")
    assert not _can(shop, "a_erin", "SELECT customer FROM shop.orders")
    summary = {row["role"]: row for row in matrix.summary()}
    assert (summary["a_dave"]["read"], summary["a_dave"]["write"], summary["a_dave"]["own"]) == (1, 1, 1)


def test_role_access_lists_schemas_functions_and_database(shop):
    shop.execute("CREATE FUNCTION shop.total() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    with open_session(shop.url) as conn:
        matrix = role_access(conn, "a_alice")
    kinds = {(e.object_type, e.object_name): e for e in matrix.entries}
    assert kinds[("database", shop.name)].privileges == ("CONNECT", "TEMPORARY")
    assert kinds[("schema", "shop")].privileges == ("USAGE",)
    assert kinds[("function", "shop.total()")].privileges == ("EXECUTE",)  # PUBLIC's default
    text = render(matrix, "text")
    assert "What a_alice can do in" in text and "rows filtered by RLS" in text


def test_access_command(shop):
    result = run_cli("access", "a_dave", "--db", shop.url, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["role"] == "a_dave" and data["member_of"] == ["a_owners"]
    assert {(o["object"], o["level"]) for o in data["objects"] if o["object_type"] == "table"} == {
        ("shop.ledger", "own")
    }
    missing = run_cli("access", "nobody_here", "--db", shop.url)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "dbwright: error: role 'nobody_here' does not exist on this server"
