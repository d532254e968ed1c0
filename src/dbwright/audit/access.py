"""Effective privileges: what each role can actually do, resolved by the server itself.

Grants alone do not answer "who can read this table": privileges arrive through role membership
(only for roles with INHERIT), ownership is shared by every member of the owning role, a table
privilege is useless without USAGE on its schema and CONNECT on the database, and row-level
security may still filter the rows. Rather than re-model those rules, one set-based query asks
the server's own ``has_table_privilege``, ``has_schema_privilege``, ``pg_has_role``… for every
(role, object) pair, so the answer is the one PostgreSQL enforces.

Superusers pass every check; they are listed apart rather than expanded object by object.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from dbwright.engines.postgres.queries import NOT_EXTENSION_MEMBER, USER_NAMESPACE
from dbwright.errors import DbwrightError


class UnknownRoleError(DbwrightError):
    """The role named on the command line does not exist."""

    exit_code = 2
    label = "usage error"


WRITE = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")

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


@dataclass(frozen=True)
class ObjectAccess:
    """What one role can do with one object, as the server decides it."""

    role: str
    object_type: str  # table, view, materialized view, foreign table, sequence, schema, function, database
    object_name: str
    privileges: tuple[str, ...] = ()
    owner: bool = False  # the role owns it, directly or through an inherited membership
    columns_only: bool = False  # SELECT on some columns, not the whole table
    rls: bool = False  # row-level security policies filter the rows this role sees
    reachable: bool = True  # False: granted, but no USAGE on the schema or no CONNECT on the database

    @property
    def level(self) -> str:
        """own, write, read, use or none: the strongest thing the role can do with the object."""
        if not self.reachable:
            return "none"
        if self.owner:
            return "own"
        if set(self.privileges) & set(WRITE):
            return "write"
        if "SELECT" in self.privileges:
            return "read"
        return "use" if self.privileges else "none"

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "object_type": self.object_type,
            "object": self.object_name,
            "level": self.level,
            "privileges": list(self.privileges),
            "owner": self.owner,
            "columns_only": self.columns_only,
            "rls_filters_rows": self.rls,
            "reachable": self.reachable,
        }


@dataclass(frozen=True)
class RoleInfo:
    name: str
    login: bool
    superuser: bool
    bypassrls: bool
    inherit: bool
    can_connect: bool
    member_of: tuple[str, ...] = ()


@dataclass
class AccessMatrix:
    """Effective privileges of roles on the objects of one database."""

    database: str
    roles: list[RoleInfo] = field(default_factory=list)
    entries: list[ObjectAccess] = field(default_factory=list)

    @property
    def superusers(self) -> list[str]:
        return [r.name for r in self.roles if r.superuser]

    def for_role(self, role: str) -> list[ObjectAccess]:
        return [e for e in self.entries if e.role == role]

    def relation_levels(self) -> dict[str, dict[str, str]]:
        """role → relation → own/write/read, for reachable tables, views and sequences."""
        levels: dict[str, dict[str, str]] = {}
        for entry in self.entries:
            if entry.object_type in ("schema", "function", "database") or entry.level == "none":
                continue
            levels.setdefault(entry.role, {})[entry.object_name] = entry.level
        return levels

    def summary(self) -> list[dict[str, Any]]:
        """Per role: how many relations it can read, write and owns here."""
        levels = self.relation_levels()
        rows = []
        for role in self.roles:
            if role.superuser:
                rows.append(
                    {
                        "role": role.name,
                        "login": role.login,
                        "superuser": True,
                        "read": "all",
                        "write": "all",
                        "own": "all",
                        "connect": True,
                    }
                )
                continue
            counts = Counter(levels.get(role.name, {}).values())
            rows.append(
                {
                    "role": role.name,
                    "login": role.login,
                    "superuser": False,
                    "read": counts["read"] + counts["write"] + counts["own"],
                    "write": counts["write"] + counts["own"],
                    "own": counts["own"],
                    "connect": role.can_connect,
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "superusers": self.superusers,
            "summary": self.summary(),
            "entries": [
                e.to_dict() for e in self.entries if e.level != "none" or e.object_type in ("database",)
            ],
        }


def _rows(conn: psycopg.Connection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def effective_privileges(
    conn: psycopg.Connection, roles: Iterable[str] | None = None, *, include_other_objects: bool = False
) -> AccessMatrix:
    """The access matrix of ``roles`` (default: every role not named pg_*) in the connected database."""
    params = {"roles": list(roles) if roles is not None else None}
    role_rows = _rows(conn, _ROLES + " ORDER BY r.rolname", params)
    members = {row["rolname"]: row["groups"] for row in _rows(conn, _MEMBERSHIPS, {})}
    infos = [
        RoleInfo(
            r["rolname"],
            r["rolcanlogin"],
            r["rolsuper"],
            r["rolbypassrls"],
            r["rolinherit"],
            r["can_connect"],
            tuple(members.get(r["rolname"], ())),
        )
        for r in role_rows
    ]
    matrix = AccessMatrix(database=str(conn.info.dbname), roles=infos)
    for row in _rows(conn, RELATIONS, params):
        privileges = [
            name
            for name, key in (
                ("SELECT", "p_select"),
                ("INSERT", "p_insert"),
                ("UPDATE", "p_update"),
                ("DELETE", "p_delete"),
                ("TRUNCATE", "p_truncate"),
            )
            if row[key]
        ]
        if row["object_type"] == "sequence":
            privileges = [{"INSERT": "USAGE"}.get(p, p) for p in privileges]
        if row["p_select_columns"]:
            privileges.insert(0, "SELECT")
        matrix.entries.append(
            ObjectAccess(
                row["role"],
                row["object_type"],
                row["object_name"],
                tuple(privileges),
                row["owns"],
                bool(row["p_select_columns"]),
                bool(row["rls_applies"]),
                bool(row["reachable"]),
            )
        )
    if include_other_objects:
        for row in _rows(conn, OTHER_OBJECTS, params):
            matrix.entries.append(
                ObjectAccess(
                    row["role"],
                    row["object_type"],
                    row["object_name"],
                    tuple(row["privileges"]),
                    row["owns"],
                    reachable=row["reachable"],
                )
            )
    return matrix


def role_access(conn: psycopg.Connection, role: str) -> AccessMatrix:
    """Everything one role can do in the connected database: relations, schemas, functions, database."""
    matrix = effective_privileges(conn, [role], include_other_objects=True)
    if not matrix.roles:
        raise UnknownRoleError(f"role {role!r} does not exist on this server")
    return matrix
