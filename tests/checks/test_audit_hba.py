"""pg_hba.conf audit checks (checks/audit_hba.py). pg_hba_file_rules reads the file on disk, so each case writes a bad
file, asserts the finding, performs the documented manual edit, and asserts the finding is gone.
The server is never reloaded with these files; the original file is restored after each case.
"""

from __future__ import annotations

import re

import pytest

from dbwright.model.findings import Severity
from tests.checks.audit_helpers import audit, hba_file

SAFE_LOCAL = "local all all peer\n"


def documented_edit(text: str, manual_step: str) -> str:
    """Perform "line N: replace `old` with `new`" from a fix's manual step on the file's text."""
    match = re.search(r"line (\d+): replace `([^`]+)` with `([^`]+)`", manual_step)
    assert match, manual_step
    lines = text.splitlines()
    number, old, new = int(match[1]), match[2], match[3]
    assert " ".join(lines[number - 1].split()) == old
    lines[number - 1] = new
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("code", "bad_line"),
    [
        ("DWA020", "local all all trust"),
        ("DWA021", "hostssl all app 10.1.2.0/24 md5"),
        ("DWA022", "hostssl all app 10.1.2.0/24 password"),
        ("DWA025", "host appdb app 10.1.2.0/24 scram-sha-256"),
    ],
)
def test_dwa021_dwa025_hba_line_flagged(pg, code, bad_line):
    bad = f"{bad_line}\nhost all all 127.0.0.1/32 scram-sha-256\n"
    with hba_file(pg, bad):
        findings = audit(pg, code).by_code(code)
        assert [f.object for f in findings] == ["pg_hba.conf:1"]
        assert findings[0].fix.forward_sql == "SELECT pg_reload_conf();"
        fixed = documented_edit(bad, findings[0].fix.manual_steps[0])
    with hba_file(pg, fixed):
        assert audit(pg, code).by_code(code) == []


def test_dwa023_wide_ranges_flagged(pg):
    with hba_file(
        pg,
        SAFE_LOCAL + "hostssl app app 0.0.0.0/0 scram-sha-256\n"
        "hostssl app app ::/0 scram-sha-256\n"
        "hostssl app app 10.0.0.0/8 scram-sha-256\n"
        "hostssl app app 10.1.2.0/24 scram-sha-256\n",
    ):
        findings = {f.object: f for f in audit(pg, "DWA023").by_code("DWA023")}
    assert set(findings) == {"pg_hba.conf:2", "pg_hba.conf:3", "pg_hba.conf:4"}
    assert findings["pg_hba.conf:2"].severity is None  # the check's own: high
    assert findings["pg_hba.conf:3"].evidence["address"] == "::/0"
    assert findings["pg_hba.conf:4"].severity == Severity.MEDIUM
    # the documented fix: the application servers' subnet instead
    with hba_file(pg, SAFE_LOCAL + "hostssl app app 10.1.2.0/24 scram-sha-256\n"):
        assert audit(pg, "DWA023").by_code("DWA023") == []


def test_dwa024_all_databases_all_users_flagged(pg):
    with hba_file(
        pg,
        SAFE_LOCAL + "hostssl all all 10.1.2.0/24 scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n",
    ):
        assert [f.object for f in audit(pg, "DWA024").by_code("DWA024")] == ["pg_hba.conf:2"]
    with hba_file(
        pg,
        SAFE_LOCAL + "hostssl appdb +app_users 10.1.2.0/24 scram-sha-256\n"
        "host all all 127.0.0.1/32 scram-sha-256\n",
    ):
        assert audit(pg, "DWA024").by_code("DWA024") == []


def test_dwa026_remote_superuser_login_flagged(pg):
    bad = SAFE_LOCAL + "hostssl all all 10.1.2.0/24 scram-sha-256\n"
    with hba_file(pg, bad):
        findings = audit(pg, "DWA026").by_code("DWA026")
    assert [f.object for f in findings] == ["pg_hba.conf:2"]
    assert findings[0].evidence["superusers"] == ["postgres"]
    step = findings[0].fix.manual_steps[0]
    assert "host all postgres 0.0.0.0/0 reject" in step
    # the documented edit: reject lines for the superuser above the line
    fixed = (
        SAFE_LOCAL
        + "host all postgres 0.0.0.0/0 reject\nhost all postgres ::/0 reject\n"
        + "hostssl all all 10.1.2.0/24 scram-sha-256\n"
    )
    with hba_file(pg, fixed):
        assert audit(pg, "DWA026").by_code("DWA026") == []


def test_dwa021_dwa023_dwa024_dwa025_dwa026_loopback_and_local_scram_lines_not_flagged(pg):
    with hba_file(
        pg,
        "local all all peer\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n",
    ):
        result = audit(pg, "DWA021", "DWA023", "DWA024", "DWA025", "DWA026")
    assert result.findings == []
    assert len(result.passed) == 5
