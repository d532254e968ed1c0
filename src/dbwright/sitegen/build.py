"""Build the documentation site from a snapshot: Markdown, HTML or both, plus the CSV dictionary.

Output is deterministic (sorted, no timestamps, no random ids, stable file names such as
``shop/orders.html``) so the generated docs can be committed and their diffs read.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dbwright.errors import RefusedError
from dbwright.model import Snapshot
from dbwright.sitegen.dictionary import data_dictionary
from dbwright.sitegen.html import MERMAID_ASSET, mermaid_js, render_html
from dbwright.sitegen.markdown import render_markdown
from dbwright.sitegen.pages import DICTIONARY_FILE
from dbwright.sitegen.site import Relationship, Site

FORMATS = ("html", "markdown", "both")


def implied_relationships(proposals: Iterable) -> tuple[Relationship, ...]:
    """Missing foreign keys from a design review (``DesignReport.proposals``), as dashed relationships."""
    from dbwright.model.operations import AddForeignKey

    found = []
    for proposal in proposals:
        if proposal.kind != "foreign_key" or proposal.package is None:
            continue
        for op in proposal.package.operations:
            if isinstance(op, AddForeignKey):
                evidence = proposal.evidence
                found.append(
                    Relationship(
                        op.table,
                        tuple(op.columns),
                        op.ref_table,
                        tuple(op.ref_columns),
                        op.name,
                        implied=True,
                        evidence=f"{evidence.get('references', 0):,} values checked, "
                        f"{evidence.get('orphan_rows', 0):,} orphan rows",
                    )
                )
    return tuple(sorted(found, key=lambda r: (r.child, r.child_columns, r.parent)))


def find_implied(target: str | None, snapshot: Snapshot, **budget) -> tuple[Relationship, ...]:
    """Run the design review's data profiling on ``target`` and keep only the missing foreign keys."""
    from dbwright import api

    report = api.advise_design(target, snapshot=snapshot, **budget)
    return implied_relationships(report.proposals)


def render_site(site: Site, format: str = "html") -> dict[str, bytes]:
    """Relative path → file bytes for the whole site."""
    if format not in FORMATS:
        raise RefusedError(f"unknown docs format {format!r}; use one of {', '.join(FORMATS)}")
    files: dict[str, bytes] = {DICTIONARY_FILE: data_dictionary(site).encode()}
    if format in ("html", "both"):
        files.update({path: text.encode() for path, text in render_html(site).items()})
        files[MERMAID_ASSET] = mermaid_js()
    if format in ("markdown", "both"):
        files.update({path: text.encode() for path, text in render_markdown(site).items()})
    return dict(sorted(files.items()))


def build_site(
    snapshot: Snapshot,
    out_dir: Path,
    *,
    format: str = "html",
    implied: tuple[Relationship, ...] = (),
    implied_source: str | None = None,
    sizes: bool = True,
) -> list[Path]:
    """Write the site into ``out_dir``; return the files written. Unchanged files are left untouched.

    ``sizes=False`` leaves out row estimates and sizes, so regenerated docs differ only when the schema does.
    """
    site = Site(snapshot, implied, implied_source, sizes)
    files = render_site(site, format)
    if out_dir.exists() and not out_dir.is_dir():
        raise RefusedError(f"{out_dir} exists and is not a directory")
    written = []
    for relative, content in files.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
        written.append(path)
    return written
