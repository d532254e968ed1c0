"""Audit checks on SECURITY DEFINER functions (checks/audit_functions.py), on the real PostgreSQL 15."""

from __future__ import annotations

from dbwright.model.findings import Severity
from tests.checks.audit_helpers import apply, audit


def test_dwa043_security_definer_owned_by_a_superuser_flagged(pg):
    pg.role("a_fn_owner", "NOLOGIN")
    pg.execute(
        "CREATE FUNCTION public.bump(i int) RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT i + 1'"
    )
    result = audit(pg, "DWA012", "DWA042", "DWA043")
    assert {(f.check.code, f.finding.object) for f in result.findings} == {
        ("DWA012", "public.bump(i integer)"),
        ("DWA042", "public.bump(i integer)"),
        ("DWA043", "public.bump(i integer)"),
    }
    assert result.by_code("DWA012")[0].severity == Severity.HIGH  # owned by a superuser
    apply(pg, result.by_code("DWA012")[0].fix.forward_sql)
    apply(pg, result.by_code("DWA042")[0].fix.forward_sql)
    # DWA043's fix is the documented manual step: a non-superuser owner
    assert any("OWNER TO" in step for step in result.by_code("DWA043")[0].fix.manual_steps)
    pg.execute("ALTER FUNCTION public.bump(int) OWNER TO a_fn_owner")
    assert audit(pg, "DWA012", "DWA042", "DWA043").findings == []


def test_dwa043_invoker_function_of_a_superuser_not_flagged(pg):
    pg.execute("CREATE FUNCTION public.invoker() RETURNS int LANGUAGE sql AS 'SELECT 1'")  # superuser-owned
    assert audit(pg, "DWA043").findings == []
