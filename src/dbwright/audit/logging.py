"""Audit logging set-up as change packages: pgaudit where it is loaded, a trigger-based log elsewhere.

With pgaudit: session logging of DDL and role changes (``pgaudit.log = 'ddl, role'``) for the
database, and object logging on the PII tables through ``pgaudit.role``: every statement that
touches a table the auditor role has been granted on is logged, whoever runs it. Parameters
are not logged (``pgaudit.log_parameter = off``), so bound PII values stay out of the log.

Without pgaudit: an append-only table, a SECURITY DEFINER trigger function with a fixed
search_path, row triggers on the PII tables and an event trigger for DDL. The log records who,
when, which table, which operation, the row's key and which columns changed, never the values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from dbwright.audit.package_text import package_lines
from dbwright.audit.roles import CreateRole
from dbwright.engines.postgres.audit_logging import AuditContext, read_logging_context
from dbwright.errors import InvalidArgumentError, RefusedError
from dbwright.model.operations import (
    AlterSystem,
    CreateExtension,
    Grant,
    Lock,
    Operation,
    RawSQL,
    ReloadConfig,
    ident,
    literal,
    qident,
)
from dbwright.model.package import ChangePackage

PGAUDIT_SETTINGS = {
    "pgaudit.log": "ddl, role",
    "pgaudit.log_catalog": "off",
    "pgaudit.log_parameter": "off",
    "pgaudit.log_relation": "on",
}
AUDIT_SCHEMA = "dbwright_audit"
MODES = ("auto", "pgaudit", "trigger")


@dataclass(frozen=True)
class DatabaseSetting(Operation):
    """ALTER DATABASE … SET: the setting applies to new sessions of that database only."""

    kind: ClassVar[str] = "database_setting"
    database: str
    name: str
    value: str | None  # None: RESET
    previous: str | None = None

    def sql(self) -> str:
        if self.value is None:
            return f"ALTER DATABASE {ident(self.database)} RESET {self.name};"
        return f"ALTER DATABASE {ident(self.database)} SET {self.name} = {literal(self.value)};"

    def reverse(self) -> Operation:
        return DatabaseSetting(self.database, self.name, self.previous, self.value)


@dataclass(frozen=True)
class AuditLoggingPlan:
    mode: str  # pgaudit or trigger
    context: AuditContext
    packages: tuple[ChangePackage, ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "database": self.context.database,
            "tables": list(self.context.tables),
            "notes": list(self.notes),
            "packages": [p.to_dict() for p in self.packages],
        }


def read_context(target: str | None, tables: Sequence[str] | None = None) -> AuditContext:
    """Settings, extension state and the tables to audit (default: the PII tables found by sampling)."""
    if tables is None:
        from dbwright.audit.pii import discover_pii

        report = discover_pii(target, recommend=False)
        tables = sorted({f"{f.schema}.{f.table}" for f in report.findings})
    return read_logging_context(target, tables)


def plan_audit_logging(
    target: str | None,
    tables: Sequence[str] | None = None,
    mode: str = "auto",
    auditor: str = "auditor",
    scope: str = "database",
) -> AuditLoggingPlan:
    if mode not in MODES:
        raise InvalidArgumentError(f"unknown audit logging mode {mode!r}; use one of {', '.join(MODES)}")
    if scope not in ("database", "system"):
        raise InvalidArgumentError(f"unknown scope {scope!r}; use database or system")
    return build_plan(read_context(target, tables), mode, auditor, scope)


def build_plan(
    context: AuditContext, mode: str = "auto", auditor: str = "auditor", scope: str = "database"
) -> AuditLoggingPlan:
    notes: list[str] = []
    if mode == "auto":
        mode = "pgaudit" if context.pgaudit_preloaded else "trigger"
        if not context.pgaudit_preloaded:
            notes.append(
                "pgaudit is not in shared_preload_libraries"
                + (
                    " (it is installed: --mode pgaudit adds it, which needs a restart)"
                    if context.pgaudit_available
                    else " and not installed on the server"
                )
                + "; using the trigger-based audit log"
            )
    if mode == "pgaudit":
        if not context.pgaudit_available:
            raise RefusedError("pgaudit is not installed on the server; use --mode trigger")
        packages = pgaudit_packages(context, auditor, scope)
    else:
        packages = trigger_packages(context, auditor)
    return AuditLoggingPlan(mode, context, tuple(packages), tuple(notes))


def _role(context: AuditContext, name: str) -> list[Operation]:
    return [] if name in context.existing_roles else [CreateRole(name, "NOLOGIN")]


def pgaudit_packages(context: AuditContext, auditor: str, scope: str) -> list[ChangePackage]:
    packages = []
    if not context.pgaudit_preloaded:
        libraries = ",".join(filter(None, [context.shared_preload_libraries.strip(), "pgaudit"]))
        packages.append(
            ChangePackage.of(
                "Load pgaudit at server start",
                [
                    AlterSystem(
                        "shared_preload_libraries",
                        libraries,
                        context.shared_preload_libraries or None,
                        needs_restart=True,
                    )
                ],
                "pgaudit hooks into the executor, so it must be in shared_preload_libraries.",
                requires_restart=True,
                manual_steps=("restart the server in a maintenance window, then apply the next package",),
            )
        )
    settings = dict(PGAUDIT_SETTINGS, **{"pgaudit.role": auditor})
    ops: list[Operation] = [] if context.pgaudit_installed else [CreateExtension("pgaudit")]
    ops += _role(context, auditor)
    if scope == "database":
        ops += [
            DatabaseSetting(context.database, name, value, context.database_settings.get(name))
            for name, value in settings.items()
        ]
    else:
        ops += [AlterSystem(name, value) for name, value in settings.items()] + [ReloadConfig()]
    where = f"database {context.database}" if scope == "database" else "the whole server"
    packages.append(
        ChangePackage.of(
            "pgaudit session logging for DDL and role changes",
            ops,
            f"Logs every DDL statement and every GRANT, REVOKE, CREATE/ALTER/DROP ROLE in {where} as an "
            f"AUDIT: SESSION line in the server log. pgaudit.role = {auditor} turns on object logging for the "
            "tables granted to that role (next package).",
            security_notes=(
                "statement text is logged: literals written into SQL (not bound parameters) reach the "
                "log, so restrict who can read the server log",
                "database-level settings apply to new sessions; existing sessions keep their settings",
            ),
        )
    )
    if context.tables:
        grants: list[Operation] = [
            Grant("SELECT, INSERT, UPDATE, DELETE", "TABLE", qident(t), auditor) for t in context.tables
        ]
        packages.append(
            ChangePackage.of(
                "pgaudit object logging on the PII tables",
                grants,
                f"pgaudit logs every statement that reads or writes {', '.join(context.tables)} as an AUDIT: OBJECT "
                f"line, because {auditor} (pgaudit.role, NOLOGIN) holds those privileges. The grants give nobody "
                "access: no one logs in as the auditor role.",
                security_notes=(
                    f"never grant {auditor} to a login role: its grants exist only to select what is audited",
                ),
            )
        )
    return packages


_LOG_TABLE = f"""CREATE TABLE {AUDIT_SCHEMA}.log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  logged_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  session_user_name text NOT NULL DEFAULT session_user,
  -- the SET ROLE in force (current_user would be the definer inside the trigger function)
  role_name text DEFAULT nullif(current_setting('role'), 'none'),
  client_addr inet DEFAULT inet_client_addr(),
  application_name text DEFAULT current_setting('application_name'),
  transaction_id bigint NOT NULL DEFAULT txid_current(),
  table_name text NOT NULL,
  operation text NOT NULL,
  row_key jsonb,
  changed_columns text[]
);"""

_ROW_FUNCTION = f"""CREATE FUNCTION {AUDIT_SCHEMA}.log_row_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  old_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
  new_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
  key_columns text[] := TG_ARGV;
  changed text[];
BEGIN
  IF TG_OP = 'UPDATE' THEN
    SELECT array_agg(n.key ORDER BY n.key) INTO changed
    FROM jsonb_each(new_row) n WHERE n.value IS DISTINCT FROM old_row -> n.key;
  ELSE
    SELECT array_agg(k ORDER BY k) INTO changed FROM jsonb_object_keys(coalesce(new_row, old_row)) k;
  END IF;
  INSERT INTO {AUDIT_SCHEMA}.log (table_name, operation, row_key, changed_columns)
  VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP,
          (SELECT jsonb_object_agg(k, coalesce(new_row, old_row) -> k) FROM unnest(key_columns) k),
          changed);
  RETURN NULL;
END
$fn$;"""

_DDL_FUNCTION = f"""CREATE FUNCTION {AUDIT_SCHEMA}.log_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE schema_name IS DISTINCT FROM '{AUDIT_SCHEMA}' LOOP
    INSERT INTO {AUDIT_SCHEMA}.log (table_name, operation, row_key)
    VALUES (coalesce(r.object_identity, ''), r.command_tag, jsonb_build_object('object_type', r.object_type));
  END LOOP;
END
$fn$;"""


def trigger_packages(context: AuditContext, auditor: str) -> list[ChangePackage]:
    s = AUDIT_SCHEMA
    ops: list[Operation] = [
        RawSQL(f"CREATE SCHEMA {s};", f"DROP SCHEMA IF EXISTS {s};"),
        RawSQL(_LOG_TABLE, f"DROP TABLE IF EXISTS {s}.log;", destructive_=False),
        RawSQL(f"REVOKE ALL ON {s}.log FROM PUBLIC;"),
        RawSQL(_ROW_FUNCTION, f"DROP FUNCTION IF EXISTS {s}.log_row_change();"),
        RawSQL(f"REVOKE ALL ON FUNCTION {s}.log_row_change() FROM PUBLIC;"),
        RawSQL(_DDL_FUNCTION, f"DROP FUNCTION IF EXISTS {s}.log_ddl();"),
        RawSQL(
            f"CREATE EVENT TRIGGER dbwright_audit_ddl ON ddl_command_end EXECUTE FUNCTION {s}.log_ddl();",
            "DROP EVENT TRIGGER IF EXISTS dbwright_audit_ddl;",
        ),
        *_role(context, auditor),
        Grant("USAGE", "SCHEMA", s, auditor),
        Grant("SELECT", "TABLE", f"{s}.log", auditor),
    ]
    for table in context.tables:
        name = ident("dbwright_audit_" + table.split(".", 1)[1])
        keys = ", ".join(literal(k) for k in context.table_keys.get(table, ()))
        ops.append(
            RawSQL(
                f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {qident(table)} "
                f"FOR EACH ROW EXECUTE FUNCTION {s}.log_row_change({keys});",
                f"DROP TRIGGER IF EXISTS {name} ON {qident(table)};",
                lock_=Lock("SHARE ROW EXCLUSIVE", table),
            )
        )
    return [
        ChangePackage.of(
            "Trigger-based audit log",
            ops,
            f"An append-only table {s}.log, filled by a SECURITY DEFINER trigger function with a fixed "
            "search_path: row triggers record who changed which row of "
            f"{', '.join(context.tables) or 'no table yet'} and which columns, and an event trigger records DDL. "
            f"Values are never copied into the log. {auditor} may read it; nobody else may write it.",
            security_notes=(
                "reads (SELECT) are not audited by triggers: that needs pgaudit",
                "the event trigger needs superuser to create",
                f"the rollback drops {s}.log and the audit history in it: export it first",
            ),
        )
    ]


def render_text(plan: AuditLoggingPlan) -> str:
    lines = [
        f"Audit logging for {plan.context.database}: {plan.mode}",
        f"tables audited at object level: {', '.join(plan.context.tables) or 'none'}",
    ]
    lines += [f"note: {note}" for note in plan.notes]
    for number, package in enumerate(plan.packages, 1):
        lines += ["", *package_lines(number, package)]
    return "\n".join(lines)
