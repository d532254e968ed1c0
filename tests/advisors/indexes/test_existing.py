"""The index advisor's drops on a schema where each drop is known to be right or harmful: redundancy
respects collation, operator class, predicate, expressions, INCLUDE and uniqueness, and "unused"
follows the review's DW203 rules and states its real observation window."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from dbwright.advisors.indexes import advise_indexes
from dbwright.advisors.indexes.existing import observation_note, propose
from dbwright.advisors.indexes.workload import from_sql_text
from dbwright.model import Snapshot


def aged(snap: Snapshot, days: float) -> Snapshot:
    taken = datetime.fromisoformat(snap.taken_at) + timedelta(days=days)
    return dataclasses.replace(snap, taken_at=taken.isoformat())


def plant(pg) -> None:
    pg.execute("CREATE TABLE parent (id int PRIMARY KEY)")
    pg.execute("INSERT INTO parent SELECT generate_series(1, 10)")
    pg.execute(
        "CREATE TABLE t (id int PRIMARY KEY, code varchar(20), name text, a int, b int, x int, y int, "
        "parent_id int REFERENCES parent)"
    )
    for ddl in (
        "CREATE INDEX t_code_idx ON t (code)",  # Django's pair: neither is redundant
        "CREATE INDEX t_code_like ON t (code varchar_pattern_ops)",
        "CREATE INDEX t_name_idx ON t (name)",  # not covered by an index under another collation
        'CREATE INDEX t_name_c_a ON t (name COLLATE "C", a)',
        "CREATE INDEX t_a_part ON t (a) WHERE b > 0",  # partial: not covered by a full index
        "CREATE INDEX t_a_b ON t (a, b)",
        "CREATE INDEX t_lower ON t (lower(name))",  # expressions are not compared
        "CREATE INDEX t_lower_a ON t (lower(name), a)",
        "CREATE INDEX t_b_inc ON t (b) INCLUDE (name)",  # its INCLUDE column is not in t_b_a
        "CREATE INDEX t_b_a ON t (b, a)",
        "CREATE UNIQUE INDEX t_x_uniq ON t (x)",  # enforces uniqueness
        "CREATE INDEX t_x_y ON t (x, y)",
        "CREATE INDEX t_y ON t (y)",  # redundant: still proposed
        "CREATE INDEX t_y_x ON t (y, x)",
        "CREATE INDEX t_parent_idx ON t (parent_id)",  # the foreign key's only index: never "unused"
    ):
        pg.execute(ddl)
    pg.execute(
        "INSERT INTO t SELECT g, 'c' || g, 'n' || g, g, g, g, g, g % 10 + 1 FROM generate_series(1, 2000) g"
    )
    pg.analyze()
    pg.execute("SELECT * FROM t WHERE id = 5")  # the table is read
    pg.execute("SELECT pg_stat_force_next_flush()")
    pg.execute("SELECT 1")


def test_redundancy_respects_collation_opclass_predicate_expression_include_uniqueness(pg):
    plant(pg)
    snap = pg.snapshot()
    drops = {d.index.name: d for d in propose(snap, [], {})}
    redundant = {name for name, d in drops.items() if d.reason == "redundant"}
    assert redundant == {"t_y"}
    assert drops["t_y"].evidence["covered_by"] == "public.t_y_x"


def test_unused_needs_the_window_and_spares_foreign_key_indexes(pg):
    plant(pg)
    snap = pg.snapshot()
    # Minutes of counters: nothing is called unused, and a note says why.
    assert [d for d in propose(snap, [], {}) if d.reason == "unused"] == []
    note = observation_note(snap)
    assert note is not None and "since the server started on" in note and "7 days" in note
    # A month of counters: the idle plain indexes go, the foreign key's only index stays.
    month = aged(snap, 30)
    assert observation_note(month) is None
    unused = {d.index.name: d for d in propose(month, [], {}) if d.reason == "unused"}
    assert "t_parent_idx" not in unused
    assert "t_code_idx" in unused and "t_code_like" in unused
    assert "since the server started on" in unused["t_code_idx"].note
    assert "since statistics were reset" not in unused["t_code_idx"].note
    assert unused["t_code_idx"].evidence["observed_from"] == "server_start"
    assert unused["t_code_idx"].evidence["stats_reset"] is None
    assert unused["t_code_idx"].evidence["days_observed"] >= 30


def test_advice_on_a_fresh_server_proposes_no_unused_drop(pg):
    pg.execute("CREATE EXTENSION hypopg")
    plant(pg)
    advice = advise_indexes(pg.url, workload=from_sql_text("SELECT * FROM t WHERE y = $1", "test"))
    assert not [d for d in advice.drops if d.reason == "unused"]
    assert any("none is proposed as unused" in note for note in advice.notes)
    assert {d.index.name for d in advice.drops if d.reason == "redundant"} == {"t_y"}


def test_min_observed_days_sets_the_window_for_unused_drops(pg):
    pg.execute("CREATE EXTENSION hypopg")
    plant(pg)
    workload = from_sql_text("SELECT * FROM t WHERE y = $1", "test")
    advice = advise_indexes(pg.url, workload=workload, min_observed_days=0)
    unused = {d.index.name for d in advice.drops if d.reason == "unused"}
    assert "t_code_idx" in unused and "t_parent_idx" not in unused
    assert not any("none is proposed as unused" in note for note in advice.notes)
    longer = advise_indexes(pg.url, workload=workload, min_observed_days=30)
    assert not [d for d in longer.drops if d.reason == "unused"]
    assert any("before 30 days of statistics" in note for note in longer.notes)
