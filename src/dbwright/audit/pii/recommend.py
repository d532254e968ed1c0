"""Protection for PII columns as change packages: encryption, masking views, column grants, RLS, retention.

Each package is per table and has a derived rollback. What cannot be automated safely
(where the encryption key lives, switching the application to the encrypted column, the row
predicate for RLS, scheduling the retention job) is stated as a manual step, not guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from dbwright.audit.pii.classify import ColumnFinding
from dbwright.engines.base import Connection
from dbwright.engines.postgres.pii_catalog import extension_state, select_grantees, table_columns
from dbwright.model.operations import CreateExtension, Grant, Lock, Operation, RawSQL, ident, literal
from dbwright.model.package import ChangePackage

#: Kinds worth encrypting at rest: financial and government identifiers.
ENCRYPT_KINDS = {"card", "iban", "national_id"}
RETENTION_COLUMNS = (
    "created_at",
    "inserted_at",
    "created",
    "created_on",
    "signup_at",
    "last_seen_at",
    "updated_at",
)
DEFAULT_RETENTION = "3 years"

MASK_SQL = {
    "email": "left(split_part({c}, '@', 1), 1) || '***@' || left(split_part({c}, '@', 2), 1) || '***.' "
    "|| regexp_replace({c}, '^.*\\.', '')",
    "card": "'**** **** **** ' || right(regexp_replace({c}::text, '\\D', '', 'g'), 4)",
    "phone": "'*** *** **' || right(regexp_replace({c}::text, '\\D', '', 'g'), 2)",
    "iban": "left({c}, 2) || '** **** **** **' || right(replace({c}, ' ', ''), 2)",
    "national_id": "'*****' || right({c}::text, 2)",
    "ip_address": "split_part({c}::text, '.', 1) || '.***.***.***'",
    "date_of_birth": "'****-**-**'::text",
    "person_name": "left({c}, 1) || '***'",
}


def recommend_packages(conn: Connection, findings: Sequence[ColumnFinding]) -> Iterator[ChangePackage]:
    by_table: dict[tuple[str, str], list[ColumnFinding]] = defaultdict(list)
    for finding in findings:
        by_table[(finding.schema, finding.table)].append(finding)
    pgcrypto = extension_state(conn, "pgcrypto")
    for (schema, table), columns in by_table.items():
        qualified = f"{ident(schema)}.{ident(table)}"
        all_columns = table_columns(conn, schema, table)
        grantees = select_grantees(conn, schema, table)
        encrypt = [f for f in columns if f.kind in ENCRYPT_KINDS]
        if encrypt and pgcrypto != "unavailable":
            yield encryption_package(qualified, encrypt, install_extension=pgcrypto == "available")
        yield masking_view_package(schema, table, all_columns, columns, grantees)
        if grantees:
            yield column_grants_package(qualified, all_columns, columns, grantees)
        yield rls_package(qualified, table, grantees)
        stamp = next((c for c in RETENTION_COLUMNS if c in all_columns), None)
        if stamp:
            yield retention_package(schema, table, stamp)


def encryption_package(
    qualified: str, findings: Sequence[ColumnFinding], install_extension: bool
) -> ChangePackage:
    ops: list[Operation] = [CreateExtension("pgcrypto")] if install_extension else []
    for f in findings:
        enc = ident(f"{f.column}_encrypted")
        ops.append(
            RawSQL(
                f"ALTER TABLE {qualified} ADD COLUMN IF NOT EXISTS {enc} bytea;",
                f"ALTER TABLE {qualified} DROP COLUMN IF EXISTS {enc};",
                lock_=Lock("ACCESS EXCLUSIVE", qualified),
            )
        )
    # Each UPDATE is its own transaction, after the brief ACCESS EXCLUSIVE one, so the long write
    # holds only ROW EXCLUSIVE: reads and other writes go on.
    for f in findings:
        col, enc = ident(f.column), ident(f"{f.column}_encrypted")
        ops.append(
            RawSQL(
                f"UPDATE {qualified} SET {enc} = pgp_sym_encrypt({col}::text, "
                f"current_setting('dbwright.pii_key')) WHERE {col} IS NOT NULL;",
                lock_=Lock("ROW EXCLUSIVE", qualified),
                scans_=True,
                transactional_=False,
            )
        )
    names = ", ".join(f.column for f in findings)
    return ChangePackage.of(
        f"Encrypt {names} on {qualified} with pgcrypto",
        ops,
        f"{names} hold {', '.join(sorted({f.kind for f in findings}))} values in plain text. pgp_sym_encrypt "
        "writes an encrypted copy; the key comes from the session setting dbwright.pii_key, never from the "
        "package.",
        security_notes=(
            "the rollback drops the encrypted copies; the plaintext column is untouched until "
            "you drop it yourself",
        ),
        performance_notes=(
            "each UPDATE writes a new version of every row: expect the table to double in size "
            "until VACUUM reclaims the old versions",
        ),
        manual_steps=(
            "SET dbwright.pii_key from your secret store in the session that applies this",
            "switch the application to pgp_sym_decrypt(<column>_encrypted, key)",
            f"then drop the plaintext column{'s' if len(findings) > 1 else ''} ({names}) in a "
            "reviewed migration",
        ),
    )


def masking_view_package(
    schema: str,
    table: str,
    all_columns: Sequence[str],
    findings: Sequence[ColumnFinding],
    grantees: Sequence[str],
) -> ChangePackage:
    kinds = {f.column: f.kind for f in findings}
    select = []
    for column in all_columns:
        if column in kinds:
            select.append(f"{MASK_SQL[kinds[column]].format(c=ident(column))} AS {ident(column)}")
        else:
            select.append(ident(column))
    view = f"{ident(schema)}.{ident(table + '_masked')}"
    ops: list[Operation] = [
        RawSQL(
            f"CREATE VIEW {view} WITH (security_barrier) AS SELECT {', '.join(select)} "
            f"FROM {ident(schema)}.{ident(table)};",
            f"DROP VIEW IF EXISTS {view};",
        )
    ]
    ops += [Grant("SELECT", "TABLE", view, grantee) for grantee in grantees if grantee != "PUBLIC"]
    return ChangePackage.of(
        f"Masking view {view}",
        ops,
        "A view that shows the PII columns masked, for support staff, analysts and reports that need the "
        "rows but not the values.",
        manual_steps=(
            "point read-only users at the view, then revoke their SELECT on the table "
            "(see the column-grants package)",
        ),
    )


def column_grants_package(
    qualified: str, all_columns: Sequence[str], findings: Sequence[ColumnFinding], grantees: Sequence[str]
) -> ChangePackage:
    pii = {f.column for f in findings}
    visible = ", ".join(ident(c) for c in all_columns if c not in pii)
    ops: list[Operation] = []
    for grantee in grantees:
        ops.append(Grant("SELECT", "TABLE", qualified, grantee, revoke=True))
        if visible:
            ops.append(Grant(f"SELECT ({visible})", "TABLE", qualified, grantee))
    return ChangePackage.of(
        f"Column-level SELECT on {qualified} without the PII columns",
        ops,
        f"{', '.join(grantees)} can read every column of {qualified}. Table-level SELECT is replaced by "
        f"SELECT on the columns that are not PII ({', '.join(sorted(pii))} are left out).",
        security_notes=("queries that name the PII columns or SELECT * fail for these roles after this",),
    )


def rls_package(qualified: str, table: str, grantees: Sequence[str]) -> ChangePackage:
    policy = ident(f"{table}_pii_rows")
    roles = ", ".join(g if g == "PUBLIC" else ident(g) for g in grantees) or "PUBLIC"
    return ChangePackage.of(
        f"Row-level security on {qualified}",
        [
            RawSQL(
                f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY;",
                f"ALTER TABLE {qualified} DISABLE ROW LEVEL SECURITY;",
                lock_=Lock("ACCESS EXCLUSIVE", qualified),
            ),
            RawSQL(
                f"CREATE POLICY {policy} ON {qualified} TO {roles} USING (true);",
                f"DROP POLICY IF EXISTS {policy} ON {qualified};",
                lock_=Lock("ACCESS EXCLUSIVE", qualified),
            ),
        ],
        "Row-level security so each user sees only the rows they should. The policy starts as USING (true), "
        "which changes nothing for current readers, so enabling it is safe; the row predicate is yours.",
        manual_steps=(
            f"replace USING (true) in policy {policy} with the tenant or owner predicate, e.g. "
            "USING (tenant_id = current_setting('app.tenant_id')::int)",
        ),
    )


def retention_package(schema: str, table: str, stamp: str) -> ChangePackage:
    function = f"{ident(schema)}.{ident('purge_' + table)}"
    body = (
        f"WITH gone AS (DELETE FROM {ident(schema)}.{ident(table)} WHERE {ident(stamp)} < now() - keep "
        "RETURNING 1) SELECT count(*) FROM gone"
    )
    return ChangePackage.of(
        f"Retention policy for {schema}.{table}",
        [
            RawSQL(
                f"CREATE FUNCTION {function}(keep interval DEFAULT {literal(DEFAULT_RETENTION)}) RETURNS bigint "
                f"LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$ {body} $$;",
                f"DROP FUNCTION IF EXISTS {function}(interval);",
            )
        ],
        f"Personal data kept forever is a liability. {function}() deletes rows whose {stamp} is older than "
        f"the retention period ({DEFAULT_RETENTION} by default) and returns how many it deleted. Creating "
        "it deletes nothing.",
        security_notes=("running the function deletes rows for good; take a backup policy into account",),
        manual_steps=(
            f"agree the retention period, then schedule it, e.g. with pg_cron: SELECT cron.schedule("
            f"'purge {table}', '0 3 * * *', 'SELECT {function}()')",
        ),
    )
