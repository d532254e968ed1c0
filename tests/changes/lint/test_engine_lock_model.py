"""The lint takes its lock model from an engine: PostgreSQL's by default, refused when an engine has none."""

from __future__ import annotations

import pytest

from dbwright.changes.lint import LintState, describe, lint, safe_rewrite
from dbwright.engines.postgres.engine import PostgresEngine
from dbwright.engines.registry import default_engine
from dbwright.errors import RefusedError


class NoLockModelEngine:
    """A minimal engine object that has no lock model."""

    name = "nolocks"

    def lock_model(self):
        return None


def test_the_default_lock_model_is_the_default_engine_s():
    assert LintState().lock_model is default_engine().lock_model()


def test_an_engine_given_supplies_the_lock_model():
    (info,) = describe("CREATE INDEX ON orders (customer_id);", engine=PostgresEngine())
    assert info.lock == "SHARE"


@pytest.mark.parametrize("run", [lint, describe, safe_rewrite])
def test_an_engine_without_a_lock_model_is_refused_in_one_line(run):
    with pytest.raises(RefusedError) as raised:
        run("CREATE INDEX ON orders (customer_id);", engine=NoLockModelEngine())
    assert raised.value.message == "the nolocks engine does not support a lock model: cannot lint for it"
