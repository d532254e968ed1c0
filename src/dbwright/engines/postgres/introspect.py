"""One introspection pass over a PostgreSQL database into a Snapshot.

This is the only code that reads a server's catalog. Each section is one set-based query.
A section the role may not read is recorded in ``Snapshot.skipped`` with the reason, so
the review can say what it could not check instead of failing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from dbwright import __version__
from dbwright.engines.postgres import implied
from dbwright.engines.postgres import queries as q
from dbwright.engines.postgres.own_queries import is_own_query
from dbwright.engines.postgres.query_errors import message_line
from dbwright.model import (
    Column,
    ColumnStats,
    Comment,
    Constraint,
    DatabaseInfo,
    DefaultPrivilege,
    Extension,
    Function,
    HbaRule,
    Index,
    JsonKeys,
    Language,
    Policy,
    Privilege,
    Role,
    Schema,
    Sequence,
    Server,
    Session,
    Setting,
    Skipped,
    Snapshot,
    Statement,
    Table,
    TlsSession,
    Trigger,
    UserType,
    View,
    qualify,
)
from dbwright.model.operations import ident, qident

Progress = Callable[[str], None]


class _Reader:
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.skipped: list[Skipped] = []

    def rows(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def value(self, sql: str) -> Any:
        with self.conn.cursor() as cur:
            cur.execute(sql)
            row = cur.fetchone()
            return row[0] if row else None

    def guarded(self, section: str, sql: str, why: str) -> list[dict[str, Any]] | None:
        """Rows of ``sql``, or None (and a Skipped entry) when the role lacks the privilege."""
        try:
            return self.rows(sql)
        except psycopg.errors.InsufficientPrivilege as error:
            self.skipped.append(Skipped(section, f"{why} ({str(error).splitlines()[0]})"))
            return None

    def skip(self, section: str, reason: str) -> None:
        self.skipped.append(Skipped(section, reason))


def snapshot(
    conn: psycopg.Connection, *, server_memory_bytes: int | None = None, progress: Progress | None = None
) -> Snapshot:
    """Read the whole catalog of the connected database into a Snapshot."""
    started = time.perf_counter()
    step = progress or (lambda _name: None)
    r = _Reader(conn)

    step("server")
    info = r.rows(q.SERVER)[0]
    settings = tuple(Setting(**row) for row in r.rows(q.SETTINGS))
    extensions = tuple(Extension(**row) for row in r.rows(q.EXTENSIONS))
    databases = tuple(DatabaseInfo(**_tuples(row, "acl")) for row in r.rows(q.DATABASES))
    memory = server_memory_bytes or _server_memory(r, info["is_superuser"])
    checksums = next((s.value == "on" for s in settings if s.name == "data_checksums"), None)
    server = Server(
        **info,
        settings=settings,
        extensions=extensions,
        databases=databases,
        memory_bytes=memory,
        data_checksums=checksums,
    )

    step("schemas and tables")
    schemas = tuple(Schema(**_tuples(row, "acl")) for row in r.rows(q.SCHEMAS))
    locked = _locked_relations(r)
    tables = tuple(
        Table(**_tuples(row, "reloptions", "acl")) for row in r.rows(q.with_locked(q.TABLES, locked))
    )

    step("columns and statistics")
    columns = tuple(_column(row) for row in r.rows(q.with_locked(q.COLUMNS, locked)))
    hidden = r.value(q.HIDDEN_STATS)
    if hidden:
        r.skip(
            "column_stats",
            f"pg_stats hides statistics of {hidden} table(s) this role cannot SELECT from; "
            "checks that read column statistics skip them",
        )

    step("jsonb document keys (bounded sample)")
    json_keys = _json_keys(r, locked)

    step("constraints and indexes")
    constraints = tuple(
        Constraint(**_tuples(row, "columns", "ref_columns"))
        for row in r.rows(q.with_locked(q.CONSTRAINTS, locked))
    )
    index_rows = r.rows(q.with_locked(q.INDEXES, locked))
    indexes = tuple(Index(**_tuples(row, "columns", "include", "opclasses")) for row in index_rows)

    step("sequences, views, functions, triggers")
    values = _sequence_values(r, locked)
    sequences = tuple(
        Sequence(**row, last_value=values.get((row["schema"], row["name"]))) for row in r.rows(q.SEQUENCES)
    )
    if r.value(q.SEQUENCES_HIDDEN):
        r.skip("sequence_values", "last_value of some sequences is unknown: this role has no SELECT on them")
    views = tuple(View(**row) for row in r.rows(q.with_locked(q.VIEWS, locked)))
    functions = tuple(Function(**_tuples(row, "config", "acl")) for row in r.rows(q.FUNCTIONS))
    triggers = tuple(Trigger(**row) for row in r.rows(q.TRIGGERS))
    user_types = tuple(UserType(**_tuples(row, "labels", "checks", "attributes")) for row in r.rows(q.TYPES))
    comments = tuple(Comment(**row) for row in r.rows(q.COMMENTS))

    step("roles and privileges")
    roles = _roles(r)
    privileges = tuple(Privilege(**row) for row in r.rows(q.PRIVILEGES))
    default_privileges = tuple(DefaultPrivilege(**row) for row in r.rows(q.DEFAULT_PRIVILEGES))
    hba_rows = r.guarded("hba_rules", q.HBA_RULES, "pg_hba_file_rules needs superuser")
    hba_rules = tuple(HbaRule(**_tuples(row, "database", "user_name", "options")) for row in hba_rows or [])

    step("workload")
    sees_all_stats = bool(info["is_superuser"] or r.value(q.CAN_SEE_ALL_STATS))
    statements, statements_reset = _statements(r, extensions, sees_all_stats)
    sessions = _sessions(r, sees_all_stats)

    step("policies, languages and TLS sessions")
    policies = tuple(Policy(**_tuples(row, "roles")) for row in r.rows(q.POLICIES))
    languages = tuple(Language(**_tuples(row, "acl")) for row in r.rows(q.LANGUAGES))
    tls_sessions = tuple(TlsSession(**row) for row in r.rows(q.TLS_SESSIONS))

    snap = Snapshot(
        server=server,
        taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
        dbwright_version=__version__,
        schemas=schemas,
        tables=tables,
        columns=columns,
        constraints=constraints,
        indexes=indexes,
        sequences=sequences,
        views=views,
        functions=functions,
        triggers=triggers,
        roles=roles,
        privileges=privileges,
        default_privileges=default_privileges,
        hba_rules=hba_rules,
        statements=statements,
        statements_reset=statements_reset,
        sessions=sessions,
        skipped=tuple(r.skipped),
        introspection_ms=round((time.perf_counter() - started) * 1000, 1),
        policies=policies,
        languages=languages,
        tls_sessions=tls_sessions,
        json_keys=json_keys,
        types=user_types,
        comments=comments,
    )
    step("references the data implies (bounded sample)")
    locked_names = {
        qualify(row["schema"], row["name"]) for row in r.rows(q.with_locked(q.LOCKED_NAMES, locked))
    }
    implied_references, implied_skipped = implied.measure(conn, snap, locked_names)
    return dataclasses.replace(
        snap,
        implied_references=implied_references,
        skipped=snap.skipped + tuple(implied_skipped),
        introspection_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def _tuples(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        if row.get(key) is not None:
            row[key] = tuple(row[key])
    return row


def _column(row: dict[str, Any]) -> Column:
    stat_keys = (
        "null_frac",
        "n_distinct",
        "correlation",
        "avg_width",
        "most_common_vals",
        "most_common_freqs",
        "histogram_bounds",
    )
    stats = {k: row.pop(k) for k in stat_keys}
    has_stats = stats["null_frac"] is not None
    if has_stats:
        for key in ("most_common_vals", "most_common_freqs", "histogram_bounds"):
            if stats[key] is not None:
                stats[key] = tuple(stats[key])
    return Column(**row, stats=ColumnStats(**stats) if has_stats else None)


def _json_keys(r: _Reader, locked: str) -> tuple[JsonKeys, ...]:
    """Top-level keys of up to 40 jsonb columns, each over its first 500 object documents.

    Each read runs in a savepoint, so a table that cannot be read (or a statement timeout) costs
    only its own column, which is listed as skipped.
    """
    found = []
    for target in r.rows(q.with_locked(q.JSON_COLUMNS, locked)):
        sql = q.JSON_KEYS.format(
            table=qident(qualify(target["schema"], target["table"])), column=ident(target["column"])
        )
        try:
            with r.conn.transaction():
                rows = r.rows(sql, {"rows": q.JSON_SAMPLE_ROWS})
        except psycopg.Error as error:
            r.skip(
                "json_keys", f"{target['schema']}.{target['table']}.{target['column']}: {message_line(error)}"
            )
            continue
        found.append(
            JsonKeys(
                target["schema"],
                target["table"],
                target["column"],
                rows[0]["rows_sampled"] if rows else 0,
                tuple((row["key"], row["present"]) for row in rows),
            )
        )
    return tuple(found)


#: Sequences read per UNION ALL query.
SEQUENCE_BATCH = 200


def _sequence_values(r: _Reader, locked: str) -> dict[tuple[str, str], int | None]:
    """last_value of each readable sequence, read from the sequence itself (ACCESS SHARE), not through
    pg_sequences, whose pg_sequence_last_value() locks every sequence ROW EXCLUSIVE."""
    names = [(row["schema"], row["name"]) for row in r.rows(q.with_locked(q.READABLE_SEQUENCES, locked))]
    found: dict[tuple[str, str], int | None] = {}
    for start in range(0, len(names), SEQUENCE_BATCH):
        parts = [
            psycopg.sql.SQL(
                "SELECT {} AS schema, {} AS name, CASE WHEN is_called THEN last_value END AS last_value FROM {}"
            ).format(
                psycopg.sql.Literal(schema), psycopg.sql.Literal(name), psycopg.sql.Identifier(schema, name)
            )
            for schema, name in names[start : start + SEQUENCE_BATCH]
        ]
        try:
            with r.conn.transaction():  # a sequence dropped meanwhile costs only its batch
                rows = r.rows(psycopg.sql.SQL("\nUNION ALL\n").join(parts).as_string(r.conn))
        except psycopg.Error:
            continue
        found.update({(row["schema"], row["name"]): row["last_value"] for row in rows})
    return found


def _locked_relations(r: _Reader) -> str:
    """Relations to size from relpages: opening them would queue behind an ACCESS EXCLUSIVE lock."""
    oids = [int(oid) for oid in r.value(q.LOCKED_RELATIONS) or []]
    if oids:
        r.skip(
            "locked_relations",
            f"{len(oids)} relation(s) are behind an ACCESS EXCLUSIVE lock; their sizes "
            "come from pg_class.relpages (as of the last VACUUM or ANALYZE) and their "
            "index, constraint, default and view definitions are left out",
        )
    return f"'{{{','.join(map(str, oids))}}}'::oid[]"


def _server_memory(r: _Reader, is_superuser: bool) -> int | None:
    if not (is_superuser or r.value(q.CAN_READ_FILES)):
        r.skip(
            "server_memory",
            "reading /proc/meminfo needs superuser or pg_read_server_files; "
            "pass --server-memory to size memory settings",
        )
        return None
    try:
        text = r.value(q.MEMORY)
    except psycopg.Error as error:
        r.skip(
            "server_memory",
            f"could not read /proc/meminfo on the server ({str(error).splitlines()[0]}); "
            "pass --server-memory",
        )
        return None
    for line in (text or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    r.skip("server_memory", "the server's /proc/meminfo has no MemTotal; pass --server-memory")
    return None


def _roles(r: _Reader) -> tuple[Role, ...]:
    rows = r.rows(q.ROLES)
    hashes = r.guarded(
        "password_hashes", q.PASSWORD_TYPES, "password hash types are in pg_authid, which needs superuser"
    )
    types = {row["name"]: row["password_type"] for row in hashes or []}
    return tuple(
        Role(**_tuples(row, "member_of", "member_of_all"), password_type=types.get(row["name"]))
        for row in rows
    )


def _statements(
    r: _Reader, extensions: tuple[Extension, ...], sees_all_stats: bool
) -> tuple[tuple[Statement, ...], str | None]:
    ext = next((e for e in extensions if e.name == "pg_stat_statements" and e.installed_version), None)
    if ext is None:
        r.skip("statements", "pg_stat_statements is not installed in this database")
        return (), None
    schema = psycopg.sql.Identifier(ext.schema or "public").as_string(r.conn)
    try:
        rows = r.rows(q.STATEMENTS.format(schema=schema))
    except psycopg.errors.ObjectNotInPrerequisiteState as error:
        r.skip(
            "statements",
            f"pg_stat_statements is installed but not loaded "
            f"(shared_preload_libraries): {str(error).splitlines()[0]}",
        )
        return (), None
    except psycopg.errors.InsufficientPrivilege as error:
        r.skip("statements", f"cannot read pg_stat_statements: {str(error).splitlines()[0]}")
        return (), None
    if not sees_all_stats:
        r.skip(
            "statements_other_users", "other roles' query texts need pg_read_all_stats (part of pg_monitor)"
        )
    reset = None
    with contextlib.suppress(psycopg.Error):  # pg_stat_statements_info appeared in PostgreSQL 14
        reset = r.value(q.STATEMENTS_RESET.format(schema=schema))
    # Statements dbwright sent carry OWN_MARK and are left out by the query; older ones are recognised.
    return tuple(Statement(**row, own=is_own_query(row["query"])) for row in rows), reset


def _sessions(r: _Reader, sees_all_stats: bool) -> tuple[Session, ...]:
    if not sees_all_stats:
        r.skip(
            "other_sessions",
            "other sessions' state and queries need pg_read_all_stats (part of pg_monitor); "
            "idle-in-transaction, long-transaction and blocking checks see only this role's "
            "sessions",
        )
    return tuple(Session(**_tuples(row, "blocked_by")) for row in r.rows(q.SESSIONS))
