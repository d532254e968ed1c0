"""The HypoPG what-if evaluator: hypothetical indexes made and dropped in batches, and one that
HypoPG refuses among them."""

from __future__ import annotations

from dbwright.advisors.indexes.spec import IndexSpec
from dbwright.advisors.indexes.whatif import PlannableQuery, WhatIf
from dbwright.engines.postgres.connect import open_session
from dbwright.engines.postgres.introspect import snapshot


def _setup(pg) -> None:
    pg.execute("CREATE EXTENSION hypopg")
    pg.execute("CREATE TABLE t(id int, a int, b int, c text)")
    pg.execute("INSERT INTO t SELECT g, g % 1000, g % 7, md5(g::text) FROM generate_series(1, 50000) g")
    pg.analyze()


def test_a_refused_definition_in_a_batch_leaves_only_the_tracked_indexes(pg):
    _setup(pg)
    query = PlannableQuery("q", "SELECT c FROM t WHERE a = 5 AND b = 3", 0, frozenset({"public.t"}))
    good = [IndexSpec("public.t", ("a",)), IndexSpec("public.t", ("b", "a"))]
    refused = IndexSpec("public.t", ("no_such_column",))
    with open_session(pg.url) as conn:
        whatif = WhatIf(conn, snapshot(conn), backend="hypopg")
        plan = whatif.plan(query, [*good, refused])
        assert refused in whatif.stats.unsupported and not whatif.supported(refused)
        assert plan is not None and plan.indexes  # the good ones were made and used
        listed = conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone()[0]
        assert listed == len(good)  # nothing made before the refusal is left untracked
        whatif.plan(query, [])  # both dropped in one statement
        assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone()[0] == 0
        whatif.close()
