"""Effective privileges: what each role can actually do, resolved by the server itself.

Grants alone do not answer "who can read this table": privileges arrive through role membership
(only for roles with INHERIT), ownership is shared by every member of the owning role, a table
privilege is useless without USAGE on its schema and CONNECT on the database, and row-level
security may still filter the rows. Rather than re-model those rules, one set-based query asks
the server's own ``has_table_privilege``, ``has_schema_privilege``, ``pg_has_role``… for every
(role, object) pair, so the answer is the one PostgreSQL enforces (the queries are in
``dbwright.engines.postgres.access``; this module builds the matrix from their rows).

Superusers pass every check; they are listed apart rather than expanded object by object.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dbwright.engines.base import Connection
from dbwright.engines.postgres import access as catalog
from dbwright.errors import DbwrightError


class UnknownRoleError(DbwrightError):
    """The role named on the command line does not exist."""

    exit_code = 2
    label = "usage error"


WRITE = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")


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


def effective_privileges(
    conn: Connection, roles: Iterable[str] | None = None, *, include_other_objects: bool = False
) -> AccessMatrix:
    """The access matrix of ``roles`` (default: every role not named pg_*) in the connected database."""
    names = list(roles) if roles is not None else None
    role_rows = catalog.role_rows(conn, names)
    members = catalog.memberships(conn)
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
    matrix = AccessMatrix(database=catalog.database_name(conn), roles=infos)
    for row in catalog.relation_rows(conn, names):
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
        for row in catalog.other_object_rows(conn, names):
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


def role_access(conn: Connection, role: str) -> AccessMatrix:
    """Everything one role can do in the connected database: relations, schemas, functions, database."""
    matrix = effective_privileges(conn, [role], include_other_objects=True)
    if not matrix.roles:
        raise UnknownRoleError(f"role {role!r} does not exist on this server")
    return matrix
