"""From two snapshots to a migration: operations in dependency order, up and down, safe rewrites applied.

The up part runs in phases: renames; revokes and comment removals; drops, dependents first
(triggers, views, functions, foreign keys, constraints, indexes, columns, tables, sequences,
types, schemas); then creations, dependencies first (schemas, types, enum values, sequences,
tables, columns, constraints, indexes, foreign keys, functions, views, triggers); comments and
grants last. Every operation carries its own undo, so the down part is derived: each
package's reverse, last package first.

Each statement is passed through the lint's safe rewrites (dbwright.changes.lint.rewrite) in
that order, with one lint state: an index on an existing table is built CONCURRENTLY, a foreign
key is added NOT VALID and validated, SET NOT NULL goes through a validated CHECK; on a table
created by the same migration nothing needs rewriting.

Destructive operations lose data the down part cannot bring back: dropping a schema, table,
column, sequence or type, removing enum values, and changing a column's type other than by a
known widening. Without ``allow_destructive`` they, and the drops that only exist because of
them, are listed as refused and left out of the migration. Dropping an index, constraint,
view, function, trigger, comment or grant loses no data and is undone from its definition.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from dbwright.changes.diff.compare import Catalog, Difference, Projection, compare, project
from dbwright.changes.diff.renames import Rename, apply_renames, check_exists
from dbwright.changes.lint.context import LintState
from dbwright.changes.lint.rewrite import safe_rewrite
from dbwright.changes.migration_file import DOWN_MARK, UP_MARK, render_migration
from dbwright.errors import SqlParseError
from dbwright.model import Snapshot
from dbwright.model.operations import Lock, RawSQL, ident, literal, qident
from dbwright.model.package import ChangePackage

PHASES = (
    "renames",
    "revoke",
    "uncomment",
    "reset_settings",
    "drop_publications",
    "drop_policies",
    "drop_event_triggers",
    "drop_rules",
    "drop_triggers",
    "drop_views",
    "drop_functions",
    "drop_foreign_keys",
    "drop_constraints",
    "drop_indexes",
    "drop_statistics",
    "disown_sequences",
    "drop_columns",
    "drop_tables",
    "drop_sequences",
    "drop_types",
    "drop_text_search",
    "drop_collations",
    "drop_extensions",
    "drop_schemas",
    "create_schemas",
    "create_extensions",
    "create_collations",
    "create_text_search",
    "create_types",
    "alter_types",
    "create_sequences",
    "alter_sequences",
    "create_tables",
    "add_columns",
    "alter_columns",
    "add_constraints",
    "create_indexes",
    "add_foreign_keys",
    "table_settings",
    "own_sequences",
    "functions",
    "create_statistics",
    "create_views",
    "create_rules",
    "create_triggers",
    "create_event_triggers",
    "create_policies",
    "publications",
    "owners",
    "comment",
    "grant",
)

#: What pg_dump sets before its DDL; the migration's names are all qualified (read with this search_path).
SESSION_SETTINGS = "SET search_path = pg_catalog;\nSET check_function_bodies = false;\n"

#: Type changes PostgreSQL can make without losing a value (old type prefix -> wider types).
_WIDER = {
    "smallint": ("integer", "bigint", "numeric"),
    "integer": ("bigint", "numeric"),
    "bigint": ("numeric",),
    "real": ("double precision",),
    "timestamp without time zone": ("timestamp with time zone",),
}
#: Widenings that keep the stored bytes: PostgreSQL skips the table rewrite.
_NO_REWRITE = re.compile(r"^(character varying|varchar|numeric|bit varying)(\(|$)|^text$")


@dataclass(frozen=True)
class Step(RawSQL):
    """One generated statement (or a few that belong together) and the SQL that undoes it.

    A RawSQL whose default lock is ACCESS EXCLUSIVE: most DDL the diff emits takes it.
    """

    kind: ClassVar[str] = "diff_step"
    lock_: Lock = Lock("ACCESS EXCLUSIVE")


@dataclass
class Change:
    """One planned change: its phase, its steps, and what it drops (for refusing dependents)."""

    phase: str
    title: str
    steps: list[Step]
    explanation: str = ""
    destructive: bool = False
    why_destructive: str = ""
    rewrite: bool = False  # pass the statement through the lint's safe rewrites
    drops: tuple[str, ...] = ()  # objects this change removes: "table:s.t", "column:s.t.c", "schema:s"
    needs: tuple[str, ...] = ()  # objects whose refused drop makes this change pointless
    #: The diff's object ids this change creates, alters or drops (``table:s.t``, ``function:s.f(int)``):
    #: pg_depend between them orders the migration.
    objects: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # ids that must exist first, beyond what pg_depend says


@dataclass(frozen=True)
class Refused:
    title: str
    sql: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "sql": self.sql, "reason": self.reason}


@dataclass
class DiffPlan:
    """The migration from the live schema to the desired one, and what was left out of it and why."""

    packages: list[ChangePackage]
    differences: list[Difference]
    refused: list[Refused] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    renames: list[Rename] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.packages

    def migration(self) -> str:
        """The migration file: ``-- migrate:up`` and ``-- migrate:down``, as dbwright migrate reads it.

        Each part starts with pg_dump's session settings: every name in it is qualified, and
        function bodies are checked when they run, not when they are created (a body may use
        a table or function created later in the file).
        """
        text = render_migration(self.packages)
        if self.packages:
            for mark in (UP_MARK, DOWN_MARK):
                text = text.replace(f"\n{mark}\n", f"\n{mark}\n{SESSION_SETTINGS}\n", 1)
        notes = [f"-- REFUSED (needs --allow-destructive): {r.title}" for r in self.refused]
        notes += [f"-- NOT HANDLED (write by hand): {m}" for m in self.manual]
        if notes:
            text = text.replace("\n-- migrate:up", "\n" + "\n".join(notes) + "\n\n-- migrate:up", 1)
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "differences": [d.to_dict() for d in self.differences],
            "renames": [r.to_dict() for r in self.renames],
            "packages": [p.to_dict() for p in self.packages],
            "refused": [r.to_dict() for r in self.refused],
            "manual": list(self.manual),
            "warnings": list(self.warnings),
            "statements": sum(len(p.operations) for p in self.packages),
            "destructive": any(p.destructive for p in self.packages),
            "transactional": all(p.transactional for p in self.packages),
            "estimated_seconds": round(sum(p.estimated_seconds for p in self.packages), 3),
        }


class Canonical(Protocol):
    """Compares two spellings of one definition in the server's printed form (diff_catalog.Canonicalizer)."""

    def same(self, kind: str, key: str, before: str, after: str) -> bool: ...


def plan_diff(
    live: Snapshot,
    desired: Snapshot,
    *,
    allow_destructive: bool = False,
    renames: list[Rename] | None = None,
    live_catalog: Catalog | None = None,
    desired_catalog: Catalog | None = None,
    canonical: Canonical | None = None,
) -> DiffPlan:
    """The plan that turns ``live``'s schema into ``desired``'s.

    The catalogs add the kinds only the diff reads and pg_depend for the order; ``canonical``
    settles definitions that differ only in how the server printed them.
    """
    live_catalog, desired_catalog = live_catalog or Catalog(), desired_catalog or Catalog()
    # Tables first: a column hint names its table by the table's new name.
    renames = sorted(renames or [], key=lambda r: r.kind != "table")
    before = project(live, live_catalog.extras)
    tables_renamed = apply_renames(before, [r for r in renames if r.kind == "table"])
    for rename in renames:
        check_exists(before if rename.kind == "table" else tables_renamed, rename)
    renamed = apply_renames(before, renames)
    after = project(desired, desired_catalog.extras)
    live_owners = dict(renamed.get("owners", {}))
    _explicit_owners_only(renamed, after, desired_catalog.extras.get("role"))
    differences = compare(renamed, after)
    if canonical is not None:
        differences = _settled(differences, canonical)
    planner = _Planner(live, desired, renamed, after, differences)
    planner.live_owners = live_owners
    changes = [
        Change("renames", f"Rename {r.kind} {r.old} to {r.new_name}", [Step(r.sql(), r.undo_sql())])
        for r in renames
    ]
    changes += planner.changes()
    kept, refused = _refuse(changes, allow_destructive)
    packages = _packages(
        kept, live.server.version_num, live_catalog.dependencies, desired_catalog.dependencies
    )
    warnings = planner.warnings
    live_major, desired_major = live.server.version_num // 10000, desired.server.version_num // 10000
    if live_major != desired_major:
        warnings.append(
            f"the desired schema was loaded on PostgreSQL {desired_major} and the live database runs "
            f"{live_major}: view and function definitions may print differently and show as changed"
        )
    return DiffPlan(packages, differences, refused, planner.manual, renames, warnings)


def _explicit_owners_only(before: Projection, after: Projection, loader: str | None) -> None:
    """Owners are compared only where the schema file set one: in the scratch database everything
    else belongs to the role that loaded it."""
    wanted = {k: v for k, v in after.get("owners", {}).items() if v["owner"] != loader}
    after["owners"] = wanted
    before["owners"] = {k: v for k, v in before.get("owners", {}).items() if k in wanted}


#: Per kind, the fields holding an expression and the probe that prints it on the scratch server.
_EXPRESSIONS = {
    "constraints": (("definition", "constraint"),),
    "columns": (("default", "default"),),
    "indexes": (("definition", "index"),),
    "views": (("definition", "view"),),
    "policies": (("using", "policy"), ("check", "policy")),
    "triggers": (("definition", "trigger"),),
}


def _settled_checks(domain: str, before: list[str], after: list[str], canonical: Canonical) -> list[str]:
    """A domain's named CHECKs, each replaced by the desired spelling where the server prints both alike."""
    wanted = _named_checks(after)
    settled = []
    for name, check in _named_checks(before).items():
        old, new = check.split(" ", 2)[2], wanted.get(name, "").split(" ", 2)[-1]
        same = name in wanted and canonical.same("domain_check", domain, old, new)
        settled.append(wanted[name] if same else check)
    return settled


def _settled(differences: list[Difference], canonical: Canonical) -> list[Difference]:
    """Changes left once each side's expressions are compared in the server's canonical form."""
    kept = []
    for d in differences:
        fields = _EXPRESSIONS.get(d.kind)
        if d.change != "changed" or not (fields or d.kind == "types"):
            kept.append(d)
            continue
        before = dict(d.before)
        if d.kind == "types" and before.get("checks") != d.after.get("checks"):
            before["checks"] = _settled_checks(d.key, before["checks"], d.after["checks"], canonical)
        for name, probe in fields or ():
            if d.kind == "columns" and d.after.get("generated") and d.before.get("generated"):
                probe = "generated"
            old, new = before.get(name), d.after.get(name)
            if old != new and old is not None and new is not None and canonical.same(probe, d.key, old, new):
                before[name] = new
        if before != d.after:
            kept.append(d)
    return kept


def _refuse(changes: list[Change], allow: bool) -> tuple[list[Change], list[Refused]]:
    if allow:
        return changes, []
    refused_objects = {obj for c in changes if c.destructive for obj in c.drops}
    kept, refused = [], []
    for change in changes:
        if change.destructive:
            refused.append(Refused(change.title, _sql(change), change.why_destructive))
        elif any(_covers(obj, need) for obj in refused_objects for need in change.needs):
            refused.append(
                Refused(change.title, _sql(change), "left out with the refused drop it belongs to")
            )
        else:
            kept.append(change)
    return kept, refused


def _covers(dropped: str, need: str) -> bool:
    """``table:s.t`` covers ``table:s.t`` and ``column:s.t.c``; ``schema:s`` covers everything in s."""
    kind, _, name = dropped.partition(":")
    _, _, wanted = need.partition(":")
    if kind == "schema":
        return wanted == name or wanted.startswith(name + ".")
    return need == dropped or (kind == "table" and wanted.startswith(name + "."))


def _sql(change: Change) -> str:
    return "\n".join(step.text for step in change.steps)


#: Phases that remove things; the phases after them create things.
DROP_PHASES = frozenset(PHASES[1 : PHASES.index("create_schemas")])
Dependencies = set[tuple[str, str]]


def ordered(changes: list[Change], live_deps: Dependencies, desired_deps: Dependencies) -> list[Change]:
    """Renames, then drops ordered by the live database's pg_depend (dependents first), then
    creations ordered by the scratch database's pg_depend (what they use first).

    The phase order breaks ties, so a function is created before the CHECK that calls it only
    because pg_depend says so; objects pg_depend does not link keep the phase order.
    """
    order = {phase: i for i, phase in enumerate(PHASES)}
    ranked = [c for _, c in sorted(enumerate(changes), key=lambda ic: (order[ic[1].phase], ic[0]))]
    renames = [c for c in ranked if c.phase == "renames"]
    drops = [c for c in ranked if c.phase in DROP_PHASES]
    creates = [c for c in ranked if c.phase != "renames" and c.phase not in DROP_PHASES]
    return (
        renames + _topological(drops, live_deps, dependents_first=True) + _topological(creates, desired_deps)
    )


def _topological(changes: list[Change], deps: Dependencies, dependents_first: bool = False) -> list[Change]:
    """Kahn's sort; among the changes that may go next, the earliest in phase order goes. A cycle
    (pg_depend has some) is broken by phase order."""
    owners: dict[str, list[int]] = {}
    for i, change in enumerate(changes):
        for obj in change.objects:
            owners.setdefault(obj, []).append(i)
    references: dict[str, set[str]] = {}
    for dependent, referenced in deps:
        references.setdefault(dependent, set()).add(referenced)
    after: list[set[int]] = [set() for _ in changes]  # after[i]: what must come before i
    for i, change in enumerate(changes):
        wanted = set(change.requires) | {r for obj in change.objects for r in references.get(obj, ())}
        for obj in wanted:
            for j in owners.get(obj, ()):
                if j != i:
                    (after[j] if dependents_first else after[i]).add(i if dependents_first else j)
    waiting = [len(a) for a in after]
    unblocks: list[list[int]] = [[] for _ in changes]
    for i, before in enumerate(after):
        for j in before:
            unblocks[j].append(i)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    placed: list[int] = []
    done = [False] * len(changes)
    while len(placed) < len(changes):
        if not ready:  # a cycle: take the earliest not yet placed
            ready = [next(i for i, d in enumerate(done) if not d)]
        i = heapq.heappop(ready)
        if done[i]:
            continue
        done[i] = True
        placed.append(i)
        for j in unblocks[i]:
            waiting[j] -= 1
            if waiting[j] == 0 and not done[j]:
                heapq.heappush(ready, j)
    return [changes[i] for i in placed]


def _packages(
    changes: list[Change],
    server_version: int,
    live_deps: Dependencies = frozenset(),
    desired_deps: Dependencies = frozenset(),
) -> list[ChangePackage]:
    """Changes in dependency order, each statement through the lint's safe rewrites with one lint state."""
    # One migration fed to the lint piece by piece: tables created earlier in it stay new.
    state = LintState(server_version=server_version, earlier_files_unapplied=True)
    packages: list[ChangePackage] = []
    for change in ordered(changes, live_deps, desired_deps):
        rewritten = _rewritten(change, state)
        if rewritten:
            packages += rewritten
        else:
            packages.append(
                ChangePackage.of(change.title, change.steps, change.explanation or change.title + ".")
            )
    return packages


def _rewritten(change: Change, state: LintState) -> list[ChangePackage] | None:
    """The lint's safe sequence for a one-statement change; it observes every change either way."""
    try:
        packages = safe_rewrite("\n".join(s.text for s in change.steps), state=state)
    except SqlParseError:
        return None  # generated from server output, so this would be a bug; keep the plain statement
    if not change.rewrite or all(p.title.startswith("As written") for p in packages):
        return None
    return packages


# --- the planner ----------------------------------------------------------------------------------
def _fn_name(signature: str) -> str:
    """``s.f(x integer)`` quoted: the name parts, the argument list as the server printed it."""
    name, _, args = signature.partition("(")
    return f"{qident(name)}({args}"


def _three(name: str) -> tuple[str, str]:
    """``s.t.x`` -> (quoted ``s.t``, quoted ``x``)."""
    table, _, last = name.rpartition(".")
    return qident(table), ident(last)


def comment_sql(key: str, comment: str | None) -> str:
    """COMMENT ON for a projection key ``KIND|name``."""
    kind, _, name = key.partition("|")
    if kind in ("CONSTRAINT", "TRIGGER"):
        table, last = _three(name)
        target = f"{kind} {last} ON {table}"
    elif kind == "COLUMN":
        table, last = _three(name)
        target = f"COLUMN {table}.{last}"
    elif kind in ("FUNCTION", "PROCEDURE", "AGGREGATE"):
        target = f"{kind} {_fn_name(name)}"
    else:
        target = f"{kind} {qident(name)}"
    return f"COMMENT ON {target} IS {'NULL' if comment is None else literal(comment)};"


_GRANT_OBJECT = {"table": "TABLE", "sequence": "SEQUENCE", "schema": "SCHEMA", "function": "ROUTINE"}


def grant_sql(key: str, grantable: bool, revoke: bool = False) -> str:
    object_type, object_name, grantee, privilege = (
        key.split(" ", 3) if key.count(" ") == 3 else _split_privilege(key)
    )
    name = _fn_name(object_name) if object_type == "function" else qident(object_name)
    who = grantee if grantee == "PUBLIC" else ident(grantee)
    target = f"{privilege} ON {_GRANT_OBJECT[object_type]} {name}"
    if revoke:
        return f"REVOKE {target} FROM {who};"
    return f"GRANT {target} TO {who}{' WITH GRANT OPTION' if grantable else ''};"


def _split_privilege(key: str) -> tuple[str, str, str, str]:
    """Function signatures contain spaces: the type first, grantee and privilege last."""
    object_type, rest = key.split(" ", 1)
    object_name, grantee, privilege = rest.rsplit(" ", 2)
    return object_type, object_name, grantee, privilege


class _Planner:
    def __init__(
        self,
        live: Snapshot,
        desired: Snapshot,
        before: Projection,
        after: Projection,
        differences: list[Difference],
    ) -> None:
        self.live, self.desired = live, desired
        self.before, self.after = before, after
        self.diffs: dict[str, list[Difference]] = {}
        for d in differences:
            self.diffs.setdefault(d.kind, []).append(d)
        self.manual: list[str] = []
        self.warnings: list[str] = []
        self.out: list[Change] = []
        self.new_tables = {d.key for d in self._of("tables") if d.change == "added"}
        self.gone_tables = {d.key for d in self._of("tables") if d.change == "removed"}
        self.view_diffs = self.views_in_order()
        self.view_changes = {d.key for d in self.view_diffs}
        self.enum_default_columns: set[str] = set()
        self.subject: tuple[str, ...] = ()  # the object ids of the difference being planned
        self.live_owners: dict[str, dict[str, str]] = {}  # every live owner, for what the down part recreates

    def _of(self, kind: str) -> list[Difference]:
        return self.diffs.get(kind, [])

    def add(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("objects", self.subject)
        self.out.append(Change(*args, **kwargs))

    def changes(self) -> list[Change]:
        for section in (
            self.schemas,
            self.extensions,
            self.collations,
            self.text_search,
            self.types,
            self.sequences,
            self.tables,
            self.columns,
            self.constraints,
            self.indexes,
            self.views,
            self.functions,
            self.triggers,
            self.statistics,
            self.rules,
            self.event_triggers,
            self.column_settings,
            self.table_settings,
            self.policies,
            self.publications,
            self.owners,
            self.other,
            self.comments,
            self.privileges,
        ):
            section()
        return self.out

    # --- schemas and types ----------------------------------------------------------------------
    def schemas(self) -> None:
        for d in self._of("schemas"):
            self.subject = (f"schema:{d.key}",)
            create, drop = f"CREATE SCHEMA {ident(d.key)};", f"DROP SCHEMA {ident(d.key)};"
            if d.change == "added":
                self.add("create_schemas", f"Create schema {d.key}", [Step(create, drop)])
            else:
                self.add(
                    "drop_schemas",
                    f"Drop schema {d.key}",
                    [Step(drop, create, destructive_=True)],
                    destructive=True,
                    why_destructive="dropping a schema drops everything left in it",
                    drops=(f"schema:{d.key}",),
                )

    def types(self) -> None:
        for d in self._of("types"):
            self.subject = (f"type:{d.key}",)
            if d.change == "added":
                self.add(
                    "create_types",
                    f"Create type {d.key}",
                    [Step(self.type_sql(d.key, d.after), f"DROP TYPE {qident(d.key)};")],
                )
            elif d.change == "removed":
                self.add(
                    "drop_types",
                    f"Drop type {d.key}",
                    [Step(f"DROP TYPE {qident(d.key)};", self.type_sql(d.key, d.before), destructive_=True)],
                    destructive=True,
                    why_destructive="dropping a type loses the columns that use it",
                    drops=(f"type:{d.key}",),
                )
            elif d.before["kind"] == d.after["kind"] == "e":
                self.enum_change(d)
            elif d.before["kind"] == d.after["kind"] == "d" and d.before["base_type"] == d.after["base_type"]:
                self.domain_change(d)
            elif d.before["kind"] == d.after["kind"] == "c" and self.composite_change(d):
                pass
            else:
                self.manual.append(
                    f"type {d.key} changed ({_changed_fields(d)}); ALTER DOMAIN / ALTER TYPE it by hand"
                )

    def domain_change(self, d: Difference) -> None:
        """Default, NOT NULL and named CHECKs of a domain; a new CHECK is added NOT VALID, then validated."""
        old, new, name = d.before, d.after, qident(d.key)
        checks_old, checks_new = _named_checks(old["checks"]), _named_checks(new["checks"])
        for check in sorted(checks_old.keys() - checks_new.keys()) + sorted(
            k for k in checks_old.keys() & checks_new.keys() if checks_old[k] != checks_new[k]
        ):
            self.add(
                "alter_types",
                f"Drop CHECK {check} of domain {d.key}",
                [
                    Step(
                        f"ALTER DOMAIN {name} DROP CONSTRAINT {ident(check)};",
                        f"ALTER DOMAIN {name} ADD {checks_old[check]};",
                    )
                ],
            )
        for key, set_sql, drop_sql in (
            ("default", f"SET DEFAULT {new['default']}", "DROP DEFAULT"),
            ("not_null", "SET NOT NULL", "DROP NOT NULL"),
        ):
            if old[key] != new[key]:
                do = set_sql if new[key] not in (None, False) else drop_sql
                undo = (
                    (f"SET DEFAULT {old['default']}" if key == "default" else "SET NOT NULL")
                    if old[key] not in (None, False)
                    else drop_sql
                )
                self.add(
                    "alter_types",
                    f"ALTER DOMAIN {d.key} {do}",
                    [
                        Step(
                            f"ALTER DOMAIN {name} {do};",
                            f"ALTER DOMAIN {name} {undo};",
                            scans_=do == "SET NOT NULL",
                        )
                    ],
                )
        for check in sorted(checks_new.keys() - checks_old.keys()) + sorted(
            k for k in checks_old.keys() & checks_new.keys() if checks_old[k] != checks_new[k]
        ):
            self.add(
                "alter_types",
                f"Add CHECK {check} to domain {d.key} NOT VALID",
                [
                    Step(
                        f"ALTER DOMAIN {name} ADD {checks_new[check]} NOT VALID;",
                        f"ALTER DOMAIN {name} DROP CONSTRAINT {ident(check)};",
                    )
                ],
            )
            self.add(
                "alter_types",
                f"Validate CHECK {check} of domain {d.key}",
                [Step(f"ALTER DOMAIN {name} VALIDATE CONSTRAINT {ident(check)};", None, scans_=True)],
            )

    def composite_change(self, d: Difference) -> bool:
        """Attributes added at the end, dropped, or retyped; False when the order changes otherwise."""
        old, new = _attributes(d.before["attributes"]), _attributes(d.after["attributes"])
        kept_old = [n for n in old if n in new]
        if kept_old != [n for n in new if n in old] or list(new)[: len(kept_old)] != kept_old:
            return False
        if any(old[n] != new[n] for n in kept_old) and self.enum_columns(d.key):
            return False  # PostgreSQL cannot retype an attribute of a type that columns use
        name = qident(d.key)
        for attr in [n for n in old if n not in new]:
            self.add(
                "alter_types",
                f"Drop attribute {attr} of type {d.key}",
                [
                    Step(
                        f"ALTER TYPE {name} DROP ATTRIBUTE {attr};",
                        f"ALTER TYPE {name} ADD ATTRIBUTE {attr} {old[attr]};",
                        destructive_=True,
                    )
                ],
                destructive=True,
                why_destructive="dropping an attribute loses its values in every column of the type",
                drops=(f"type:{d.key}",),
            )
        for attr in kept_old:
            if old[attr] != new[attr]:
                widening = _widens(old[attr], new[attr])
                self.add(
                    "alter_types",
                    f"Change attribute {attr} of type {d.key} to {new[attr]}",
                    [
                        Step(
                            f"ALTER TYPE {name} ALTER ATTRIBUTE {attr} TYPE {new[attr]};",
                            f"ALTER TYPE {name} ALTER ATTRIBUTE {attr} TYPE {old[attr]};",
                            destructive_=not widening,
                        )
                    ],
                    destructive=not widening,
                    why_destructive=f"{old[attr]} -> {new[attr]} is not a known widening",
                )
        for attr in [n for n in new if n not in old]:
            self.add(
                "alter_types",
                f"Add attribute {attr} to type {d.key}",
                [
                    Step(
                        f"ALTER TYPE {name} ADD ATTRIBUTE {attr} {new[attr]};",
                        f"ALTER TYPE {name} DROP ATTRIBUTE {attr};",
                    )
                ],
            )
        return True

    @staticmethod
    def type_sql(name: str, t: dict[str, Any]) -> str:
        if t["kind"] == "e":
            return f"CREATE TYPE {qident(name)} AS ENUM ({', '.join(literal(x) for x in t['labels'])});"
        if t["kind"] == "c":
            return f"CREATE TYPE {qident(name)} AS ({', '.join(t['attributes'])});"
        parts = [f"CREATE DOMAIN {qident(name)} AS {t['base_type']}"]
        if t["default"] is not None:
            parts.append(f"DEFAULT {t['default']}")
        if t["not_null"]:
            parts.append("NOT NULL")
        parts += t["checks"]
        return " ".join(parts) + ";"

    def enum_change(self, d: Difference) -> None:
        old, new = d.before["labels"], d.after["labels"]
        if [label for label in new if label in old] == old:
            adds = []
            for i, label in enumerate(new):
                if label in old:
                    continue
                where = f" AFTER {literal(new[i - 1])}" if i > 0 else f" BEFORE {literal(new[i + 1])}"
                adds.append(f"ALTER TYPE {qident(d.key)} ADD VALUE {literal(label)}{where};")
            columns = self.enum_columns(d.key)
            undo = self.recreate_enum(d.key, old, {c: self.before["columns"][c]["default"] for c in columns})
            # ADD VALUE runs alone: a value added in a transaction cannot be used before it commits.
            for i, text in enumerate(adds):
                self.add(
                    "alter_types",
                    f"Add value to enum {d.key}",
                    [
                        Step(
                            text,
                            undo if i == 0 else None,
                            lock_=Lock("ACCESS EXCLUSIVE", d.key),
                            transactional_=False,
                        )
                    ],
                    "ALTER TYPE … ADD VALUE is instant. The down part cannot remove a value in place: it "
                    "recreates the type and converts the columns that use it.",
                )
            return
        columns = self.enum_columns(d.key)
        self.enum_default_columns.update(columns)  # their defaults change with the type, not separately
        self.add(
            "alter_types",
            f"Recreate enum {d.key} without values {sorted(set(old) - set(new))}",
            [
                Step(
                    self.recreate_enum(d.key, new, {c: self.after["columns"][c]["default"] for c in columns}),
                    self.recreate_enum(
                        d.key, old, {c: self.before["columns"][c]["default"] for c in columns}
                    ),
                    destructive_=True,
                    rewrites_=True,
                )
            ],
            destructive=True,
            why_destructive="removing enum values fails or loses rows that use them",
            drops=(f"type:{d.key}",),
        )

    def enum_columns(self, name: str) -> list[str]:
        """Columns of type ``name`` (an enum or composite) on both sides: present when the type changes."""
        short = name.split(".", 1)[1]
        spellings = {short, name, ident(short), qident(name)}
        return [
            k
            for k, v in self.after["columns"].items()
            if v["data_type"] in spellings and self.before["columns"].get(k, {}).get("data_type") in spellings
        ]

    @staticmethod
    def recreate_enum(name: str, labels: list[str], columns: dict[str, str | None]) -> str:
        """Rename the type away, create it with ``labels``, convert its columns, drop the old one.

        ``columns`` maps each column of the type to the default it has afterwards.
        """
        schema, _, short = name.partition(".")
        old = f"{short}__dbwright_old"[:63]
        lines = [
            f"ALTER TYPE {qident(name)} RENAME TO {ident(old)};",
            f"CREATE TYPE {qident(name)} AS ENUM ({', '.join(literal(x) for x in labels)});",
        ]
        for qname, default in columns.items():
            table, column = _three(qname)
            lines.append(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT;")
            lines.append(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {qident(name)} "
                f"USING {column}::text::{qident(name)};"
            )
            if default is not None:
                lines.append(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {default};")
        lines.append(f"DROP TYPE {ident(schema)}.{ident(old)};")
        return "\n".join(lines)

    # --- sequences ------------------------------------------------------------------------------
    @staticmethod
    def sequence_options(s: dict[str, Any]) -> str:
        text = (
            f"AS {s['data_type']} INCREMENT BY {s['increment']} MINVALUE {s['min_value']} "
            f"MAXVALUE {s['max_value']} {'CYCLE' if s['cycle'] else 'NO CYCLE'}"
        )
        if s.get("start") is not None:
            text += f" START WITH {s['start']} CACHE {s['cache']}"
        return text

    def sequences(self) -> None:
        for d in self._of("sequences"):
            self.subject = (f"sequence:{d.key}",)
            name = qident(d.key)
            if d.change == "added":
                self.add(
                    "create_sequences",
                    f"Create sequence {d.key}",
                    [
                        Step(
                            f"CREATE SEQUENCE {name} {self.sequence_options(d.after)};",
                            f"DROP SEQUENCE {name};",
                            lock_=Lock("none"),
                        )
                    ],
                )
            elif d.change == "removed":
                self.add(
                    "drop_sequences",
                    f"Drop sequence {d.key}",
                    [
                        Step(
                            f"DROP SEQUENCE {name};",
                            f"CREATE SEQUENCE {name} {self.sequence_options(d.before)};"
                            + self.linked_sequence_owner(d.key, d.before.get("owned_by")),
                            destructive_=True,
                        )
                    ],
                    destructive=True,
                    why_destructive="dropping a sequence loses its current value",
                    drops=(f"sequence:{d.key}",),
                    needs=(f"sequence:{d.key}",),
                )
            elif {k: v for k, v in d.before.items() if k != "owned_by"} != {
                k: v for k, v in d.after.items() if k != "owned_by"
            }:
                self.add(
                    "alter_sequences",
                    f"Alter sequence {d.key}",
                    [
                        Step(
                            f"ALTER SEQUENCE {name} {self.sequence_options(d.after)};",
                            f"ALTER SEQUENCE {name} {self.sequence_options(d.before)};",
                            lock_=Lock("SHARE ROW EXCLUSIVE", d.key),
                        )
                    ],
                )
            old_owner = (d.before or {}).get("owned_by")
            new_owner = (d.after or {}).get("owned_by")
            if old_owner != new_owner:
                if old_owner:
                    owner = _column_ref(old_owner)
                    self.add(
                        "disown_sequences",
                        f"Sequence {d.key} no longer owned by {old_owner}",
                        [
                            Step(
                                f"ALTER SEQUENCE {name} OWNED BY NONE;",
                                f"ALTER SEQUENCE {name} OWNED BY {owner};",
                                lock_=Lock("none"),
                            )
                        ],
                        needs=(f"sequence:{d.key}",),
                        objects=(),  # before anything is dropped: its phase says when
                    )
                if new_owner:
                    self.add(
                        "own_sequences",
                        f"Sequence {d.key} owned by {new_owner}",
                        [
                            Step(
                                f"ALTER SEQUENCE {name} OWNED BY {_column_ref(new_owner)};",
                                f"ALTER SEQUENCE {name} OWNED BY NONE;",
                                lock_=Lock("none"),
                            )
                        ],
                        objects=(),
                        requires=(f"sequence:{d.key}", f"column:{new_owner}"),
                    )

    # --- tables and columns ---------------------------------------------------------------------
    def column_sql(self, qname: str, c: dict[str, Any]) -> str:
        parts = [ident(qname.rsplit(".", 1)[1]), c["data_type"]]
        if c.get("collation"):
            parts.append(f"COLLATE {c['collation']}")
        if c["identity"]:
            parts.append(
                "GENERATED ALWAYS AS IDENTITY" if c["identity"] == "a" else "GENERATED BY DEFAULT AS IDENTITY"
            )
        elif c["generated"]:
            parts.append(f"GENERATED ALWAYS AS ({c['default']}) STORED")
        elif c["default"] is not None:
            parts.append(f"DEFAULT {c['default']}")
        if c["not_null"] and not c["identity"]:
            parts.append("NOT NULL")
        return " ".join(parts)

    def create_table_sql(self, name: str, t: dict[str, Any], columns: Projection | dict) -> str:
        cols = [self.column_sql(k, v) for k, v in columns.items() if k.rsplit(".", 1)[0] == name]
        unlogged = "UNLOGGED " if t["persistence"] == "u" else ""
        if t.get("partition_bound"):
            text = f"CREATE {unlogged}TABLE {qident(name)} PARTITION OF {qident(t['parent'])}"
            text += f" ({', '.join(cols)}) {t['partition_bound']}" if cols else f" {t['partition_bound']}"
        else:
            text = f"CREATE {unlogged}TABLE {qident(name)} ({', '.join(cols)})"
        if t["partition_key"]:
            text += f" PARTITION BY {t['partition_key']}"
        if t["reloptions"]:
            text += f" WITH ({', '.join(t['reloptions'])})"
        return text + ";"

    def tables(self) -> None:
        for d in self._of("tables"):
            t = d.after or d.before
            side = self.after if d.after else self.before
            self.subject = (
                f"table:{d.key}",
                *(f"column:{k}" for k in side["columns"] if k.rsplit(".", 1)[0] == d.key),
            )
            if t["kind"] == "f" or (t["parent"] and not t.get("partition_bound")):
                self.manual.append(
                    f"{'inheritance child' if t['parent'] else 'foreign table'} {d.key} {d.change}: "
                    "inheritance children and foreign tables are not generated"
                )
                continue

            if d.change == "added":
                create = self.create_table_sql(d.key, t, self.after["columns"])
                self.add(
                    "create_tables", f"Create table {d.key}", [Step(create, f"DROP TABLE {qident(d.key)};")]
                )
                self.rls(d.key, {"rls_enabled": False, "rls_forced": False}, t)
            elif d.change == "removed":
                create = self.create_table_sql(d.key, t, self.before["columns"]) + self.owner_sql(
                    "TABLE", d.key
                )
                self.add(
                    "drop_tables",
                    f"Drop table {d.key}",
                    [Step(f"DROP TABLE {qident(d.key)};", create, destructive_=True)],
                    destructive=True,
                    why_destructive="dropping a table loses its rows",
                    drops=(f"table:{d.key}",),
                )
                # Before the drop: the down part then creates the table before it enables RLS again.
                self.rls(d.key, t, {"rls_enabled": False, "rls_forced": False}, phase="drop_columns")
            else:
                self.table_change(d)

    def rls(self, name: str, old: dict[str, Any], new: dict[str, Any], phase: str = "alter_columns") -> None:
        for key, on, off in (("rls_enabled", "ENABLE", "DISABLE"), ("rls_forced", "FORCE", "NO FORCE")):
            if old[key] != new[key]:
                do, undo = (on, off) if new[key] else (off, on)
                self.add(
                    phase,
                    f"{do} row level security on {name}",
                    [
                        Step(
                            f"ALTER TABLE {qident(name)} {do} ROW LEVEL SECURITY;",
                            f"ALTER TABLE {qident(name)} {undo} ROW LEVEL SECURITY;",
                        )
                    ],
                    needs=(f"table:{name}",),
                )

    def table_change(self, d: Difference) -> None:
        self.rls(d.key, d.before, d.after)
        if d.before["reloptions"] != d.after["reloptions"]:
            name = qident(d.key)
            old = {o.split("=", 1)[0]: o for o in d.before["reloptions"]}
            new = {o.split("=", 1)[0]: o for o in d.after["reloptions"]}

            def change(keep: dict, drop: dict) -> str:
                parts = (
                    [f"ALTER TABLE {name} RESET ({', '.join(sorted(drop.keys() - keep.keys()))});"]
                    if drop.keys() - keep.keys()
                    else []
                )
                if keep:
                    parts.append(f"ALTER TABLE {name} SET ({', '.join(keep.values())});")
                return "\n".join(parts)

            self.add(
                "alter_columns",
                f"Storage options of {d.key}",
                [Step(change(new, old), change(old, new), lock_=Lock("SHARE UPDATE EXCLUSIVE", d.key))],
            )
        self.partition_change(d)
        for key in ("kind", "persistence", "partition_key"):
            if d.before[key] != d.after[key]:
                self.manual.append(
                    f"table {d.key}: {key} changes from {d.before[key]!r} to {d.after[key]!r}; "
                    "this needs a rebuild of the table, write it by hand"
                )

    def partition_change(self, d: Difference) -> None:
        """A partition moved to another parent or bound: DETACH, then ATTACH (which checks the rows)."""
        old = (d.before.get("parent"), d.before.get("partition_bound"))
        new = (d.after.get("parent"), d.after.get("partition_bound"))
        if old == new or not (old[1] or new[1]):
            return
        table = qident(d.key)

        def detach(parent: str) -> str:
            return f"ALTER TABLE {qident(parent)} DETACH PARTITION {table};"

        def attach(parent: str, bound: str) -> str:
            return f"ALTER TABLE {qident(parent)} ATTACH PARTITION {table} {bound};"

        if old[1]:
            self.add(
                "alter_columns",
                f"Detach partition {d.key} from {old[0]}",
                [Step(detach(old[0]), attach(*old), lock_=Lock("ACCESS EXCLUSIVE", old[0]))],
            )
        if new[1]:
            self.add(
                "alter_columns",
                f"Attach partition {d.key} to {new[0]} {new[1]}",
                [
                    Step(
                        attach(*new),
                        detach(new[0]),
                        lock_=Lock("SHARE UPDATE EXCLUSIVE", new[0]),
                        scans_=True,
                    )
                ],
                "ATTACH PARTITION scans the partition to check its rows fit the bound, unless a CHECK "
                "constraint already proves it.",
            )

    def columns(self) -> None:
        for d in self._of("columns"):
            table = d.key.rsplit(".", 1)[0]
            self.subject = (f"column:{d.key}",)
            if table in self.new_tables or table in self.gone_tables:
                continue  # part of CREATE TABLE / DROP TABLE
            t, c = qident(table), ident(d.key.rsplit(".", 1)[1])
            if d.change == "added":
                col = d.after
                live_table = self.live.table(table)
                if (
                    col["not_null"]
                    and col["default"] is None
                    and not col["identity"]
                    and live_table
                    and (live_table.n_live_tup or live_table.row_estimate > 0)
                ):
                    self.warnings.append(
                        f"{d.key} is added NOT NULL without a default, but {table} has rows: "
                        "the ADD COLUMN will fail; give it a default, or a rename hint if it "
                        "is an existing column under a new name"
                    )
                self.add(
                    "add_columns",
                    f"Add column {d.key}",
                    [
                        Step(
                            f"ALTER TABLE {t} ADD COLUMN {self.column_sql(d.key, col)};",
                            f"ALTER TABLE {t} DROP COLUMN {c};",
                            lock_=Lock("ACCESS EXCLUSIVE", table),
                        )
                    ],
                    rewrite=True,
                )
            elif d.change == "removed":
                self.add(
                    "drop_columns",
                    f"Drop column {d.key}",
                    [
                        Step(
                            f"ALTER TABLE {t} DROP COLUMN {c};",
                            f"ALTER TABLE {t} ADD COLUMN {self.column_sql(d.key, d.before)};",
                            lock_=Lock("ACCESS EXCLUSIVE", table),
                            destructive_=True,
                        )
                    ],
                    destructive=True,
                    why_destructive="dropping a column loses its values",
                    drops=(f"column:{d.key}",),
                    needs=(f"table:{table}",),
                )
            else:
                self.column_change(d, table, t, c)

    def column_change(self, d: Difference, table: str, t: str, c: str) -> None:
        old, new = d.before, d.after
        if old["generated"] != new["generated"]:
            self.manual.append(f"column {d.key}: its generated expression changes; write it by hand")
            return
        lock = Lock("ACCESS EXCLUSIVE", table)
        if old["identity"] and old["identity"] != new["identity"] and not new["identity"]:
            self.identity_change(d, t, c, lock)
        default_changes = (
            old["default"] != new["default"] or old["data_type"] != new["data_type"]
        ) and d.key not in self.enum_default_columns
        if default_changes and old["default"] is not None:
            restore = f"ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {old['default']};"
            self.add(
                "alter_columns",
                f"Drop the default of {d.key}",
                [Step(f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;", restore, lock_=lock)],
            )
        if old["data_type"] != new["data_type"]:
            widening = _widens(old["data_type"], new["data_type"])
            rewrites = not (widening and _NO_REWRITE.match(new["data_type"]))
            using = "" if widening else f" USING {c}::{new['data_type']}"
            back_using = f" USING {c}::{old['data_type']}"
            using = _collate(new) + using
            back_using = _collate(old) + back_using
            self.add(
                "alter_columns",
                f"Change the type of {d.key} from {old['data_type']} to {new['data_type']}",
                [
                    Step(
                        f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {new['data_type']}{using};",
                        f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {old['data_type']}{back_using};",
                        lock_=lock,
                        rewrites_=rewrites,
                        scans_=True,
                        destructive_=not widening,
                    )
                ],
                "Rewrites the table under ACCESS EXCLUSIVE."
                if rewrites
                else "A widening PostgreSQL makes without rewriting the table.",
                destructive=not widening,
                why_destructive=f"{old['data_type']} -> {new['data_type']} is not a known widening: "
                "values may fail to convert or lose precision",
                needs=(f"table:{table}",),
            )
        elif old.get("collation") != new.get("collation"):
            self.add(
                "alter_columns",
                f"Change the collation of {d.key} to {new.get('collation') or 'the default'}",
                [
                    Step(
                        f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {new['data_type']}{_collate(new, True)};",
                        f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {old['data_type']}{_collate(old, True)};",
                        lock_=lock,
                        scans_=True,
                    )
                ],
                "A new collation keeps the values; indexes on the column are rebuilt.",
                needs=(f"table:{table}",),
            )
        if default_changes and new["default"] is not None:
            self.add(
                "alter_columns",
                f"Set the default of {d.key}",
                [
                    Step(
                        f"ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {new['default']};",
                        f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;",
                        lock_=lock,
                    )
                ],
            )
        if old["not_null"] != new["not_null"]:
            if new["not_null"]:
                self.add(
                    "alter_columns",
                    f"SET NOT NULL on {d.key}",
                    [
                        Step(
                            f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;",
                            f"ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;",
                            lock_=lock,
                            scans_=True,
                        )
                    ],
                    rewrite=True,
                )
            else:
                self.add(
                    "alter_columns",
                    f"DROP NOT NULL on {d.key}",
                    [
                        Step(
                            f"ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;",
                            f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;",
                            lock_=lock,
                        )
                    ],
                )
        if new["identity"] and old["identity"] != new["identity"]:
            self.identity_change(d, t, c, lock)

    def identity_change(self, d: Difference, t: str, c: str, lock: Lock) -> None:
        """ADD / SET / DROP IDENTITY (the identity's sequence comes and goes with it)."""
        old, new = d.before["identity"], d.after["identity"]
        kind = {"a": "ALWAYS", "d": "BY DEFAULT"}

        def to(identity: str | None, other: str | None) -> str:
            if not identity:
                return f"ALTER TABLE {t} ALTER COLUMN {c} DROP IDENTITY;"
            if other:
                return f"ALTER TABLE {t} ALTER COLUMN {c} SET GENERATED {kind[identity]};"
            return f"ALTER TABLE {t} ALTER COLUMN {c} ADD GENERATED {kind[identity]} AS IDENTITY;"

        self.add(
            "alter_columns",
            f"Identity of {d.key}: {kind.get(new, 'none')}",
            [Step(to(new, old), to(old, new), lock_=lock)],
        )

    # --- constraints and indexes ------------------------------------------------------------------
    def constraints(self) -> None:
        for d in self._of("constraints"):
            table, name = d.key.rsplit(".", 1)
            backed = (d.after or d.before)["type"] in ("p", "u", "x")
            self.subject = (f"constraint:{d.key}",) + (
                (f"index:{table.split('.', 1)[0]}.{name}",) if backed else ()
            )
            if d.change in ("removed", "changed"):
                self.drop_constraint(table, name, d.before)
            if d.change in ("added", "changed"):
                self.add_constraint(table, name, d.after)

    @staticmethod
    def constraint_sql(table: str, name: str, k: dict[str, Any], not_valid: bool = False) -> str:
        suffix = " NOT VALID" if (not_valid or not k["validated"]) and k["type"] in ("c", "f") else ""
        return f"ALTER TABLE {qident(table)} ADD CONSTRAINT {ident(name)} {k['definition']}{suffix};"

    def drop_constraint(self, table: str, name: str, k: dict[str, Any]) -> None:
        phase = "drop_foreign_keys" if k["type"] == "f" else "drop_constraints"
        self.add(
            phase,
            f"Drop constraint {name} on {table}",
            [
                Step(
                    f"ALTER TABLE {qident(table)} DROP CONSTRAINT {ident(name)};",
                    self.constraint_sql(table, name, k),
                    lock_=Lock("ACCESS EXCLUSIVE", table),
                )
            ],
            needs=self.mentions(table, k["definition"]),
        )

    def add_constraint(self, table: str, name: str, k: dict[str, Any]) -> None:
        phase = "add_foreign_keys" if k["type"] == "f" else "add_constraints"
        drop = f"ALTER TABLE {qident(table)} DROP CONSTRAINT {ident(name)};"
        if (
            k["type"] == "c"
            and k["validated"]
            and table not in self.new_tables
            and not self.partitioned(table)
        ):
            # The lint rewrites foreign keys; a CHECK on a live table gets the same two steps here.
            self.add(
                phase,
                f"Add CHECK {name} on {table} NOT VALID",
                [
                    Step(
                        self.constraint_sql(table, name, k, not_valid=True),
                        drop,
                        lock_=Lock("ACCESS EXCLUSIVE", table),
                    )
                ],
                "Added NOT VALID: a brief lock, no scan; validated in the next step.",
            )
            self.add(
                phase,
                f"Validate CHECK {name} on {table}",
                [
                    Step(
                        f"ALTER TABLE {qident(table)} VALIDATE CONSTRAINT {ident(name)};",
                        None,
                        lock_=Lock("SHARE UPDATE EXCLUSIVE", table),
                        scans_=True,
                    )
                ],
                "VALIDATE scans under SHARE UPDATE EXCLUSIVE: reads and writes go on.",
            )
            return
        self.add(
            phase,
            f"Add constraint {name} on {table}",
            [Step(self.constraint_sql(table, name, k), drop, lock_=Lock("ACCESS EXCLUSIVE", table))],
            rewrite=not self.partitioned(table),  # NOT VALID and CONCURRENTLY do not apply there (PG 13-17)
        )

    def mentions(self, table: str, definition: str) -> tuple[str, ...]:
        """The table and its columns a definition names: if their drop is refused, so is this one's."""
        words = set(re.findall(r'"[^"]+"|[\w$]+', definition))
        cols = [
            k
            for k in self.before["columns"]
            if k.rsplit(".", 1)[0] == table
            and (k.rsplit(".", 1)[1] in words or ident(k.rsplit(".", 1)[1]) in words)
        ]
        return (f"table:{table}", *(f"column:{c}" for c in cols))

    def indexes(self) -> None:
        for d in self._of("indexes"):
            i = d.after or d.before
            self.subject = (f"index:{d.key}",)
            if i["table"] in self.view_changes:
                continue  # created and dropped with their materialized view
            schema = d.key.split(".", 1)[0]
            if d.change in ("removed", "changed"):
                old = d.before
                # No CONCURRENTLY on a partitioned table (PostgreSQL 13-17 refuse it there).
                gone = old["table"] in self.gone_tables or self.partitioned(old["table"])
                concurrently = "" if gone else "CONCURRENTLY "
                rebuild = _recursive(
                    old["definition"]
                    if gone
                    else old["definition"].replace(" INDEX ", " INDEX CONCURRENTLY ", 1)
                )
                self.add(
                    "drop_indexes",
                    f"Drop index {d.key}",
                    [
                        Step(
                            f"DROP INDEX {concurrently}{qident(d.key)};",
                            rebuild + ";",
                            lock_=Lock(
                                "ACCESS EXCLUSIVE" if gone else "SHARE UPDATE EXCLUSIVE", old["table"]
                            ),
                            transactional_=gone,
                            reverse_transactional=gone,
                        )
                    ],
                    needs=self.mentions(old["table"], old["definition"]),
                )
            if d.change in ("added", "changed"):
                new = d.after
                self.add(
                    "create_indexes",
                    f"Create index {d.key}",
                    [
                        Step(
                            _recursive(new["definition"]) + ";",
                            f"DROP INDEX {ident(schema)}.{ident(d.key.split('.', 1)[1])};",
                            lock_=Lock("SHARE", new["table"]),
                            scans_=True,
                        )
                    ],
                    rewrite=not self.partitioned(new["table"]),
                )

    def partitioned(self, table: str) -> bool:
        return any(side["tables"].get(table, {}).get("kind") == "p" for side in (self.before, self.after))

    # --- views, functions, triggers -----------------------------------------------------------------
    def view_sql(self, name: str, v: dict[str, Any], side: Projection) -> str:
        kind = "MATERIALIZED VIEW" if v["materialized"] else "VIEW"
        lines = [f"CREATE {kind} {qident(name)} AS\n{v['definition'].rstrip().rstrip(';')};"]
        if v["materialized"]:
            lines += [i["definition"] + ";" for i in side["indexes"].values() if i["table"] == name]
        return "\n".join(lines)

    def owner_sql(self, kind: str, name: str) -> str:
        """``\nALTER … OWNER TO`` the live owner, for an object the down part creates again."""
        owner = self.live_owners.get(f"{kind}|{name}", {}).get("owner")
        if not owner:
            return ""
        target = _fn_name(name) if kind in ("FUNCTION", "PROCEDURE", "AGGREGATE") else qident(name)
        return f"\nALTER {kind} {target} OWNER TO {ident(owner)};"

    def linked_sequence_owner(self, sequence: str, owned_by: str | None) -> str:
        """A sequence owned by a column has its table's owner: set before OWNED BY links them again."""
        if not owned_by:
            return self.owner_sql("SEQUENCE", sequence)
        owner = self.live_owners.get(f"TABLE|{owned_by.rsplit('.', 1)[0]}", {}).get("owner")
        return f"\nALTER SEQUENCE {qident(sequence)} OWNER TO {ident(owner)};" if owner else ""

    def reattach(self, name: str, side: Projection, object_type: str = "table") -> list[str]:
        """Grants and comments a view or function loses when it is dropped and created again."""
        lines = [
            comment_sql(k, v["comment"])
            for k, v in side["comments"].items()
            if k.split("|", 1)[1] == name or k.startswith(f"COLUMN|{name}.")
        ]
        lines += [
            grant_sql(k, v["grantable"])
            for k, v in side["privileges"].items()
            if k.startswith(f"{object_type} {name} ")
        ]
        return lines

    def views_in_order(self) -> list[Difference]:
        """View changes, each after the views it reads from (drops go in reverse).

        A view that reads a column whose type changes or that is dropped, or a view being
        recreated, blocks the change: such views are recreated too, with the same definition.
        """
        diffs = {d.key: d for d in self._of("views")}
        touched = {
            d.key.rsplit(".", 1)[0]
            for d in self._of("columns")
            if d.after is None or (d.before and d.before["data_type"] != d.after["data_type"])
        }
        blocking = set(touched) | {k for k, d in diffs.items() if d.change != "added"}
        grew = True
        while grew:
            grew = False
            for key in self.before["views"].keys() & self.after["views"].keys() - diffs.keys():
                if any(_mentions(self.before["views"][key]["definition"], name) for name in blocking):
                    diffs[key] = Difference("views", key, self.before["views"][key], self.after["views"][key])
                    blocking.add(key)
                    grew = True
        ordered: list[Difference] = []
        pending = dict(sorted(diffs.items()))
        while pending:
            ready = [
                k
                for k, d in pending.items()
                if not any(
                    other != k and _mentions((d.after or d.before)["definition"], other) for other in pending
                )
            ] or [next(iter(pending))]
            for key in ready:
                ordered.append(pending.pop(key))
        return ordered

    def views(self) -> None:
        for d in reversed(self.view_diffs):
            v = d.before
            self.subject = (f"view:{d.key}",)
            if d.change in ("removed", "changed"):
                kind = "materialized view" if v["materialized"] else "view"
                undo = "\n".join(
                    [self.view_sql(d.key, d.before, self.before)]
                    + (self.reattach(d.key, self.before) if d.change == "changed" else [])
                )
                self.add(
                    "drop_views",
                    f"Drop {kind} {d.key}",
                    [Step(f"DROP {kind.upper()} {qident(d.key)};", undo)],
                )
        for d in self.view_diffs:
            v = d.after or d.before
            self.subject = (f"view:{d.key}",)
            kind = "materialized view" if v["materialized"] else "view"
            drop = f"DROP {kind.upper()} {qident(d.key)};"
            if d.change in ("added", "changed"):
                up = "\n".join(
                    [self.view_sql(d.key, d.after, self.after)]
                    + (self.reattach(d.key, self.after) if d.change == "changed" else [])
                )
                self.add("create_views", f"Create {kind} {d.key}", [Step(up, drop)])

    def functions(self) -> None:
        for d in self._of("functions"):
            f = d.after or d.before
            self.subject = (f"function:{d.key}",)
            routine = {"p": "PROCEDURE", "a": "AGGREGATE"}.get(f["kind"], "FUNCTION")
            if not f["definition"] or f.get("aggregate_kind", "n") != "n":
                self.manual.append(
                    f"{'ordered-set aggregate' if f.get('aggregate_kind') else 'aggregate or window function'} "
                    f"{d.key} {d.change}; write it by hand"
                )
                continue
            drop = f"DROP {routine} {_fn_name(d.key)};"
            if routine == "AGGREGATE" and d.change == "changed":
                self.add(
                    "functions",
                    f"Recreate aggregate {d.key}",
                    [
                        Step(
                            f"{drop}\n{d.after['definition']};",
                            f"{drop}\n{d.before['definition']};",
                            lock_=Lock("none"),
                        )
                    ],
                )
                continue
            if d.change == "added":
                self.add(
                    "functions",
                    f"Create {routine.lower()} {d.key}",
                    [Step(d.after["definition"].rstrip() + ";", drop, lock_=Lock("none"))],
                )
            elif d.change == "removed":
                self.add(
                    "drop_functions",
                    f"Drop {routine.lower()} {d.key}",
                    [Step(drop, d.before["definition"].rstrip() + ";", lock_=Lock("none"))],
                )
            elif _returns(d.before["definition"]) != _returns(d.after["definition"]):
                # CREATE OR REPLACE cannot change the result type: drop, create, and give back grants and comments.
                up = [
                    drop,
                    d.after["definition"].rstrip() + ";",
                    *self.reattach(d.key, self.after, "function"),
                ]
                undo = [
                    drop,
                    d.before["definition"].rstrip() + ";",
                    *self.reattach(d.key, self.before, "function"),
                ]
                self.add(
                    "functions",
                    f"Recreate {routine.lower()} {d.key} with a new result type",
                    [Step("\n".join(up), "\n".join(undo), lock_=Lock("none"))],
                    "The result type changes, which CREATE OR REPLACE refuses; objects that use the function "
                    "block the drop.",
                )
            else:
                self.add(
                    "functions",
                    f"Replace {routine.lower()} {d.key}",
                    [
                        Step(
                            d.after["definition"].rstrip() + ";",
                            d.before["definition"].rstrip() + ";",
                            lock_=Lock("none"),
                        )
                    ],
                    "CREATE OR REPLACE keeps the function's grants and comments.",
                )

    def triggers(self) -> None:
        for d in self._of("triggers"):
            table, name = d.key.rsplit(".", 1)
            self.subject = (f"trigger:{d.key}",)
            drop = f"DROP TRIGGER {ident(name)} ON {qident(table)};"
            if d.change in ("removed", "changed"):
                self.add(
                    "drop_triggers",
                    f"Drop trigger {name} on {table}",
                    [Step(drop, d.before["definition"] + ";", lock_=Lock("SHARE ROW EXCLUSIVE", table))],
                    needs=(f"table:{table}",),
                )
            if d.change in ("added", "changed"):
                self.add(
                    "create_triggers",
                    f"Create trigger {name} on {table}",
                    [Step(d.after["definition"] + ";", drop, lock_=Lock("SHARE ROW EXCLUSIVE", table))],
                )

    # --- extensions, collations, text search ----------------------------------------------------------
    def extensions(self) -> None:
        for d in self._of("extensions"):
            self.subject = (f"extension:{d.key}",)
            create = (
                f"CREATE EXTENSION IF NOT EXISTS {ident(d.key)} WITH SCHEMA {ident(d.after['schema'])};"
                if d.after
                else None
            )
            drop = f"DROP EXTENSION {ident(d.key)};"
            if d.change == "added":
                self.add(
                    "create_extensions", f"Create extension {d.key}", [Step(create, drop, lock_=Lock("none"))]
                )
            elif d.change == "removed":
                undo = (
                    f"CREATE EXTENSION IF NOT EXISTS {ident(d.key)} WITH SCHEMA {ident(d.before['schema'])};"
                )
                self.add(
                    "drop_extensions",
                    f"Drop extension {d.key}",
                    [Step(drop, undo, lock_=Lock("none"), destructive_=True)],
                    destructive=True,
                    why_destructive="dropping an extension drops its types and the columns that use them",
                    drops=(f"extension:{d.key}",),
                )
            else:
                move = "ALTER EXTENSION {} SET SCHEMA {};"
                self.add(
                    "create_extensions",
                    f"Move extension {d.key} to schema {d.after['schema']}",
                    [
                        Step(
                            move.format(ident(d.key), ident(d.after["schema"])),
                            move.format(ident(d.key), ident(d.before["schema"])),
                            lock_=Lock("none"),
                        )
                    ],
                )

    @staticmethod
    def collation_sql(name: str, c: dict[str, Any]) -> str:
        options = [f"provider = {c['provider']}"]
        options += [f"{k} = {literal(c[k])}" for k in ("locale", "lc_collate", "lc_ctype") if c.get(k)]
        if not c["deterministic"]:
            options.append("deterministic = false")
        return f"CREATE COLLATION {qident(name)} ({', '.join(options)});"

    def collations(self) -> None:
        for d in self._of("collations"):
            self.subject = (f"collation:{d.key}",)
            drop = f"DROP COLLATION {qident(d.key)};"
            if d.change in ("removed", "changed"):
                self.add(
                    "drop_collations",
                    f"Drop collation {d.key}",
                    [Step(drop, self.collation_sql(d.key, d.before), lock_=Lock("none"))],
                )
            if d.change in ("added", "changed"):
                self.add(
                    "create_collations",
                    f"Create collation {d.key}",
                    [Step(self.collation_sql(d.key, d.after), drop, lock_=Lock("none"))],
                )

    @staticmethod
    def dictionary_sql(name: str, t: dict[str, Any]) -> str:
        options = ", ".join([f"TEMPLATE = {t['template']}"] + ([t["options"]] if t["options"] else []))
        return f"CREATE TEXT SEARCH DICTIONARY {qident(name)} ({options});"

    @staticmethod
    def configuration_sql(name: str, t: dict[str, Any]) -> str:
        lines = [f"CREATE TEXT SEARCH CONFIGURATION {qident(name)} (PARSER = {t['parser']});"]
        lines += [
            f"ALTER TEXT SEARCH CONFIGURATION {qident(name)} ADD MAPPING FOR {m};" for m in t["mappings"]
        ]
        return "\n".join(lines)

    def text_search(self) -> None:
        for kind, word, sql in (
            ("ts_dictionaries", "DICTIONARY", self.dictionary_sql),
            ("ts_configs", "CONFIGURATION", self.configuration_sql),
        ):
            for d in self._of(kind):
                self.subject = (f"{'ts_dictionary' if kind == 'ts_dictionaries' else 'ts_config'}:{d.key}",)
                drop = f"DROP TEXT SEARCH {word} {qident(d.key)};"
                title = f"text search {word.lower()} {d.key}"
                if d.change == "changed" and kind == "ts_configs" and d.before["parser"] == d.after["parser"]:
                    self.add(
                        "create_text_search",
                        f"Change the mappings of {title}",
                        [Step(self.remap(d.key, d.before, d.after), self.remap(d.key, d.after, d.before))],
                    )
                    continue
                if d.change in ("removed", "changed"):
                    self.add("drop_text_search", f"Drop {title}", [Step(drop, sql(d.key, d.before))])
                if d.change in ("added", "changed"):
                    self.add("create_text_search", f"Create {title}", [Step(sql(d.key, d.after), drop)])

    @staticmethod
    def remap(name: str, old: dict[str, Any], new: dict[str, Any]) -> str:
        """A configuration's mappings from ``old`` to ``new``: dropped token by token, then added."""
        tokens = sorted({m.split(" WITH ", 1)[0] for m in old["mappings"]})
        lines = [
            f"ALTER TEXT SEARCH CONFIGURATION {qident(name)} DROP MAPPING IF EXISTS FOR {t};" for t in tokens
        ]
        lines += [
            f"ALTER TEXT SEARCH CONFIGURATION {qident(name)} ADD MAPPING FOR {m};" for m in new["mappings"]
        ]
        return "\n".join(lines)

    # --- column settings, policies, publications, owners -------------------------------------------
    def column_settings(self) -> None:
        """SET (n_distinct …), SET STATISTICS and SET STORAGE, as pg_dump writes them."""
        for d in self._of("column_settings"):
            table = d.key.rsplit(".", 1)[0]
            # On a table being dropped: reset first, so the down part sets them again after recreating it.
            phase = "reset_settings" if d.after is None and table in self.gone_tables else "alter_columns"
            self.subject = (f"column:{d.key}",)
            t, c = _three(d.key)
            empty = {"options": [], "statistics": None, "storage": None}
            old, new = (
                d.before or {**empty, "type_storage": d.after["type_storage"]},
                d.after
                or {
                    **empty,
                    "type_storage": d.before["type_storage"],
                },
            )
            self.add(
                phase,
                f"Settings of column {d.key}",
                [
                    Step(
                        self.settings_sql(t, c, old, new),
                        self.settings_sql(t, c, new, old),
                        lock_=Lock("SHARE UPDATE EXCLUSIVE", table),
                    )
                ],
            )

    def table_settings(self) -> None:
        """REPLICA IDENTITY and CLUSTER ON, after the indexes they name."""
        default = {"replica_identity": "d", "replica_index": None, "clustered_on": None}
        for d in self._of("table_settings"):
            phase = "reset_settings" if d.after is None and d.key in self.gone_tables else "table_settings"
            old, new = d.before or default, d.after or default
            schema = d.key.split(".", 1)[0]
            self.subject = ()
            needs = tuple(
                f"index:{schema}.{i.strip(chr(34))}" for i in (new["replica_index"], new["clustered_on"]) if i
            )
            self.add(
                phase,
                f"Replica identity and clustering of {d.key}",
                [
                    Step(
                        self.table_settings_sql(d.key, old, new),
                        self.table_settings_sql(d.key, new, old),
                        lock_=Lock("ACCESS EXCLUSIVE", d.key),
                    )
                ],
                requires=(f"table:{d.key}", *needs),
            )

    @staticmethod
    def table_settings_sql(table: str, old: dict[str, Any], new: dict[str, Any]) -> str:
        alter = f"ALTER TABLE {qident(table)}"
        lines = []
        if (old["replica_identity"], old["replica_index"]) != (new["replica_identity"], new["replica_index"]):
            identity = {"d": "DEFAULT", "n": "NOTHING", "f": "FULL"}.get(
                new["replica_identity"], f"USING INDEX {new['replica_index']}"
            )
            lines.append(f"{alter} REPLICA IDENTITY {identity};")
        if old["clustered_on"] != new["clustered_on"]:
            lines.append(
                f"{alter} CLUSTER ON {new['clustered_on']};"
                if new["clustered_on"]
                else f"{alter} SET WITHOUT CLUSTER;"
            )
        return "\n".join(lines) or "SELECT 1;"

    @staticmethod
    def settings_sql(t: str, c: str, old: dict[str, Any], new: dict[str, Any]) -> str:
        column = f"ALTER TABLE {t} ALTER COLUMN {c}"
        lines = []
        gone = sorted(
            {o.split("=", 1)[0] for o in old["options"]} - {o.split("=", 1)[0] for o in new["options"]}
        )
        if gone:
            lines.append(f"{column} RESET ({', '.join(gone)});")
        if new["options"] and new["options"] != old["options"]:
            lines.append(f"{column} SET ({', '.join(new['options'])});")
        if old["statistics"] != new["statistics"]:
            lines.append(f"{column} SET STATISTICS {-1 if new['statistics'] is None else new['statistics']};")
        if old["storage"] != new["storage"]:
            storage = {"p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"}
            lines.append(f"{column} SET STORAGE {storage[new['storage'] or new['type_storage']]};")
        return "\n".join(lines) or "SELECT 1;"

    @staticmethod
    def policy_sql(key: str, p: dict[str, Any]) -> str:
        table, name = _three(key)
        text = f"CREATE POLICY {name} ON {table} AS {'PERMISSIVE' if p['permissive'] else 'RESTRICTIVE'}"
        text += f" FOR {p['command']} TO {', '.join(p['roles']) or 'PUBLIC'}"
        if p["using"] is not None:
            text += f" USING ({p['using']})"
        if p["check"] is not None:
            text += f" WITH CHECK ({p['check']})"
        return text + ";"

    def policies(self) -> None:
        for d in self._of("policies"):
            table = d.key.rsplit(".", 1)[0]
            self.subject = (f"policy:{d.key}",)
            _, name = _three(d.key)
            drop = f"DROP POLICY {name} ON {qident(table)};"
            if d.change in ("removed", "changed"):
                self.add(
                    "drop_policies",
                    f"Drop policy {d.key}",
                    [Step(drop, self.policy_sql(d.key, d.before), lock_=Lock("ACCESS EXCLUSIVE", table))],
                    needs=(f"table:{table}",),
                )
            if d.change in ("added", "changed"):
                self.add(
                    "create_policies",
                    f"Create policy {d.key}",
                    [Step(self.policy_sql(d.key, d.after), drop, lock_=Lock("ACCESS EXCLUSIVE", table))],
                )

    @staticmethod
    def publication_sql(name: str, p: dict[str, Any]) -> str:
        text = f"CREATE PUBLICATION {ident(name)}"
        targets = [f"TABLE {', '.join(p['tables'])}"] if p["tables"] else []
        targets += [f"TABLES IN SCHEMA {', '.join(p.get('schemas', []))}"] if p.get("schemas") else []
        if p["all_tables"]:
            text += " FOR ALL TABLES"
        elif targets:
            text += f" FOR {', '.join(targets)}"
        options = [f"publish = {literal(p['publish'])}"]
        if p.get("via_root"):
            options.append("publish_via_partition_root = true")
        return text + f" WITH ({', '.join(options)});"

    def publications(self) -> None:
        for d in self._of("publications"):
            self.subject = ()
            drop = f"DROP PUBLICATION {ident(d.key)};"
            if d.change in ("removed", "changed"):
                self.add(
                    "drop_publications",
                    f"Drop publication {d.key}",
                    [Step(drop, self.publication_sql(d.key, d.before), lock_=Lock("none"))],
                )
            if d.change in ("added", "changed"):
                self.add(
                    "publications",
                    f"Create publication {d.key}",
                    [Step(self.publication_sql(d.key, d.after), drop, lock_=Lock("none"))],
                )

    def statistics(self) -> None:
        for d in self._of("statistics"):
            self.subject = (f"statistics:{d.key}",)
            drop = f"DROP STATISTICS {qident(d.key)};"
            if d.change in ("removed", "changed"):
                self.add(
                    "drop_statistics",
                    f"Drop statistics {d.key}",
                    [Step(drop, d.before["definition"] + ";", lock_=Lock("none"))],
                )
            if d.change in ("added", "changed"):
                self.add(
                    "create_statistics",
                    f"Create statistics {d.key}",
                    [Step(d.after["definition"] + ";", drop, lock_=Lock("none"))],
                )

    def rules(self) -> None:
        for d in self._of("rules"):
            table, name = d.key.rsplit(".", 1)
            self.subject = (f"rule:{d.key}",)
            drop = f"DROP RULE {ident(name)} ON {qident(table)};"
            if d.change in ("removed", "changed"):
                self.add(
                    "drop_rules",
                    f"Drop rule {name} on {table}",
                    [Step(drop, d.before["definition"], lock_=Lock("ACCESS EXCLUSIVE", table))],
                    needs=(f"table:{table}",),
                )
            if d.change in ("added", "changed"):
                self.add(
                    "create_rules",
                    f"Create rule {name} on {table}",
                    [Step(d.after["definition"], drop, lock_=Lock("ACCESS EXCLUSIVE", table))],
                )

    @staticmethod
    def event_trigger_sql(name: str, e: dict[str, Any]) -> str:
        when = f" WHEN TAG IN ({', '.join(literal(t) for t in e['tags'])})" if e["tags"] else ""
        text = f"CREATE EVENT TRIGGER {ident(name)} ON {e['event']}{when} EXECUTE FUNCTION {e['function']};"
        state = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}.get(e["enabled"])
        return text + (f"\nALTER EVENT TRIGGER {ident(name)} {state};" if state else "")

    def event_triggers(self) -> None:
        for d in self._of("event_triggers"):
            self.subject = (f"event_trigger:{d.key}",)
            drop = f"DROP EVENT TRIGGER {ident(d.key)};"
            if d.change in ("removed", "changed"):
                self.add(
                    "drop_event_triggers",
                    f"Drop event trigger {d.key}",
                    [Step(drop, self.event_trigger_sql(d.key, d.before), lock_=Lock("none"))],
                )
            if d.change in ("added", "changed"):
                self.add(
                    "create_event_triggers",
                    f"Create event trigger {d.key}",
                    [Step(self.event_trigger_sql(d.key, d.after), drop, lock_=Lock("none"))],
                )

    def other(self) -> None:
        """Kinds the diff reads but does not generate (event triggers, operators, casts, rules, statistics
        objects, foreign servers, column privileges, default privileges, …): listed, never skipped silently."""
        for d in self._of("other"):
            self.manual.append(f"{d.key} {d.change}: this kind is not generated; write it by hand")

    def owners(self) -> None:
        for d in self._of("owners"):
            if d.after is None:
                continue  # only owners the schema file sets are compared
            self.subject = ()
            kind, _, name = d.key.partition("|")
            target = _fn_name(name) if kind in ("FUNCTION", "PROCEDURE", "AGGREGATE") else qident(name)
            alter = f"ALTER {kind} {target} OWNER TO {{}};"
            undo = alter.format(ident(d.before["owner"])) if d.before else None
            self.add(
                "owners",
                f"Owner of {kind.lower()} {name}: {d.after['owner']}",
                [Step(alter.format(ident(d.after["owner"])), undo, lock_=Lock("none"))],
            )

    # --- comments and grants ----------------------------------------------------------------------
    def comments(self) -> None:
        self.subject = ()
        for d in self._of("comments"):
            old = d.before["comment"] if d.before else None
            new = d.after["comment"] if d.after else None
            kind, _, name = d.key.partition("|")
            needs = (f"table:{name}", f"column:{name}", f"schema:{name}", f"type:{name}")
            if new is None:
                self.add(
                    "uncomment",
                    f"Remove comment on {kind} {name}",
                    [Step(comment_sql(d.key, None), comment_sql(d.key, old), lock_=Lock("none"))],
                    needs=needs,
                )
            else:
                self.add(
                    "comment",
                    f"Comment on {kind} {name}",
                    [Step(comment_sql(d.key, new), comment_sql(d.key, old), lock_=Lock("none"))],
                )

    def privileges(self) -> None:
        for d in self._of("privileges"):
            object_type, object_name, grantee, privilege = _split_privilege(d.key)
            what = f"{privilege} on {object_type} {object_name}"
            if d.before is not None:
                self.add(
                    "revoke",
                    f"Revoke {what} from {grantee}",
                    [
                        Step(
                            grant_sql(d.key, False, revoke=True),
                            grant_sql(d.key, d.before["grantable"]),
                            lock_=Lock("none"),
                        )
                    ],
                    needs=(f"{object_type}:{object_name}", f"schema:{object_name}"),
                )
            if d.after is not None:
                self.add(
                    "grant",
                    f"Grant {what} to {grantee}",
                    [
                        Step(
                            grant_sql(d.key, d.after["grantable"]),
                            grant_sql(d.key, False, revoke=True),
                            lock_=Lock("none"),
                        )
                    ],
                )


def _recursive(index_definition: str) -> str:
    """An index on a partitioned table as pg_get_indexdef prints it (``ON ONLY``) would stay invalid
    and leave the partitions without theirs: created without ONLY, it builds and attaches them."""
    return re.sub(
        r"^(CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?\S+ ON )ONLY ", r"\1", index_definition, count=1
    )


def _collate(column: dict[str, Any], explicit: bool = False) -> str:
    """`` COLLATE x`` for a column with a collation of its own; with ``explicit``, the type's default too."""
    if column.get("collation"):
        return f" COLLATE {column['collation']}"
    return ' COLLATE pg_catalog."default"' if explicit else ""


def _named_checks(checks: list[str]) -> dict[str, str]:
    """ "CONSTRAINT name CHECK (…)" entries by name (the name as the server quoted it)."""
    return {c.split(" ", 2)[1].strip('"'): c for c in checks}


def _attributes(attributes: list[str]) -> dict[str, str]:
    """Composite attributes "name type" (name quoted where needed) as name -> type, in order."""
    out = {}
    for entry in attributes:
        match = re.match(r'^("(?:[^"]|"")+"|\S+) (.*)$', entry)
        out[match.group(1)] = match.group(2)
    return out


def _returns(definition: str) -> str | None:
    """The RETURNS line of a pg_get_functiondef text."""
    match = re.search(r"^ RETURNS (.*)$", definition, re.MULTILINE)
    return match.group(1) if match else None


def _mentions(definition: str, qname: str) -> bool:
    """Whether a definition names ``schema.name`` (by its last part: a cheap, safe over-approximation)."""
    short = qname.rsplit(".", 1)[-1]
    return re.search(rf"(?<![\w$]){re.escape(short)}(?![\w$])", definition) is not None


def _column_ref(qname: str) -> str:
    table, column = _three(qname)
    return f"{table}.{column}"


def _changed_fields(d: Difference) -> str:
    return ", ".join(k for k in d.after if d.before.get(k) != d.after.get(k))


def _widens(old: str, new: str) -> bool:
    """True when every value of ``old`` fits ``new`` unchanged."""
    if new in _WIDER.get(old, ()):
        return True
    if new == "text" and re.match(r"^(character varying|character)\(\d+\)$|^character varying$", old):
        return True
    m_old, m_new = (
        re.match(r"^(character varying|numeric)\((\d+)(?:,(\d+))?\)$", old),
        re.match(r"^(character varying|numeric)(?:\((\d+)(?:,(\d+))?\))?$", new),
    )
    if m_old and m_new and m_old.group(1) == m_new.group(1):
        if m_new.group(2) is None:
            return True  # unbounded
        old_scale, new_scale = int(m_old.group(3) or 0), int(m_new.group(3) or 0)
        return int(m_new.group(2)) - new_scale >= int(m_old.group(2)) - old_scale and new_scale >= old_scale
    return False
