"""Security checks: roles, privileges, functions, passwords, TLS and pg_hba.conf.

Most of these follow the CIS PostgreSQL benchmark and the PostgreSQL docs' own advice;
every one is read from the snapshot (pg_roles, pg_authid, ACLs through aclexplode,
pg_settings, pg_hba_file_rules), so they run offline like every other check.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterator

from dbwright.checks.configuration import alter_setting
from dbwright.checks.registry import check, finding
from dbwright.model import Function, HbaRule, Role, Snapshot
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import (
    AlterRole,
    Grant,
    Operation,
    RawSQL,
    ReloadConfig,
    SetFunctionConfig,
    ident,
    qident,
)
from dbwright.model.package import ChangePackage

_WRITE_PRIVILEGES = {"INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "samehost"}


# --- roles ---------------------------------------------------------------------------------


def bootstrap_superuser(snap: Snapshot) -> str | None:
    """The role initdb created, which every cluster needs and which is never an "extra" superuser.

    That is the role with OID 10. Snapshots saved before dbwright recorded it fall back to, in
    order: the owner of the ``postgres`` database when that owner is a superuser, a superuser
    named ``postgres``, the reviewing role when it is a superuser.
    """
    marked = next((r.name for r in snap.roles if r.bootstrap), None)
    if marked:
        return marked
    roles = {r.name: r for r in snap.roles}
    maintenance_db = next((d for d in snap.server.databases if d.name == "postgres"), None)
    candidates = [maintenance_db.owner if maintenance_db else None, "postgres", snap.server.current_user]
    for name in candidates:
        if name and name in roles and roles[name].superuser:
            return name
    return None


def _login_members(snap: Snapshot) -> dict[str, list[str]]:
    """Role name → login roles that are members of it, directly or through other roles."""
    members: dict[str, list[str]] = defaultdict(list)
    for role in snap.roles:
        if role.login:
            for group in role.member_of_all:
                members[group].append(role.name)
    return members


@check(
    "DW501",
    category="security",
    severity=Severity.HIGH,
    title="Superuser beyond the bootstrap superuser",
    cis="4.3",
    audit_category="access",
    aliases=("DWA001",),
)
def extra_superusers(snap: Snapshot) -> Iterator[Finding]:
    """Superuser bypasses every permission check, so every extra superuser is a full key to the cluster.

    Finds (a) login roles with the SUPERUSER attribute other than the bootstrap superuser (the
    owner of the ``postgres`` database, usually ``postgres``), and (b) role memberships that let a
    login role ``SET ROLE`` to a superuser: the SUPERUSER attribute is never inherited, but a
    member may switch to the role at any time, which is the same power. A lone superuser is never
    flagged.

    Fix: ``ALTER ROLE … NOSUPERUSER`` and grant the narrower attributes or predefined roles the
    role actually needs (CREATEDB, pg_monitor, pg_read_all_data…); for a membership,
    ``REVOKE superuser_role FROM member``.

    References: https://www.postgresql.org/docs/current/role-attributes.html,
    https://www.postgresql.org/docs/current/predefined-roles.html
    """
    superusers = {r.name for r in snap.roles if r.superuser}
    bootstrap = next(iter(superusers)) if len(superusers) == 1 else bootstrap_superuser(snap)
    for role in snap.roles:
        if role.superuser and role.login and role.name != bootstrap and not role.is_builtin:
            yield finding(
                role.name,
                f"role {role.name} can log in as a superuser",
                fix=_nosuperuser(role),
                bootstrap_superuser=bootstrap,
                superusers=sorted(superusers),
            )
    login_members = _login_members(snap)
    for role in snap.roles:
        if role.superuser:
            continue
        for target in sorted(set(role.member_of) & superusers):
            reached_by = ([role.name] if role.login else []) + sorted(login_members.get(role.name, []))
            if not reached_by:
                continue
            sql = f"REVOKE {ident(target)} FROM {ident(role.name)};"
            fix = ChangePackage.of(
                f"Revoke membership in superuser {target} from {role.name}",
                [RawSQL(sql, f"GRANT {ident(target)} TO {ident(role.name)};")],
                f"Members of {role.name} can SET ROLE {target} and act as a superuser. Revoking the "
                "membership removes that path; grant the specific privileges they need instead.",
                security_notes=("Sessions that already switched roles keep it until they end.",),
            )
            yield finding(
                role.name,
                f"{role.name} is a member of superuser {target}: "
                f"{', '.join(reached_by)} can SET ROLE {target}",
                fix=fix,
                superuser_role=target,
                login_roles=reached_by,
            )


def _nosuperuser(role: Role) -> ChangePackage:
    return ChangePackage.of(
        f"Remove SUPERUSER from {role.name}",
        [AlterRole(role.name, "NOSUPERUSER", "SUPERUSER")],
        f"{role.name} keeps its login, ownerships and grants but loses the bypass of all permission "
        "checks. Grant it what it really needs (CREATEDB, CREATEROLE, predefined roles such as "
        "pg_monitor or pg_read_all_data) before or with this change.",
        security_notes=("Check first which jobs or tools connect as this role: they may rely on superuser.",),
    )


@check(
    "DW511",
    category="security",
    severity=Severity.MEDIUM,
    title="Login role with CREATEROLE",
    cis="4.3",
    audit_category="access",
    aliases=("DWA002",),
)
def createrole_login(snap: Snapshot) -> Iterator[Finding]:
    """On PostgreSQL 15 and older, CREATEROLE is almost superuser.

    A role with CREATEROLE can grant itself membership in any non-superuser role, including
    pg_execute_server_program, pg_read_server_files and pg_write_server_files, which run programs
    and read or write files as the server's OS user. The docs call such roles "almost-superuser".
    Finds non-superuser roles with CREATEROLE that can log in or that login roles can SET ROLE to.

    PostgreSQL 16 narrowed CREATEROLE to roles the creator administers, so there the finding is
    low.

    Fix: ``ALTER ROLE … NOCREATEROLE``; let a superuser (or an admin tool running as one) create
    roles, or on PostgreSQL 16+ rely on its narrower CREATEROLE rules.

    References: https://www.postgresql.org/docs/15/sql-createrole.html,
    https://www.postgresql.org/docs/current/predefined-roles.html
    """
    login_members = _login_members(snap)
    for role in snap.roles:
        if not role.createrole or role.superuser or role.is_builtin:
            continue
        reached_by = ([role.name] if role.login else []) + sorted(login_members.get(role.name, []))
        if not reached_by:
            continue
        fix = ChangePackage.of(
            f"Remove CREATEROLE from {role.name}",
            [AlterRole(role.name, "NOCREATEROLE", "CREATEROLE")],
            f"{role.name} can no longer create, alter or drop roles, nor grant itself predefined roles "
            "such as pg_execute_server_program.",
            security_notes=("Role management moves to a superuser or a reviewed provisioning tool.",),
        )
        narrowed = snap.server.version_num >= 160000
        yield finding(
            role.name,
            f"{role.name} has CREATEROLE and can be used by {', '.join(reached_by)}",
            fix=fix,
            severity=Severity.LOW if narrowed else None,
            login_roles=reached_by,
            server_version=snap.server.version_num,
        )


# --- privileges ----------------------------------------------------------------------------


def _public_create_schemas(snap: Snapshot) -> set[str]:
    return {
        p.object_name
        for p in snap.privileges
        if p.object_type == "schema" and p.grantee == "PUBLIC" and p.privilege == "CREATE"
    }


@check(
    "DW502",
    category="security",
    severity=Severity.HIGH,
    title="Schema where anyone can create objects",
    cis="4.6",
    audit_category="access",
    aliases=("DWA014",),
)
def public_create_on_schema(snap: Snapshot) -> Iterator[Finding]:
    """When PUBLIC has CREATE on a schema, any role can plant a table, function or operator there.

    An object planted in a schema on other users' search_path can shadow the one they meant
    (CVE-2018-1058): a function named like a built-in, with a better-matching argument type, runs
    with the caller's privileges. PostgreSQL 15 stopped granting CREATE on ``public`` to PUBLIC for
    new databases, but upgraded ones and explicit grants keep it.

    Fix: ``REVOKE CREATE ON SCHEMA … FROM PUBLIC`` and grant CREATE to the roles that deploy schema
    changes.

    References: https://www.postgresql.org/docs/current/ddl-schemas.html#DDL-SCHEMAS-PATTERNS,
    https://wiki.postgresql.org/wiki/A_Guide_to_CVE-2018-1058:_Protect_Your_Search_Path
    """
    for schema in sorted(_public_create_schemas(snap)):
        fix = ChangePackage.of(
            f"Revoke CREATE on schema {schema} from PUBLIC",
            [Grant("CREATE", "SCHEMA", ident(schema), "PUBLIC", revoke=True)],
            "Only the owner and roles granted CREATE explicitly can create objects in the schema; "
            "existing objects and USAGE are untouched.",
            security_notes=("Grant CREATE to deploy or migration roles that create objects here.",),
        )
        yield finding(
            schema,
            f"every role can create objects in schema {schema}",
            fix=fix,
            grantee="PUBLIC",
            privilege="CREATE",
        )


@check(
    "DW503",
    category="security",
    severity=Severity.MEDIUM,
    title="Table privileges granted to PUBLIC",
    cis="4.6",
    audit_category="access",
    aliases=("DWA010",),
)
def public_table_grants(snap: Snapshot) -> Iterator[Finding]:
    """A grant to PUBLIC is a grant to every role that exists now or is created later.

    Finds tables, views and materialized views with any privilege granted to PUBLIC. Write
    privileges (INSERT, UPDATE, DELETE, TRUNCATE…) make the finding high; a table with row level
    security enabled lowers it, since policies may still restrict the rows (the snapshot does not
    read the policies themselves).

    Fix: ``REVOKE … ON TABLE … FROM PUBLIC`` and grant to the roles (or a group role) that need it.

    References: https://www.postgresql.org/docs/current/ddl-priv.html,
    https://www.postgresql.org/docs/current/sql-revoke.html
    """
    granted: dict[str, list[str]] = defaultdict(list)
    for p in snap.privileges:
        if p.object_type == "table" and p.grantee == "PUBLIC":
            granted[p.object_name].append(p.privilege)
    for name in sorted(granted):
        privileges = sorted(granted[name])
        table = snap.table(name)
        rls = bool(table and table.rls_enabled)
        writes = sorted(set(privileges) & _WRITE_PRIVILEGES)
        severity = Severity.LOW if rls else Severity.HIGH if writes else None
        fix = ChangePackage.of(
            f"Revoke PUBLIC privileges on {name}",
            [Grant(", ".join(privileges), "TABLE", qident(name), "PUBLIC", revoke=True)],
            f"Removes {', '.join(privileges)} on {name} from PUBLIC. Roles that relied on it need an "
            "explicit grant.",
            security_notes=("Grant the privileges to the roles that need them before revoking.",),
        )
        yield finding(
            name,
            f"PUBLIC has {', '.join(privileges)} on {name}",
            fix=fix,
            severity=severity,
            privileges=privileges,
            write_privileges=writes,
            rls_enabled=rls,
            size_bytes=table.total_bytes if table else None,
        )


# --- functions -----------------------------------------------------------------------------


def _search_path_entries(value: str) -> list[str]:
    return [part.strip().strip('"') for part in value.split(",") if part.strip().strip('"')]


def _search_path_problems(function: Function, writable: set[str]) -> list[str]:
    """Why a SECURITY DEFINER function's search_path is unsafe; empty when it is safe."""
    path = function.search_path
    if path is None:
        return ["no search_path is set: the caller's search_path is used"]
    entries = _search_path_entries(path)
    if not entries:
        return []  # search_path = '': only pg_catalog, the documented pattern for qualified bodies
    problems = []
    if "$user" in entries:
        problems.append('"$user" is on the search_path: a role can create a schema named after itself')
    problems += [f"schema {s} on the search_path is writable by PUBLIC" for s in entries if s in writable]
    if "pg_temp" in entries and entries[-1] != "pg_temp":
        problems.append("pg_temp is not last: temporary tables can shadow the function's tables")
    elif "pg_temp" not in entries:
        problems.append("pg_temp is not listed, so it is searched first for tables and types")
    return problems


def _routine_keyword(function: Function) -> str:
    return "PROCEDURE" if function.kind == "p" else "FUNCTION"


def _routine_signature(function: Function) -> str:
    return f"{qident(function.qname)}({function.arguments})"


@check(
    "DW504",
    category="security",
    severity=Severity.HIGH,
    title="SECURITY DEFINER function without a safe search_path",
    cis="4.5",
    audit_category="access",
    aliases=("DWA042",),
)
def security_definer_search_path(snap: Snapshot) -> Iterator[Finding]:
    """A SECURITY DEFINER function runs with its owner's privileges and the caller's search_path.

    Unless the function fixes its own search_path, a caller can put a schema of theirs first and
    make the function resolve a table, function or operator to their object, running it with the
    owner's rights. Flags definer functions with no search_path, or one that includes ``"$user"``
    or a schema PUBLIC can create objects in (high), or that does not list ``pg_temp`` last
    (low: temporary tables are searched first unless ``pg_temp`` is listed). ``search_path = ''``
    with schema-qualified names is safe and not flagged. (SQL-standard bodies, ``BEGIN ATOMIC``,
    resolve names when created and are safe regardless; the snapshot cannot tell them apart yet.)

    Fix: ``ALTER FUNCTION … SET search_path = pg_catalog, <its schema>, pg_temp``.

    References: https://www.postgresql.org/docs/current/sql-createfunction.html#SQL-CREATEFUNCTION-SECURITY
    """
    writable = _public_create_schemas(snap)
    for function in snap.functions:
        if not function.security_definer or function.language in ("c", "internal"):
            continue
        problems = _search_path_problems(function, writable)
        if not problems:
            continue
        only_temp = all(p.startswith("pg_temp") for p in problems)
        schemas = ["pg_catalog"] + ([] if function.schema in writable else [function.schema]) + ["pg_temp"]
        safe_path = ", ".join(ident(s) for s in schemas)
        fix = ChangePackage.of(
            f"Pin the search_path of {function.signature}",
            [_set_search_path(function, safe_path)],
            f"The function then resolves unqualified names in {safe_path} only, whatever the caller's "
            "search_path is. Names it uses from other schemas must be schema-qualified in its body.",
            security_notes=("Test the function afterwards: unqualified references to other schemas fail.",),
        )
        yield finding(
            function.signature,
            f"SECURITY DEFINER {function.signature}: {'; '.join(problems)}",
            fix=fix,
            severity=Severity.LOW if only_temp else None,
            owner=function.owner,
            search_path=function.search_path,
            problems=problems,
        )


def _set_search_path(function: Function, safe_path: str) -> Operation:
    signature = _routine_signature(function)
    if function.kind == "f" and function.search_path is None:
        return SetFunctionConfig(signature, "search_path", safe_path)
    keyword = _routine_keyword(function)
    previous = (
        f"ALTER {keyword} {signature} RESET search_path;"
        if function.search_path is None
        else f"ALTER {keyword} {signature} SET search_path = {function.search_path};"
    )
    return RawSQL(f"ALTER {keyword} {signature} SET search_path = {safe_path};", previous)


@check(
    "DW510",
    category="security",
    severity=Severity.MEDIUM,
    title="SECURITY DEFINER function executable by PUBLIC",
    cis="4.5",
    audit_category="access",
    aliases=("DWA012",),
)
def public_execute_security_definer(snap: Snapshot) -> Iterator[Finding]:
    """Functions are executable by PUBLIC by default, and that includes SECURITY DEFINER ones.

    A definer function runs with its owner's privileges, so leaving EXECUTE with PUBLIC hands
    those privileges to every role, present and future. The docs advise revoking it and granting
    EXECUTE only to the roles meant to call the function. High when the owner is a superuser.

    Fix: ``REVOKE EXECUTE ON FUNCTION … FROM PUBLIC`` (after granting it to the intended callers);
    ``ALTER DEFAULT PRIVILEGES … REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`` stops new ones.

    References: https://www.postgresql.org/docs/current/sql-createfunction.html#SQL-CREATEFUNCTION-SECURITY,
    https://www.postgresql.org/docs/current/ddl-priv.html
    """
    public_execute = {
        p.object_name
        for p in snap.privileges
        if p.object_type == "function" and p.grantee == "PUBLIC" and p.privilege == "EXECUTE"
    }
    superusers = {r.name for r in snap.roles if r.superuser}
    for function in snap.functions:
        if not function.security_definer or function.signature not in public_execute:
            continue
        owner_is_superuser = function.owner in superusers
        fix = ChangePackage.of(
            f"Revoke EXECUTE on {function.signature} from PUBLIC",
            [
                Grant(
                    "EXECUTE", _routine_keyword(function), _routine_signature(function), "PUBLIC", revoke=True
                )
            ],
            f"Only the owner ({function.owner}) and roles granted EXECUTE explicitly can call it.",
            security_notes=(
                f"First GRANT EXECUTE ON {_routine_keyword(function)} {_routine_signature(function)} "
                "TO the roles that call it, or they start failing.",
            ),
        )
        yield finding(
            function.signature,
            f"every role can call SECURITY DEFINER {function.signature} as {function.owner}",
            fix=fix,
            severity=Severity.HIGH if owner_is_superuser else None,
            owner=function.owner,
            owner_is_superuser=owner_is_superuser,
        )


# --- passwords and TLS ---------------------------------------------------------------------


@check(
    "DW505",
    category="security",
    severity=Severity.MEDIUM,
    title="Password stored as an MD5 hash",
    requires=("password_hashes",),
    cis="5.4",
    audit_category="authentication",
    aliases=("DWA005",),
)
def md5_password_hashes(snap: Snapshot) -> Iterator[Finding]:
    """MD5 password hashes are deprecated: the hash is salted only with the role name, and anyone
    who obtains it can log in with it directly over md5 authentication, without the password.

    SCRAM-SHA-256 stores a salted, iterated verifier that cannot be replayed. PostgreSQL 18 warns
    on MD5 passwords and a future release removes them. Low for roles that cannot log in.

    Fix (manual): the stored hash does not reveal the password, so it cannot be converted. Set
    ``password_encryption = 'scram-sha-256'`` and have the password set again (psql ``\\password
    role``, or ``ALTER ROLE … PASSWORD '…'`` with the real password). Setting the password to NULL
    is not a fix: it locks the role out. Clients must support SCRAM (libpq 10+, current JDBC).

    References: https://www.postgresql.org/docs/current/auth-password.html,
    https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-PASSWORD-ENCRYPTION
    """
    for role in snap.roles:
        if role.password_type != "md5":
            continue
        fix = ChangePackage.of(
            f"Re-set the password of {role.name} as SCRAM-SHA-256",
            [],
            "An MD5 hash cannot be turned into a SCRAM verifier without the password itself, so "
            "dbwright cannot do this for you. ALTER ROLE … PASSWORD NULL would lock the role out "
            "and is not a fix.",
            manual_steps=(
                "Make sure password_encryption is scram-sha-256 (see DW506).",
                f"As {role.name} or a superuser in psql: SET password_encryption = 'scram-sha-256'; "
                f"\\password {role.name}  (or ALTER ROLE {ident(role.name)} PASSWORD '<the password>').",
                "Check that this role's clients support SCRAM (libpq 10+), then change md5 to "
                "scram-sha-256 in pg_hba.conf for it.",
            ),
        )
        yield finding(
            role.name,
            f"role {role.name} has an MD5 password hash",
            fix=fix,
            login=role.login,
            severity=None if role.login else Severity.LOW,
        )


@check(
    "DW506",
    category="security",
    severity=Severity.MEDIUM,
    title="New passwords are hashed with MD5",
    cis="5.4",
    audit_category="authentication",
    aliases=("DWA031",),
)
def md5_password_encryption(snap: Snapshot) -> Iterator[Finding]:
    """With ``password_encryption = md5`` every password set from now on is stored as an MD5 hash.

    See DW505 for why MD5 hashes are weak. SCRAM-SHA-256 is the default since PostgreSQL 14.

    Fix: ``ALTER SYSTEM SET password_encryption = 'scram-sha-256'`` and reload. Existing hashes
    stay MD5 until each password is set again.

    References: https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-PASSWORD-ENCRYPTION
    """
    setting = snap.server.setting("password_encryption")
    if setting is None or setting.value != "md5":
        return
    fix = ChangePackage.of(
        "Hash new passwords with SCRAM-SHA-256",
        [alter_setting(setting, "scram-sha-256"), ReloadConfig()],
        "Passwords set after the reload are stored as SCRAM verifiers. Existing MD5 hashes keep "
        "working under md5 authentication and are replaced when each password is set again.",
        security_notes=("Clients older than libpq 10 cannot authenticate against SCRAM verifiers.",),
    )
    yield finding(
        "password_encryption",
        "password_encryption is md5",
        fix=fix,
        value=setting.value,
        source=setting.source,
    )


def _only_local_connections(snap: Snapshot) -> bool:
    listen = snap.server.setting("listen_addresses")
    if listen is None:
        return False
    addresses = {a.strip() for a in listen.value.split(",") if a.strip()}
    return addresses <= _LOOPBACK_NAMES


@check(
    "DW507",
    category="security",
    severity=Severity.HIGH,
    title="TLS is off",
    cis="6.8",
    audit_category="encryption",
    aliases=("DWA027",),
    requires=("setting:ssl",),
)
def ssl_off(snap: Snapshot) -> Iterator[Finding]:
    """With ``ssl = off`` passwords (unless SCRAM), queries and results cross the network in clear text.

    Severity is low when the server listens on loopback addresses only, since nothing then leaves
    the machine. Turning TLS on does not yet force it: use ``hostssl`` lines in pg_hba.conf (and
    ``sslmode=verify-full`` in clients) for that.

    Fix: install a certificate and key (``ssl_cert_file``, ``ssl_key_file``), then
    ``ALTER SYSTEM SET ssl = on`` and reload.

    References: https://www.postgresql.org/docs/current/ssl-tcp.html
    """
    setting = snap.server.setting("ssl")
    if setting is None or setting.value != "off":
        return
    local_only = _only_local_connections(snap)
    listen = snap.server.setting("listen_addresses")
    fix = ChangePackage.of(
        "Turn TLS on",
        [alter_setting(setting, "on"), ReloadConfig()],
        "The server accepts TLS connections after the reload. If the certificate or key is missing "
        "or unreadable, the reload logs an error and TLS stays off.",
        manual_steps=(
            "Place server.crt and server.key (mode 0600, owned by the server's OS user) in the "
            "data directory or point ssl_cert_file / ssl_key_file at them.",
            "Change host lines to hostssl in pg_hba.conf to refuse clear-text connections.",
        ),
    )
    yield finding(
        "ssl",
        "TLS is off",
        fix=fix,
        severity=Severity.LOW if local_only else None,
        value=setting.value,
        listen_addresses=listen.value if listen else None,
        loopback_only=local_only,
    )


# --- pg_hba.conf ---------------------------------------------------------------------------


def _hba_address(rule: HbaRule) -> str | None:
    if rule.address is None:
        return None
    if rule.netmask:
        try:  # the view gives a netmask; IPv6 networks accept only a prefix length
            prefix = bin(int(ipaddress.ip_address(rule.netmask))).count("1")
            return str(ipaddress.ip_network(f"{rule.address}/{prefix}", strict=False))
        except ValueError:
            return f"{rule.address} {rule.netmask}"
    return rule.address


def hba_line(rule: HbaRule, method: str | None = None) -> str:
    """The pg_hba.conf line for a rule, optionally with another auth method."""
    parts = [rule.type, ",".join(rule.database), ",".join(rule.user_name)]
    address = _hba_address(rule)
    if address:
        parts.append(address)
    parts.append(method or rule.auth_method)
    if method is None:
        parts += list(rule.options)
    return " ".join(parts)


def _is_loopback(rule: HbaRule) -> bool:
    if rule.address is None:
        return False
    if rule.address in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_network(_hba_address(rule) or "", strict=False).subnet_of(
            ipaddress.ip_network("127.0.0.0/8" if ":" not in rule.address else "::1/128")
        )
    except (ValueError, TypeError):
        return False


def _hba_fix(rule: HbaRule, method: str, why: str) -> ChangePackage:
    current, corrected = hba_line(rule), hba_line(rule, method)
    return ChangePackage.of(
        f"Replace {rule.auth_method} on pg_hba.conf line {rule.line}",
        [ReloadConfig()],
        f"{why} pg_hba.conf is a file, not SQL: edit it, then reload. Connections already open are "
        "not affected; new ones authenticate with the new method.",
        manual_steps=(
            f"In pg_hba.conf (SHOW hba_file), line {rule.line}: replace `{current}` with `{corrected}`.",
            "Check the file with: SELECT * FROM pg_hba_file_rules WHERE error IS NOT NULL;",
            "Then reload (the SQL below); rollback is restoring the old line and reloading.",
        ),
        security_notes=(
            f"Roles matched by this line need a {method} password (or OS user mapping for peer) "
            "before the change, or they are locked out.",
        ),
    )


def _hba_rule_name(rule: HbaRule) -> str:
    return f"pg_hba.conf:{rule.line}"


@check(
    "DW508",
    category="security",
    severity=Severity.HIGH,
    title="pg_hba.conf trusts connections",
    requires=("hba_rules",),
    cis="5.4",
    audit_category="authentication",
    aliases=("DWA020",),
)
def hba_trust(snap: Snapshot) -> Iterator[Finding]:
    """``trust`` lets anyone who can reach the server connect as any role the line matches, with no
    password — including superusers.

    Critical for ``host`` lines open beyond loopback, high for loopback ``host`` lines (any OS
    user or local process can connect), medium for ``local`` socket lines (any OS user on the
    machine).

    Fix: replace ``trust`` with ``scram-sha-256`` on host lines and ``peer`` on local lines, then
    reload. Give the affected roles SCRAM passwords first.

    References: https://www.postgresql.org/docs/current/auth-trust.html,
    https://www.postgresql.org/docs/current/auth-pg-hba-conf.html
    """
    for rule in snap.hba_rules:
        if rule.error or rule.auth_method != "trust":
            continue
        if rule.type == "local":
            severity, method = Severity.MEDIUM, "peer"
        else:
            severity = Severity.HIGH if _is_loopback(rule) else Severity.CRITICAL
            method = "scram-sha-256"
        fix = _hba_fix(rule, method, "No connection matching this line is let in without authenticating.")
        yield finding(
            _hba_rule_name(rule),
            f"pg_hba.conf line {rule.line} trusts `{hba_line(rule)}`",
            fix=fix,
            severity=severity,
            line=rule.line,
            type=rule.type,
            database=list(rule.database),
            user_name=list(rule.user_name),
            address=_hba_address(rule),
            auth_method=rule.auth_method,
        )


@check(
    "DW509",
    category="security",
    severity=Severity.HIGH,
    title="pg_hba.conf sends passwords in clear text",
    requires=("hba_rules",),
    cis="5.4",
    audit_category="authentication",
    aliases=("DWA022",),
)
def hba_cleartext_password(snap: Snapshot) -> Iterator[Finding]:
    """The ``password`` method sends the password in clear text; without TLS anyone on the path reads
    it, and even with TLS the server (or an impostor, without ``verify-full``) sees it.

    ``scram-sha-256`` proves knowledge of the password without sending it. Lines that only match
    TLS connections (``hostssl``) are medium.

    Fix: replace ``password`` with ``scram-sha-256`` and reload; roles need SCRAM password hashes
    (see DW505).

    References: https://www.postgresql.org/docs/current/auth-password.html
    """
    for rule in snap.hba_rules:
        if rule.error or rule.auth_method != "password":
            continue
        fix = _hba_fix(rule, "scram-sha-256", "The password is no longer sent to the server.")
        yield finding(
            _hba_rule_name(rule),
            f"pg_hba.conf line {rule.line} takes clear-text passwords: `{hba_line(rule)}`",
            fix=fix,
            severity=Severity.MEDIUM if rule.type == "hostssl" else None,
            line=rule.line,
            type=rule.type,
            database=list(rule.database),
            user_name=list(rule.user_name),
            address=_hba_address(rule),
            auth_method=rule.auth_method,
        )
