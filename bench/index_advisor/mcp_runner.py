"""Run postgres-mcp's DatabaseTuningAdvisor as shipped, in its own virtualenv (Python >= 3.12).

Usage: python mcp_runner.py URL BUDGET_MB QUERIES.json  -> JSON on stdout.
Called by run.py with the venv's interpreter; it imports only postgres-mcp and the standard library.
"""

import asyncio
import json
import sys
import time


async def main(url: str, budget_mb: int, queries: list[str]) -> dict:
    from postgres_mcp.index.dta_calc import DatabaseTuningAdvisor
    from postgres_mcp.sql import SqlDriver

    driver = SqlDriver(engine_url=url)
    advisor = DatabaseTuningAdvisor(driver, budget_mb=budget_mb)
    started = time.perf_counter()
    session = await advisor.analyze_workload(query_list=queries, max_index_size_mb=budget_mb)
    elapsed = time.perf_counter() - started
    return {
        "elapsed_s": elapsed,
        "error": session.error,
        "recommendations": [
            {
                "table": r.table,
                "columns": list(r.columns),
                "using": r.using,
                "estimated_size_bytes": r.estimated_size_bytes,
            }
            for r in session.recommendations
        ],
        "traces": session.dta_traces[-15:],
    }


if __name__ == "__main__":
    url, budget, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(path) as handle:
        print(json.dumps(asyncio.run(main(url, budget, json.load(handle)))))
