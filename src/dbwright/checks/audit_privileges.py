"""Audit checks on privileges: grants to PUBLIC, default privileges, ownership, untrusted languages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from dbwright.checks.audit_common import superuser_names
from dbwright.checks.registry import check, finding
from dbwright.checks.security import _routine_keyword, _routine_signature
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import Grant, RawSQL, ident, qident
from dbwright.model.package import ChangePackage

_ALWAYS_UNTRUSTED = ("c", "internal")  # every cluster has them; only superusers can use them


def _public(snap, object_type: str) -> dict[str, list[str]]:
    granted: dict[str, list[str]] = defaultdict(list)
    for p in snap.privileges:
        if p.object_type == object_type and p.grantee == "PUBLIC":
            granted[p.object_name].append(p.privilege)
    return granted


@check(
    "DWA011",
    cis="4.6",
    category="security",
    audit_category="access",
    severity=Severity.MEDIUM,
    title="Sequence privileges granted to PUBLIC",
)
def public_sequence_grants(snap) -> Iterator[Finding]:
    """With USAGE or UPDATE on a sequence, any role can call ``nextval``/``setval``: burn or rewind
    the ids an application relies on. SELECT reveals how many rows were ever created.

    Fix: ``REVOKE … ON SEQUENCE … FROM PUBLIC`` and grant to the roles that insert.

    References: https://www.postgresql.org/docs/current/ddl-priv.html
    """
    for name, privileges in sorted(_public(snap, "sequence").items()):
        privileges = sorted(privileges)
        fix = ChangePackage.of(
            f"Revoke PUBLIC privileges on sequence {name}",
            [Grant(", ".join(privileges), "SEQUENCE", qident(name), "PUBLIC", revoke=True)],
            "Roles that relied on PUBLIC need an explicit grant.",
        )
        yield finding(
            name, f"PUBLIC has {', '.join(privileges)} on sequence {name}", fix=fix, privileges=privileges
        )


@check(
    "DWA013",
    cis="4.6",
    category="security",
    audit_category="access",
    severity=Severity.LOW,
    title="Schema usage granted to PUBLIC",
)
def public_schema_usage(snap) -> Iterator[Finding]:
    """USAGE on a schema lets every role see and call what is in it: functions (executable by PUBLIC
    by default), types, and the names of every table. Least privilege grants USAGE to the roles that
    use the schema. The ``public`` schema is left out: PostgreSQL grants USAGE on it to everyone by
    design, and CREATE on it is DWA014's business.

    Fix: ``REVOKE USAGE ON SCHEMA … FROM PUBLIC`` and grant it to the application's group roles.

    References: https://www.postgresql.org/docs/current/ddl-schemas.html#DDL-SCHEMAS-PRIV
    """
    for name, privileges in sorted(_public(snap, "schema").items()):
        if name == "public" or "USAGE" not in privileges:
            continue
        fix = ChangePackage.of(
            f"Revoke USAGE on schema {name} from PUBLIC",
            [Grant("USAGE", "SCHEMA", ident(name), "PUBLIC", revoke=True)],
            "Only roles granted USAGE explicitly can reach objects in the schema.",
            security_notes=("Grant USAGE to the roles that use the schema first.",),
        )
        yield finding(name, f"PUBLIC has USAGE on schema {name}", fix=fix)


@check(
    "DWA015",
    cis=None,
    category="security",
    audit_category="access",
    severity=Severity.LOW,
    title="Database open to PUBLIC",
)
def public_database_grants(snap) -> Iterator[Finding]:
    """By default every role may CONNECT to every database and create TEMPORARY tables in it.

    On a server shared by several applications, that lets any login look around every database's
    catalog. Least privilege revokes CONNECT from PUBLIC and grants it to the database's own roles.
    Template databases and ``postgres`` are left out.

    Fix: ``REVOKE CONNECT, TEMPORARY ON DATABASE … FROM PUBLIC``; ``GRANT CONNECT`` to the app roles.

    References: https://www.postgresql.org/docs/current/ddl-priv.html
    """
    for name, privileges in sorted(_public(snap, "database").items()):
        if name in ("postgres", "template0", "template1"):
            continue
        privileges = sorted(privileges)
        fix = ChangePackage.of(
            f"Revoke {', '.join(privileges)} on database {name} from PUBLIC",
            [Grant(", ".join(privileges), "DATABASE", ident(name), "PUBLIC", revoke=True)],
            "Only roles granted CONNECT explicitly (and the owner, and superusers) can connect.",
            security_notes=(
                "GRANT CONNECT to every application role first, or they are "
                "locked out at their next connection.",
            ),
        )
        yield finding(
            name, f"PUBLIC has {', '.join(privileges)} on database {name}", fix=fix, privileges=privileges
        )


_DEFAULT_PRIVILEGE_KEYWORDS = {
    "table": "TABLES",
    "sequence": "SEQUENCES",
    "function": "FUNCTIONS",
    "type": "TYPES",
    "schema": "SCHEMAS",
}


@check(
    "DWA016",
    cis="4.6",
    category="security",
    audit_category="access",
    severity=Severity.MEDIUM,
    title="Default privileges grant to PUBLIC",
)
def default_privileges_public(snap) -> Iterator[Finding]:
    """``ALTER DEFAULT PRIVILEGES … GRANT … TO PUBLIC`` makes every future object of that role open
    to every role: the grant is invisible until the object exists, so reviews of today's ACLs miss it.

    Flags default privileges (pg_default_acl) with PUBLIC as grantee. PostgreSQL's built-in
    defaults (EXECUTE on functions, USAGE on types) are not stored there and are not flagged.

    Fix: ``ALTER DEFAULT PRIVILEGES FOR ROLE … [IN SCHEMA …] REVOKE … FROM PUBLIC``.

    References: https://www.postgresql.org/docs/current/sql-alterdefaultprivileges.html
    """
    grouped: dict[tuple[str, str | None, str], list[str]] = defaultdict(list)
    for d in snap.default_privileges:
        if d.grantee == "PUBLIC" and d.object_type in _DEFAULT_PRIVILEGE_KEYWORDS:
            grouped[(d.role, d.schema, d.object_type)].append(d.privilege)
    for (role, schema, object_type), privileges in sorted(
        grouped.items(), key=lambda i: (i[0][0], i[0][1] or "", i[0][2])
    ):
        privileges = sorted(privileges)
        where = f" IN SCHEMA {ident(schema)}" if schema else ""
        head = f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(role)}{where}"
        what = f"{', '.join(privileges)} ON {_DEFAULT_PRIVILEGE_KEYWORDS[object_type]}"
        fix = ChangePackage.of(
            f"Stop granting new {object_type}s of {role} to PUBLIC",
            [RawSQL(f"{head} REVOKE {what} FROM PUBLIC;", f"{head} GRANT {what} TO PUBLIC;")],
            "Objects created from now on are no longer granted to PUBLIC; existing grants stay "
            "(see DWA010/DWA011).",
        )
        obj = f"{role}:{schema or '*'}:{object_type}"
        yield finding(
            obj,
            f"new {object_type}s created by {role}{' in ' + schema if schema else ''} are granted "
            f"{', '.join(privileges)} to PUBLIC",
            fix=fix,
            role=role,
            schema=schema,
            object_type=object_type,
            privileges=privileges,
        )


@check(
    "DWA017",
    cis="4.3",
    category="security",
    audit_category="access",
    severity=Severity.MEDIUM,
    title="Application object owned by a superuser",
)
def superuser_owned_objects(snap) -> Iterator[Finding]:
    """An object's owner can always grant on it, alter it and drop it, and triggers, views and
    SECURITY DEFINER functions run with the owner's rights. Owned by a superuser, a bug in any of
    them runs with no permission checks at all, and the application has to connect as a superuser to
    migrate its own schema.

    Flags schemas, tables, views and functions in application schemas owned by a superuser (the
    ``public`` schema itself is left out). One finding per schema summarises its objects.

    Fix: a non-superuser owner role (``dbwright roles plan`` creates one: ``migrator``) and
    ``ALTER … OWNER TO`` it, or ``REASSIGN OWNED``. The package uses the database owner when that is
    not a superuser; otherwise it lists the manual steps.

    References: https://www.postgresql.org/docs/current/ddl-priv.html
    """
    superusers = superuser_names(snap)
    objects: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # schema -> (keyword, name, owner)
    for schema in snap.schemas:
        if schema.owner in superusers and schema.name != "public":
            objects[schema.name].append(("SCHEMA", ident(schema.name), schema.owner))
    for table in snap.tables:
        if table.owner in superusers:
            keyword = {"r": "TABLE", "p": "TABLE", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}[table.kind]
            objects[table.schema].append((keyword, qident(table.qname), table.owner))
    for view in snap.views:
        if view.owner in superusers and not view.materialized:
            objects[view.schema].append(("VIEW", qident(view.qname), view.owner))
    for function in snap.functions:
        if function.owner in superusers:
            objects[function.schema].append(
                (_routine_keyword(function), _routine_signature(function), function.owner)
            )
    database = snap.server.current_database
    new_owner = database.owner if database and database.owner not in superusers else None
    for schema, items in sorted(objects.items()):
        operations = (
            [
                RawSQL(
                    f"ALTER {keyword} {name} OWNER TO {ident(new_owner)};",
                    f"ALTER {keyword} {name} OWNER TO {ident(old_owner)};",
                )
                for keyword, name, old_owner in items
            ]
            if new_owner
            else []
        )
        fix = ChangePackage.of(
            f"Give the objects in schema {schema} a non-superuser owner",
            operations,
            "The objects keep their grants; ownership moves to a role without superuser.",
            manual_steps=()
            if new_owner
            else (
                "Create an owner role without SUPERUSER (dbwright roles plan generates one: migrator).",
                "ALTER … OWNER TO that role for each object listed in the evidence, or "
                "REASSIGN OWNED BY <superuser> TO <owner> in this database (moves everything it owns here).",
            ),
        )
        yield finding(
            schema,
            f"{len(items)} object(s) in schema {schema} are owned by a superuser",
            fix=fix,
            objects=[f"{k.lower()} {n}" for k, n, _ in items][:50],
            count=len(items),
        )


@check(
    "DWA018",
    cis=None,
    category="compliance",
    audit_category="configuration",
    severity=Severity.MEDIUM,
    title="Untrusted procedural language installed",
    requires=("audit_sections",),
)
def untrusted_languages(snap) -> Iterator[Finding]:
    """An untrusted language (plpython3u, plperlu, pltclu…) runs code with the server's OS rights:
    it can read any file, open sockets and start programs. Only superusers can write functions in
    it, but a SECURITY DEFINER function in it, or one superuser's mistake, is an open door.

    Flags every installed language that is not trusted, apart from ``c`` and ``internal`` which
    every cluster has.

    Fix: ``DROP EXTENSION`` (or ``DROP LANGUAGE``) when nothing uses it; otherwise review each of its
    functions (DWA019).

    References: https://www.postgresql.org/docs/current/sql-createlanguage.html
    """
    users = defaultdict(list)
    for function in snap.functions:
        users[function.language].append(function.signature)
    for language in snap.languages:
        if language.trusted or language.name in _ALWAYS_UNTRUSTED:
            continue
        extension = snap.server.extension(language.name)
        installed_as_extension = bool(extension and extension.installed_version)
        if users[language.name]:
            operations = []
        elif installed_as_extension:
            operations = [
                RawSQL(f"DROP EXTENSION {ident(language.name)};", f"CREATE EXTENSION {ident(language.name)};")
            ]
        else:
            operations = [RawSQL(f"DROP LANGUAGE {ident(language.name)};")]
        fix = ChangePackage.of(
            f"Remove the untrusted language {language.name}",
            operations,
            "Nothing can run code in the language afterwards.",
            manual_steps=(
                f"First drop or rewrite the functions written in {language.name}: "
                f"{', '.join(users[language.name][:10])}.",
            )
            if users[language.name]
            else (),
            security_notes=()
            if installed_as_extension or users[language.name]
            else (
                "A language created without an extension has no automatic rollback: keep its CREATE LANGUAGE "
                "statement if you may need it back.",
            ),
        )
        yield finding(
            language.name,
            f"untrusted language {language.name} is installed",
            fix=fix,
            functions=users[language.name][:50],
            owner=language.owner,
        )


@check(
    "DWA019",
    cis="4.5",
    category="security",
    audit_category="access",
    severity=Severity.HIGH,
    title="Function in an untrusted language executable by PUBLIC",
    requires=("audit_sections",),
)
def untrusted_language_functions(snap) -> Iterator[Finding]:
    """A function written in an untrusted language can do whatever the server's OS user can; every
    role may call it while PUBLIC keeps its default EXECUTE privilege.

    Flags functions in application schemas whose language is untrusted (including C functions not
    installed by an extension) and that PUBLIC can execute.

    Fix: ``REVOKE EXECUTE ON FUNCTION … FROM PUBLIC`` and grant it to the roles that need it.

    References:
    https://www.postgresql.org/docs/current/sql-createlanguage.html,
    https://www.postgresql.org/docs/current/sql-createfunction.html
    """
    untrusted = {lang.name for lang in snap.languages if not lang.trusted and lang.name != "internal"}
    public_execute = {
        p.object_name
        for p in snap.privileges
        if p.object_type == "function" and p.grantee == "PUBLIC" and p.privilege == "EXECUTE"
    }
    for function in snap.functions:
        if function.language not in untrusted or function.signature not in public_execute:
            continue
        keyword, signature = _routine_keyword(function), _routine_signature(function)
        fix = ChangePackage.of(
            f"Revoke EXECUTE on {function.signature} from PUBLIC",
            [Grant("EXECUTE", keyword, signature, "PUBLIC", revoke=True)],
            f"Only {function.owner} and roles granted EXECUTE can call it.",
            security_notes=("Grant EXECUTE to the intended callers first.",),
        )
        yield finding(
            function.signature,
            f"every role can call {function.signature}, written in the untrusted "
            f"language {function.language}",
            fix=fix,
            language=function.language,
            owner=function.owner,
        )
