"""What an audit-logging plan depends on, read from the catalog in one read-only session.

Whether pgaudit is preloaded, available and installed, the database's own settings, which roles
exist, and the primary key of each table to audit (the trigger-based log records the row's key).
``dbwright.audit.logging`` turns this context into change packages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dbwright.engines.postgres.connect import SessionOptions, open_session
from dbwright.engines.postgres.query_errors import translating
from dbwright.errors import InvalidArgumentError
from dbwright.model.operations import qident


@dataclass(frozen=True)
class AuditContext:
    database: str
    pgaudit_preloaded: bool
    pgaudit_available: bool
    pgaudit_installed: bool
    shared_preload_libraries: str
    database_settings: dict[str, str]  # pg_db_role_setting for this database, all roles
    existing_roles: frozenset[str]
    tables: tuple[str, ...]  # schema.name of the tables to audit at object level
    table_keys: dict[str, tuple[str, ...]]  # primary key columns per table


_CONTEXT = """
SELECT current_database(),
       current_setting('shared_preload_libraries'),
       EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pgaudit'),
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgaudit')
"""

_DB_SETTINGS = """
SELECT split_part(s, '=', 1), substr(s, strpos(s, '=') + 1)
FROM pg_db_role_setting d JOIN pg_database db ON db.oid = d.setdatabase, unnest(d.setconfig) s
WHERE db.datname = current_database() AND d.setrole = 0
"""

_KEYS = """
SELECT array_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum))
FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = %s::regclass AND i.indisprimary
"""


def read_logging_context(target: str | None, tables: Sequence[str]) -> AuditContext:
    """Settings, extension state, roles and the primary keys of ``tables``."""
    with translating(), open_session(target, SessionOptions()) as conn:
        database, preload, available, installed = conn.execute(_CONTEXT).fetchone()
        settings = dict(conn.execute(_DB_SETTINGS).fetchall())
        roles = frozenset(r[0] for r in conn.execute("SELECT rolname FROM pg_roles"))
        keys: dict[str, tuple[str, ...]] = {}
        for table in tables:
            if conn.execute("SELECT to_regclass(%s)", (qident(table),)).fetchone()[0] is None:
                raise InvalidArgumentError(f"table does not exist: {table}")
            row = conn.execute(_KEYS, (qident(table),)).fetchone()
            keys[table] = tuple(row[0]) if row and row[0] else ()
    preloaded = "pgaudit" in [lib.strip() for lib in preload.split(",")]
    return AuditContext(
        database, preloaded, available, installed, preload, settings, roles, tuple(tables), keys
    )
