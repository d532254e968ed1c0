"""Audit checks on roles: superusers, dangerous attributes, passwords, file-access roles, limits."""

from __future__ import annotations

from collections.abc import Iterator

from dbwright.checks.audit_common import PASSWORD_METHODS, hba_line, reached_by, rule_matches_role
from dbwright.checks.registry import check, finding
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import AlterRole, RawSQL, ident
from dbwright.model.package import ChangePackage

_SERVER_FILE_ROLES = ("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files")


def _attribute_check(snap, attribute: str, option: str, inverse: str, why: str) -> Iterator[Finding]:
    for role in snap.roles:
        if role.superuser or role.is_builtin or not getattr(role, attribute):
            continue
        logins = reached_by(snap, role)
        if not logins:
            continue
        fix = ChangePackage.of(
            f"Remove {inverse} from {role.name}",
            [AlterRole(role.name, option, inverse)],
            why,
            security_notes=("Check first which jobs connect as this role and rely on it.",),
        )
        yield finding(
            role.name,
            f"{role.name} has {inverse} and can be used by {', '.join(logins)}",
            fix=fix,
            attribute=inverse,
            login_roles=logins,
        )


@check(
    "DWA003",
    cis="4.3",
    category="security",
    audit_category="access",
    severity=Severity.HIGH,
    title="Login role with BYPASSRLS",
)
def bypassrls_login(snap) -> Iterator[Finding]:
    """BYPASSRLS ignores every row-level security policy: whoever logs in as (or SET ROLE to) such a
    role reads and writes all rows of every table it has privileges on, whatever the policies say.

    Flags non-superuser roles with BYPASSRLS that can log in or that a login role can reach through
    membership. Superusers bypass RLS anyway and are DWA001's business.

    Fix: ``ALTER ROLE … NOBYPASSRLS``; give the few jobs that need all rows (backups with pg_dump)
    a dedicated role.

    References: https://www.postgresql.org/docs/current/role-attributes.html
    """
    yield from _attribute_check(
        snap, "bypassrls", "NOBYPASSRLS", "BYPASSRLS", "Row-level security policies apply to the role again."
    )


@check(
    "DWA004",
    cis="4.3",
    category="security",
    audit_category="access",
    severity=Severity.MEDIUM,
    title="Login role with REPLICATION",
)
def replication_login(snap) -> Iterator[Finding]:
    """REPLICATION lets a role stream the whole cluster's WAL and take base backups: a copy of every
    database, whatever its table privileges.

    Flags non-superuser roles with REPLICATION reachable by a login. CIS 7.1 asks for one dedicated
    replication-only role; keep that one (it is reported so the list can be reviewed) and remove the
    attribute from the others.

    Fix: ``ALTER ROLE … NOREPLICATION`` for roles that are not the replication account.

    References: https://www.postgresql.org/docs/current/role-attributes.html
    """
    yield from _attribute_check(
        snap,
        "replication",
        "NOREPLICATION",
        "REPLICATION",
        "The role can no longer stream WAL or take base backups.",
    )


@check(
    "DWA006",
    cis="5.4",
    category="security",
    audit_category="authentication",
    severity=Severity.MEDIUM,
    title="Login role without a password where pg_hba.conf asks for one",
    requires=("password_hashes", "hba_rules"),
)
def login_without_password(snap) -> Iterator[Finding]:
    """A login role with no password cannot pass a password method (scram-sha-256, md5, password).

    If pg_hba.conf has such a line for it, the role either gets in through an earlier ``trust``,
    ``peer`` or ``ident`` line that nobody meant for it, or it is dead and should not be able to log in
    at all. Reads ``pg_authid`` (superuser) and ``pg_hba_file_rules`` (superuser).

    Fix: ``ALTER ROLE … NOLOGIN`` when the role is unused (the package below), or set a SCRAM
    password for it (``\\password role`` in psql).

    References: https://www.postgresql.org/docs/current/auth-password.html
    """
    for role in snap.roles:
        if not role.login or role.password_type != "none" or role.is_builtin:
            continue
        asking = [
            r
            for r in snap.hba_rules
            if not r.error and r.auth_method in PASSWORD_METHODS and rule_matches_role(r, role)
        ]
        if not asking:
            continue
        fix = ChangePackage.of(
            f"Stop {role.name} from logging in",
            [AlterRole(role.name, "NOLOGIN", "LOGIN")],
            f"{role.name} keeps its grants and ownerships but cannot open sessions.",
            manual_steps=(f"Or keep it a login role and give it a password: \\password {role.name}",),
        )
        yield finding(
            role.name,
            f"login role {role.name} has no password, but pg_hba.conf line "
            f"{asking[0].line} asks for one (`{hba_line(asking[0])}`)",
            fix=fix,
            hba_lines=[r.line for r in asking],
        )


@check(
    "DWA007",
    cis="4.3",
    category="security",
    audit_category="access",
    severity=Severity.HIGH,
    title="Member of a role that reaches the server's files or programs",
)
def server_file_roles(snap) -> Iterator[Finding]:
    """pg_execute_server_program runs any program as the server's OS user (``COPY … FROM PROGRAM``);
    pg_read_server_files and pg_write_server_files read and write any file that user can. Each is a
    short step to superuser (write ``postgresql.auto.conf``, read ``pg_authid``'s files).

    Flags every non-superuser role that is a member, directly or through other roles.

    Fix: ``REVOKE pg_… FROM role``; do server-side file work as a superuser in a reviewed job.

    References: https://www.postgresql.org/docs/current/predefined-roles.html
    """
    for role in snap.roles:
        if role.superuser or role.is_builtin:
            continue
        for target in _SERVER_FILE_ROLES:
            if target not in role.member_of_all:
                continue
            direct = target in role.member_of
            operations = [
                RawSQL(f"REVOKE {target} FROM {ident(role.name)};", f"GRANT {target} TO {ident(role.name)};")
            ]
            fix = ChangePackage.of(
                f"Revoke {target} from {role.name}",
                operations if direct else [],
                f"{role.name} no longer reaches the server's files or programs through {target}.",
                manual_steps=()
                if direct
                else (
                    f"{role.name} is a member through another role: revoke {target} from that "
                    "role (see its own finding) or revoke the membership that leads there.",
                ),
            )
            yield finding(
                role.name,
                f"{role.name} is a member of {target}{'' if direct else ' through another role'}",
                fix=fix,
                predefined_role=target,
                direct=direct,
                login_roles=reached_by(snap, role),
            )


@check(
    "DWA008",
    cis="5.5",
    category="compliance",
    audit_category="configuration",
    severity=Severity.LOW,
    title="Login role without a connection limit",
)
def connection_limit(snap) -> Iterator[Finding]:
    """A login role without CONNECTION LIMIT can use up every connection slot, by a bug or on purpose,
    and lock out every other application (only superuser_reserved_connections remain).

    Flags non-superuser login roles whose ``rolconnlimit`` is -1 (CIS 5.5).

    Fix: ``ALTER ROLE … CONNECTION LIMIT n``, n sized to the application's pool. The package uses a
    quarter of max_connections as a starting point.

    References: https://www.postgresql.org/docs/current/sql-alterrole.html
    """
    max_connections = snap.server.setting("max_connections")
    limit = max(5, int(max_connections.value) // 4) if max_connections else 25
    for role in snap.roles:
        if not role.login or role.superuser or role.is_builtin or role.connection_limit >= 0:
            continue
        fix = ChangePackage.of(
            f"Limit {role.name} to {limit} connections",
            [AlterRole(role.name, f"CONNECTION LIMIT {limit}", "CONNECTION LIMIT -1")],
            f"New sessions of {role.name} beyond {limit} are refused; existing ones stay.",
        )
        yield finding(
            role.name, f"login role {role.name} has no connection limit", fix=fix, suggested_limit=limit
        )
