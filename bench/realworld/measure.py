"""Measure the review on the real-schema corpus: findings per check code and severity, per schema.

Starts a throwaway PostgreSQL 15 cluster (tests/pgcluster.py), builds each corpus schema the way
tests/realworld does (fetched into the corpus cache, a few generated rows per table, analyzed),
runs the review's schema areas, judges the findings with the verdict files, prints the tables
and writes them to docs/realworld.md. Issue 14's closing note takes its "before" and "after"
numbers from here.

    .venv/bin/python bench/realworld/measure.py            # print and write docs/realworld.md
    .venv/bin/python bench/realworld/measure.py --no-write # print only

``--save FILE`` keeps the counts as JSON; ``--before FILE`` shows such a saved run beside this one
(bench/realworld/before.json: the tree before issue 14's precision work, measured by running this
script with PYTHONPATH pointing at that commit's src/).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.pgcluster import remove_cluster, start_cluster  # noqa: E402
from tests.realworld.corpus import CORPUS, build  # noqa: E402
from tests.realworld.fixes import failing_fixes  # noqa: E402
from tests.realworld.verdicts import SCHEMA_CATEGORIES, judge, load  # noqa: E402

from dbwright import api  # noqa: E402
from dbwright.checks.registry import all_checks  # noqa: E402

DOC = ROOT / "docs" / "realworld.md"
#: The page's hand-written part (bench/realworld/data_checks.py's findings, judged by a person):
#: everything from this heading on is kept when the page is rewritten.
KEPT_HEADING = "## Data-based checks and design proposals"
SEVERITIES = ("critical", "high", "medium", "low", "info")
COMMAND = ".venv/bin/python bench/realworld/measure.py"


def measure() -> list[dict]:
    cluster = start_cluster()
    results = []
    try:
        for schema in CORPUS:
            database = f"measure_{schema.name}"
            with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{database}" TEMPLATE template0')
            started = time.monotonic()
            filled = build(schema, cluster.url(database))
            built = time.monotonic() - started
            started = time.monotonic()
            review = api.review(cluster.url(database), categories=SCHEMA_CATEGORIES)
            reviewed = time.monotonic() - started
            failed = failing_fixes(cluster.url, database, review)
            tables = sum(1 for t in review.snapshot.tables if t.kind in ("r", "p"))
            results.append(
                {
                    "schema": schema,
                    "tables": tables,
                    "indexes": len(review.snapshot.indexes),
                    "filled": filled,
                    "per_code": Counter((f.check.code, f.severity.label) for f in review.findings),
                    "judged": judge(review, load(schema.name), failed),
                    "fixes": sum(1 for f in review.findings if f.finding.fix is not None),
                    "failed_fixes": len(failed),
                    "build_s": built,
                    "review_s": reviewed,
                }
            )
    finally:
        remove_cluster(cluster)
    return results


def counts(results: list[dict]) -> dict[str, dict[str, int]]:
    """Findings per "code severity" per schema, plus the verdict labels: what --save keeps."""
    saved: dict[str, dict[str, int]] = {}
    for r in results:
        per = {f"{code} {severity}": n for (code, severity), n in r["per_code"].items()}
        per.update({f"verdict {label}": n for label, n in r["judged"].labels.items()})
        per["verdict unlabelled"] = len(r["judged"].unlabelled)
        per["fixes proposed"] = r["fixes"]
        per["fixes failing"] = r["failed_fixes"]
        saved[r["schema"].name] = per
    return saved


def render(results: list[dict], before: dict[str, dict[str, int]] | None = None) -> str:
    titles = {check.code: check.title for check in all_checks()}
    today = datetime.date.today().isoformat()
    lines = [
        "# The review on real schemas",
        "",
        "dbwright's review measured on public schemas nobody on the team wrote (issue 14). Each schema is",
        "fetched by its registry's client at run time (never committed: synapse is AGPL-3.0, MediaWiki",
        "GPL-2.0-or-later), loaded into PostgreSQL 15, given 5 generated rows per table and analyzed; the",
        f"review runs its schema areas ({', '.join(SCHEMA_CATEGORIES)}). Security, compliance and",
        "configuration findings are left out: they judge the measuring cluster, not the schema.",
        "",
        f"Measured on {today} with `{COMMAND} --before bench/realworld/before.json` (it rewrites this",
        "page). *Before* is commit c3bd8d6, the tree before issue 14's precision work, measured with",
        f"`PYTHONPATH=<c3bd8d6 checkout>/src {COMMAND} --no-write --save bench/realworld/before.json`.",
        "The slow-marked tests in `tests/realworld/` build the same databases and hold the findings to",
        "the verdict files in `tests/realworld/verdicts/`, where every kind of finding is labelled useful,",
        "debatable or wrong with a senior DBA's one-line reason: a finding no kind covers fails",
        "`test_every_finding_kind_has_a_verdict`, and `test_findings_judged_wrong_only_go_down` holds the",
        "count of wrong findings to each file's `wrong_max` (lower it when precision work removes some).",
        "Every proposed fix is also applied, in the review's order, to a copy of the database",
        "(tests/realworld/fixes.py); a finding whose fix fails is judged in its own kind (`[fix fails]`).",
        "",
        "The first run downloads the packages into `~/.cache/dbwright-corpus/` (`DBWRIGHT_CORPUS_CACHE`",
        "moves it): the matrix-synapse wheel (`pip download`), Debian's mediawiki package",
        "(`apt-get download`, unpacked with `dpkg-deb -x`) and a small virtualenv with mlflow-skinny,",
        "whose own `_initialize_tables` builds the schema (initial models, then `alembic upgrade heads`).",
        "Later runs are offline. The generated rows come from the catalog alone (tests/realworld/rows.py):",
        "parents first, foreign keys from existing parent rows, a row a CHECK or trigger refuses is dropped.",
        "",
        "## The schemas",
        "",
        "| schema | source | tables | indexes | tables given rows | build s | review s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        filled = r["filled"]
        lines.append(
            f"| {r['schema'].name} | {r['schema'].source} | {r['tables']} | {r['indexes']} | "
            f"{filled['tables_filled']} of {filled['tables_filled'] + filled['tables_empty']} | "
            f"{r['build_s']:.1f} | {r['review_s']:.1f} |"
        )
    names = [r["schema"].name for r in results]
    lines += [
        "",
        "## Findings per check and severity",
        "",
        "| check | severity | " + " | ".join(names) + " |",
        "|---|---|" + "---:|" * len(names),
    ]
    now = counts(results)
    before = before or {}

    def cell(schema: str, key: str) -> str:
        value = now[schema].get(key, 0)
        if not before:
            return str(value or "")
        old = before.get(schema, {}).get(key, 0)
        return f"{old} → {value}" if (old or value) else ""

    def total(per: dict[str, int]) -> int:
        return sum(n for key, n in per.items() if key.startswith("DW"))

    found = {tuple(key.split(" ")) for per in [*now.values(), *before.values()] for key in per}
    keys = sorted((k for k in found if k[0].startswith("DW")), key=lambda k: (k[0], SEVERITIES.index(k[1])))
    for code, severity in keys:
        cells = " | ".join(cell(name, f"{code} {severity}") for name in names)
        lines.append(f"| {code} {titles.get(code, '')} | {severity} | {cells} |")
    totals = [
        f"{total(before.get(name, {}))} → {total(now[name])}" if before else str(total(now[name]))
        for name in names
    ]
    lines.append("| **all** | | " + " | ".join(totals) + " |")
    if before:
        lines += ["", "Cells read *before → now*; *before* is the tree before issue 14's precision work."]
    lines += [
        "",
        "## Verdicts",
        "",
        "| schema | findings | useful | debatable | wrong | useful or debatable | unlabelled | fixes failing on a copy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        j = r["judged"]
        lines.append(
            f"| {r['schema'].name} | {j.total} | {j.labels['useful']} | {j.labels['debatable']} | "
            f"{j.labels['wrong']} | {j.useful_share:.0%} | {len(j.unlabelled)} | {r['failed_fixes']} of {r['fixes']} |"
        )
    if before:
        lines += [
            "",
            "Before issue 14's precision work, judged with the same verdict files (a message pattern that did",
            "not exist yet falls to its code's catch-all kind, so *before* is approximate where a code was split):",
            "",
            "| schema | findings | useful | debatable | wrong | useful or debatable | fixes failing on a copy |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name in names:
            old = before.get(name, {})
            labels = [old.get(f"verdict {label}", 0) for label in ("useful", "debatable", "wrong")]
            total = sum(labels) + old.get("verdict unlabelled", 0)
            share = f"{(labels[0] + labels[1]) / total:.0%}" if total else "n/a"
            fixes = f"{old.get('fixes failing', 0)} of {old.get('fixes proposed', 0)}"
            lines.append(
                f"| {name} | {total} | {labels[0]} | {labels[1]} | {labels[2]} | {share} | {fixes} |"
            )
    lines += [
        "",
        "## The verdict kinds",
        "",
        "Each kind as its verdict file states it (`code ~ pattern`; `[fix fails]`: its fix failed on the copy).",
    ]
    for r in results:
        judged = r["judged"]
        lines += [
            "",
            f"### {r['schema'].name}",
            "",
            "| kind | findings | verdict | why |",
            "|---|---:|---|---|",
        ]
        for kind in load(r["schema"].name).kinds:
            if judged.counts.get(kind.key):
                key = kind.key.replace("|", "\\|")
                lines.append(f"| `{key}` | {judged.counts[kind.key]} | {kind.verdict} | {kind.reason} |")
    lines += [
        "",
        "The issue's bar: on each schema at least 80% of findings useful or debatable, and none wrong.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/realworld.md alone")
    parser.add_argument("--save", type=Path, help="also write the counts as JSON to this file")
    parser.add_argument("--before", type=Path, help="a --save file to show beside this run")
    args = parser.parse_args()
    results = measure()
    if args.save:
        args.save.write_text(json.dumps(counts(results), indent=1, sort_keys=True) + "\n")
    before = json.loads(args.before.read_text()) if args.before else None
    text = render(results, before)
    print(text)
    if not args.no_write:
        old = DOC.read_text() if DOC.exists() else ""
        if KEPT_HEADING in old:
            text = text.rstrip("\n") + "\n\n" + old[old.index(KEPT_HEADING) :]
        DOC.write_text(text)
        print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
