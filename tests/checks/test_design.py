"""Design checks: each has a bad-state test and a clean look-alike test on a real server."""


def test_dw101_table_without_primary_key_flagged(pg):
    pg.execute("CREATE TABLE events (happened_at timestamptz, kind text)")
    found = pg.findings("DW101")
    assert [f.object for f in found] == ["public.events"]
    assert "ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY" in found[0].fix.forward_sql
    assert "DROP COLUMN id" in found[0].fix.rollback_sql


def test_dw101_table_with_primary_key_not_flagged(pg):
    pg.execute("CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind text)")
    pg.execute("CREATE TABLE parts (id int, PRIMARY KEY (id)) PARTITION BY RANGE (id)")
    pg.execute("CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (10)")
    assert pg.findings("DW101") == []
