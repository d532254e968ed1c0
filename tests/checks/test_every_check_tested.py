"""Every registered check has a bad-state test and a clean look-alike test in tests/checks/.

A test names the checks it covers with its leading codes (``test_dw501_…``, ``test_dwa003_dwa004_…``)
and says which side it is on by its ending: ``_flagged`` or ``_not_flagged``. A check whose clean
state needs a server restart (postmaster settings, data checksums) may have one
``_flagged_until_fixed`` test instead: it restarts once into the bad state and once into the fixed
one, which is its clean look-alike.
"""

import re
from pathlib import Path

from dbwright.checks.registry import all_checks

HERE = Path(__file__).parent
TEST_NAME = re.compile(r"^def (test_((?:dwa?\d{3}_)+)\w*)\(", re.M)
CODE = re.compile(r"dwa?\d{3}")


def _tests_by_code() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in HERE.glob("test_*.py"):
        for name, codes in TEST_NAME.findall(path.read_text()):
            for code in CODE.findall(codes):
                found.setdefault(code.upper(), []).append(name)
    return found


def _flagged(name: str) -> bool:
    return name.endswith("_flagged_until_fixed") or (
        name.endswith("_flagged") and not name.endswith("_not_flagged")
    )


def _not_flagged(name: str) -> bool:
    return name.endswith("_not_flagged") or name.endswith("_flagged_until_fixed")


def test_every_check_has_a_flagged_and_a_not_flagged_test():
    tests = _tests_by_code()
    missing = []
    for check in all_checks():
        names = tests.get(check.code, [])
        if not any(_not_flagged(n) for n in names):
            missing.append(f"{check.code}: no *_not_flagged test")
        if not any(_flagged(n) for n in names):
            missing.append(f"{check.code}: no *_flagged test")
    assert missing == []
    assert len(all_checks()) >= 90
