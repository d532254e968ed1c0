"""`dbwright demo`: the embedded PostgreSQL with a demo database, its workload, review and index advice."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dbwright import api, output
from dbwright.cli.common import check_output_path, err, make_console, stage_printer
from dbwright.cli.review import run_checks
from dbwright.errors import DbwrightError
from dbwright.model import Snapshot


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    reset: Annotated[bool, typer.Option("--reset", help="Delete the demo data and build it again.")] = False,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the embedded server and exit.")] = False,
    output_file: Annotated[Path, typer.Option("--output", "-o", help="HTML report path.")] = Path(
        "dbwright-demo-report.html"
    ),
) -> None:
    """Start an embedded PostgreSQL with a demo database, run a workload, review it, write the HTML report."""
    if stop:
        was_running = api.stop_demo()
        err.print("embedded server stopped" if was_running else "embedded server was not running")
        return
    check_output_path(output_file)
    url = api.start_demo(reset=reset, progress=stage_printer())
    with err.status("reading the catalog…"):
        snap = api.snapshot(url)
    result = run_checks(snap, None, None)
    output.print_review(result, make_console())
    output_file.write_text(output.render(result, "html"))
    advice_path = index_advice(url, snap, output_file)
    print(f"HTML report: {output_file.resolve()}")
    if advice_path:
        print(f"Index advice: {advice_path.resolve()}")
    print(f"Demo database: {url}")
    print("  connect with psql or any client; `dbwright demo --stop` stops the server")


def index_advice(url: str, snap: Snapshot, report: Path) -> Path | None:
    """The demo's workload through the index advisor. The embedded server has no HypoPG, and it is
    dbwright's own throwaway database, so the demo allows rolled-back real builds there by name."""
    with err.status("advising indexes for the workload…") as status:
        try:
            advice = api.advise_indexes(
                url,
                snapshot=snap,
                allow_real_indexes=True,
                progress=lambda text: status.update(f"advising: {text}"),
            )
        except DbwrightError as error:
            err.print(f"index advice skipped: {error.message}", markup=False)
            return None
    sys.stdout.write(output.render(advice, "text") + "\n")
    path = report.with_name(report.stem + "-index-advice.html")
    path.write_text(output.render(advice, "html"))
    return path
