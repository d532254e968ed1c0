"""An engine without what-if indexes: the advisor refuses in one line, before it connects."""

from __future__ import annotations

import pytest

from dbwright.advisors.indexes import advise_indexes
from dbwright.engines.base import Capabilities
from dbwright.errors import RefusedError


class ReviewOnlyEngine:
    """A minimal engine object (no server behind it) that offers none of the services."""

    name = "reviewonly"
    schemes = ("reviewonly",)
    environment = ()
    capabilities = Capabilities(review=True)
    driver_error = Exception

    def connect(self, target):
        raise AssertionError("the advisor must refuse before connecting")

    def what_if(self):
        return None

    def planner(self, conn):
        return None

    def explainer(self):
        return None

    def lock_model(self):
        return None


def test_advise_refuses_an_engine_without_what_if():
    with pytest.raises(RefusedError) as raised:
        advise_indexes("reviewonly://db/shop", query="SELECT 1", engine=ReviewOnlyEngine())
    assert raised.value.message == (
        "the reviewonly engine does not support what-if indexes: cannot advise indexes"
    )
    assert "\n" not in raised.value.message
