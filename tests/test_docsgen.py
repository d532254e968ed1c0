"""Check docs: every registered check has a current page in docs/checks/.

When this fails after adding or editing a check, regenerate: ``python -m dbwright.docsgen``.
"""

from pathlib import Path

from dbwright.checks.registry import Check, all_checks
from dbwright.docsgen import (
    audit_catalog,
    audit_catalog_problems,
    check_docs_current,
    check_page,
    docstring_problems,
    index_page,
    split_references,
    write_check_docs,
)
from dbwright.model.findings import Severity

REPO_DOCS = Path(__file__).resolve().parents[1] / "docs" / "checks"


def test_every_registered_check_has_a_current_docs_page():
    problems = check_docs_current(REPO_DOCS)
    assert problems == [], "check docs are out of date; run `python -m dbwright.docsgen`:\n" + "\n".join(
        problems
    )


def test_every_check_docstring_says_how_to_fix_and_cites_references():
    assert docstring_problems() == []


def test_docstring_without_fix_or_references_is_reported():
    def bare(snap):
        """Finds things."""

    problems = docstring_problems([Check("DW997", "design", Severity.LOW, "Bare", bare)])
    assert problems == [
        "DW997: the docstring has no paragraph starting with 'Fix:'",
        "DW997: the docstring has no 'References:' line with a URL",
    ]


def test_generated_docs_are_current_then_missing_and_stale_pages_are_reported(tmp_path):
    written = write_check_docs(tmp_path)
    codes = [c.code for c in all_checks()]
    assert {p.name for p in written} == {f"{c}.md" for c in codes} | {"README.md"}
    assert check_docs_current(tmp_path) == []
    assert write_check_docs(tmp_path) == []  # nothing changed, nothing rewritten

    (tmp_path / "DW101.md").unlink()
    page = tmp_path / f"{codes[-1]}.md"
    page.write_text(page.read_text() + "\nhand edit\n")
    (tmp_path / "DW999.md").write_text("# gone\n")
    problems = check_docs_current(tmp_path)
    assert f"{tmp_path / 'DW101.md'} is missing" in problems
    assert f"{page} is stale" in problems
    assert f"{tmp_path / 'DW999.md'} documents no registered check" in problems


def test_page_has_registry_facts_docstring_body_and_reference_links():
    dw101 = next(c for c in all_checks() if c.code == "DW101")
    page = check_page(dw101)
    assert page.splitlines()[2] == "# DW101: Table without a primary key"
    assert "| Area | design |" in page and "| Default severity | high |" in page
    assert "has no reliable way to address one row" in page  # the docstring is the body
    assert "References:" not in page
    assert (
        "- <https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-PRIMARY-KEYS>"
        in page
    )
    assert "[DW101](DW101.md)" in index_page(all_checks())


def _sample(snap):
    """Finds things.

    Why it matters.

    References: https://www.postgresql.org/docs/current/monitoring-stats.html,
    https://www.postgresql.org/docs/current/pgstatstatements.html.

    Fix: do the thing.
    """
    return iter(())


def test_required_sections_and_multiline_references():
    check = Check(
        "DW998",
        "workload",
        Severity.MEDIUM,
        "Sample | piped title",
        _sample,
        requires=("statements",),
        references=("https://example.org/extra",),
    )
    body, urls = split_references(check.doc)
    assert urls == [
        "https://www.postgresql.org/docs/current/monitoring-stats.html",
        "https://www.postgresql.org/docs/current/pgstatstatements.html",
    ]
    assert body == "Finds things.\n\nWhy it matters.\n\nFix: do the thing."
    page = check_page(check)
    assert "| Requires | `statements`: pg_stat_statements" in page
    assert "lists this check as skipped" in page
    assert "- <https://example.org/extra>" in page
    assert "Sample \\| piped title" in index_page([check])


def test_audit_catalog_in_docs_audit_md_is_current():
    audit_md = REPO_DOCS.parent / "audit.md"
    assert audit_catalog_problems(audit_md) == []
    catalog = audit_catalog()
    assert '<a id="dwa001"></a>DWA001' in catalog and "[DW501](checks/DW501.md)" in catalog
    assert '<a id="dwa003"></a>DWA003' in catalog and "[DWA003](checks/DWA003.md)" in catalog


def test_audit_check_page_has_cis_section_audit_code_and_requirement_reasons():
    dw501 = next(c for c in all_checks() if c.code == "DW501")
    assert (
        "| Audit | access · CIS 4.3: Ensure excessive administrative privileges are revoked · audit code `DWA001` |"
        in (check_page(dw501))
    )
    dwa030 = next(c for c in all_checks() if c.code == "DWA030")
    page = check_page(dwa030)
    assert "| Area | security |" in page and "| Audit | encryption · CIS 6.8:" in page
    assert "`tls_state`: every client session's TLS state is visible" in page
    assert "## Compliance" in index_page(all_checks())
