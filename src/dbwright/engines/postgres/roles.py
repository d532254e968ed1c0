"""What a least-privilege plan depends on, read from the catalog in one read-only session.

Which roles exist and own the chosen schemas' objects, which privileges PUBLIC holds, which
logins connect only through PUBLIC's CONNECT, and which memberships exist already. dbwright's own
schema (the migration history, backfill progress) is never among the chosen schemas, so no plan
grants an application role access to it.
``dbwright.audit.roles`` turns this context into change packages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dbwright.engines.base import Connection
from dbwright.engines.postgres.connect import SessionOptions, open_session
from dbwright.engines.postgres.migration_history import SCHEMA as OWN_SCHEMA
from dbwright.engines.postgres.query_errors import translating
from dbwright.errors import InvalidArgumentError


@dataclass(frozen=True)
class PublicGrant:
    object_type: str  # DATABASE, SCHEMA, TABLE, SEQUENCE
    object_name: str  # quoted
    privileges: tuple[str, ...]


@dataclass(frozen=True)
class RoleContext:
    database: str
    schemas: tuple[str, ...]
    existing_roles: frozenset[str]
    owners: tuple[str, ...]  # roles owning tables/sequences/schemas in the chosen schemas
    public_grants: tuple[PublicGrant, ...]
    logins_relying_on_public: tuple[str, ...]  # non-superuser logins with no CONNECT of their own
    memberships: frozenset[tuple[str, str]] = frozenset()  # (group, member) pairs that exist already


_SCHEMAS = """
SELECT nspname FROM pg_namespace
WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
ORDER BY nspname
"""

_OWNERS = """
SELECT DISTINCT pg_get_userbyid(owner) FROM (
  SELECT c.relowner AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION SELECT nspowner FROM pg_namespace WHERE nspname = ANY(%(schemas)s)
) o
WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = o.owner AND r.rolname = 'pg_database_owner')
ORDER BY 1
"""

_PUBLIC_ACL = """
SELECT 'DATABASE', quote_ident(datname), array_agg(DISTINCT a.privilege_type ORDER BY a.privilege_type)
FROM pg_database, aclexplode(coalesce(datacl, acldefault('d', datdba))) a
WHERE datname = current_database() AND a.grantee = 0 GROUP BY datname
UNION ALL
SELECT 'SCHEMA', quote_ident(nspname), array_agg(DISTINCT a.privilege_type ORDER BY a.privilege_type)
FROM pg_namespace, aclexplode(coalesce(nspacl, acldefault('n', nspowner))) a
WHERE nspname = ANY(%(schemas)s) AND a.grantee = 0 GROUP BY nspname
UNION ALL
SELECT CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       array_agg(DISTINCT a.privilege_type ORDER BY a.privilege_type)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
     aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char",
                                              c.relowner))) a
WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND a.grantee = 0
GROUP BY c.relkind, n.nspname, c.relname
ORDER BY 1, 2
"""

_LOGINS_ON_PUBLIC = """
SELECT r.rolname FROM pg_roles r, pg_database d
WHERE d.datname = current_database() AND r.rolcanlogin AND NOT r.rolsuper AND r.oid <> d.datdba
  AND NOT EXISTS (
    SELECT 1 FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
    WHERE a.privilege_type = 'CONNECT' AND a.grantee <> 0 AND pg_has_role(r.oid, a.grantee, 'USAGE'))
ORDER BY 1
"""


def read_context(target: str | None, schemas: Sequence[str] = ()) -> RoleContext:
    """What the plan depends on, read in one read-only session."""
    with translating(), open_session(target, SessionOptions()) as conn:
        if OWN_SCHEMA in schemas:
            raise InvalidArgumentError(
                f"{OWN_SCHEMA} is dbwright's own schema (migration history, backfill progress): "
                "roles plan never grants application roles access to it"
            )
        all_schemas = [row[0] for row in conn.execute(_SCHEMAS) if row[0] != OWN_SCHEMA]
        chosen = (
            list(schemas) or [s for s in all_schemas if s != "public" or _has_objects(conn, s)] or ["public"]
        )
        missing = [s for s in chosen if s not in all_schemas]
        if missing:
            raise InvalidArgumentError(f"schema does not exist: {', '.join(missing)}")
        params = {"schemas": chosen}
        database = conn.execute("SELECT current_database()").fetchone()[0]
        roles = frozenset(row[0] for row in conn.execute("SELECT rolname FROM pg_roles"))
        owners = tuple(row[0] for row in conn.execute(_OWNERS, params))
        public = tuple(
            PublicGrant(row[0], row[1], tuple(row[2])) for row in conn.execute(_PUBLIC_ACL, params)
        )
        relying = tuple(row[0] for row in conn.execute(_LOGINS_ON_PUBLIC))
        members = frozenset(
            conn.execute(
                "SELECT pg_get_userbyid(roleid), pg_get_userbyid(member) FROM pg_auth_members"
            ).fetchall()
        )
    return RoleContext(database, tuple(chosen), roles, owners, public, relying, members)


def _has_objects(conn: Connection, schema: str) -> bool:
    return bool(
        conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s)",
            (schema,),
        ).fetchone()[0]
    )
