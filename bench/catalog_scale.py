"""Benchmark: snapshot + review time on a large catalog, against raw psql on the same SQL.

Builds a database with N tables (4 columns each, a primary key and a secondary index each,
a foreign key on every fourth table, a few rows each, analyzed), then measures at several
catalog sizes:
- dbwright: one read-only snapshot plus the full review, in process;
- psql: the same introspection SQL (dbwright.engines.postgres.queries.CATALOG_SQL) run
  through psql with output discarded — the floor dbwright cannot beat.
It prints a markdown table of the ratios. Both are timed in the same run, alternating,
best of ``--repeat``; the machine is noisy, so read the ratio, not the seconds.

    python bench/catalog_scale.py --url postgresql://postgres@127.0.0.1/postgres --tables 10000
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from dbwright.engines.postgres.queries import CATALOG_SQL
from dbwright.engines.registry import take_snapshot
from dbwright.review import run_review

BENCH_DB = "dbwright_bench"
SCHEMAS = 20
BATCH = 250


def build(admin_url: str, tables: int, start: int = 0) -> None:
    """Create tables start..tables-1 in the bench database, in batches of BATCH per transaction."""
    with psycopg.connect(_db_url(admin_url), autocommit=True) as conn:
        for schema in range(SCHEMAS):
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS s{schema:02d}")
        for first in range(start, tables, BATCH):
            with conn.transaction():
                for i in range(first, min(first + BATCH, tables)):
                    conn.execute(_table_ddl(i))
        conn.execute("ANALYZE")


def _table_ddl(i: int) -> str:
    name = f"s{i % SCHEMAS:02d}.t{i:05d}"
    fk = ""
    if i % 4 == 3:
        parent = f"s{(i - 1) % SCHEMAS:02d}.t{i - 1:05d}"
        fk = f", parent_id bigint REFERENCES {parent} (id)"
    else:
        fk = ", parent_id bigint"
    return (
        f"CREATE TABLE {name} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, code text NOT NULL,"
        f" created_at timestamptz NOT NULL DEFAULT now(){fk});"
        f"CREATE INDEX ON {name} (code);"
        f"INSERT INTO {name} (code) SELECT 'c' || g FROM generate_series(1, 5) g;"
    )


def _db_url(admin_url: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{BENCH_DB}"


def time_dbwright(url: str) -> tuple[float, float, float, int]:
    started = time.perf_counter()
    snap = take_snapshot(url, server_memory_bytes=16 * 1024**3)
    snapped = time.perf_counter()
    review = run_review(snap)
    done = time.perf_counter()
    return done - started, snapped - started, done - snapped, len(review.findings)


def time_psql(url: str, sql_file: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["psql", "-X", "-q", "-o", "/dev/null", "-v", "ON_ERROR_STOP=1", "-f", str(sql_file), url], check=True
    )
    return time.perf_counter() - started


def catalog_counts(url: str) -> tuple[int, int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "        WHERE c.relkind = 'r' AND n.nspname LIKE 's%'),"
            "       (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "        JOIN pg_namespace n ON n.oid = c.relnamespace "
            "        WHERE c.relkind = 'r' AND n.nspname LIKE 's%' AND a.attnum > 0),"
            "       (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 's%')"
        ).fetchone()
        return row[0], row[1], row[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default="postgresql://postgres@127.0.0.1/postgres",
        help="a superuser URL on the server to benchmark (the bench database is created there)",
    )
    parser.add_argument("--tables", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=4, help="measure at this many evenly spaced sizes")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()

    with psycopg.connect(args.url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    url = _db_url(args.url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write("\n".join(sql.strip().rstrip(";") + ";" for sql in CATALOG_SQL.values()))
        sql_file = Path(handle.name)

    rows = []
    built = 0
    for step in range(1, args.steps + 1):
        target = args.tables * step // args.steps
        t0 = time.perf_counter()
        build(args.url, target, built)
        print(f"built {target} tables ({time.perf_counter() - t0:.0f} s)", flush=True)
        built = target
        totals, snaps, reviews, psqls = [], [], [], []
        findings = 0
        for _ in range(args.repeat):
            total, snap_s, review_s, findings = time_dbwright(url)
            totals.append(total)
            snaps.append(snap_s)
            reviews.append(review_s)
            psqls.append(time_psql(url, sql_file))
        tables, columns, indexes = catalog_counts(url)
        best = min(range(args.repeat), key=lambda k: totals[k])
        rows.append(
            (
                tables,
                columns,
                indexes,
                totals[best],
                snaps[best],
                reviews[best],
                min(psqls),
                statistics.median(totals),
                findings,
            )
        )
        print(rows[-1], flush=True)

    print()
    print(
        "| tables | columns | indexes | snapshot + review (s) | snapshot (s) | review (s) | psql, same SQL (s) "
        "| ratio to psql | per 1k tables (s) | findings |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for tables, columns, indexes, total, snap_s, review_s, psql_s, _median, findings in rows:
        print(
            f"| {tables:,} | {columns:,} | {indexes:,} | {total:.2f} | {snap_s:.2f} | {review_s:.2f} | "
            f"{psql_s:.2f} | {total / psql_s:.2f} | {total / tables * 1000:.3f} | {findings:,} |"
        )
    if not args.keep:
        with psycopg.connect(args.url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
