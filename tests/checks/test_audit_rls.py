"""Audit checks on row-level security (checks/audit_rls.py), on the real PostgreSQL 15."""

from __future__ import annotations

from tests.checks.audit_helpers import apply, audit, found


def test_dwa040_dwa041_row_level_security_flagged(pg):
    pg.execute("CREATE TABLE public.notes (owner name, body text)")
    pg.execute("CREATE POLICY own_notes ON public.notes USING (owner = current_user)")
    assert list(found(pg, "DWA040")) == ["public.notes"]
    assert found(pg, "DWA040")["public.notes"].evidence["policies"] == ["own_notes"]
    apply(pg, found(pg, "DWA040")["public.notes"].fix.forward_sql)
    assert found(pg, "DWA040") == {}
    owner = found(pg, "DWA041")["public.notes"]  # now enabled, but its owner is not subject to it
    assert owner.evidence["owner_is_superuser_or_bypassrls"] is True
    apply(pg, owner.fix.forward_sql)
    assert found(pg, "DWA041") == {}
    assert pg.value("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'notes'") is True


def test_dwa040_dwa041_enabled_and_forced_policy_not_flagged(pg):
    pg.role("a_owner", "NOLOGIN")
    pg.execute("CREATE SCHEMA app AUTHORIZATION a_owner")
    pg.execute("CREATE TABLE app.t (id int)")
    pg.execute("ALTER TABLE app.t OWNER TO a_owner")
    pg.execute("ALTER TABLE app.t ENABLE ROW LEVEL SECURITY")
    pg.execute("ALTER TABLE app.t FORCE ROW LEVEL SECURITY")
    pg.execute("CREATE POLICY p ON app.t USING (true)")
    assert audit(pg, "DWA040", "DWA041").findings == []
