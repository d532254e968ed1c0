"""Robustness: statements that fail, half-apply or silently change meaning when a migration runs or is
retried (the failure modes squawk's rules name and dbwright lacked; docs/lint.md has the parity table)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, TransactionStmtKind
from pglast.parser import scan

from dbwright.changes.lint.rules import Hit, rule
from dbwright.model.findings import Severity

#: PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes.
MAX_IDENTIFIER_BYTES = 63
_BEGINS = (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START)


@rule(
    "DW750",
    "BEGIN inside a transaction that is already open",
    Severity.HIGH,
    fails=[
        "BEGIN;\nCREATE TABLE t (id bigint);\nBEGIN;\nCREATE TABLE u (id bigint);\nCOMMIT;\nCOMMIT;",
    ],
    passes=[
        "BEGIN;\nCREATE TABLE t (id bigint);\nCOMMIT;\nBEGIN;\nCREATE TABLE u (id bigint);\nCOMMIT;",
    ],
    lock_related=False,
)
def nested_begin(statement, state):
    """PostgreSQL has no nested transactions: a second ``BEGIN`` only warns ("there is already a
    transaction in progress"), and the first ``COMMIT`` then commits everything so far. The
    statements after it run outside any transaction, so a failure there leaves the migration half
    applied, though its author wrapped it to be all or nothing. A runner that wraps each file
    itself (Django's and Rails' atomic migrations, Alembic, ``dbwright migrate``) makes any
    ``BEGIN`` in the file a nested one.

    Fix: one ``BEGIN … COMMIT`` per transaction, or none when the runner wraps the file;
    ``SAVEPOINT`` for a part that may fail on its own.
    """
    node = statement.node
    if isinstance(node, ast.TransactionStmt) and node.kind in _BEGINS and state.in_transaction_block:
        yield Hit(
            "a transaction is already open here: this BEGIN only warns, and the next COMMIT ends the "
            "outer transaction early",
            lock="none",
            safe_rewrite="remove this BEGIN (and its COMMIT), or use SAVEPOINT name … RELEASE SAVEPOINT name",
        )


@rule(
    "DW751",
    "BEGIN never committed",
    Severity.HIGH,
    fails=["BEGIN;\nCREATE TABLE t (id bigint);"],
    passes=["BEGIN;\nCREATE TABLE t (id bigint);\nCOMMIT;", "CREATE TABLE t (id bigint);"],
    lock_related=False,
)
def begin_never_committed(statement, state):
    """A file that opens a transaction and never ends it: psql (and most runners) roll it back when
    the session closes, so everything after the ``BEGIN`` is silently undone, or, in a runner that
    keeps the session, the transaction stays open holding its locks.

    Reported at the end of the file, on the ``BEGIN`` that was left open.

    Fix: end the transaction with ``COMMIT`` (or ``ROLLBACK`` on purpose).
    """
    return iter(())  # the lint reports it when the file ends (engine.lint, via unclosed_transaction)


def unclosed_transaction(state) -> Hit | None:
    """At the end of a file: the BEGIN still open (DW751), if the file opened one itself."""
    if state.in_transaction_block and state.transaction_began_at is not None:
        return Hit(
            f"the transaction opened on line {state.transaction_began_at} is never committed: it is "
            "rolled back when the session ends",
            lock="none",
            safe_rewrite="COMMIT;  -- at the end of the file",
        )
    return None


def _identifiers(sql: str) -> Iterator[str]:
    """Every identifier as written in the SQL (the parser has already cut long ones to 63 bytes)."""
    try:
        tokens = scan(sql)
    except Exception:  # noqa: BLE001 - a statement the scanner cannot read has no identifiers to judge
        return
    for token in tokens:
        if token.name == "IDENT":
            text = sql[token.start : token.end + 1]
            yield text[1:-1].replace('""', '"') if text.startswith('"') else text.lower()


@rule(
    "DW752",
    "Identifier longer than 63 bytes",
    Severity.MEDIUM,
    fails=[
        "CREATE INDEX orders_customer_id_placed_at_status_total_amount_currency_code_idx ON orders "
        "(customer_id);",
    ],
    passes=["CREATE INDEX orders_customer_placed_idx ON orders (customer_id);"],
    lock_related=False,
)
def identifier_too_long(statement, state):
    """PostgreSQL cuts identifiers to 63 bytes (``NAMEDATALEN`` - 1) with only a NOTICE. The object
    gets a different name than the migration wrote, so a later statement or tool that uses the full
    name, or compares names (an ORM's autogenerate, a diff), misses it, and two long names that
    share their first 63 bytes collide. Bytes, not characters: ``é`` takes two.

    Fix: a name of at most 63 bytes.
    """
    long = sorted({n for n in _identifiers(statement.sql) if len(n.encode()) > MAX_IDENTIFIER_BYTES})
    for name in long:
        yield Hit(
            f"{name!r} has {len(name.encode())} bytes: PostgreSQL keeps only the first 63 "
            f"({name.encode()[:MAX_IDENTIFIER_BYTES].decode(errors='ignore')!r})",
            lock="none",
            safe_rewrite="use a name of at most 63 bytes",
        )


@rule(
    "DW753",
    "Column assigned twice in one UPDATE",
    Severity.HIGH,
    fails=["UPDATE orders SET status = 'paid', total = 0, status = 'open' WHERE id = 1;"],
    passes=["UPDATE orders SET status = 'paid', total = 0 WHERE id = 1;"],
    lock_related=False,
)
def column_assigned_twice(statement, state):
    """``UPDATE … SET a = 1, a = 2`` fails ("multiple assignments to same column"): the migration
    stops there. It is usually a copy-paste slip in a backfill.

    Fix: assign each column once.
    """
    node = statement.node
    if not isinstance(node, ast.UpdateStmt) or not node.targetList:
        return
    names = Counter(target.name for target in node.targetList if isinstance(target, ast.ResTarget))
    for name, count in sorted(names.items()):
        if count > 1:
            yield Hit(
                f"{name} is assigned {count} times: PostgreSQL refuses the UPDATE (multiple assignments "
                "to same column)",
                lock="none",
                safe_rewrite=f"keep one assignment to {name}",
            )


@rule(
    "DW754",
    "Enum value added in the middle of the order",
    Severity.LOW,
    fails=["ALTER TYPE order_status ADD VALUE 'refunded' BEFORE 'closed';"],
    passes=["ALTER TYPE order_status ADD VALUE 'refunded';"],
    lock_related=False,
)
def enum_value_in_the_middle(statement, state):
    """``ADD VALUE … BEFORE/AFTER`` puts the new value inside the order: every comparison and
    ``ORDER BY`` on the type changes meaning for existing rows' neighbours, range queries
    (``status < 'closed'``) start matching the new value, and values added out of order make
    comparisons slower (PostgreSQL then looks the order up in ``pg_enum``).

    Fix: add the value at the end, unless the new position is the point; then review the queries
    that compare the type.
    """
    node = statement.node
    if isinstance(node, ast.AlterEnumStmt) and node.newVal and node.newValNeighbor:
        where = "after" if node.newValIsAfter else "before"
        yield Hit(
            f"'{node.newVal}' goes {where} '{node.newValNeighbor}': comparisons and sorts on the type change",
            lock="none",
            safe_rewrite=f"ALTER TYPE … ADD VALUE '{node.newVal}';  -- at the end",
        )


def _domain_constraints(node) -> list[ast.Constraint]:
    return [c for c in node.constraints or () if isinstance(c, ast.Constraint)]


@rule(
    "DW755",
    "Domain created with a constraint",
    Severity.LOW,
    fails=["CREATE DOMAIN positive_amount AS numeric CHECK (VALUE > 0);"],
    passes=["CREATE DOMAIN amount AS numeric;", "CREATE DOMAIN email AS citext;"],
    lock_related=False,
)
def domain_with_constraint(statement, state):
    """A CHECK on a domain applies to every column of every table that uses it. Changing it later is
    an ``ALTER DOMAIN … ADD CONSTRAINT``, which scans all those tables (DW756), and dropping or
    replacing it cannot be done one table at a time; the constraint is also invisible in the
    tables' own definitions.

    Fix: put the CHECK on the columns (``ADD CONSTRAINT … CHECK … NOT VALID`` then ``VALIDATE``,
    table by table), or accept the domain knowingly.
    """
    node = statement.node
    if isinstance(node, ast.CreateDomainStmt):
        kinds = {ConstrType(c.contype) for c in _domain_constraints(node)}
        if ConstrType.CONSTR_CHECK in kinds:
            yield Hit(
                "the domain's CHECK applies to every column that will use it; changing it later scans "
                "all their tables",
                lock="none",
                safe_rewrite="a CHECK on each column (ADD CONSTRAINT … NOT VALID, then VALIDATE)",
            )


@rule(
    "DW756",
    "Constraint added to a domain without NOT VALID",
    Severity.MEDIUM,
    fails=["ALTER DOMAIN positive_amount ADD CONSTRAINT amount_positive CHECK (VALUE > 0);"],
    passes=[
        "ALTER DOMAIN positive_amount ADD CONSTRAINT amount_positive CHECK (VALUE > 0) NOT VALID;",
        "ALTER DOMAIN positive_amount VALIDATE CONSTRAINT amount_positive;",
    ],
    lock_related=False,
)
def alter_domain_add_constraint(statement, state):
    """``ALTER DOMAIN … ADD CONSTRAINT`` checks every row of every table with a column of the domain
    before it commits, holding locks on those tables that block their writes for the whole scan.

    Fix: ``ADD CONSTRAINT … NOT VALID`` (new values are checked at once), then ``ALTER DOMAIN …
    VALIDATE CONSTRAINT`` in a later transaction, which takes a weaker lock.
    """
    node = statement.node
    if isinstance(node, ast.AlterDomainStmt) and node.subtype == "C":
        constraint = node.def_
        if isinstance(constraint, ast.Constraint) and not constraint.skip_validation:
            yield Hit(
                "every table with a column of this domain is scanned while its writes wait",
                lock="SHARE",
                safe_rewrite=statement.sql.rstrip().rstrip(";") + " NOT VALID;\n-- later, in its own "
                "transaction: ALTER DOMAIN … VALIDATE CONSTRAINT …;",
            )


#: DDL kinds whose second run fails with "already exists" / "does not exist".
_CREATE_KINDS = (
    ast.CreateStmt,
    ast.IndexStmt,
    ast.CreateSeqStmt,
    ast.CreateSchemaStmt,
    ast.CreateExtensionStmt,
)


def _not_idempotent(node) -> str | None:
    if isinstance(node, _CREATE_KINDS) and not getattr(node, "if_not_exists", False):
        return "has no IF NOT EXISTS"
    if isinstance(node, ast.DropStmt) and not node.missing_ok:
        return "has no IF EXISTS"
    if isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            if cmd.subtype == AlterTableType.AT_AddColumn and not cmd.missing_ok:
                return "adds a column without IF NOT EXISTS"
            if (
                cmd.subtype in (AlterTableType.AT_DropColumn, AlterTableType.AT_DropConstraint)
                and not cmd.missing_ok
            ):
                return "drops without IF EXISTS"
    return None


@rule(
    "DW757",
    "DDL that fails when a half-applied migration is run again",
    Severity.LOW,
    fails=[
        "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);",
        "ALTER TABLE orders ADD COLUMN note text;\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note_idx ON orders (note);",
    ],
    passes=[
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note_idx ON orders (note);",
        "CREATE TABLE t (id bigint);\nALTER TABLE orders ADD COLUMN note text;",
        "ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note_idx ON orders (note);",
    ],
    lock_related=False,
)
def not_idempotent(statement, state):
    """Outside a transaction each statement commits on its own, so a migration that fails half way
    leaves the first half applied; running it again then fails on the first ``CREATE`` ("already
    exists") or ``DROP`` ("does not exist") that already ran, and someone has to finish it by hand.
    A failed ``CREATE INDEX CONCURRENTLY`` is the common case: it leaves an INVALID index behind
    under the same name, so it is reported on its own. Otherwise a statement without ``IF [NOT]
    EXISTS`` is reported once a later statement of the file runs outside a transaction too (a
    one-statement file can simply be run again). Inside a transaction (or a file the runner wraps
    in one) a failure undoes everything, so nothing is reported there.

    Fix: ``IF NOT EXISTS`` / ``IF EXISTS`` on statements that run outside a transaction (for an
    index left INVALID, ``DROP INDEX CONCURRENTLY IF EXISTS`` first), or wrap the migration in one
    transaction when nothing in it needs to run outside.
    """
    if state.in_transaction_block:
        return
    node = statement.node
    problem = _not_idempotent(node)
    if isinstance(node, ast.IndexStmt) and node.concurrent and problem:
        yield Hit(
            "if this build fails it leaves an INVALID index of this name, and a rerun stops here: "
            "CREATE INDEX CONCURRENTLY has no IF NOT EXISTS",
            lock="none",
            safe_rewrite=statement.sql.replace("CONCURRENTLY", "CONCURRENTLY IF NOT EXISTS", 1),
        )
    elif not statement.effects.transactional and state.unguarded_ddl_line is not None and state.once("DW757"):
        yield Hit(
            f"this statement cannot run in a transaction, so the file runs statement by statement: the "
            f"one on line {state.unguarded_ddl_line} will have committed, and running the file again "
            "after a failure here stops there (no IF [NOT] EXISTS). Reported once per file",
            lock="none",
            safe_rewrite="add IF NOT EXISTS / IF EXISTS to the earlier statements, or move this one to its own migration",
        )
    if problem and state.unguarded_ddl_line is None:
        state.unguarded_ddl_line = statement.parsed.line


@rule(
    "DW758",
    "Table named without its schema in a file that names schemas",
    Severity.LOW,
    fails=[
        "CREATE TABLE billing.invoices (id bigint PRIMARY KEY);\nALTER TABLE invoices ADD COLUMN note text;"
    ],
    passes=[
        "CREATE TABLE billing.invoices (id bigint PRIMARY KEY);",
        "CREATE TABLE invoices (id bigint PRIMARY KEY);\nALTER TABLE invoices ADD COLUMN note text;",
    ],
    lock_related=False,
)
def unqualified_table(statement, state):
    """A file that names its tables with their schema (``billing.invoices``) expects schemas; a table
    named without one there lands wherever ``search_path`` says at run time: a role with another
    search_path, a ``SET search_path`` earlier in the script, or a schema named like the user
    (``"$user"`` comes first by default) puts it somewhere else, or alters a different table of
    the same name. Files that never name a schema (most frameworks' output, which pins
    ``search_path`` instead) are not reported.

    Fix: name the schema (``billing.invoices``), or set ``search_path`` explicitly at the top of
    the migration.
    """
    node = statement.node
    relation = None
    if isinstance(node, (ast.CreateStmt, ast.AlterTableStmt, ast.IndexStmt, ast.DropStmt)):
        relation = getattr(node, "relation", None)
    if relation is not None and not relation.schemaname and state.schemas_named and state.once("DW758"):
        yield Hit(
            f"{relation.relname} has no schema, though this file names schemas: where it lands depends "
            "on search_path (reported once per file)",
            lock="none",
            safe_rewrite=f"<schema>.{relation.relname}",
        )


@rule(
    "DW759",
    "DROP DATABASE",
    Severity.CRITICAL,
    fails=["DROP DATABASE shop;", "DROP DATABASE IF EXISTS shop WITH (FORCE);"],
    passes=["DROP TABLE IF EXISTS shop_tmp;"],
    lock_related=False,
)
def drop_database(statement, state):
    """A migration that drops a database destroys every table in it, with no undo but a restore
    from backup. It has no place in a schema migration.

    Fix: remove it; drop databases by hand, after a verified backup.
    """
    if isinstance(statement.node, ast.DropdbStmt):
        yield Hit(
            f"drops the whole database {statement.node.dbname}: only a restore brings it back",
            lock="ACCESS EXCLUSIVE",
            safe_rewrite="remove it from the migration; drop the database by hand after a verified backup",
        )
