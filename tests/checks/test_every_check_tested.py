"""Every registered check has a bad-state test and a clean look-alike test in tests/checks/."""

import re
from pathlib import Path

from dbwright.checks.registry import all_checks

HERE = Path(__file__).parent
TEST_NAME = re.compile(r"^def (test_(dw\d{3})_\w+)\(", re.M)


def _tests_by_code() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in HERE.glob("test_*.py"):
        for name, code in TEST_NAME.findall(path.read_text()):
            found.setdefault(code.upper(), []).append(name)
    return found


def test_every_check_has_a_flagged_and_a_not_flagged_test():
    tests = _tests_by_code()
    missing = []
    for check in all_checks():
        names = tests.get(check.code, [])
        if not any(n.endswith("_not_flagged") for n in names):
            missing.append(f"{check.code}: no *_not_flagged test")
        if not any(n.endswith("_flagged") and not n.endswith("_not_flagged") for n in names):
            missing.append(f"{check.code}: no *_flagged test")
    assert missing == []
    assert len(all_checks()) >= 50
