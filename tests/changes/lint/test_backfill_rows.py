"""A backfill is judged by the rows it touches: the snapshot's reltuples and null_frac on a real PG15,
the predicate's shape without one. Not by whether the statement has a WHERE clause."""

from __future__ import annotations

import pytest

from dbwright.changes.lint import LintState, lint
from dbwright.engines.registry import take_snapshot


@pytest.fixture
def analysed(pg):
    pg.execute("""
        CREATE TABLE mostly_set (id bigint PRIMARY KEY, region text);
        INSERT INTO mostly_set SELECT g, CASE WHEN g % 100 = 0 THEN NULL ELSE 'eu' END
          FROM generate_series(1, 30000) g;
        CREATE TABLE all_null (id bigint PRIMARY KEY, region text);
        INSERT INTO all_null SELECT g, NULL FROM generate_series(1, 30000) g;
        CREATE TABLE small (id bigint PRIMARY KEY, region text);
        INSERT INTO small SELECT g, NULL FROM generate_series(1, 200) g;
        ANALYZE;
    """)
    return take_snapshot(pg.url)


def _backfill(sql: str, state: LintState | None = None) -> list[str]:
    return [f.message for f in lint(sql, state=state) if f.code == "DW729"]


def test_null_frac_and_reltuples_decide(analysed):
    few = _backfill(
        "UPDATE mostly_set SET region = 'us' WHERE region IS NULL;", LintState.from_snapshot(analysed)
    )
    assert few == []  # 1% of 30,000 rows: a batch
    [every] = _backfill(
        "UPDATE all_null SET region = 'us' WHERE region IS NULL;", LintState.from_snapshot(analysed)
    )
    assert "about 30,000 of 30,000 rows" in every and "null_frac 1.00" in every
    assert _backfill("UPDATE small SET region = 'us';", LintState.from_snapshot(analysed)) == []  # 200 rows
    [unfiltered] = _backfill("DELETE FROM mostly_set;", LintState.from_snapshot(analysed))
    assert "about 30,000 of 30,000 rows" in unfiltered


def test_without_statistics_the_predicate_decides():
    assert _backfill("UPDATE orders SET region = 'eu' WHERE region IS NULL;")  # a backfill's predicate
    assert _backfill("UPDATE orders SET region = 'eu' WHERE region <> 'eu';")
    assert not _backfill("UPDATE orders SET region = 'eu' WHERE id = 42;")
    assert not _backfill("UPDATE orders SET region = 'eu' WHERE id >= 1 AND id < 10000 AND region IS NULL;")
    assert not _backfill("UPDATE orders SET region = 'eu' WHERE id IN (SELECT id FROM moved);")  # cannot tell


def test_a_column_added_in_the_migration_is_null_on_every_row():
    [message] = _backfill(
        "ALTER TABLE orders ADD COLUMN region text;\nUPDATE orders SET region = 'eu' WHERE region IS NULL;"
    )
    assert "every row (region was added in this migration" in message
    # with a default the existing rows are filled: IS NULL then picks none of them, as it says
    assert not _backfill(
        "ALTER TABLE orders ADD COLUMN region text DEFAULT 'eu';\n"
        "UPDATE orders SET region = 'us' WHERE region IS NULL AND id = 3;"
    )


def test_the_api_judges_a_backfill_by_the_database_given(analysed, pg):
    from dbwright import api

    sql = "UPDATE mostly_set SET region = 'us' WHERE region IS NULL;\nUPDATE all_null SET region = 'us' WHERE region IS NULL;"
    with_database = [f for f in api.lint(sql, database=pg.url) if f.code == "DW729"]
    assert [f.line for f in with_database] == [2]  # 300 rows vs 30,000: only the second is a backfill
    assert {f.line for f in api.lint(sql) if f.code == "DW729"} == {1, 2}  # offline, IS NULL is not selective
    assert [f.line for f in api.lint(sql, database=analysed) if f.code == "DW729"] == [2]  # a Snapshot
