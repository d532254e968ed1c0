"""The corpus fixture and the end-of-run summary of the verdicts.

Building fetches each package on first use into the corpus cache (tests/realworld/corpus.py),
so the first run needs PyPI and Debian's apt repository; reruns are offline.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pgcluster import Cluster
from tests.realworld.reviews import SHARES, CorpusReviews


@pytest.fixture(scope="module")
def corpus(cluster: Cluster) -> Iterator[CorpusReviews]:
    """Module-scoped: the corpus databases are dropped before later tests look at the whole cluster."""
    reviews = CorpusReviews(cluster)
    try:
        yield reviews
    finally:
        reviews.drop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SHARES:
        terminalreporter.section("real-schema corpus: findings judged useful or debatable")
        for line in SHARES.values():
            terminalreporter.write_line(line)
