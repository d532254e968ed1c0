"""Each corpus schema's database on the suite's cluster, built on first request; its review and the
result of applying its fixes to a copy, computed once per test module."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from dbwright import api
from dbwright.review import Review
from tests.pgcluster import Cluster
from tests.realworld.corpus import CORPUS, build
from tests.realworld.fixes import failing_fixes
from tests.realworld.verdicts import SCHEMA_CATEGORIES

#: One line per schema for the end-of-run summary: the share of findings judged useful or debatable.
SHARES: dict[str, str] = {}


@dataclass(frozen=True)
class CorpusResult:
    review: Review
    failed_fixes: dict[int, str]  # position in review.findings -> the fix's first error on a copy


class CorpusReviews:
    """Each corpus schema's database, built on first request; its review and fixes, run once."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._results: dict[str, CorpusResult] = {}
        self._built: list[str] = []

    def review(self, name: str) -> Review:
        return self.result(name).review

    def result(self, name: str) -> CorpusResult:
        if name not in self._results:
            schema = next(s for s in CORPUS if s.name == name)
            database = f"corpus_{name}"
            with psycopg.connect(self.cluster.url("postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{database}" TEMPLATE template0')
            self._built.append(database)
            build(schema, self.cluster.url(database))
            review = api.review(self.cluster.url(database), categories=SCHEMA_CATEGORIES)
            self._results[name] = CorpusResult(review, failing_fixes(self.cluster.url, database, review))
        return self._results[name]

    def drop(self) -> None:
        with psycopg.connect(self.cluster.url("postgres"), autocommit=True) as admin:
            for database in self._built:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
