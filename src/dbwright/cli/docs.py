"""`dbwright docs`: generate the database's documentation site (HTML and/or Markdown, ER diagrams, CSV).

The site is the docs-site face (``dbwright.sitegen``); this command hands it the snapshot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dbwright import api
from dbwright.cli.common import (
    DbOpt,
    SourceArg,
    err,
    format_option,
    live_target,
    obtain_snapshot,
    one_database,
)
from dbwright.errors import OutputPathError, RefusedError
from dbwright.sitegen import FORMATS, build_site, find_implied


def docs(
    database: SourceArg = None,
    db: DbOpt = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the site into.")] = Path(
        "site"
    ),
    format: Annotated[str, format_option(FORMATS, help="html, markdown or both.")] = "html",
    implied: Annotated[
        bool,
        typer.Option(
            "--implied",
            help="Profile the data for foreign keys nobody declared and draw them dashed "
            "(reads the tables; needs a database, not a snapshot file).",
        ),
    ] = False,
    sizes: Annotated[
        bool,
        typer.Option(
            "--sizes/--no-sizes",
            help="Row estimates and sizes on the pages; --no-sizes for docs kept in git whose "
            "diffs should show schema changes only.",
        ),
    ] = True,
    time_budget: Annotated[
        float, typer.Option("--time-budget", min=1.0, help="Seconds for the --implied profiling.")
    ] = 60.0,
) -> None:
    """Document a database: one page per schema and table, ER diagrams, a CSV data dictionary."""
    database = one_database(database, db)
    if not output.parent.is_dir():
        raise OutputPathError(f"cannot write the site into {output}: folder {output.parent} does not exist")
    from_file = api.is_snapshot_path(database)
    if implied and from_file:
        raise RefusedError("--implied profiles the data, so it needs a database, not a snapshot file")
    target = database if from_file else live_target(database)
    snap = obtain_snapshot(target)
    relationships, source = (), None
    if implied:
        with err.status("profiling the data for undeclared foreign keys…") as status:
            relationships = find_implied(
                target,
                snap,
                time_budget_s=time_budget,
                progress=lambda text: status.update(f"docs --implied: {text}…"),
            )
        source = (
            f"{len(relationships)} found by profiling the data (dbwright design: inclusion dependencies "
            "confirmed on the full tables)."
        )
    written = build_site(
        snap, output, format=format, implied=relationships, implied_source=source, sizes=sizes
    )
    err.print(f"wrote {len(written)} files to {output}")


def register(app: typer.Typer) -> None:
    app.command("docs")(docs)
