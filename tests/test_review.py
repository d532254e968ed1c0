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


def _empty_snapshot(**kwargs):
    from dbwright.model import Server, Snapshot

    return Snapshot(
        server=Server(150000, "15", "db", "me", True), taken_at="now", dbwright_version="0", **kwargs
    )


def test_compliance_and_integrity_are_areas_of_the_review():
    assert set(_review_with().scores()) == {
        "design",
        "integrity",
        "indexes",
        "maintenance",
        "workload",
        "security",
        "compliance",
        "configuration",
    }


def test_review_runs_the_audit_checks_and_says_what_a_skipped_one_needs():
    from dbwright.review import run_review

    review = run_review(_empty_snapshot(), categories=["security", "compliance"])
    ran_or_skipped = {c.code for c in review.ran} | {s.check.code for s in review.skipped}
    assert {"DW501", "DWA003", "DWA044"} <= ran_or_skipped
    reasons = {s.check.code: " ".join(s.reasons) for s in review.skipped}
    # no settings in this snapshot: a check that reads one is skipped with the privilege it needs
    assert "setting data_checksums is not visible to me: needs pg_read_all_settings" in reasons["DWA044"]
    assert "older dbwright" in reasons["DWA040"]  # a derived condition: no audit sections


def test_an_alias_selects_its_check_once():
    from dbwright.review import run_review

    review = run_review(_empty_snapshot(), codes=["dwa001", "DW501"])
    assert [c.code for c in review.ran] == ["DW501"]


def test_checks_apply_to_their_engines_only():
    from dbwright.review import run_review

    review = run_review(_empty_snapshot(engine="other"))
    assert review.checks_run == 0 and review.skipped == [] and review.findings == []
