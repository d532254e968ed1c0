"""Generic plans on PostgreSQL 15: PREPARE with plan_cache_mode = force_generic_plan, and the session put back."""

from __future__ import annotations

import pytest

from dbwright.engines.postgres.connect import open_session
from dbwright.engines.postgres.generic_plans import STATEMENT_NAME, PlanError, Planner


def test_a_parameterised_statement_is_planned_generically_and_the_session_is_reset(pg):
    pg.execute("CREATE TABLE t(id int PRIMARY KEY, a int)")
    pg.execute("INSERT INTO t SELECT g, g % 5 FROM generate_series(1, 1000) g")
    pg.analyze()
    with open_session(pg.url) as conn:
        planner = Planner(conn)
        plan = planner.plan("SELECT a FROM t WHERE id = $1", 1, {1: ("public.t", "id")})
        assert "Index" in plan["Node Type"] and planner.calls == 1
        assert conn.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE name = %s", (STATEMENT_NAME,)
        ).fetchone() == (0,)
        with pytest.raises(PlanError, match="no_such_table"):
            planner.plan("SELECT 1 FROM no_such_table")
        planner.close()
        assert conn.execute("SHOW plan_cache_mode").fetchone()[0] == "auto"
