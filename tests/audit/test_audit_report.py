"""The audit's checks (the security and compliance subset of the one registry), the report in every
format, and the CLI's exit codes."""

from __future__ import annotations

import json
import re

from dbwright.audit.run import all_audit_checks, audit_database, run_audit
from dbwright.checks.registry import AUDIT_AREAS, AUDIT_CATEGORIES, REGISTRY, all_checks, find_check
from dbwright.model import Snapshot
from dbwright.output import formats_for, render
from tests.cli.test_cli_errors import run_cli

AUDIT_REGISTRY = {c.code: c for c in all_audit_checks()}


def test_registry_shape():
    checks = all_audit_checks()
    assert len(checks) >= 40
    for check in checks:
        assert check.category in AUDIT_CATEGORIES
        assert check.cis is None or re.fullmatch(r"\d+(\.\d+)*", check.cis), check.code
        assert check.doc and check.title
        assert check.code.startswith("DWA") and find_check(check.code) is check.check
    assert sum(1 for c in checks if c.cis) >= 40
    assert {c.category for c in checks} == set(AUDIT_CATEGORIES)
    wrapped = [c for c in checks if c.wraps]
    assert wrapped and all(c.check is REGISTRY[c.wraps] for c in wrapped)  # one check, two codes


def test_security_and_compliance_areas_are_the_audit():
    """Every check of the two areas is in the audit, under the area of its audit category."""
    for check in all_checks():
        if check.category in ("security", "compliance"):
            assert check.in_audit and AUDIT_AREAS[check.audit_category] == check.category, check.code
    outside = [c.code for c in all_checks() if c.in_audit and c.category not in ("security", "compliance")]
    assert outside == ["DW609"]  # slow statements: a configuration check the audit reads as logging


def _bad_database(pg) -> None:
    pg.execute('CREATE TABLE public."<script>alert(1)</script>" (id int)')
    pg.execute('GRANT SELECT ON public."<script>alert(1)</script>" TO PUBLIC')
    pg.role("a_app", "LOGIN")


def test_every_format_carries_cis_ids_scores_and_the_summary(pg):
    _bad_database(pg)
    result = audit_database(pg.url)
    assert result.by_code("DWA010")
    outputs = {fmt: render(result, fmt) for fmt in formats_for("audit")}
    for fmt in ("text", "markdown", "html"):
        assert "Compliance summary" in outputs[fmt]
        assert (
            "Effective privileges" in outputs[fmt] and "What cannot be determined from here" in outputs[fmt]
        )
        for f in result.findings:
            assert f.check.code in outputs[fmt]
    assert "<script>alert(1)</script>" not in outputs["html"]
    assert "&lt;script&gt;" in outputs["html"]
    data = json.loads(outputs["json"])
    assert set(data["summary"]["scores"]) == set(AUDIT_CATEGORIES)
    assert all(f["cis"] == AUDIT_REGISTRY[f["code"]].cis for f in data["findings"])
    assert {r["code"] for r in data["compliance"]} == set(AUDIT_REGISTRY)
    assert data["summary"]["passed"] + data["summary"]["failed"] + data["summary"]["skipped"] == len(
        AUDIT_REGISTRY
    )
    sarif = json.loads(outputs["sarif"])
    run = sarif["runs"][0]
    assert len(run["tool"]["driver"]["rules"]) == len(AUDIT_REGISTRY)
    assert {r["properties"]["cis"] for r in run["results"]} >= {"4.6"}
    assert run["properties"]["benchmark"].startswith("CIS PostgreSQL")


def test_saved_snapshot_audits_offline(pg):
    pg.execute("CREATE TABLE public.notes (body text)")
    pg.execute("CREATE POLICY p ON public.notes USING (true)")
    snap = pg.snapshot()
    again = Snapshot.from_json(snap.to_json())
    assert again.policies == snap.policies and again.languages == snap.languages
    assert again.tls_sessions == snap.tls_sessions
    offline = run_audit(again)
    assert offline.access is None and "saved snapshot" in offline.access_skipped
    assert [f.object for f in offline.by_code("DWA040")] == ["public.notes"]
    assert {(f.check.code, f.finding.object) for f in offline.findings} == {
        (f.check.code, f.finding.object) for f in run_audit(snap).findings
    }


def test_audit_command_formats_and_fail_on(pg, tmp_path):
    report = tmp_path / "audit.sarif"
    failing = run_cli("audit", pg.url, "--format", "sarif", "--fail-on", "high", "-o", str(report))
    assert failing.returncode == 1, failing.stderr  # pg_hba.conf line 2 trusts postgres on loopback: high
    assert json.loads(report.read_text())["runs"][0]["results"]
    passing = run_cli("audit", pg.url, "--check", "DWA040", "--format", "text", "--fail-on", "low")
    assert passing.returncode == 0, passing.stderr
    assert "1 automated checks: 1 passed, 0 failed, 0 not verified" in passing.stdout
    bad = run_cli("audit", pg.url, "--format", "pdf")
    assert bad.returncode == 2 and "unknown format" in bad.stderr


def test_snapshot_without_audit_sections_is_not_verified_not_passed(pg):
    import dataclasses

    pg.execute("CREATE TABLE public.notes (body text)")
    pg.execute("CREATE POLICY p ON public.notes USING (true)")
    old = dataclasses.replace(pg.snapshot(), policies=(), languages=(), tls_sessions=())
    result = run_audit(old)
    for code in ("DWA018", "DWA019", "DWA030", "DWA040", "DWA041"):
        assert result.status(code) == "skipped", code
    assert "older dbwright" in " ".join(next(s for s in result.skipped if s.check.code == "DWA040").reasons)


def test_category_selection(pg):
    import pytest

    snap = pg.snapshot()
    logging_only = run_audit(snap, categories=["logging"])
    assert {c.category for c, _ in logging_only.checks()} == {"logging"}
    assert len(logging_only.checks()) == sum(1 for c in all_audit_checks() if c.category == "logging")
    with pytest.raises(ValueError, match="unknown audit category"):
        run_audit(snap, categories=["networking"])
