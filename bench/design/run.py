"""Benchmark: ``dbwright design`` on denormalized TPC-H, where the right answer is known.

TPC-H's orders is joined with customer and nation, and lineitem with part and supplier, into
two wide tables; the dependencies the joins plant (``o_custkey → c_name, …``, ``c_nationkey →
n_name, …``, ``l_partkey → p_name, …``, ``l_suppkey → s_name, …``) are what a design review
must find again. The data comes from DuckDB's TPC-H extension, is loaded into a throwaway
PostgreSQL 15 cluster started here (the test suite's ``Cluster``), and ``design_review`` (the
library API behind ``dbwright design``) runs on it, with and without desbordante.

Bench-only dependencies (not dbwright's): ``pip install duckdb duckdb-extension-tpch`` (same version).

    python bench/design/run.py [--sf 0.1 1] [--engines sql desbordante] [--sample-rows 20000]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # tests.pgcluster: the throwaway cluster of the test suite

from tests.pgcluster import remove_cluster, start_cluster  # noqa: E402

CUSTOMER = ["c_name", "c_address", "c_nationkey", "c_phone", "c_acctbal", "c_mktsegment"]
NATION = ["n_name", "n_regionkey"]
PART = ["p_name", "p_mfgr", "p_brand", "p_type", "p_size", "p_container", "p_retailprice"]
SUPPLIER = ["s_name", "s_address", "s_nationkey", "s_phone", "s_acctbal"]
#: The dependencies the joins plant: determinant → the columns of the joined table.
PLANTED = {
    ("orders_denorm", "o_custkey"): CUSTOMER,  # and, through c_nationkey, NATION
    ("orders_denorm", "c_nationkey"): NATION,
    ("lineitem_denorm", "l_partkey"): PART,
    ("lineitem_denorm", "l_suppkey"): SUPPLIER,
}
#: Dependencies that hold in TPC-H's own tables (not planted by the join, but true): not false.
TRUE_IN_TPCH = {("lineitem_denorm", "p_brand"): {"p_mfgr"}}

DENORMALIZE = {
    "orders_denorm": (
        "SELECT o.*, "
        + ", ".join(CUSTOMER)
        + ", "
        + ", ".join(NATION)
        + " FROM orders o JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey"
        " ORDER BY o_orderkey",
        "o_orderkey",
    ),
    "lineitem_denorm": (
        "SELECT l.*, "
        + ", ".join(PART)
        + ", "
        + ", ".join(SUPPLIER)
        + " FROM lineitem l JOIN part ON l_partkey = p_partkey JOIN supplier ON l_suppkey = s_suppkey"
        " ORDER BY l_orderkey, l_linenumber",
        "l_orderkey, l_linenumber",
    ),
}
PG_TYPES = {"INTEGER": "integer", "BIGINT": "bigint", "DATE": "date", "VARCHAR": "text"}


def generate(sf: float, work: Path) -> dict[str, tuple[list[tuple[str, str]], Path, str]]:
    """TPC-H at ``sf`` in DuckDB, denormalized and written to CSV: table → (columns, csv, key)."""
    import duckdb
    import duckdb_extension_tpch

    ext = glob.glob(
        os.path.join(os.path.dirname(duckdb_extension_tpch.__file__), "**", "*.duckdb_extension"),
        recursive=True,
    )[0]
    con = duckdb.connect()
    con.execute(f"LOAD '{ext}'")
    con.execute(f"CALL dbgen(sf={sf})")
    out = {}
    for table, (query, key) in DENORMALIZE.items():
        con.execute(f"CREATE TABLE {table} AS {query}")
        columns = [
            (name, PG_TYPES.get(kind, kind.lower()))
            for name, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall()
        ]
        path = work / f"{table}.csv"
        con.execute(f"COPY {table} TO '{path}' (HEADER false)")
        out[table] = (columns, path, key)
    con.close()
    return out


def load(url: str, tables: dict) -> dict[str, int]:
    rows = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for table, (columns, path, key) in tables.items():
            body = ", ".join(f"{name} {kind} NOT NULL" for name, kind in columns)
            conn.execute(f"CREATE TABLE {table} ({body}, PRIMARY KEY ({key}))")
            with conn.cursor().copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy, path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            rows[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        conn.execute("VACUUM ANALYZE")
    return rows


def score(report) -> dict:
    """Planted dependencies recovered, false proposals, and whether the splits rebuild TPC-H's tables."""
    found: dict[tuple[str, str], set[str]] = {}
    groups: dict[tuple[str, str], int] = {}
    false = []
    for p in report.of_kind("normalize"):
        table = p.table.split(".", 1)[1]
        moved = {d["rhs"] for d in p.evidence["dependencies"]}
        key = (table, ",".join(c for c in p.columns if c not in moved))
        found.setdefault(key, set()).update(moved)
        groups[key] = p.evidence["determinant_values"]
        if key not in PLANTED and not moved <= TRUE_IN_TPCH.get(key, set()):
            false.append(f"{table}: {key[1]} → {', '.join(sorted(moved))}")
    recovered, missing, rebuilds = 0, [], {}
    total = sum(len(v) for v in PLANTED.values())
    for key, expected in PLANTED.items():
        got = found.get(key, set())
        # A column moved with the customer split that belongs to nation counts for nation (transitive).
        if key == ("orders_denorm", "c_nationkey"):
            got = got | (found.get(("orders_denorm", "o_custkey"), set()) & set(NATION))
        # 3NF puts p_mfgr with p_brand (Brand#MN is made by Manufacturer#M): l_partkey → p_brand → p_mfgr.
        if key == ("lineitem_denorm", "l_partkey") and "p_brand" in got:
            got = got | (found.get(("lineitem_denorm", "p_brand"), set()) & {"p_mfgr"})
        recovered += len(set(expected) & got)
        missing += [f"{key[0]}: {key[1]} → {c}" for c in expected if c not in got]
        extra = got - set(expected)
        rebuilds[f"{key[0]}.{key[1]}"] = {
            "exact": set(expected) <= got and not extra,
            "moved": sorted(got),
            "extra": sorted(extra),
            "rows_of_new_table": groups.get(key),
        }
    return {
        "planted": total,
        "recovered": recovered,
        "missing": missing,
        "false_proposals": false,
        "rebuilds": rebuilds,
    }


def screened_out(report) -> dict[str, int]:
    """Candidates the screens dropped before any full-table check, by reason."""
    kinds = {
        "free text": "free text",
        "continuous measure": "continuous measure",
        "too little support": "too little support (pg_stats)",
        "no support in the sample": "no support in the sample",
        "larger sample": "failed the larger-sample re-check",
    }
    counts: dict[str, int] = {}
    for r in report.rejected:
        kind = next((v for k, v in kinds.items() if k in r.reason), None)
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def run(
    sf: float,
    engines: list[str],
    sample_rows: int,
    time_budget: float,
    statement_timeout: str,
    show_progress: bool,
) -> list[dict]:
    from dbwright.advisors.design import design_review

    results = []
    cluster = start_cluster()
    try:
        with tempfile.TemporaryDirectory(prefix="dbwright-tpch-") as tmp:
            t0 = time.perf_counter()
            tables = generate(sf, Path(tmp))
            t1 = time.perf_counter()
            with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
                admin.execute("CREATE DATABASE tpch")
            url = cluster.url("tpch")
            rows = load(url, tables)
            t2 = time.perf_counter()
            print(f"SF {sf}: generated in {t1 - t0:.1f} s, loaded in {t2 - t1:.1f} s: {rows}", flush=True)
        for engine in engines:
            started = time.perf_counter()

            def progress(text: str, started: float = started, engine: str = engine) -> None:
                if show_progress:
                    print(f"  +{time.perf_counter() - started:6.1f} s {engine}: {text}", flush=True)

            report = design_review(
                url,
                sample_rows=sample_rows,
                time_budget_s=time_budget,
                statement_timeout=statement_timeout,
                use_desbordante=(engine == "desbordante"),
                min_partition_rows=10**12,
                progress=progress,
            )
            elapsed = time.perf_counter() - started
            result = {
                "sf": sf,
                "engine": engine,
                "seconds": round(elapsed, 1),
                "rows": rows,
                "sample_rows": sample_rows,
                **score(report),
                "sampled": [t.table for t in report.tables if t.sample.get("sampled")],
                "skipped": {t.table: t.skipped for t in report.tables if t.skipped},
                "decompositions": [p.title for p in report.of_kind("normalize")],
                "screened_out": screened_out(report),
                "recheck": {
                    t.table: t.sample.get("recheck") for t in report.tables if t.sample.get("recheck")
                },
                "rejected_planted": [
                    f"{x.table}: {x.what}: {x.reason}"
                    for x in report.rejected
                    if x.what.split(" → ")[0] in {k[1] for k in PLANTED}
                ],
                "other_proposals": {
                    k: len(report.of_kind(k))
                    for k in ("unique_key", "foreign_key", "not_null", "check_values", "type")
                },
            }
            print(json.dumps(result, indent=2), flush=True)
            results.append(result)
    finally:
        remove_cluster(cluster)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf", type=float, nargs="+", default=[0.1, 1.0])
    parser.add_argument(
        "--engines", nargs="+", default=["sql", "desbordante"], choices=["sql", "desbordante"]
    )
    parser.add_argument("--sample-rows", type=int, default=20_000)
    parser.add_argument("--time-budget", type=float, default=600.0)
    parser.add_argument("--statement-timeout", default="60s", help="Per query (the review's default: 60s).")
    parser.add_argument("--progress", action="store_true", help="Print the review's progress, timestamped.")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()
    results = [
        r
        for sf in args.sf
        for r in run(
            sf, args.engines, args.sample_rows, args.time_budget, args.statement_timeout, args.progress
        )
    ]
    print(
        "\n| SF | engine | rows (orders / lineitem) | time | planted recovered | false proposals | rebuilds TPC-H |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        exact = sum(v["exact"] for v in r["rebuilds"].values())
        print(
            f"| {r['sf']} | {r['engine']} | {r['rows']['orders_denorm']:,} / {r['rows']['lineitem_denorm']:,} | "
            f"{r['seconds']} s | {r['recovered']}/{r['planted']} | {len(r['false_proposals'])} | "
            f"{exact}/{len(r['rebuilds'])} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
