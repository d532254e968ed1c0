"""Review precision on real schemas nobody here wrote (issue 14): every kind of finding has a verdict,
and the findings in kinds a senior DBA calls wrong may only go down."""

from __future__ import annotations

import pytest

from dbwright.model.findings import Severity
from tests.realworld.corpus import CORPUS
from tests.realworld.reviews import SHARES, CorpusReviews
from tests.realworld.verdicts import judge, load

pytestmark = pytest.mark.slow

SCHEMAS = [schema.name for schema in CORPUS]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_schema_loads_and_is_reviewed(corpus: CorpusReviews, schema: str) -> None:
    review = corpus.review(schema)
    tables = [t for t in review.snapshot.tables if t.schema == "public"]
    assert len(tables) >= 50, f"{schema}: only {len(tables)} tables loaded"
    assert review.checks_run > 0


@pytest.mark.parametrize("schema", SCHEMAS)
def test_a_mature_schema_shows_no_critical_finding(corpus: CorpusReviews, schema: str) -> None:
    """Issue 14's calibration: these schemas run in production everywhere; nothing in them is an emergency."""
    critical = [
        f"{f.check.code} {f.finding.object}: {f.finding.message}"
        for f in corpus.review(schema).findings
        if f.severity is Severity.CRITICAL
    ]
    assert not critical, f"{schema}: critical findings on a mature schema:\n  " + "\n  ".join(critical)


@pytest.mark.parametrize("schema", SCHEMAS)
def test_every_finding_kind_has_a_verdict(corpus: CorpusReviews, schema: str) -> None:
    result = corpus.result(schema)
    judged = judge(result.review, load(schema), result.failed_fixes)
    assert not judged.unlabelled, (
        f"{len(judged.unlabelled)} finding(s) on {schema} match no kind in tests/realworld/verdicts/{schema}.toml; "
        "add a kind (code, and a `match` regex where one code mixes good and bad cases) labelled useful, "
        "debatable or wrong with a one-line reason:\n  " + "\n  ".join(judged.unlabelled[:40])
    )


@pytest.mark.parametrize("schema", SCHEMAS)
def test_findings_judged_wrong_only_go_down(corpus: CorpusReviews, schema: str) -> None:
    verdicts = load(schema)
    result = corpus.result(schema)
    judged = judge(result.review, verdicts, result.failed_fixes)
    wrong = judged.labels["wrong"]
    SHARES[schema] = (
        f"{schema}: {judged.useful_share:.0%} of {judged.total} "
        f"(useful {judged.labels['useful']}, debatable {judged.labels['debatable']}, wrong {wrong}); "
        f"{len(result.failed_fixes)} fix(es) fail on a copy"
        + (f"; kinds no finding took: {', '.join(judged.unused_kinds)}" if judged.unused_kinds else "")
    )
    wrong_kinds = {
        key: n
        for key, n in judged.counts.items()
        if any(k.key == key and k.verdict == "wrong" for k in verdicts.kinds)
    }
    assert wrong <= verdicts.wrong_max, (
        f"{schema}: {wrong} finding(s) in kinds labelled wrong, more than wrong_max = {verdicts.wrong_max}: {wrong_kinds}"
    )
    assert wrong == verdicts.wrong_max, (
        f"{schema}: precision improved, {wrong} finding(s) in wrong kinds now: lower wrong_max in "
        f"tests/realworld/verdicts/{schema}.toml from {verdicts.wrong_max} to {wrong}"
    )
