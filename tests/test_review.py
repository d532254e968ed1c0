"""Review scores: diminishing penalties, so many findings still rank against more."""

from dbwright.checks.registry import all_checks, finding
from dbwright.model.findings import Severity
from dbwright.review import Review, ReviewedFinding


def _review_with(*severities: Severity) -> Review:
    from dbwright.model import Server, Snapshot

    snap = Snapshot(server=Server(150000, "15", "db", "me", True), taken_at="now", dbwright_version="0")
    check = next(c for c in all_checks() if c.category == "design")
    review = Review(snap)
    review.findings = [
        ReviewedFinding(check, finding(f"t{i}", "x", severity=s)) for i, s in enumerate(severities)
    ]
    return review


def test_scores_fall_with_diminishing_returns():
    assert _review_with().scores()["design"] == 100
    assert _review_with(Severity.HIGH).scores()["design"] == 81
    assert _review_with(Severity.CRITICAL).scores()["design"] == 67
    many, more = _review_with(*[Severity.HIGH] * 10), _review_with(*[Severity.HIGH] * 20)
    assert 0 < more.scores()["design"] < many.scores()["design"] < 50
    assert _review_with(Severity.HIGH).scores()["security"] == 100
