"""Benchmark: safety under load. A naive migration against dbwright's plan for it, under pgbench.

    .venv/bin/python bench/migrations/run.py            # scale 100: 10M rows in pgbench_accounts

One command: it starts a throwaway PostgreSQL 15 cluster (tests/pgcluster.py), runs
``pgbench -i`` at the given scale, then three phases against the same data, each under the
same fixed-rate read/write pgbench load (``-R``, ``-P 1``, per-transaction ``--log``):

1. baseline: the load alone;
2. naive: the migration in changes.NAIVE applied by psql in one transaction (``psql -1``);
3. dbwright: the same change as ``safe_rewrite`` plans it, applied by ``dbwright migrate apply``
   (per-statement lock_timeout, retries with backoff) and ``dbwright backfill``.

Between 2 and 3 the added objects are dropped. In every phase a blocker session opens a
transaction that writes one row of pgbench_accounts (a batch job, say) and holds it for a
while, so lock queues form behind any migration statement that waits for it. A monitor
thread samples pg_locks every 100 ms for lock waits. Results: a JSON file with the
per-second series, and a markdown summary on stdout. The cluster is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import psycopg  # noqa: E402
from bench.migrations.changes import BACKFILL, NAIVE, final_state, reset, write_safe_plan  # noqa: E402
from bench.migrations.latency import per_second, read_logs, stats  # noqa: E402
from bench.migrations.monitor import LockMonitor, relfilenodes  # noqa: E402
from tests.pgcluster import PG_BIN, Cluster, remove_cluster, start_cluster  # noqa: E402

SECOND_BLOCKER_WHEN = (
    "coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = "
    "to_regclass('pgbench_accounts_abalance_idx')), false)"
)
TABLES = ("pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def tune(cluster: Cluster) -> None:
    """Room for a 10M-row table and its rewrites; autovacuum stays off (naptime 1h) for repeatability."""
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        for name, value in (
            ("shared_buffers", "512MB"),
            ("max_wal_size", "8GB"),
            ("maintenance_work_mem", "256MB"),
            ("log_min_duration_statement", "-1"),
            ("max_connections", "50"),
        ):
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    cluster.restart()


def initialise(cluster: Cluster, scale: int) -> float:
    started = time.monotonic()
    subprocess.run(
        [str(PG_BIN / "pgbench"), "-i", "-s", str(scale), "-I", "dtGvp", "-q", cluster.url()],
        check=True,
        capture_output=True,
        text=True,
    )
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    return time.monotonic() - started


class Blocker(threading.Thread):
    """A long transaction that has written one row: ROW EXCLUSIVE on pgbench_accounts until it ends.

    It starts at once, or as soon as ``start_when`` (a SQL condition) is true, checked every 50 ms
    until ``give_up_at`` (epoch).
    """

    def __init__(
        self, url: str, hold_s: float, start_when: str | None = None, give_up_at: float = 0.0
    ) -> None:
        super().__init__(name="blocker", daemon=True)
        self.url, self.hold_s, self.start_when, self.give_up_at = url, hold_s, start_when, give_up_at
        self.window: tuple[float, float] | None = None

    def run(self) -> None:
        with psycopg.connect(self.url, application_name="bench blocker") as conn:
            while self.start_when and not conn.execute(f"SELECT {self.start_when}").fetchone()[0]:
                conn.rollback()
                if time.time() > self.give_up_at:
                    return
                time.sleep(0.05)
            conn.rollback()
            conn.execute("UPDATE pgbench_accounts SET abalance = abalance WHERE aid = 1")
            began = time.time()
            time.sleep(self.hold_s)
            conn.commit()
            self.window = (began, time.time())


def run_phase(
    name: str,
    cluster: Cluster,
    out: Path,
    args: argparse.Namespace,
    seconds: int,
    action: Callable[[], dict[str, Any]] | None,
) -> dict[str, Any]:
    """The load for ``seconds``; the blocker at +blocker_at s; the action (a migration) at +action_at s."""
    url = cluster.url()
    prefix = out / f"pgbench_{name}"
    before = relfilenodes(url, TABLES)
    monitor = LockMonitor(url)
    monitor.start()
    start = time.time()
    pgbench = subprocess.Popen(
        [
            str(PG_BIN / "pgbench"),
            "-b",
            "simple-update",
            "-R",
            str(args.rate),
            "-c",
            str(args.clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            "-P",
            "1",
            "--log",
            f"--log-prefix={prefix}",
            "--max-tries=1",
            "--failures-detailed",
            "-n",
            url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PGAPPNAME": "pgbench"},
    )
    blocker = Blocker(url, args.blocker_hold)
    # the second blocker arrives while the migration's later, stronger-locking steps run
    second = Blocker(
        url, args.second_blocker_hold, SECOND_BLOCKER_WHEN, start + seconds - args.second_blocker_hold
    )
    time.sleep(args.blocker_at)
    blocker.start()
    second.start()
    time.sleep(max(0.0, args.action_at - args.blocker_at))
    result: dict[str, Any] = {}
    if action is not None:
        log(f"{name}: migration starts")
        began = time.time()
        result = action()
        result["wall_s"] = round(time.time() - began, 2)
        result["started_at_s"] = round(began - start, 2)
        log(f"{name}: migration done in {result['wall_s']} s")
    stdout, stderr = pgbench.communicate()
    blocker.join()
    second.join()
    monitor.stop()
    ended = time.time()
    done, failed = read_logs(prefix)
    summary = _pgbench_summary(stdout)
    after = relfilenodes(url, TABLES)
    phase = {
        "name": name,
        "seconds": seconds,
        "pgbench_exit": pgbench.returncode,
        "latency": stats([lat for _, lat in done]),
        "scheduled": args.rate * seconds,
        "failed": max(failed, summary.get("failed", 0)),
        "aborted_clients": stderr.count("aborted in command"),
        "pgbench_summary": summary,
        "per_second": per_second(done, start),
        "locks": monitor.summary(),
        "rewrites": {t: {"before": before[t], "after": after[t]} for t in TABLES if before[t] != after[t]},
        "blocker_window_s": [round(t - start, 2) for t in blocker.window] if blocker.window else None,
        "second_blocker_window_s": [round(t - start, 2) for t in second.window] if second.window else None,
        "migration": result,
        "migration_outlasted_load": bool(result) and result["started_at_s"] + result["wall_s"] > seconds,
        "wall_s": round(ended - start, 1),
    }
    if action is not None:
        phase["final_state"] = final_state(url)
    log(
        f"{name}: p50 {phase['latency']['p50_ms']} ms, p99 {phase['latency']['p99_ms']} ms, "
        f"max {phase['latency']['max_ms']} ms, failed {phase['failed']}, longest lock wait "
        f"{(phase['locks']['longest'] or {}).get('seconds')} s, rewrites {list(phase['rewrites'])}"
    )
    return phase


def _pgbench_summary(stdout: str) -> dict[str, Any]:
    keys = {
        "number of transactions actually processed": "processed",
        "number of failed transactions": "failed",
        "latency average": "latency_avg_ms",
        "latency stddev": "latency_stddev_ms",
        "rate limit schedule lag": "lag_avg_ms",
    }
    found: dict[str, Any] = {}
    for line in stdout.splitlines():
        for text, key in keys.items():
            if line.startswith(text):
                value = line.split("=", 1)[1] if "=" in line else line.split(":", 1)[1]
                numbers = [t for t in value.replace("(", " ").split() if t.replace(".", "", 1).isdigit()]
                if numbers:
                    found[key] = float(numbers[0])
    return found


def naive_action(url: str, out: Path) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        script = out / "naive.sql"
        script.write_text(NAIVE)
        done = subprocess.run(
            [str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", str(script), url],
            capture_output=True,
            text=True,
            env={**os.environ, "PGAPPNAME": "naive migration"},
        )
        return {
            "how": "psql -1 -f naive.sql",
            "exit": done.returncode,
            "error": done.stderr.strip()[:300],
            "retries": 0,
        }

    return run


def dbwright_action(url: str, out: Path, args: argparse.Namespace) -> Callable[[], dict[str, Any]]:
    plan_dir = out / "safe_plan"
    titles = write_safe_plan(plan_dir)

    def run() -> dict[str, Any]:
        dbwright = [sys.executable, "-m", "dbwright"]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        began = time.time()
        apply = subprocess.run(
            [
                *dbwright,
                "migrate",
                "apply",
                "-d",
                url,
                "--dir",
                str(plan_dir),
                "--format",
                "json",
                "--lock-timeout",
                args.lock_timeout,
                "--retries",
                str(args.retries),
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        apply_s = time.time() - began
        report = json.loads(apply.stdout) if apply.returncode == 0 else {}
        began = time.time()
        fill = subprocess.run(
            [
                *dbwright,
                "backfill",
                "-d",
                url,
                "--table",
                BACKFILL["table"],
                "--set",
                BACKFILL["set"],
                "--where",
                BACKFILL["where"],
                "--batch-size",
                str(args.batch_size),
                "--sleep",
                str(args.sleep),
                "--lock-timeout",
                args.lock_timeout,
                "--max-batch-time",
                str(args.max_batch_time),
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        backfill_s = time.time() - began
        filled = json.loads(fill.stdout) if fill.returncode == 0 else {}
        batches = filled.get("batches", [])
        return {
            "how": "dbwright migrate apply + dbwright backfill",
            "packages": titles,
            "apply_exit": apply.returncode,
            "apply_error": apply.stderr.strip()[-300:] if apply.returncode else "",
            "apply_s": round(apply_s, 2),
            "steps": report.get("steps", []),
            "retries": sum(s.get("retries", 0) for s in report.get("steps", [])) + filled.get("retries", 0),
            "backfill_exit": fill.returncode,
            "backfill_error": fill.stderr.strip()[-300:] if fill.returncode else "",
            "backfill_s": round(backfill_s, 2),
            "backfill_rows": filled.get("rows_updated"),
            "backfill_batches": len(batches),
            "backfill_retries": filled.get("retries"),
            "backfill_longest_batch_ms": round(max((b["seconds"] for b in batches), default=0) * 1000, 1),
        }

    return run


def goals(
    baseline: dict[str, Any], naive: dict[str, Any], safe: dict[str, Any], lock_timeout_s: float
) -> dict:
    longest = (safe["locks"]["longest"] or {}).get("seconds", 0.0)
    naive_longest = (naive["locks"]["longest"] or {}).get("seconds", 0.0)
    return {
        "dbwright_zero_failed": safe["failed"] == 0 and safe["aborted_clients"] == 0,
        "dbwright_p99_within_2x_baseline": safe["latency"]["p99_ms"] <= 2 * baseline["latency"]["p99_ms"],
        "dbwright_longest_lock_wait_within_lock_timeout_plus_100ms": longest <= lock_timeout_s + 0.1,
        "naive_visibly_blocks": naive_longest > 1.0 and naive["latency"]["max_ms"] > 1000,
        "no_rewrite_with_dbwright": not safe["rewrites"],
    }


def seconds_of(setting: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "min": 60.0}
    for unit in ("ms", "min", "s"):
        if setting.endswith(unit):
            return float(setting[: -len(unit)]) * units[unit]
    return float(setting) / 1000


def markdown(results: dict[str, Any]) -> str:
    a = results["args"]
    lines = [
        f"Scale {a['scale']} ({results['rows']:,} rows in pgbench_accounts, initialised in "
        f"{results['init_s']:.0f} s), `pgbench -b simple-update -R {a['rate']} -c {a['clients']}`, blocker holding "
        f"ROW EXCLUSIVE from +{a['blocker_at']} s for {a['blocker_hold']} s and again for {a['second_blocker_hold']} s "
        f"from the moment the new index is valid, migration from +{a['action_at']} s, "
        f"dbwright lock_timeout {a['lock_timeout']}, backfill batches of up to {a['batch_size']:,} keys "
        f"(--max-batch-time {a['max_batch_time']}) with {a['sleep']} s pauses.",
        "",
        "| phase | txns done / scheduled | p50 ms | p99 ms | max ms | txns > 1 s | failed | longest lock wait (who, lock) "
        "| backends waiting at once | rewrites | migration wall time | retries |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for phase in results["phases"]:
        lat, locks, mig = phase["latency"], phase["locks"], phase["migration"]
        w = locks["longest"]
        wait = (
            f"{w['seconds']:.2f} s ({w['application']}, {w['mode']} on {w['relation'] or w['locktype']})"
            if w
            else "none seen"
        )
        rewrites = ", ".join(phase["rewrites"]) or "none"
        wall = f"{mig['wall_s']:.1f} s" if mig else "-"
        lines.append(
            f"| {phase['name']} | {lat['count']:,} / {phase['scheduled']:,} | {lat['p50_ms']} | {lat['p99_ms']} | {lat['max_ms']} | "
            f"{lat['over_1s']:,} | {phase['failed']} | {wait} | {locks['max_backends_waiting']} | {rewrites} | "
            f"{wall} | {mig.get('retries', '-') if mig else '-'} |"
        )
    lines += [
        "",
        "Goals: " + ", ".join(f"{k} = {'yes' if v else 'NO'}" for k, v in results["goals"].items()),
        "",
    ]
    base_p99 = results["phases"][0]["latency"]["p99_ms"]
    lines += [
        "Per second (the load's seconds; a second with no completed transaction was fully blocked):",
        "",
        "| phase | seconds | median p50 ms | median p99 ms | worst p99 ms (at) | worst max ms "
        f"| seconds with p99 > 2x baseline ({2 * base_p99:.0f} ms) | seconds with no txn done |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for phase in results["phases"]:
        busy = [s for s in phase["per_second"] if s["count"]]
        p50s = sorted(s["p50_ms"] for s in busy)
        p99s = sorted(s["p99_ms"] for s in busy)
        worst = max(busy, key=lambda s: s["p99_ms"])
        empty = sum(1 for s in phase["per_second"] if not s["count"])
        over = sum(1 for s in busy if s["p99_ms"] > 2 * base_p99)
        lines.append(
            f"| {phase['name']} | {len(phase['per_second'])} | {p50s[len(p50s) // 2]} | "
            f"{p99s[len(p99s) // 2]} | {worst['p99_ms']} (+{worst['second']} s) | "
            f"{max(s['max_ms'] for s in busy)} | {over} | {empty} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--rate", type=int, default=200, help="pgbench -R, transactions per second")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--baseline-seconds", type=int, default=30)
    parser.add_argument(
        "--naive-seconds",
        type=int,
        default=150,
        help="long enough for the naive migration and the load's catch-up after it",
    )
    parser.add_argument(
        "--dbwright-seconds",
        type=int,
        default=300,
        help="long enough for dbwright's plan including the backfill of every row",
    )
    parser.add_argument("--blocker-at", type=float, default=5.0)
    parser.add_argument("--blocker-hold", type=float, default=10.0)
    parser.add_argument("--action-at", type=float, default=6.0)
    parser.add_argument(
        "--second-blocker-hold",
        type=float,
        default=5.0,
        help="a second blocker, from the moment the new index is valid (the migration's next "
        "steps need stronger locks), held this long",
    )
    parser.add_argument("--lock-timeout", default="200ms")
    parser.add_argument("--retries", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--sleep", type=float, default=0.05)
    parser.add_argument(
        "--max-batch-time",
        type=float,
        default=0.2,
        help="dbwright backfill --max-batch-time: how long a batch may hold its row locks",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("/tmp") / f"dbwright-bench-migrations-{int(time.time())}"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.chmod(args.out, 0o777)
    started = time.monotonic()
    log("starting a throwaway PostgreSQL 15 cluster")
    cluster = start_cluster()
    try:
        tune(cluster)
        log(f"pgbench -i -s {args.scale}")
        init_s = initialise(cluster, args.scale)
        url = cluster.url()
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT count(*) FROM pgbench_accounts").fetchone()[0]
        log(f"initialised {rows:,} rows in {init_s:.1f} s")
        phases = [run_phase("baseline", cluster, args.out, args, args.baseline_seconds, None)]
        phases.append(
            run_phase("naive", cluster, args.out, args, args.naive_seconds, naive_action(url, args.out))
        )
        log("resetting: dropping what the naive migration added")
        reset(url)
        phases.append(
            run_phase(
                "dbwright",
                cluster,
                args.out,
                args,
                args.dbwright_seconds,
                dbwright_action(url, args.out, args),
            )
        )
        results = {
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "rows": rows,
            "init_s": round(init_s, 1),
            "phases": phases,
            "goals": goals(phases[0], phases[1], phases[2], seconds_of(args.lock_timeout)),
            "total_s": round(time.monotonic() - started, 1),
        }
        (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
        print(markdown(results))
        log(f"done in {results['total_s']:.0f} s; results in {args.out / 'results.json'}")
    finally:
        remove_cluster(cluster)
    return 0


if __name__ == "__main__":
    sys.exit(main())
