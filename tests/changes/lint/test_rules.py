"""Every lint rule fails on its failing SQL and passes on its look-alike (cases live with the rule)."""

from __future__ import annotations

import pytest

from dbwright.changes.lint import LintState, all_rules, lint
from dbwright.changes.lint.rules import Case, Rule

RULES = all_rules()


def _run(case: Case) -> list:
    state = LintState(server_version=case.version)
    for index, before in enumerate(case.before):
        lint(before, server_version=case.version, filename=f"{index:03}_before.sql", state=state)
    return lint(case.sql, server_version=case.version, filename="999_case.sql", state=state)


def _params(kind: str):
    return [
        pytest.param(rule, case, id=f"{rule.code}-{i}")
        for rule in RULES
        for i, case in enumerate(getattr(rule, kind))
    ]


@pytest.mark.parametrize(("rule", "case"), _params("fails"))
def test_rule_fires_on_failing_sql(rule: Rule, case: Case):
    findings = [f for f in _run(case) if f.code == rule.code]
    assert findings, f"{rule.code} did not fire on {case.sql!r}"
    for finding in findings:
        assert finding.message and finding.lock and finding.title == rule.title
        if rule.lock_related:
            assert finding.lock not in ("", None)


@pytest.mark.parametrize(("rule", "case"), _params("passes"))
def test_rule_quiet_on_passing_sql(rule: Rule, case: Case):
    assert rule.code not in {f.code for f in _run(case)}, f"{rule.code} fired on {case.sql!r}"


def test_at_least_thirty_rules_each_with_both_cases_and_docs():
    assert len(RULES) >= 30
    for rule in RULES:
        assert rule.fails and rule.passes, rule.code
        assert len(rule.doc.split()) > 20, rule.code
        assert rule.code.startswith("DW7") and len(rule.code) == 5


def test_lock_rules_name_a_lock_and_give_a_safe_rewrite():
    for rule in RULES:
        if rule.code in ("DW739", "DW743"):  # reports of what lint did not judge: nothing to rewrite
            continue
        for case in rule.fails:
            for finding in (f for f in _run(case) if f.code == rule.code):
                assert finding.safe_rewrite, rule.code
                if rule.lock_related:
                    assert finding.lock in (
                        "none",
                        "ACCESS SHARE",
                        "ROW SHARE",
                        "ROW EXCLUSIVE",
                        "SHARE UPDATE EXCLUSIVE",
                        "SHARE",
                        "SHARE ROW EXCLUSIVE",
                        "EXCLUSIVE",
                        "ACCESS EXCLUSIVE",
                    ), (rule.code, finding.lock)
