"""A narrower index on the leading keys of a much larger existing index is still a candidate.

A primary key on (order_id, line_no) answers lookups by order_id, but with several lines per
order an index on order_id alone is a fraction of its size (B-tree deduplication stores each
order_id once), so joins and range scans by order_id read far fewer pages. When the narrow
index would be about as large as the existing one, it is not proposed.
"""

from __future__ import annotations

from dbwright.advisors.indexes.candidates import NARROWER_RATIO, _exists
from dbwright.advisors.indexes.sizes import estimate_bytes
from dbwright.advisors.indexes.spec import IndexSpec


def test_a_much_smaller_prefix_of_the_primary_key_is_a_candidate(pg):
    pg.execute("CREATE TABLE lines(order_id int, line_no int, qty int, PRIMARY KEY (order_id, line_no))")
    pg.execute("INSERT INTO lines SELECT g / 7, g % 7, g % 50 FROM generate_series(1, 140000) g")
    pg.execute("CREATE TABLE versions(id int, version int, body text, PRIMARY KEY (id, version))")
    pg.execute("INSERT INTO versions SELECT g, 1, 'x' FROM generate_series(1, 140000) g")
    pg.analyze()
    snap = pg.snapshot()

    narrow = IndexSpec("public.lines", ("order_id",))
    pk = next(i for i in snap.indexes_of("public.lines"))
    assert pk.bytes >= NARROWER_RATIO * estimate_bytes(narrow, snap)
    assert not _exists(narrow, snap)

    unique_prefix = IndexSpec("public.versions", ("id",))  # one row per id: no smaller than the key
    assert _exists(unique_prefix, snap)
    assert _exists(IndexSpec("public.lines", ("order_id", "line_no")), snap)  # the key itself: never
