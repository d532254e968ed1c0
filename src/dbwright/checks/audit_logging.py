"""Audit checks on logging and audit settings (CIS section 3)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbwright.checks.configuration import _library_list, setting_package
from dbwright.checks.registry import check, finding
from dbwright.model.findings import Finding, Severity

#: What an audit trail needs in every line, as log_line_prefix escapes (any one of each group).
_PREFIX_NEEDS = {"time": "mtn", "process or session": "pc", "user": "u", "database": "d", "client": "rh"}
_CIS_PREFIX = "%m [%r] [%p]: [l-%l] %u@%d,app=%a,e=%e "


def _off(snap, name: str, title: str, why: str) -> Iterator[Finding]:
    setting = snap.server.setting(name)
    if setting is None or setting.value != "off":
        return
    fix = setting_package(title, setting, "on", why)
    yield finding(name, f"{name} is off", fix=fix, value=setting.value, source=setting.source)


@check(
    "DWA034",
    cis="3.1.20",
    category="compliance",
    audit_category="logging",
    severity=Severity.MEDIUM,
    title="Connections are not logged",
    requires=("setting:log_connections",),
)
def log_connections(snap) -> Iterator[Finding]:
    """Without ``log_connections`` the log has no record of who connected from where, and failed
    attempts at guessing passwords go unnoticed.

    Fix: ``ALTER SYSTEM SET log_connections = on`` and reload (applies to new sessions).

    References: https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-CONNECTIONS
    """
    yield from _off(
        snap,
        "log_connections",
        "Log connections",
        "Every connection attempt and successful authentication is logged.",
    )


@check(
    "DWA035",
    cis="3.1.21",
    category="compliance",
    audit_category="logging",
    severity=Severity.MEDIUM,
    title="Disconnections are not logged",
    requires=("setting:log_disconnections",),
)
def log_disconnections(snap) -> Iterator[Finding]:
    """Without ``log_disconnections`` a session's end and duration are not logged, so an audit
    cannot tell how long a suspicious session lasted.

    Fix: ``ALTER SYSTEM SET log_disconnections = on`` and reload.

    References: https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-DISCONNECTIONS
    """
    yield from _off(
        snap, "log_disconnections", "Log disconnections", "Each session's end is logged with its duration."
    )


def _escapes(prefix: str) -> set[str]:
    return set(re.findall(r"%-?\d*([a-zA-Z])", prefix))


@check(
    "DWA036",
    cis="3.1.24",
    category="compliance",
    audit_category="logging",
    severity=Severity.MEDIUM,
    title="log_line_prefix lacks who, where or when",
    requires=("setting:log_line_prefix",),
)
def log_line_prefix(snap) -> Iterator[Finding]:
    """A log line is only evidence if it says when, which process, which user, which database and
    which client. Flags a ``log_line_prefix`` missing any of: a timestamp (%m, %t or %n), the process
    or session (%p or %c), the user (%u), the database (%d) and the client (%r or %h). PostgreSQL's
    default ``%m [%p] `` has only the first two.

    Fix: ``ALTER SYSTEM SET log_line_prefix = '%m [%r] [%p]: [l-%l] %u@%d,app=%a,e=%e '`` (CIS 3.1.24,
    pgBadger-compatible) and reload.

    References: https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-LINE-PREFIX
    """
    setting = snap.server.setting("log_line_prefix")
    if setting is None:
        return
    escapes = _escapes(setting.value)
    missing = [what for what, letters in _PREFIX_NEEDS.items() if not escapes & set(letters)]
    if not missing:
        return
    fix = setting_package(
        "Say who, where and when in every log line",
        setting,
        _CIS_PREFIX,
        "Log lines written after the reload carry time, client, process, user and database.",
        security_notes=("Log parsers keyed to the old prefix need the new one.",),
    )
    yield finding(
        "log_line_prefix",
        f"log_line_prefix '{setting.value}' lacks {', '.join(missing)}",
        fix=fix,
        value=setting.value,
        missing=missing,
    )


@check(
    "DWA037",
    cis="3.1.25",
    category="compliance",
    audit_category="logging",
    severity=Severity.MEDIUM,
    title="DDL is not logged",
    requires=("setting:log_statement",),
)
def log_statement_none(snap) -> Iterator[Finding]:
    """With ``log_statement = none`` schema and role changes leave no trace in the log unless
    pgaudit logs them (then this finding is low). CIS 3.1.25 asks for at least ``ddl``.

    Fix: ``ALTER SYSTEM SET log_statement = 'ddl'`` and reload (``mod`` adds data changes).

    References: https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-STATEMENT
    """
    setting = snap.server.setting("log_statement")
    if setting is None or setting.value != "none":
        return
    pgaudit = snap.server.setting("pgaudit.log")
    audited = bool(pgaudit and {"ddl", "all"} & {c.strip().lower() for c in pgaudit.value.split(",")})
    fix = setting_package(
        "Log DDL statements",
        setting,
        "ddl",
        "CREATE, ALTER, DROP, GRANT and REVOKE statements are logged with their text.",
        security_notes=(
            "ALTER ROLE … PASSWORD statements are logged too: protect the logs, "
            "or set passwords with psql's \\password, which sends a hash.",
        ),
    )
    yield finding(
        "log_statement",
        "log_statement is none",
        fix=fix,
        severity=Severity.LOW if audited else None,
        value=setting.value,
        pgaudit_logs_ddl=audited,
    )


@check(
    "DWA038",
    cis="3.2",
    category="compliance",
    audit_category="logging",
    severity=Severity.MEDIUM,
    title="pgaudit is not logging",
    requires=("setting:shared_preload_libraries",),
)
def pgaudit_not_logging(snap) -> Iterator[Finding]:
    """pgaudit writes an audit record per statement and per object touched, with classes (DDL, ROLE,
    WRITE, READ…) an auditor can filter on: what ``log_statement`` cannot. Flags a server where
    pgaudit is not preloaded, or preloaded with ``pgaudit.log = none``.

    Fix: preload pgaudit (restart), then ``ALTER SYSTEM SET pgaudit.log = 'ddl, role'`` and reload.
    ``dbwright audit-logging plan`` (docs/audit-logging.md) generates a complete set-up with object-level
    logging.

    References: https://github.com/pgaudit/pgaudit
    """
    libraries = [
        lib.rsplit("/", 1)[-1] for lib in _library_list(snap.server.setting("shared_preload_libraries"))
    ]
    if "pgaudit" not in libraries:
        from dbwright.model.package import ChangePackage

        fix = ChangePackage.of(
            "Preload pgaudit",
            [],
            "pgaudit must be loaded at server start.",
            requires_restart=True,
            manual_steps=(
                "Install the pgaudit package for this PostgreSQL version.",
                "Add pgaudit to shared_preload_libraries and restart.",
                "ALTER SYSTEM SET pgaudit.log = 'ddl, role'; SELECT pg_reload_conf();",
            ),
        )
        yield finding("pgaudit", "pgaudit is not in shared_preload_libraries", fix=fix, loaded=False)
        return
    setting = snap.server.setting("pgaudit.log")
    if setting is None or setting.value.strip().lower() not in ("none", ""):
        return
    fix = setting_package(
        "Audit DDL and role changes with pgaudit",
        setting,
        "ddl, role",
        "pgaudit logs every DDL statement and every GRANT, REVOKE and role change.",
    )
    yield finding(
        "pgaudit.log", "pgaudit is loaded but pgaudit.log is none", fix=fix, loaded=True, value=setting.value
    )


_DEBUG_SETTINGS = ("debug_print_parse", "debug_print_rewritten", "debug_print_plan")


@check(
    "DWA048",
    cis="3.1.16",
    category="compliance",
    audit_category="logging",
    severity=Severity.LOW,
    title="Debug printing of queries is on",
    requires=tuple(f"setting:{n}" for n in _DEBUG_SETTINGS),
)
def debug_print(snap) -> Iterator[Finding]:
    """``debug_print_parse``, ``debug_print_rewritten`` and ``debug_print_plan`` write every query's
    tree to the log, constants included: data that the other logging settings keep out (CIS
    3.1.16–3.1.18).

    Fix: ``ALTER SYSTEM SET … = off`` and reload.

    References:
    https://www.postgresql.org/docs/current/runtime-config-logging.html#RUNTIME-CONFIG-LOGGING-WHAT
    """
    for name in _DEBUG_SETTINGS:
        setting = snap.server.setting(name)
        if setting is None or setting.value != "on":
            continue
        fix = setting_package(f"Turn {name} off", setting, "off", "Query trees are no longer logged.")
        yield finding(name, f"{name} is on", fix=fix, value=setting.value)


@check(
    "DWA049",
    cis="7.2",
    category="compliance",
    audit_category="logging",
    severity=Severity.LOW,
    title="Replication commands are not logged",
    requires=("setting:log_replication_commands",),
)
def log_replication_commands(snap) -> Iterator[Finding]:
    """A replication connection can copy the whole cluster to another host. Without
    ``log_replication_commands`` the log does not say when that happened or who did it (CIS 7.2).

    Fix: ``ALTER SYSTEM SET log_replication_commands = on`` and reload.

    References:
    https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-REPLICATION-COMMANDS
    """
    yield from _off(
        snap,
        "log_replication_commands",
        "Log replication commands",
        "Every replication command (base backups, replication slots, streaming) is logged.",
    )
