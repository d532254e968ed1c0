"""Catalog facts the PII protection packages depend on: pgcrypto's state, a table's columns, its readers.

``dbwright.audit.pii.recommend`` builds the encryption, masking, grant and RLS packages from them.
"""

from __future__ import annotations

from dbwright.engines.base import Connection
from dbwright.engines.postgres.query_errors import translate


@translate
def extension_state(conn: Connection, name: str) -> str:
    """``installed``, ``available`` (packaged on the server, not created) or ``unavailable``."""
    row = conn.execute(
        "SELECT installed_version FROM pg_available_extensions WHERE name = %s", (name,)
    ).fetchone()
    if row is None:
        return "unavailable"
    return "installed" if row[0] else "available"


@translate
def table_columns(conn: Connection, schema: str, table: str) -> list[str]:
    """The table's columns, in order."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (schema, table),
        )
    ]


@translate
def select_grantees(conn: Connection, schema: str, table: str) -> list[str]:
    """Roles other than the owner holding table-level SELECT (PUBLIC included)."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a "
            "WHERE n.nspname = %s AND c.relname = %s AND a.privilege_type = 'SELECT' "
            "AND a.grantee <> c.relowner ORDER BY 1",
            (schema, table),
        )
    ]
