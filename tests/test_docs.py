"""The documented exit codes are the ones the code uses."""

import re
from pathlib import Path

from dbwright.errors import EXIT_CODES

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_exit_codes_documented():
    text = (DOCS / "exit-codes.md").read_text()
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", text, re.M)}
    assert documented == set(EXIT_CODES)
