"""The migration under test, applied two ways, and the reset between them.

The naive set is what a developer writes and a plain runner applies in one transaction. The
safe plan is dbwright's: ``safe_rewrite`` turns the same SQL into change packages, each
written here as one migration file (one transaction, or one statement that cannot run in
one) for ``dbwright migrate apply``; the batched backfill of the new column is left to
``dbwright backfill``, which walks the primary key in short, resumable batches.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from dbwright.changes.lint.rewrite import safe_rewrite

NAIVE = """\
CREATE INDEX pgbench_accounts_abalance_idx ON pgbench_accounts (abalance);
ALTER TABLE pgbench_accounts ADD FOREIGN KEY (bid) REFERENCES pgbench_branches (bid);
ALTER TABLE pgbench_accounts ALTER COLUMN bid SET NOT NULL;
ALTER TABLE pgbench_accounts ADD COLUMN token uuid DEFAULT gen_random_uuid();
"""

BACKFILL = {"table": "public.pgbench_accounts", "set": "token = gen_random_uuid()", "where": "token IS NULL"}

RESET = """\
DROP INDEX IF EXISTS pgbench_accounts_abalance_idx;
ALTER TABLE pgbench_accounts DROP CONSTRAINT IF EXISTS pgbench_accounts_bid_fkey,
    DROP CONSTRAINT IF EXISTS pgbench_accounts_bid_not_null, ALTER COLUMN bid DROP NOT NULL,
    DROP COLUMN IF EXISTS token;
DROP SCHEMA IF EXISTS dbwright CASCADE;
"""

FINAL_STATE = """
SELECT (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('pgbench_accounts_abalance_idx')),
       (SELECT convalidated FROM pg_constraint WHERE conname = 'pgbench_accounts_bid_fkey'),
       (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'pgbench_accounts'::regclass AND attname = 'bid'),
       (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a
           ON a.attrelid = d.adrelid AND a.attnum = d.adnum
         WHERE d.adrelid = 'pgbench_accounts'::regclass AND a.attname = 'token'),
       (SELECT count(*) FROM pg_constraint WHERE conrelid = 'pgbench_accounts'::regclass AND contype = 'c')
"""


def write_safe_plan(directory: Path) -> list[str]:
    """One migration file per package of the safe rewrite; returns the package titles, in order."""
    directory.mkdir(parents=True, exist_ok=True)
    titles = []
    for number, package in enumerate(safe_rewrite(NAIVE), start=1):
        statements = [op.sql() for op in package.operations]
        if any(s.lstrip().startswith("DO $backfill$") for s in statements):
            titles.append(f"{package.title} -> dbwright backfill")
            continue  # the in-database loop is replaced by `dbwright backfill` (PK ranges, resumable)
        up = "\n".join(s if s.rstrip().endswith(";") else s + ";" for s in statements)
        down = "\n".join(
            op.sql() if op.sql().rstrip().endswith(";") else op.sql() + ";"
            for op in package.rollback_operations()
        )
        (directory / f"V{number:04d}__step_{number:02d}.sql").write_text(
            f"-- {package.title}\n-- migrate:up\n{up}\n\n-- migrate:down\n{down}\n"
        )
        titles.append(package.title)
    return titles


def final_state(url: str) -> dict[str, object]:
    """What both ways must leave: the index valid, the FK validated, bid NOT NULL, token's default, no CHECKs."""
    with psycopg.connect(url, autocommit=True) as conn:
        index, fk, not_null, default, checks = conn.execute(FINAL_STATE).fetchone()
        nulls = conn.execute("SELECT count(*) FROM pgbench_accounts WHERE token IS NULL").fetchone()[0]
    return {
        "index_valid": index,
        "fk_validated": fk,
        "bid_not_null": not_null,
        "token_default": default,
        "check_constraints": checks,
        "rows_with_null_token": nulls,
    }


def reset(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(RESET)
        conn.execute("VACUUM ANALYZE pgbench_accounts")
        conn.execute("CHECKPOINT")
