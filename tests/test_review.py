"""Review scores: diminishing penalties, so many findings still rank against more."""

from dbwright.checks.registry import all_checks, finding
from dbwright.model.findings import Severity
from dbwright.review import Review, ReviewedFinding


def _review_with(*severities: Severity) -> Review:
    from dbwright.model import Server, Snapshot

    snap = Snapshot(server=Server(150000, "15", "db", "me", True), taken_at="now", dbwright_version="0")
    check = next(c for c in all_checks() if c.category == "design")
    review = Review(snap)
    review.ran = [c for c in all_checks() if c.category in ("design", "security")]  # both areas checked
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


def _no_statements():
    from dbwright.model.snapshot import Skipped

    return _empty_snapshot(skipped=(Skipped("statements", "pg_stat_statements is not installed"),))


def test_an_area_none_of_whose_checks_ran_says_why_instead_of_a_score():
    from dbwright.review import run_review

    review = run_review(_no_statements(), codes=["DW401"])  # a workload check needing statements
    areas = review.areas()
    assert review.scores()["workload"] is None
    assert areas["workload"].label().startswith("not checked (")
    assert "statements" in areas["workload"].label()
    assert areas["design"].label() == "not checked (not selected)"
    data = review.to_dict()["summary"]
    assert data["scores"]["workload"] is None
    assert data["areas"]["workload"]["score"] is None and data["areas"]["workload"]["not_checked_because"]


def test_a_partly_checked_area_says_how_many_checks_did_not_run():
    from dbwright.review import run_review

    review = run_review(_no_statements(), categories=["workload"])
    workload = review.areas()["workload"]
    assert workload.checks_run and workload.checks_skipped  # DW401-403 need pg_stat_statements
    assert workload.partial
    # the checks that ran found nothing: no clean 100 when the main checks could not run (issue 16)
    assert workload.score is None and review.to_dict()["summary"]["scores"]["workload"] is None
    total = workload.checks_run + workload.checks_skipped
    assert workload.label().startswith(f"partly checked: {workload.checks_run} of {total} checks ran")
    assert f"{workload.checks_skipped} not run (statements" in workload.label()


def test_unknown_check_code_or_area_is_an_invalid_argument():
    import pytest

    from dbwright.errors import InvalidArgumentError
    from dbwright.review import run_review

    with pytest.raises(InvalidArgumentError, match="unknown check code DW999"):
        run_review(_empty_snapshot(), codes=["DW999"])
    with pytest.raises(InvalidArgumentError, match="unknown category 'speed'"):
        run_review(_empty_snapshot(), categories=["speed"])


def test_listing_at_or_above_keeps_scores_and_counts():
    review = _review_with(Severity.HIGH, Severity.LOW, Severity.LOW)
    listed = review.listing_at_or_above(Severity.HIGH)
    assert [f.severity for f in listed.findings] == [Severity.HIGH]
    assert listed.not_listed == 2
    assert listed.scores() == review.scores()
    assert listed.to_dict()["summary"]["findings"] == 3
