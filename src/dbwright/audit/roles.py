"""Least privilege as change packages: group roles, login users, default privileges, PUBLIC revokes.

The usual fix for "everyone connects as the owner" is a small set of NOLOGIN group roles
(readonly, readwrite, migrator) that own nothing and receive exactly the grants they need,
login users that are members of one group, default privileges so future tables keep the
scheme, and revokes of what PUBLIC was given. Each piece is its own package with a derived
rollback; the catalog is read in a read-only session and nothing is applied here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from dbwright.audit.package_text import package_lines
from dbwright.engines.postgres.roles import RoleContext, read_context
from dbwright.errors import InvalidArgumentError
from dbwright.model.operations import Grant, Operation, ident
from dbwright.model.package import ChangePackage

GROUPS = ("readonly", "readwrite", "migrator")
TABLE_PRIVILEGES = {
    "readonly": "SELECT",
    "readwrite": "SELECT, INSERT, UPDATE, DELETE",
}
SEQUENCE_PRIVILEGES = {
    "readonly": "SELECT",
    "readwrite": "USAGE, SELECT, UPDATE",
}


# --- operations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateRole(Operation):
    kind: ClassVar[str] = "create_role"
    name: str
    options: str = "NOLOGIN"
    comment: str | None = None

    def sql(self) -> str:
        return f"CREATE ROLE {ident(self.name)} {self.options};"

    def reverse(self) -> Operation:
        return DropRole(self.name)


@dataclass(frozen=True)
class DropRole(Operation):
    kind: ClassVar[str] = "drop_role"
    name: str

    def sql(self) -> str:
        return f"DROP ROLE IF EXISTS {ident(self.name)};"

    def reverse(self) -> None:
        return None

    @property
    def destructive(self) -> bool:
        return True


@dataclass(frozen=True)
class GrantRole(Operation):
    """Membership: GRANT group TO member (or the REVOKE)."""

    kind: ClassVar[str] = "grant_role"
    group: str
    member: str
    revoke: bool = False

    def sql(self) -> str:
        if self.revoke:
            return f"REVOKE {ident(self.group)} FROM {ident(self.member)};"
        return f"GRANT {ident(self.group)} TO {ident(self.member)};"

    def reverse(self) -> Operation:
        return GrantRole(self.group, self.member, revoke=not self.revoke)


@dataclass(frozen=True)
class DefaultPrivileges(Operation):
    """ALTER DEFAULT PRIVILEGES: what objects ``creator`` makes later in ``schema`` grant on creation."""

    kind: ClassVar[str] = "default_privileges"
    creator: str
    schema: str
    privileges: str
    object_type: str  # TABLES, SEQUENCES, FUNCTIONS, TYPES
    grantee: str
    revoke: bool = False

    def sql(self) -> str:
        head = f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(self.creator)} IN SCHEMA {ident(self.schema)}"
        grantee = self.grantee if self.grantee == "PUBLIC" else ident(self.grantee)
        if self.revoke:
            return f"{head} REVOKE {self.privileges} ON {self.object_type} FROM {grantee};"
        return f"{head} GRANT {self.privileges} ON {self.object_type} TO {grantee};"

    def reverse(self) -> Operation:
        return DefaultPrivileges(
            self.creator, self.schema, self.privileges, self.object_type, self.grantee, revoke=not self.revoke
        )


# --- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppUser:
    name: str
    group: str = "readwrite"

    @classmethod
    def parse(cls, text: str) -> AppUser:
        """``name`` or ``name:group`` with group one of readonly, readwrite, migrator."""
        name, _, group = text.partition(":")
        group = group or "readwrite"
        if not name or group not in GROUPS:
            raise InvalidArgumentError(f"cannot read app user {text!r}: use NAME or NAME:{'|'.join(GROUPS)}")
        return cls(name, group)


@dataclass(frozen=True)
class RolesPlan:
    context: RoleContext
    group_names: dict[str, str]
    packages: tuple[ChangePackage, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.context.database,
            "schemas": list(self.context.schemas),
            "groups": dict(self.group_names),
            "packages": [package.to_dict() for package in self.packages],
        }


def plan_roles(
    target: str | None, schemas: Sequence[str] = (), app_users: Sequence[AppUser | str] = (), prefix: str = ""
) -> RolesPlan:
    """Read the catalog and build the least-privilege packages for it."""
    context = read_context(target, schemas)
    users = [AppUser.parse(u) if isinstance(u, str) else u for u in app_users]
    return build_plan(context, users, prefix)


def build_plan(context: RoleContext, users: Sequence[AppUser], prefix: str = "") -> RolesPlan:
    names = {group: f"{prefix}{group}" for group in GROUPS}
    packages = [_groups_package(context, names), _default_privileges_package(context, names)]
    if users:
        packages.append(_users_package(context, names, users))
    revoke = _public_package(context, names, users)
    if revoke is not None:
        packages.append(revoke)
    return RolesPlan(context, names, tuple(packages))


def _groups_package(context: RoleContext, names: dict[str, str]) -> ChangePackage:
    ops: list[Operation] = []
    notes: list[str] = []
    for name in names.values():
        if name in context.existing_roles:
            notes.append(
                f"role {name} already exists: it is reused and the rollback does not drop it, but the "
                "rollback does revoke its privileges on all tables and sequences of the schemas, "
                "including any it held before"
            )
        else:
            ops.append(CreateRole(name, "NOLOGIN"))
    db = ident(context.database)
    for name in names.values():
        ops.append(Grant("CONNECT", "DATABASE", db, name))
    for schema in context.schemas:
        s = ident(schema)
        for group in ("readonly", "readwrite"):
            ops.append(Grant("USAGE", "SCHEMA", s, names[group]))
            ops.append(Grant(TABLE_PRIVILEGES[group], "ALL TABLES IN SCHEMA", s, names[group]))
            ops.append(Grant(SEQUENCE_PRIVILEGES[group], "ALL SEQUENCES IN SCHEMA", s, names[group]))
        ops.append(Grant("USAGE, CREATE", "SCHEMA", s, names["migrator"]))
    return ChangePackage.of(
        "Group roles: readonly, readwrite, migrator",
        ops,
        "NOLOGIN group roles that own nothing and hold exactly the privileges of their job: readonly "
        "reads tables and sequences, readwrite also changes rows, migrator creates objects in the "
        f"schemas {', '.join(context.schemas)}. People and applications log in as members, never as owners.",
        security_notes=tuple(notes)
        + (
            "existing tables keep their owner; to let migrator alter them, transfer ownership "
            "(ALTER TABLE ... OWNER TO migrator) in a reviewed migration",
        ),
    )


def _creators(context: RoleContext, names: dict[str, str]) -> list[str]:
    """Roles that will create future objects: migrator plus whoever owns objects today."""
    return [names["migrator"], *[owner for owner in context.owners if owner != names["migrator"]]]


def _default_privileges_package(context: RoleContext, names: dict[str, str]) -> ChangePackage:
    ops: list[Operation] = []
    for creator in _creators(context, names):
        for schema in context.schemas:
            for group in ("readonly", "readwrite"):
                ops.append(
                    DefaultPrivileges(creator, schema, TABLE_PRIVILEGES[group], "TABLES", names[group])
                )
                ops.append(
                    DefaultPrivileges(creator, schema, SEQUENCE_PRIVILEGES[group], "SEQUENCES", names[group])
                )
    return ChangePackage.of(
        "Default privileges for future tables and sequences",
        ops,
        "Tables and sequences created later by migrator or by today's owners "
        f"({', '.join(context.owners) or 'none'}) grant the group privileges on creation, so a new "
        "table is not invisible to readonly or readable by nobody until someone remembers a GRANT.",
    )


def _users_package(context: RoleContext, names: dict[str, str], users: Sequence[AppUser]) -> ChangePackage:
    ops: list[Operation] = []
    manual: list[str] = []
    for user in users:
        if user.name not in context.existing_roles:
            ops.append(CreateRole(user.name, "LOGIN"))
            manual.append(
                f"set a password for {user.name} with \\password {user.name} in psql "
                "(dbwright never puts passwords in a package)"
            )
        if (names[user.group], user.name) not in context.memberships:  # else the rollback would revoke it
            ops.append(GrantRole(names[user.group], user.name))
    return ChangePackage.of(
        "Login users as members of the groups",
        ops,
        "Each application or person logs in as its own role and receives privileges only through one "
        "group. " + "; ".join(f"{u.name} → {names[u.group]}" for u in users) + ".",
        manual_steps=tuple(manual),
    )


def _public_package(
    context: RoleContext, names: dict[str, str], users: Sequence[AppUser]
) -> ChangePackage | None:
    ops: list[Operation] = [
        Grant(", ".join(grant.privileges), grant.object_type, grant.object_name, "PUBLIC", revoke=True)
        for grant in context.public_grants
    ]
    if not ops:
        return None
    member_names = {u.name for u in users}
    losing = [role for role in context.logins_relying_on_public if role not in member_names]
    notes = []
    if losing and any(
        g.object_type == "DATABASE" and "CONNECT" in g.privileges for g in context.public_grants
    ):
        notes.append(
            "these login roles connect only through PUBLIC and will be refused after this: "
            + ", ".join(losing)
            + "; make them members of a group first"
        )
    return ChangePackage.of(
        "Revoke what PUBLIC was granted",
        ops,
        "PUBLIC is every role, including ones created tomorrow. Privileges PUBLIC holds on the database, "
        "the schemas and their tables are revoked; the groups above now carry them explicitly.",
        security_notes=tuple(notes),
    )


# --- presentation ----------------------------------------------------------------------------


def render_text(plan: RolesPlan) -> str:
    ctx = plan.context
    lines = [
        f"Least-privilege plan for database {ctx.database}, schemas {', '.join(ctx.schemas)}",
        "groups: " + ", ".join(f"{k} = {v}" for k, v in plan.group_names.items()),
        "",
    ]
    for number, package in enumerate(plan.packages, 1):
        lines += package_lines(number, package)
        lines.append("")
    return "\n".join(lines)
