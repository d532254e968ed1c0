"""Effective privileges as the server decides them: one set-based query per kind of object.

Rather than re-model PostgreSQL's rules (INHERIT, shared ownership, USAGE on the schema, CONNECT
on the database, row-level security), these queries ask the server's own
``has_table_privilege``, ``has_schema_privilege``, ``pg_has_role``… for every (role, object)
pair. ``dbwright.audit.access`` turns the rows into an access matrix. The roles × objects
query can be long on a large catalog: past ``statement_timeout`` it raises QueryTimeoutError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.rows import dict_row

from dbwright.engines.base import Connection
from dbwright.engines.postgres.queries import NOT_EXTENSION_MEMBER, USER_NAMESPACE
from dbwright.engines.postgres.query_errors import translate

_ROLES = """
SELECT r.oid, r.rolname, r.rolsuper, r.rolbypassrls, r.rolcanlogin, r.rolinherit,
       has_database_privilege(r.oid, current_database(), 'CONNECT') AS can_connect
FROM pg_roles r
WHERE r.rolname !~ '^pg_' AND (%(roles)s::text[] IS NULL OR r.rolname = ANY(%(roles)s::text[]))
"""

_USER_NAMESPACE = USER_NAMESPACE.replace("%", "%%")  # these queries take %(name)s parameters

_MEMBERSHIPS = """
SELECT r.rolname, array(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                        WHERE m.member = r.oid ORDER BY 1) AS groups
FROM pg_roles r
"""

RELATIONS = f"""
WITH roles AS ({_ROLES}), rels AS (
    SELECT c.oid, c.relnamespace, n.nspname AS schema, c.relname AS name, c.relkind, c.relowner,
           c.relrowsecurity, c.relforcerowsecurity
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {_USER_NAMESPACE}
      AND {NOT_EXTENSION_MEMBER.format(oid="c.oid", catalog="'pg_class'")}
), pairs AS (
    SELECT r.rolname AS role, r.can_connect, r.rolbypassrls, t.*,
           pg_has_role(r.oid, t.relowner, 'USAGE') AS owns,
           has_schema_privilege(r.oid, t.relnamespace, 'USAGE') AS schema_usage,
           CASE WHEN t.relkind = 'S' THEN has_sequence_privilege(r.oid, t.oid, 'SELECT')
                ELSE has_table_privilege(r.oid, t.oid, 'SELECT') END AS p_select,
           CASE WHEN t.relkind = 'S' THEN false
                ELSE NOT has_table_privilege(r.oid, t.oid, 'SELECT')
                     AND has_any_column_privilege(r.oid, t.oid, 'SELECT') END AS p_select_columns,
           CASE WHEN t.relkind = 'S' THEN has_sequence_privilege(r.oid, t.oid, 'USAGE')
                ELSE has_table_privilege(r.oid, t.oid, 'INSERT') END AS p_insert,
           CASE WHEN t.relkind = 'S' THEN has_sequence_privilege(r.oid, t.oid, 'UPDATE')
                ELSE has_table_privilege(r.oid, t.oid, 'UPDATE') END AS p_update,
           t.relkind <> 'S' AND has_table_privilege(r.oid, t.oid, 'DELETE') AS p_delete,
           t.relkind <> 'S' AND has_table_privilege(r.oid, t.oid, 'TRUNCATE') AS p_truncate
    FROM roles r CROSS JOIN rels t
    WHERE NOT r.rolsuper
)
SELECT role, CASE relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                          WHEN 'f' THEN 'foreign table' ELSE 'table' END AS object_type,
       schema || '.' || name AS object_name, owns, schema_usage AND can_connect AS reachable,
       p_select, p_select_columns, p_insert, p_update, p_delete, p_truncate,
       relrowsecurity AND NOT rolbypassrls AND (NOT owns OR relforcerowsecurity) AS rls_applies
FROM pairs
WHERE owns OR p_select OR p_select_columns OR p_insert OR p_update OR p_delete OR p_truncate
ORDER BY 1, 3
"""

OTHER_OBJECTS = f"""
WITH roles AS ({_ROLES})
SELECT r.rolname AS role, 'schema' AS object_type, n.nspname AS object_name,
       pg_has_role(r.oid, n.nspowner, 'USAGE') AS owns, r.can_connect AS reachable,
       array_remove(ARRAY[CASE WHEN has_schema_privilege(r.oid, n.oid, 'USAGE') THEN 'USAGE' END,
                          CASE WHEN has_schema_privilege(r.oid, n.oid, 'CREATE') THEN 'CREATE' END], NULL) AS privileges
FROM roles r CROSS JOIN pg_namespace n
WHERE NOT r.rolsuper AND (({_USER_NAMESPACE}) OR n.nspname = 'public')
  AND {NOT_EXTENSION_MEMBER.format(oid="n.oid", catalog="'pg_namespace'")}
UNION ALL
SELECT r.rolname, 'function', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       pg_has_role(r.oid, p.proowner, 'USAGE'),
       r.can_connect AND has_schema_privilege(r.oid, n.oid, 'USAGE'),
       CASE WHEN has_function_privilege(r.oid, p.oid, 'EXECUTE') THEN ARRAY['EXECUTE'] ELSE '{{}}' END
FROM roles r CROSS JOIN pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE NOT r.rolsuper AND {_USER_NAMESPACE} AND {NOT_EXTENSION_MEMBER.format(oid="p.oid", catalog="'pg_proc'")}
UNION ALL
SELECT r.rolname, 'database', current_database(),
       pg_has_role(r.oid, d.datdba, 'USAGE'), true,
       array_remove(ARRAY[CASE WHEN has_database_privilege(r.oid, d.oid, 'CONNECT') THEN 'CONNECT' END,
                          CASE WHEN has_database_privilege(r.oid, d.oid, 'CREATE') THEN 'CREATE' END,
                          CASE WHEN has_database_privilege(r.oid, d.oid, 'TEMPORARY') THEN 'TEMPORARY' END], NULL)
FROM roles r CROSS JOIN pg_database d
WHERE NOT r.rolsuper AND d.datname = current_database()
ORDER BY 1, 2, 3
"""


def _rows(conn: Connection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


@translate
def role_rows(conn: Connection, roles: Sequence[str] | None) -> list[dict[str, Any]]:
    """``roles`` (default: every role not named pg_*) with their attributes and CONNECT, by name."""
    return _rows(conn, _ROLES + " ORDER BY r.rolname", {"roles": roles})


@translate
def memberships(conn: Connection) -> dict[str, list[str]]:
    """Role → the roles it is a direct member of."""
    return {row["rolname"]: row["groups"] for row in _rows(conn, _MEMBERSHIPS, {})}


@translate
def relation_rows(conn: Connection, roles: Sequence[str] | None) -> list[dict[str, Any]]:
    """What each non-superuser role can do with each table, view and sequence (rows with some access)."""
    return _rows(conn, RELATIONS, {"roles": roles})


@translate
def other_object_rows(conn: Connection, roles: Sequence[str] | None) -> list[dict[str, Any]]:
    """What each non-superuser role can do with schemas, functions and the database itself."""
    return _rows(conn, OTHER_OBJECTS, {"roles": roles})


def database_name(conn: Connection) -> str:
    """The database the session is connected to."""
    return str(conn.info.dbname)  # type: ignore[attr-defined]
