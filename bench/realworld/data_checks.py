"""The data-based review checks and the design advisor on the corpus schemas, with more generated rows.

The corpus tests give each table 5 rows, too few for the checks that read the data (DW109, DW110,
DW114-DW119) or for ``dbwright design``. This builds each corpus schema on a throwaway PostgreSQL 15
cluster with ``--rows`` generated rows per table (tests/realworld/rows.py: values from the catalog
alone, not real data), runs the review's schema areas and ``api.advise_design``, and writes every
finding of those checks and every proposal as JSON for a person to judge (docs/realworld.md).

    .venv/bin/python bench/realworld/data_checks.py --rows 300 --out /tmp/data300.json
"""

from __future__ import annotations

import argparse
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
from tests.realworld.verdicts import SCHEMA_CATEGORIES  # noqa: E402

from dbwright import api  # noqa: E402

DATA_CHECKS = ("DW109", "DW110", "DW114", "DW115", "DW116", "DW117", "DW118", "DW119")


def measure(rows: int, names: list[str] | None) -> list[dict]:
    cluster = start_cluster()
    results = []
    try:
        for schema in CORPUS:
            if names and schema.name not in names:
                continue
            database = f"data_{schema.name}"
            with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{database}" TEMPLATE template0')
            url = cluster.url(database)
            started = time.monotonic()
            filled = build(schema, url, rows=rows)
            built = time.monotonic() - started
            started = time.monotonic()
            review = api.review(url, categories=SCHEMA_CATEGORIES)
            reviewed = time.monotonic() - started
            started = time.monotonic()
            design = api.advise_design(url)
            designed = time.monotonic() - started
            results.append(
                {
                    "schema": schema.name,
                    "rows": rows,
                    "filled": filled,
                    "build_s": round(built, 1),
                    "review_s": round(reviewed, 1),
                    "design_s": round(designed, 1),
                    "per_code": dict(Counter(f"{f.check.code} {f.severity.label}" for f in review.findings)),
                    "findings": [
                        {
                            "code": f.check.code,
                            "severity": f.severity.label,
                            "object": f.finding.object,
                            "message": f.finding.message,
                            "evidence": f.finding.evidence,
                            "fix": f.finding.fix.title if f.finding.fix else None,
                        }
                        for f in review.findings
                        if f.check.code in DATA_CHECKS
                    ],
                    "design": design.to_dict(),
                }
            )
            print(
                f"{schema.name}: build {built:.1f}s review {reviewed:.1f}s design {designed:.1f}s",
                file=sys.stderr,
            )
    finally:
        remove_cluster(cluster)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--schema", action="append", help="only this corpus schema (repeatable)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    results = measure(args.rows, args.schema)
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
