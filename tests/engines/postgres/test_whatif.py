"""HypoPG's hypothetical indexes and rolled-back real builds, as the what-if evaluator's engine sends them."""

from __future__ import annotations

import pytest

from dbwright.advisors.indexes.spec import IndexSpec
from dbwright.engines.postgres import whatif
from dbwright.engines.postgres.connect import open_session


def _table(pg) -> None:
    pg.execute("CREATE TABLE t(id int, a int, b int)")
    pg.execute("INSERT INTO t SELECT g, g % 100, g % 7 FROM generate_series(1, 1000) g")


def test_a_refused_definition_in_a_batch_is_named_and_the_rest_are_made(pg):
    pg.execute("CREATE EXTENSION hypopg")
    _table(pg)
    good = [IndexSpec("public.t", ("a",)), IndexSpec("public.t", ("b", "a"))]
    refused = IndexSpec("public.t", ("no_such_column",))
    with open_session(pg.url) as conn:
        made = whatif.HypotheticalIndexes(conn)
        created, why = made.ensure(frozenset([*good, refused]))
        assert sorted(spec for spec, _, _ in created) == sorted(good)
        assert list(why) == [refused] and "no_such_column" in why[refused]
        assert not why[refused].startswith("hypopg: ")
        assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone()[0] == len(good)
        made.ensure(frozenset(), frozenset({"public.other"}))  # another table's: t's indexes stay
        assert set(made.active) == set(good)
        made.ensure(frozenset(), frozenset({"public.t"}))
        assert not made.active and whatif.leftovers(conn, hypopg=True)["hypothetical_indexes"] == 0


def test_a_full_batch_starts_hypopg_afresh(pg, monkeypatch):
    pg.execute("CREATE EXTENSION hypopg")
    _table(pg)
    monkeypatch.setattr(whatif, "HYPOPG_BATCH", 2)
    specs = [IndexSpec("public.t", ("a",)), IndexSpec("public.t", ("b",)), IndexSpec("public.t", ("id",))]
    with open_session(pg.url) as conn:
        made = whatif.HypotheticalIndexes(conn)
        made.ensure(frozenset(specs[:2]))
        created, _ = made.ensure(frozenset(specs[1:]))  # 2 made + 1 more > 2: reset, all of them again
        assert sorted(spec for spec, _, _ in created) == sorted(specs[1:])
        assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone()[0] == 2
        made.reset()
        assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone()[0] == 0


def test_hypopg_available_says_why_not(pg):
    with open_session(pg.url) as conn:
        available, why = whatif.hypopg_available(conn)
        assert not available and "CREATE EXTENSION hypopg" in why
    pg.execute("CREATE EXTENSION hypopg")
    with open_session(pg.url) as conn:
        assert whatif.hypopg_available(conn)[0]


def test_real_builds_and_drops_are_rolled_back_and_a_refused_build_spoils_nothing(pg):
    _table(pg)
    pg.execute("CREATE INDEX t_a_idx ON t (a)")
    with open_session(pg.url) as conn:
        whatif.begin_write(conn)
        whatif.build_index(conn, IndexSpec("public.t", ("a",)).definition("dbwright_whatif_1"))
        with pytest.raises(whatif.IndexRefusedError, match="no_such_column"):
            whatif.build_index(
                conn, IndexSpec("public.t", ("no_such_column",)).definition("dbwright_whatif_2")
            )
        with whatif.rolled_back_savepoint(conn):
            whatif.build_index(conn, IndexSpec("public.t", ("b",)).definition("dbwright_whatif_3"))
        assert whatif.leftovers(conn, hypopg=False)["real_indexes"] == 1  # the savepoint's is gone
        whatif.rollback_if_in_transaction(conn)
        assert whatif.leftovers(conn, hypopg=False)["real_indexes"] == 0
        with whatif.RolledBackWrite(conn):
            whatif.drop_index(conn, "public.t_a_idx")
            assert conn.execute("SELECT to_regclass('public.t_a_idx')").fetchone()[0] is None
        assert conn.execute("SELECT to_regclass('public.t_a_idx')").fetchone()[0] == "t_a_idx"
