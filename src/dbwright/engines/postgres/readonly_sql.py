"""The server-side layers of the guarded read-only query path (the MCP ``query`` and ``explain`` tools).

``dbwright.mcp.safety`` parses and walks each statement first; these layers hold even when the
parse check is out of the way:

- the session's default is read-only (``default_transaction_read_only``), with
  ``statement_timeout``, ``lock_timeout`` and ``idle_in_transaction_session_timeout`` set on the
  server;
- every statement goes through the extended query protocol (``prepare=True``, or a server-side
  cursor), so the server itself refuses a second statement;
- it runs inside ``BEGIN … READ ONLY`` after a first query has fixed the snapshot (so
  ``SET transaction_read_only = off`` fails), and the transaction is always rolled back;
- rows and bytes returned are capped, and a cut result says so.

Functions the catalog marks volatile are found here too (``volatile_functions``), so the
deny-list can refuse them. Driver errors leave this module as one-line ServerErrors.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import conninfo as _conninfo

from dbwright.engines.base import Connection, PlanError
from dbwright.engines.postgres.connect import SessionOptions, open_session, resolve_target
from dbwright.engines.postgres.generic_plans import planned_part
from dbwright.errors import BadTargetError, InvalidArgumentError, RefusedError, ServerError
from dbwright.redact import redact


def guarded_conninfo(target: str | None, idle_in_transaction_ms: int) -> str:
    """The target with idle_in_transaction_session_timeout added to its server options."""
    conninfo = resolve_target(target)
    try:
        params = _conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        raise BadTargetError("malformed connection target") from None
    extra = f"-c idle_in_transaction_session_timeout={idle_in_transaction_ms}"
    params["options"] = " ".join(filter(None, [params.get("options", ""), extra]))
    return _conninfo.make_conninfo(**params)


def open_read_only(
    target: str | None,
    *,
    statement_timeout_ms: int,
    lock_timeout_ms: int,
    idle_in_transaction_ms: int,
    application_name: str,
) -> psycopg.Connection:
    """A read-only session (default_transaction_read_only) with all three server-side timeouts."""
    options = SessionOptions(
        read_only=True,
        statement_timeout=f"{statement_timeout_ms}ms",
        lock_timeout=f"{lock_timeout_ms}ms",
        application_name=application_name,
    )
    return open_session(guarded_conninfo(target, idle_in_transaction_ms), options)


class ReadOnlyTransaction:
    """BEGIN READ ONLY, a first query to fix the snapshot, and always ROLLBACK at the end."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> psycopg.Connection:
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        # After the first query of a transaction, read-write mode can no longer be turned on.
        self.conn.execute("SELECT 1", prepare=True)
        return self.conn

    def __exit__(self, *exc: object) -> None:
        if self.conn.closed:
            return
        if self.conn.info.transaction_status == psycopg.pq.TransactionStatus.ACTIVE:
            self.conn.cancel_safe()
        try:
            self.conn.execute("ROLLBACK")
        except psycopg.Error:
            self.conn.close()


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    truncated: bool = False
    truncated_reason: str | None = None
    bytes: int = 0
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "rows": self.rows,
            "row_count": len(self.rows),
            "truncated": self.truncated,
            "truncated_reason": self.truncated_reason,
            "bytes": self.bytes,
            "elapsed_ms": self.elapsed_ms,
            "transaction": "read-only, rolled back",
        }


def json_value(value: Any) -> Any:
    """A JSON-safe rendering of a value psycopg returned."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (decimal.Decimal, uuid.UUID, _dt.date, _dt.time, _dt.datetime, _dt.timedelta)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)


def server_failure(error: BaseException, what: str) -> ServerError:
    lines = str(error).strip().splitlines()
    return ServerError(redact(f"{what}: {lines[0] if lines else type(error).__name__}"))


def as_server_error(error: BaseException) -> ServerError | None:
    """A driver error that escaped a tool, as one ServerError line (the server's own); None for others."""
    if not isinstance(error, psycopg.Error):
        return None
    lines = str(error).strip().splitlines()
    return ServerError(lines[0] if lines else type(error).__name__)


def run_statement(conn: psycopg.Connection, sql: str, *, max_rows: int, max_bytes: int) -> QueryResult:
    """Stream ``sql`` (extended protocol: the server refuses a second statement) with row/byte caps.

    The caller holds a ReadOnlyTransaction; when a cap is hit the query is cancelled on the server.
    """
    started = time.perf_counter()
    cursor = conn.cursor()
    result: QueryResult | None = None
    try:
        for row in cursor.stream(sql):
            if result is None:
                result = QueryResult(columns=[d.name for d in cursor.description or ()])
            values = [json_value(v) for v in row]
            size = len(json.dumps(values, default=str))
            if len(result.rows) >= max_rows:
                result.truncated, result.truncated_reason = True, f"row cap of {max_rows} reached"
                break
            if result.bytes + size > max_bytes:
                result.truncated, result.truncated_reason = True, f"byte cap of {max_bytes} reached"
                break
            result.rows.append(values)
            result.bytes += size
    except psycopg.Error as error:
        raise server_failure(error, "the query failed") from None
    if result is None:
        result = QueryResult(columns=[d.name for d in cursor.description or ()])
    if result.truncated:
        conn.cancel_safe()
    result.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return result


def explain(conn: psycopg.Connection, sql: str, options: str) -> Any:
    """``EXPLAIN (options)`` of one checked statement, by the extended protocol; the plan as JSON.

    Without ANALYZE a write is planned as its read part (planning an UPDATE itself takes ROW
    EXCLUSIVE on its target): the plan then says so under "Planned As"; a write with nothing to
    read is refused. The caller holds a ReadOnlyTransaction.
    """
    planned_as = None
    if "ANALYZE" not in options.upper():
        try:
            part = planned_part(sql)
        except PlanError as error:
            raise RefusedError(f"not explained: {error}") from None
        if part.rewritten:
            planned_as = sql = part.sql
    try:
        row = conn.execute(f"EXPLAIN ({options})\n{sql}", prepare=True).fetchone()
    except psycopg.Error as error:
        raise server_failure(error, "EXPLAIN failed") from None
    plan = row[0] if row else []
    if isinstance(plan, str):
        plan = json.loads(plan)
    if planned_as is not None and plan:
        plan[0]["Planned As"] = planned_as
    return plan


def volatile_functions(
    conn: Connection, functions: Iterable[str], allowed_in_catalog: Iterable[str]
) -> list[str]:
    """The called names with a VOLATILE overload anywhere (the parse tree has no argument types), sorted.

    Names in ``allowed_in_catalog`` count only for the built-in (pg_catalog) function. Names are
    bound parameters.
    """
    names = sorted({f.rsplit(".", 1)[-1] for f in functions})
    if not names:
        return []
    rows = conn.execute(
        "SELECT p.proname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.proname = ANY(%s) AND p.provolatile = 'v' "
        "AND NOT (p.proname = ANY(%s) AND n.nspname = 'pg_catalog') GROUP BY p.proname ORDER BY p.proname",
        (names, sorted(allowed_in_catalog)),
    ).fetchall()
    return [name for (name,) in rows]


def explain_with_hypothetical_indexes(
    conn: psycopg.Connection, sql: str, index_statements: Sequence[str]
) -> dict[str, Any]:
    """The plan of one checked statement without and with HypoPG's hypothetical indexes; nothing is built.

    Each ``CREATE INDEX`` text goes to ``hypopg_create_index`` as a bound parameter, so HypoPG parses it
    and only records the index in this backend's memory; ``hypopg_reset()`` forgets them again. The
    caller holds a ReadOnlyTransaction, and has checked that HypoPG is installed.
    """
    before = explain(conn, sql, "FORMAT JSON")
    created: list[dict[str, Any]] = []
    try:
        for statement in index_statements:
            try:
                row = conn.execute(
                    "SELECT h.indexrelid, h.indexname, hypopg_relation_size(h.indexrelid) "
                    "FROM hypopg_create_index(%s) AS h",
                    (statement,),
                    prepare=True,
                ).fetchone()
            except psycopg.Error as error:  # the definition names a missing column, table or method
                lines = str(error).strip().splitlines()
                raise InvalidArgumentError(
                    redact(
                        f"HypoPG refused index {len(created) + 1} ({statement}): {lines[0] if lines else error}"
                    )
                ) from None
            assert row is not None  # hypopg_create_index returns one row per index it records
            created.append({"definition": statement, "name": row[1], "estimated_bytes": int(row[2])})
        after = explain(conn, sql, "FORMAT JSON")
    finally:
        if not conn.closed and conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
            conn.execute("SELECT hypopg_reset()")
    return {"plan_before": before, "plan_after": after, "hypothetical_indexes": created}
