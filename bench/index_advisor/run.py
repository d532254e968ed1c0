"""Index advisor benchmark on TPC-H: dbwright against no index, postgres-mcp's DTA, Dexter and Extend.

    python bench/index_advisor/run.py [--sf 1] [--budgets 0.05,0.1,0.25,0.5,1,1.5]

Starts a throwaway PostgreSQL 15 cluster (tests/pgcluster.py) with HypoPG, loads TPC-H (primary
keys only, ANALYZE), runs every advisor at every budget (a multiple of the tables' heap size),
prices each advisor's set with one shared what-if evaluator, and writes JSON, a markdown table
and an SVG chart. The cluster is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT / "tests"), str(ROOT / "src")]

import psycopg  # noqa: E402
import tpch  # noqa: E402
from common import Sizes, bench_queries, costs, relative  # noqa: E402
from dexter import dexter  # noqa: E402
from extend import extend  # noqa: E402

from dbwright.advisors.indexes import advise_indexes  # noqa: E402
from dbwright.advisors.indexes import workload as wl  # noqa: E402
from dbwright.advisors.indexes.spec import IndexSpec  # noqa: E402
from dbwright.advisors.indexes.whatif import WhatIf  # noqa: E402
from dbwright.engines.postgres.connect import open_session  # noqa: E402
from dbwright.engines.postgres.introspect import snapshot as take_snapshot  # noqa: E402
from pgcluster import remove_cluster, start_cluster  # noqa: E402

MCP_PYTHON = os.environ.get("BENCH_MCP_PYTHON", "/tmp/bench-mcp/venv/bin/python")
ADVISORS = ("dbwright", "extend", "dexter", "postgres-mcp")


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def fresh_whatif(url: str):
    conn = open_session(url)
    snap = take_snapshot(conn)
    return conn, snap, WhatIf(conn, snap, backend="hypopg")


def run_dbwright(url: str, text: str, budget: int) -> dict:
    advice = advise_indexes(url, budget=budget, workload=wl.from_sql_text(text, "tpch.sql"), what_if="hypopg")
    return {
        "indexes": [r.spec for r in advice.recommendations],
        "elapsed_s": advice.elapsed_s,
        "planner_calls": advice.planner_calls,
        "skipped": [s.reason for s in advice.skipped],
    }


def run_extend(url: str, numbered, budget: int) -> dict:
    started = time.perf_counter()  # like dbwright's elapsed_s: connecting and reading the catalog count too
    conn, snap, whatif = fresh_whatif(url)
    try:
        queries = bench_queries(numbered, snap)
        chosen = extend(whatif, queries, Sizes(snap, conn), budget)
        return {
            "indexes": chosen,
            "elapsed_s": time.perf_counter() - started,
            "planner_calls": whatif.planner_calls,
        }
    finally:
        whatif.close()
        conn.close()


def run_dexter(url: str, numbered) -> dict:
    started = time.perf_counter()
    conn, snap, whatif = fresh_whatif(url)
    try:
        chosen = dexter(whatif, bench_queries(numbered, snap))
        return {
            "indexes": chosen,
            "elapsed_s": time.perf_counter() - started,
            "planner_calls": whatif.planner_calls,
        }
    finally:
        whatif.close()
        conn.close()


def run_mcp(url: str, numbered, budget: int) -> dict:
    """postgres-mcp in its own virtualenv; a failure is a result too."""
    if not Path(MCP_PYTHON).exists():
        return {"indexes": [], "error": f"no interpreter at {MCP_PYTHON} (set BENCH_MCP_PYTHON)"}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump([sql for _, sql in numbered], handle)
    budget_mb = max(1, budget // 1024**2)
    started = time.perf_counter()
    done = subprocess.run(
        [MCP_PYTHON, str(HERE / "mcp_runner.py"), url, str(budget_mb), handle.name],
        capture_output=True,
        text=True,
        timeout=900,
    )
    wall = time.perf_counter() - started
    os.unlink(handle.name)
    if done.returncode != 0:
        return {"indexes": [], "elapsed_s": wall, "error": done.stderr.strip().splitlines()[-1:]}
    out = json.loads(done.stdout.strip().splitlines()[-1])
    specs = [
        IndexSpec(r["table"] if "." in r["table"] else f"public.{r['table']}", tuple(r["columns"]))
        for r in out["recommendations"]
    ]
    return {
        "indexes": specs,
        "elapsed_s": out["elapsed_s"],
        "error": out["error"],
        "own_size_estimate_bytes": sum(r["estimated_size_bytes"] or 0 for r in out["recommendations"]),
        "traces": out["traces"],
    }


def measure_runtime(url: str, numbered, indexes: list[IndexSpec], timeout_s: int, runs: int) -> dict:
    """Build ``indexes`` for real, run the 22 queries (1 warm-up + ``runs`` timed), drop them again."""
    with psycopg.connect(url, autocommit=True) as conn:
        real_sizes = {}
        started = time.perf_counter()
        for k, spec in enumerate(indexes):
            name = f"bench_idx_{k}"
            conn.execute(spec.definition(name))
            real_sizes[spec.label] = conn.execute(
                "SELECT pg_relation_size(%s::regclass)", (name,)
            ).fetchone()[0]
        build_s = time.perf_counter() - started
        conn.execute("ANALYZE")
        conn.execute(f"SET statement_timeout = '{timeout_s}s'")
        per_query = {}
        for number, sql in numbered:
            times = []
            for run in range(runs + 1):
                t0 = time.perf_counter()
                try:
                    conn.execute(sql)
                    elapsed = time.perf_counter() - t0
                except psycopg.errors.QueryCanceled:
                    elapsed = math.inf
                if run:
                    times.append(elapsed)
                if elapsed == math.inf:
                    times = [math.inf] * runs
                    break
            per_query[number] = statistics.median(times)
        for k in range(len(indexes)):
            conn.execute(f"DROP INDEX IF EXISTS bench_idx_{k}")
    finite = [t for t in per_query.values() if t != math.inf]
    return {
        "build_s": build_s,
        "real_bytes": sum(real_sizes.values()),
        "real_sizes": real_sizes,
        "per_query_s": per_query,
        "total_s": sum(finite),
        "timeouts": [n for n, t in per_query.items() if t == math.inf],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf", type=float, default=1.0)
    parser.add_argument("--budgets", default="0.05,0.1,0.25,0.5,1,1.5")
    parser.add_argument("--advisors", default=",".join(ADVISORS))
    parser.add_argument(
        "--runtime-budget",
        type=float,
        default=None,
        help="build each advisor's set at this budget for real and time the workload",
    )
    parser.add_argument(
        "--timeout", type=int, default=60, help="statement_timeout per query (s) for runtimes"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--out", default=None, help="JSON results (default bench/index_advisor/results-sf<SF>.json)"
    )
    parser.add_argument(
        "--url",
        default=None,
        help="use this database, already loaded with TPC-H at --sf and HypoPG (no cluster is started)",
    )
    args = parser.parse_args()
    budgets = [float(b) for b in args.budgets.split(",")]
    advisors = args.advisors.split(",")

    cluster = None if args.url else start_cluster()
    try:
        if cluster is None:
            url, timings = args.url, {}
        else:
            with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
                admin.execute("CREATE DATABASE tpch")
            url = cluster.url("tpch")
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION hypopg")
                timings = tpch.load(conn, args.sf, log=log)
        with psycopg.connect(url, autocommit=True) as conn:
            data = tpch.data_bytes(conn)
        numbered = tpch.queries()
        text = ";\n".join(sql for _, sql in numbered) + ";\n"
        log(f"data (heap) {data / 1024**2:.1f} MB; {len(numbered)} queries")

        conn, snap, evaluator = fresh_whatif(url)
        queries = bench_queries(numbered, snap)
        sizes = Sizes(snap, conn)
        before = costs(evaluator, queries, [])
        unplanned = [q.number for q, c in zip(queries, before, strict=True) if math.isnan(c)]

        results: dict = {
            "sf": args.sf,
            "data_bytes": data,
            "timings": timings,
            "budgets": budgets,
            "unplanned": unplanned,
            "before": dict(zip([q.number for q in queries], before, strict=True)),
            "runs": [],
        }
        dexter_result = None
        for multiple in budgets:
            budget = int(multiple * data)
            for name in advisors:
                log(f"budget {multiple}x ({budget / 1024**2:.0f} MB): {name}")
                try:
                    if name == "dbwright":
                        out = run_dbwright(url, text, budget)
                    elif name == "extend":
                        out = run_extend(url, numbered, budget)
                    elif name == "dexter":
                        dexter_result = dexter_result or run_dexter(url, numbered)
                        out = dict(dexter_result)
                    else:
                        out = run_mcp(url, numbered, budget)
                except Exception as error:  # a failing advisor is a result, not the end of the run
                    out = {"indexes": [], "error": f"{type(error).__name__}: {error}"}
                after = costs(evaluator, queries, out["indexes"])
                total, geo = relative(before, after)
                est = sum(sizes(s) for s in out["indexes"])
                row = {
                    "advisor": name,
                    "budget_multiple": multiple,
                    "budget_bytes": budget,
                    "relative_sum": total,
                    "relative_geomean": geo,
                    "estimated_bytes": est,
                    "per_query": dict(zip([q.number for q in queries], after, strict=True)),
                    **{k: v for k, v in out.items() if k != "indexes"},
                    "indexes": [s.label for s in out["indexes"]],
                    "specs": [s.to_dict() for s in out["indexes"]],
                }
                results["runs"].append(row)
                log(
                    f"  sum {total:.3f} geo {geo:.3f} size {est / 1024**2:.0f} MB "
                    f"time {out.get('elapsed_s', 0):.1f} s calls {out.get('planner_calls', '-')} "
                    f"{('ERROR ' + str(out['error'])) if out.get('error') else ''}"
                )
        evaluator.close()
        conn.close()

        save(results, args)
        if args.runtime_budget is not None:
            results["runtime"] = {}
            configs = {"none": []}
            for row in results["runs"]:
                if row["budget_multiple"] == args.runtime_budget and row["specs"]:
                    configs[row["advisor"]] = [
                        IndexSpec(
                            d["table"],
                            tuple(d["keys"]),
                            tuple(d["include"]),
                            d["where"],
                            d["method"],
                            d["opclass"],
                        )
                        for d in row["specs"]
                    ]
            for name, specs in configs.items():
                log(f"runtime with {name}'s {len(specs)} indexes")
                results["runtime"][name] = measure_runtime(url, numbered, specs, args.timeout, args.runs)
                log(
                    f"  total {results['runtime'][name]['total_s']:.1f} s, timeouts {results['runtime'][name]['timeouts']}"
                )
                save(results, args)
        import report

        print(report.markdown(results))
    finally:
        if cluster is not None:
            remove_cluster(cluster)


def save(results: dict, args: argparse.Namespace) -> None:
    """Write the JSON and the chart now: a long runtime phase can be interrupted without losing them."""
    import report

    out_path = Path(args.out or HERE / f"results-sf{args.sf:g}.json")
    out_path.write_text(json.dumps(results, indent=1, default=str))
    svg = ROOT / "docs" / f"benchmarks-index-advisor-sf{args.sf:g}.svg"
    svg.write_text(report.svg(results))
    log(f"wrote {out_path} and {svg}")


if __name__ == "__main__":
    main()
