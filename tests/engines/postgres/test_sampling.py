"""Block samples for the index size model: what they count, and a failure that leaves the transaction usable."""

from __future__ import annotations

import pytest

from dbwright.engines.postgres import sampling
from dbwright.engines.postgres.connect import open_session
from dbwright.errors import ServerError


def test_a_whole_table_sample_counts_values_per_block_and_key_occurrences(pg):
    pg.execute("CREATE TABLE t(a int, b int)")
    pg.execute("INSERT INTO t SELECT g / 10, g % 3 FROM generate_series(0, 99) g")  # one block
    with open_session(pg.url) as conn:
        assert sampling.distinct_per_block(conn, "public.t", "a", blocks=300, pages=1) == (1, 10)
        blocks, keys, single_block, occurrences = sampling.key_occurrences(
            conn, "public.t", ("a", "b"), blocks=300, pages=1
        )
        assert (blocks, keys, single_block, occurrences) == (1, 30, 30, 30)


def test_a_failed_sample_raises_server_error_and_the_open_transaction_goes_on(pg):
    pg.execute("CREATE TABLE t(a int)")
    with open_session(pg.url) as conn:
        conn.execute("BEGIN")
        with pytest.raises(ServerError, match="no_such_column"):
            sampling.distinct_per_block(conn, "public.t", "no_such_column", blocks=1, pages=1)
        assert conn.execute("SELECT 1").fetchone() == (1,)
        conn.execute("ROLLBACK")
