"""Replication as the server reports it: standbys streaming from it, its slots, and its own WAL receiver.

Read from ``pg_stat_replication``, ``pg_replication_slots`` and ``pg_stat_wal_receiver``, in one
read-only session. Without ``pg_monitor`` (or superuser) PostgreSQL hides the addresses and LSNs
of other roles' replication connections; the report says so instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg.rows import dict_row

from dbwright.engines.base import Connection
from dbwright.engines.postgres.connect import open_session
from dbwright.engines.postgres.query_errors import translate
from dbwright.engines.postgres.readonly_sql import json_value

_SERVER = """
SELECT pg_is_in_recovery() AS in_recovery,
       CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END::text AS wal_lsn,
       current_setting('wal_level') AS wal_level,
       current_setting('max_wal_senders')::int AS max_wal_senders,
       current_setting('max_replication_slots')::int AS max_replication_slots,
       pg_has_role(current_user, 'pg_monitor', 'USAGE') OR
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS can_see_all
"""

_STANDBYS = """
SELECT application_name, client_addr::text AS client_addr, state, sync_state, sync_priority,
       sent_lsn::text, write_lsn::text, flush_lsn::text, replay_lsn::text,
       CASE WHEN pg_is_in_recovery() THEN NULL
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint END AS replay_lag_bytes,
       extract(epoch FROM write_lag) * 1000 AS write_lag_ms,
       extract(epoch FROM flush_lag) * 1000 AS flush_lag_ms,
       extract(epoch FROM replay_lag) * 1000 AS replay_lag_ms,
       backend_start::text, reply_time::text
FROM pg_stat_replication ORDER BY application_name, client_addr
"""

_SLOTS = """
SELECT slot_name, plugin, slot_type, database, temporary, active, active_pid,
       restart_lsn::text, confirmed_flush_lsn::text, wal_status, safe_wal_size,
       CASE WHEN restart_lsn IS NULL THEN NULL
            WHEN pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_last_wal_receive_lsn(), restart_lsn)::bigint
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint END AS retained_wal_bytes,
       age(xmin)::bigint AS xmin_age, age(catalog_xmin)::bigint AS catalog_xmin_age
FROM pg_replication_slots ORDER BY slot_name
"""

_RECEIVER = """
SELECT status, sender_host, sender_port, slot_name, receive_start_lsn::text, written_lsn::text,
       flushed_lsn::text, latest_end_lsn::text, last_msg_receipt_time::text,
       extract(epoch FROM now() - last_msg_receipt_time) * 1000 AS since_last_message_ms
FROM pg_stat_wal_receiver
"""


@dataclass
class ReplicationStatus:
    """This server's replication: primary or standby, the standbys it feeds, slots, its WAL receiver."""

    in_recovery: bool
    wal_lsn: str | None
    settings: dict[str, Any]
    standbys: list[dict[str, Any]] = field(default_factory=list)
    slots: list[dict[str, Any]] = field(default_factory=list)
    wal_receiver: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def role(self) -> str:
        return "standby" if self.in_recovery else "primary"

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "in_recovery": self.in_recovery,
            "wal_lsn": self.wal_lsn,
            "settings": self.settings,
            "standbys": self.standbys,
            "slots": self.slots,
            "wal_receiver": self.wal_receiver,
            "notes": self.notes,
        }


def _rows(conn: Connection, sql: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql)
        return [{k: json_value(v) for k, v in row.items()} for row in cur.fetchall()]


@translate
def read_replication(conn: Connection) -> ReplicationStatus:
    """The replication views, read in the given (read-only) session."""
    server = _rows(conn, _SERVER)[0]
    receiver = _rows(conn, _RECEIVER)
    status = ReplicationStatus(
        in_recovery=bool(server["in_recovery"]),
        wal_lsn=server["wal_lsn"],
        settings={name: server[name] for name in ("wal_level", "max_wal_senders", "max_replication_slots")},
        standbys=_rows(conn, _STANDBYS),
        slots=_rows(conn, _SLOTS),
        wal_receiver=receiver[0] if receiver else None,
    )
    if not server["can_see_all"]:
        status.notes.append(
            "the role is not a member of pg_monitor: PostgreSQL hides other roles' replication "
            "addresses, LSNs and lags (shown as null)"
        )
    inactive = [s["slot_name"] for s in status.slots if not s["active"]]
    if inactive:
        status.notes.append(
            f"inactive slot(s) {', '.join(inactive)} keep WAL (and, for logical slots, catalog rows) "
            "until a consumer reads them or the slot is dropped"
        )
    return status


def replication_status(target: str | None) -> ReplicationStatus:
    """Open a session on ``target``, read its replication views, close it."""
    with open_session(target) as conn:
        return read_replication(conn)
