"""`dbwright review`, `snapshot` and `fix`: the review of a database or a saved snapshot, and its fixes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dbwright import api, output
from dbwright.cli.common import (
    DbOpt,
    FailOnOpt,
    MinSeverityOpt,
    OutAliasOpt,
    OutputOpt,
    SourceArg,
    check_output_path,
    emit,
    err,
    format_option,
    make_console,
    obtain_snapshot,
    one_database,
    one_output,
    write_file,
)
from dbwright.cli.config import active_config
from dbwright.model import Snapshot

if TYPE_CHECKING:
    from dbwright.review import Review

MemoryOpt = Annotated[
    str | None,
    typer.Option(
        "--server-memory",
        help="The server's RAM (e.g. 16GB), for memory settings; read from the server "
        "when dbwright may, otherwise those checks are skipped.",
    ),
]
MinObservedOpt = Annotated[
    float | None,
    typer.Option(
        "--min-observed",
        metavar="DAYS",
        help="Days of usage statistics before an index with no scans counts as unused (DW203; default 7).",
    ),
]
#: A check code (DW101) or an audit code (DWA040): what `fix` tells from its DATABASE argument.
CHECK_CODE = re.compile(r"DWA?\d+", re.IGNORECASE)


def register(app: typer.Typer) -> None:
    app.command("review")(review)
    app.command("snapshot")(snapshot)
    app.command("fix")(fix)


def run_checks(
    snap: Snapshot, categories: list[str] | None, codes: list[str] | None, min_observed: float | None = None
) -> Review:
    """The review of ``snap``, with the check running shown on stderr."""
    with err.status("running checks…") as status:
        return api.review(
            snap,
            categories=categories,
            codes=codes,
            min_observed_days=min_observed,
            progress=lambda line: status.update(f"running checks: {line.removeprefix('check ')}"),
            config=active_config(),
        )


def review(
    database: SourceArg = None,
    db: DbOpt = None,
    format: Annotated[str, format_option("review")] = "text",
    output_file: OutputOpt = None,
    fail_on: FailOnOpt = None,
    min_severity: MinSeverityOpt = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", "-c", help="Only this area (repeatable).")
    ] = None,
    check: Annotated[
        list[str] | None, typer.Option("--check", help="Only this check code (repeatable).")
    ] = None,
    server_memory: MemoryOpt = None,
    min_observed: MinObservedOpt = None,
) -> None:
    """Review a database (or a saved snapshot): prioritized findings, each with evidence and a fix."""
    threshold = api.parse_severity(fail_on) if fail_on else None
    listed_from = api.parse_severity(min_severity) if min_severity else None
    for name in category or []:
        api.check_category(name)
    api.check_codes(check)
    api.check_min_observed(min_observed)
    check_output_path(output_file)  # before the review, so a typo costs nothing
    snap = obtain_snapshot(one_database(database, db), server_memory, fail_on=fail_on)
    result = run_checks(snap, category, check, min_observed)
    listed = result.listing_at_or_above(listed_from)
    if format == "text" and output_file is None:
        output.print_review(listed, make_console())
    else:
        named = one_database(database, db)
        source = named if api.is_snapshot_path(named) else None  # locates findings in SARIF and annotations
        emit(output.render(listed, format, source=source), output_file)
    if threshold is not None and api.at_or_above(result.findings, threshold):
        raise typer.Exit(1)


def snapshot(
    database: SourceArg = None,
    db: DbOpt = None,
    output_file: Annotated[
        Path, typer.Option("--output", "-o", help="Where to save the snapshot JSON.")
    ] = Path("snapshot.json"),
    server_memory: MemoryOpt = None,
) -> None:
    """Save a catalog snapshot as JSON, to review offline later (`dbwright review snap.json`)."""
    check_output_path(output_file)
    snap = obtain_snapshot(one_database(database, db), server_memory)
    api.save_snapshot(snap, output_file)
    err.print(
        f"wrote {output_file}: {len(snap.tables)} tables, {len(snap.columns)} columns, "
        f"{len(snap.indexes)} indexes in {snap.introspection_ms:.0f} ms"
    )


def fix(
    codes: Annotated[
        list[str],
        typer.Argument(
            metavar="[DATABASE] CODE",
            show_default=False,
            help="The database or saved snapshot (as for review; optional), then the check codes whose "
            "fixes to write, e.g. DW102 DW201.",
        ),
    ],
    db: DbOpt = None,
    output_file: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", show_default=False, help="Migration file to write [default: migration.sql]."
        ),
    ] = None,
    out: OutAliasOpt = None,
    server_memory: MemoryOpt = None,
    min_observed: MinObservedOpt = None,
) -> None:
    """Write the fixes of the chosen checks to one migration file, with its down part. Never applies."""
    database, codes = split_database(codes)
    if not codes:
        raise typer.BadParameter("name at least one check code, e.g. DW102")
    api.check_codes(codes)
    api.check_min_observed(min_observed)
    path = check_output_path(one_output(output_file, out) or Path("migration.sql"))
    snap = obtain_snapshot(one_database(database, db), server_memory)
    result = run_checks(snap, None, codes, min_observed)
    packages = api.fix_packages(result)
    if not packages:
        err.print(f"no fixes for {', '.join(codes)} in this database; nothing written")
        return
    write_file(
        path,
        api.render_migration(packages),
        f": {len(packages)} change package(s); review it, then apply it yourself",
    )


def split_database(arguments: list[str]) -> tuple[str | None, list[str]]:
    """`fix`'s arguments: a first one that is not a check code names the database."""
    if arguments and not CHECK_CODE.fullmatch(arguments[0]):
        return arguments[0], arguments[1:]
    return None, arguments
