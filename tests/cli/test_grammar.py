"""One CLI grammar (issue 16 §2): the same DATABASE, -o/--output, -f/--format and --fail-on on every
command, old spellings as hidden aliases, and the root's --version, -h, --quiet, --verbose.

Every test runs the real `dbwright` in a subprocess, against the real test cluster where a database
is needed."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dbwright import __version__
from tests.cli.test_cli_errors import assert_clean_failure, run_cli
from tests.pgcluster import APP_PASSWORD


def _help(*command: str) -> str:
    result = run_cli(*command, "--help", env={"COLUMNS": "240"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def _options(help_text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", help_text))


def _schema_with_a_high_and_a_low_finding(pg) -> None:
    pg.execute("CREATE TABLE docs (body json)")  # DW101 (high, no primary key) and DW106 (low, json)


# --- the root --------------------------------------------------------------------------------------


def test_version_short_help_and_completion():
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"dbwright {__version__}"
    for command in ([], ["review"], ["migrate", "plan"], ["advise", "indexes"]):
        short = run_cli(*command, "-h", env={"COLUMNS": "240"})
        assert short.returncode == 0, short.stderr
        assert "Usage:" in short.stdout
        assert short.stdout == run_cli(*command, "--help", env={"COLUMNS": "240"}).stdout
    root = _options(_help())
    assert {"--version", "--quiet", "--verbose", "--install-completion", "--show-completion"} <= root

    script = Path(sys.executable).parent / "dbwright"  # completion goes by the console script's name
    env = {
        **os.environ,
        "_DBWRIGHT_COMPLETE": "complete_bash",
        "COMP_WORDS": "dbwright review --min",
        "COMP_CWORD": "2",
    }
    completed = subprocess.run([str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert {"--min-severity", "--min-observed"} <= set(completed.stdout.split())


def test_quiet_silences_progress_and_verbose_says_more(pg, tmp_path):
    snap = tmp_path / "snap.json"
    loud = run_cli("snapshot", pg.url, "-o", str(snap))
    assert loud.returncode == 0 and f"wrote {snap}" in loud.stderr
    quiet = run_cli("--quiet", "snapshot", pg.url, "-o", str(snap))
    assert quiet.returncode == 0 and quiet.stderr == ""
    verbose = run_cli("--verbose", "review", str(snap), "-f", "json")
    assert verbose.returncode == 0 and f"offline review of the snapshot file {snap}" in verbose.stderr
    named = run_cli("-v", "review", pg.cluster.url(pg.name, user="nobody", password=APP_PASSWORD, tcp=True))
    assert "· target (url): postgresql://nobody:****@127.0.0.1" in named.stderr  # said, password masked
    assert APP_PASSWORD not in named.stderr
    both = run_cli("-q", "-v", "review", str(snap))
    assert both.returncode == 2 and "contradict" in both.stderr


# --- the same spellings everywhere -------------------------------------------------------------------

#: Every command that writes a result: -o/--output.
WITH_OUTPUT = [
    ["review"],
    ["snapshot"],
    ["fix"],
    ["audit"],
    ["lint"],
    ["advise", "indexes"],
    ["explain"],
    ["design"],
    ["pii"],
    ["access"],
    ["diff"],
    ["docs"],
    ["demo"],
    ["migrate", "plan"],
    ["roles", "plan"],
    ["audit-logging", "plan"],
]
#: Every command with more than one way to show its result: -f/--format.
WITH_FORMAT = [
    ["review"],
    ["audit"],
    ["lint"],
    ["advise", "indexes"],
    ["explain"],
    ["design"],
    ["pii"],
    ["access"],
    ["diff"],
    ["docs"],
    ["checks"],
    ["backfill"],
    ["roles", "plan"],
    ["audit-logging", "plan"],
    *[["migrate", sub] for sub in ("status", "plan", "apply", "rollback", "verify", "baseline")],
]
#: Every command that lists findings: --fail-on (and --min-severity where it lists them).
WITH_FINDINGS = [["review"], ["audit"], ["lint"], ["migrate", "plan"]]
#: Every command that takes a live database: DATABASE positional, --db (and diff's --from) hidden.
WITH_DATABASE = [
    ["review"],
    ["snapshot"],
    ["fix"],
    ["audit"],
    ["advise", "indexes"],
    ["explain"],
    ["design"],
    ["pii"],
    ["access"],
    ["diff"],
    ["docs"],
    ["mcp"],
    ["backfill"],
    ["roles", "plan"],
    ["audit-logging", "plan"],
    *[["migrate", sub] for sub in ("status", "plan", "apply", "rollback", "verify", "baseline")],
]


def test_every_command_spells_its_options_the_same_way():
    for command in WITH_OUTPUT:
        assert {"-o", "--output"} <= _options(_help(*command)), command
    for command in WITH_FORMAT:
        assert {"-f", "--format"} <= _options(_help(*command)), command
    for command in WITH_FINDINGS:
        assert "--fail-on" in _options(_help(*command)), command
    for command in WITH_FINDINGS:
        assert "--min-severity" in _options(_help(*command)), command
    for command in WITH_DATABASE:
        text = _help(*command)
        assert "DATABASE" in text, command
        assert not {"--db", "--out", "--from"} & _options(text), command  # old spellings: hidden


def test_old_spellings_still_work_as_hidden_aliases(pg, tmp_path):
    pg.execute("CREATE TABLE log_lines (line text)")
    old = tmp_path / "old.sql"
    new = tmp_path / "new.sql"
    assert run_cli("fix", "DW101", "--db", pg.url, "--out", str(old)).returncode == 0
    assert run_cli("fix", pg.url, "DW101", "-o", str(new)).returncode == 0
    assert old.read_text() == new.read_text() and "ADD COLUMN id bigint" in new.read_text()

    for args in (["roles", "plan", "--db", pg.url, "--out"], ["roles", "plan", pg.url, "-o"]):
        target = tmp_path / f"roles-{len(args)}.sql"
        result = run_cli(*args, str(target))
        assert result.returncode == 0, result.stderr
        assert "-- migrate:up" in target.read_text()

    via_db = run_cli("review", "--db", pg.url, "--check", "DW101", "-f", "json")
    assert via_db.returncode == 0, via_db.stderr
    assert [f["object"] for f in json.loads(via_db.stdout)["findings"]] == ["public.log_lines"]

    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE log_lines (line text);\nCREATE TABLE extra (id int PRIMARY KEY);\n")
    via_from = run_cli("diff", "--from", pg.url, "--to", str(schema), "-f", "json")
    positional = run_cli("diff", pg.url, "--to", str(schema), "-f", "json")
    assert via_from.returncode == positional.returncode == 0, via_from.stderr + positional.stderr
    assert json.loads(via_from.stdout)["migration"] == json.loads(positional.stdout)["migration"]

    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "V1__add.sql").write_text(  # a plain CREATE INDEX: the lint finds it
        "-- migrate:up\nCREATE INDEX log_lines_line_idx ON log_lines (line);\n"
        "-- migrate:down\nDROP INDEX log_lines_line_idx;\n"
    )
    plan_file = tmp_path / "plan.txt"
    plan = run_cli("migrate", "plan", pg.url, "--dir", str(migrations), "-o", str(plan_file))
    assert plan.returncode == 0, plan.stderr
    assert "V1__add.sql" in plan_file.read_text() and plan.stdout == ""
    quiet_plan = run_cli("migrate", "plan", pg.url, "--dir", str(migrations), "--min-severity", "critical")
    assert quiet_plan.returncode == 0 and "lint:" not in quiet_plan.stdout
    gate = run_cli("migrate", "plan", pg.url, "--dir", str(migrations), "--fail-on", "info")
    assert gate.returncode == 1 and "lint:" in gate.stdout
    safe = tmp_path / "safe.sql"
    old_safe = run_cli(
        "migrate", "plan", "--db", pg.url, "--dir", str(migrations), "--safe", "--out", str(safe)
    )
    assert old_safe.returncode == 0, old_safe.stderr
    assert "-- migrate:down" in safe.read_text()


def test_two_output_files_is_a_usage_error(pg, tmp_path):
    result = run_cli("fix", pg.url, "DW101", "-o", str(tmp_path / "a.sql"), "--out", str(tmp_path / "b.sql"))
    assert result.returncode == 2 and "two output files named" in result.stderr


def test_explain_f_is_format_and_the_file_is_file(pg, tmp_path):
    pg.execute("CREATE TABLE t (id int PRIMARY KEY)")
    as_json = run_cli("explain", "SELECT * FROM t WHERE id = 1", pg.url, "-f", "json", "--no-suggest")
    assert as_json.returncode == 0, as_json.stderr
    assert "plan" in json.loads(as_json.stdout)
    query = tmp_path / "q.sql"
    query.write_text("SELECT * FROM t WHERE id = 1")
    from_file = run_cli("explain", "--file", str(query), pg.url, "-f", "json", "--no-suggest")
    assert from_file.returncode == 0, from_file.stderr
    assert json.loads(from_file.stdout)["plan"]["Plan"] == json.loads(as_json.stdout)["plan"]["Plan"]
    old = run_cli("explain", "-f", str(query), pg.url)
    assert old.returncode == 2 and len(old.stderr.splitlines()) == 1
    assert "-f is --format now" in old.stderr and f"--file {query}" in old.stderr


def test_access_takes_role_then_database(pg):
    pg.role("reader", "NOLOGIN")
    pg.execute("CREATE TABLE t (id int PRIMARY KEY)")
    pg.execute("GRANT SELECT ON t TO reader")
    result = run_cli("access", "reader", pg.name, "-f", "json", env=_socket_env(pg))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["role"] == "reader"


def _socket_env(pg) -> dict[str, str]:
    """A bare database name is resolved with the PG* variables: point them at the test cluster."""
    return {"PGHOST": str(pg.cluster.socket_dir), "PGPORT": str(pg.cluster.port), "PGUSER": "postgres"}


# --- plain text: NO_COLOR and a non-terminal ------------------------------------------------------


def _run_in_terminal(*args: str, env: dict[str, str]) -> str:
    """Run dbwright with its stdout and stderr on a pseudo-terminal; everything it wrote there."""
    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    full_env.update({"TERM": "xterm-256color", "COLUMNS": "120", **env})
    process = subprocess.Popen(
        [sys.executable, "-m", "dbwright", *args], stdout=slave, stderr=slave, env=full_env, close_fds=True
    )
    os.close(slave)
    chunks, deadline = [], time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(master)
    return b"".join(chunks).decode(errors="replace")


def test_no_color_and_a_non_terminal_give_plain_text(pg, tmp_path):
    _schema_with_a_high_and_a_low_finding(pg)
    snap = tmp_path / "snap.json"
    assert run_cli("snapshot", pg.url, "-o", str(snap)).returncode == 0
    styled = _run_in_terminal("review", str(snap), env={})
    assert "\x1b[" in styled  # the control: a terminal does get styles
    for args in (["review", str(snap)], ["checks"], ["review", "-h"]):
        plain = _run_in_terminal(*args, env={"NO_COLOR": "1"})
        assert "DW" in plain or "Usage" in plain
        assert "\x1b" not in plain, args  # no colour, no bold, no cursor control
    piped = run_cli("review", str(snap))
    assert piped.returncode == 0 and "DW101" in piped.stdout
    assert "\x1b" not in piped.stdout + piped.stderr


# --- unknown names ----------------------------------------------------------------------------------


def test_unknown_check_codes_and_areas_are_invalid_arguments(pg, tmp_path):
    pg.execute("CREATE TABLE t (id int PRIMARY KEY)")
    snap = tmp_path / "snap.json"
    assert run_cli("snapshot", pg.url, "-o", str(snap)).returncode == 0
    assert_clean_failure(run_cli("review", str(snap), "--check", "DW999"), 22, "unknown check code DW999")
    assert_clean_failure(run_cli("review", pg.url, "--check", "DW101", "--check", "dw998"), 22, "dw998")
    assert_clean_failure(run_cli("review", str(snap), "-c", "speed"), 22, "unknown category 'speed'")
    assert_clean_failure(run_cli("audit", str(snap), "--check", "DWA999"), 22, "unknown check code DWA999")
    assert_clean_failure(run_cli("audit", str(snap), "--check", "DW101"), 22, "not part of the audit")
    assert_clean_failure(run_cli("fix", str(snap), "DW999"), 22, "unknown check code DW999")
    known = run_cli("review", str(snap), "--check", "dw101", "-f", "json")  # any case, as before
    assert known.returncode == 0 and json.loads(known.stdout)["summary"]["checks_run"] == 1


# --- skipped areas ------------------------------------------------------------------------------------


def test_an_area_nothing_checked_says_not_checked_in_every_format(pg, tmp_path):
    """The test database has no pg_stat_statements extension: DW401 cannot run, so the workload area
    was not checked, and no format may call it 100/100."""
    pg.execute("CREATE TABLE t (id int PRIMARY KEY)")
    text = run_cli("review", pg.url, "--check", "DW401")
    assert text.returncode == 0, text.stderr
    workload = " ".join(x for x in text.stdout.splitlines() if x.strip().startswith("workload"))
    assert "workload: not checked (" in workload and "pg_stat_statements" in workload
    assert "/100" not in workload
    assert "not checked (not selected): design, integrity, indexes, maintenance, security" in text.stdout
    assert not [x for x in text.stdout.splitlines() if x.strip().startswith("design")]  # no bar of its own

    data = json.loads(run_cli("review", pg.url, "--check", "DW401", "-f", "json").stdout)
    assert data["summary"]["scores"]["workload"] is None
    assert "pg_stat_statements" in data["summary"]["areas"]["workload"]["not_checked_because"]

    markdown = run_cli("review", pg.url, "--check", "DW401", "-f", "markdown").stdout
    assert re.search(r"\| workload \| not checked \(.*pg_stat_statements", markdown)
    html = run_cli("review", pg.url, "--check", "DW401", "-f", "html").stdout
    workload_section = html.split('id="area-workload"', 1)[1].split("</section>", 1)[0]
    assert '<span class="score unchecked">not checked (' in workload_section
    assert "pg_stat_statements" in workload_section and "/100" not in workload_section

    whole = run_cli("review", pg.url)  # a full review: workload partly checked, and says so
    lines = " ".join(x for x in whole.stdout.splitlines() if x.strip().startswith("workload"))
    assert "100/100" not in lines, lines  # never a clean 100 while its main checks could not run
    scored = re.search(r"\d+/100\*", lines) and re.search(
        r"workload: \*\d+ of \d+ checks not run \(.*pg_stat_statements", lines
    )
    clean = re.search(
        r"workload: partly checked: \d+ of \d+ checks ran and found nothing; \d+ not run", lines
    )
    assert scored or clean, lines


# --- --min-severity ------------------------------------------------------------------------------------


def test_min_severity_filters_the_listing_in_text_and_html(pg, tmp_path):
    _schema_with_a_high_and_a_low_finding(pg)
    everything = run_cli("review", pg.url, "-c", "design")
    assert "DW101" in everything.stdout and "DW106" in everything.stdout
    high = run_cli("review", pg.url, "-c", "design", "--min-severity", "high")
    assert high.returncode == 0, high.stderr
    assert "DW101" in high.stdout and "DW106" not in high.stdout
    assert "below it not listed" in high.stdout
    page = tmp_path / "review.html"
    assert (
        run_cli(
            "review", pg.url, "-c", "design", "-f", "html", "--min-severity", "high", "-o", str(page)
        ).returncode
        == 0
    )
    html = page.read_text()
    assert "DW101" in html and "DW106 " not in html and "below it not listed" in html
    # --fail-on still sees what the listing leaves out
    gate = run_cli("review", pg.url, "-c", "design", "--min-severity", "critical", "--fail-on", "low")
    assert gate.returncode == 1
    audit = run_cli("audit", pg.url, "--no-access", "--min-severity", "critical")
    assert audit.returncode == 0 and "below it not listed" in audit.stdout
    assert_clean_failure(run_cli("review", pg.url, "--min-severity", "loud"), 22, "loud")

    migration = tmp_path / "m.sql"
    migration.write_text("CREATE INDEX docs_idx ON docs ((body::text));\n")
    lint_all = run_cli("lint", str(migration), "-f", "json")
    lint_high = run_cli("lint", str(migration), "-f", "json", "--min-severity", "critical")
    assert json.loads(lint_all.stdout)["findings"]
    assert all(f["severity"] == "critical" for f in json.loads(lint_high.stdout)["findings"])


# --- -o into a missing folder -------------------------------------------------------------------------


def test_output_into_a_missing_folder_is_one_line_exit_23(pg, tmp_path):
    pg.execute("CREATE TABLE t (id int)")
    missing = tmp_path / "no" / "such" / "folder"
    migration = tmp_path / "m.sql"
    migration.write_text("ALTER TABLE t ADD COLUMN n int;\n")
    for args in (
        ["review", pg.url, "-f", "html", "-o", str(missing / "r.html")],
        ["snapshot", pg.url, "-o", str(missing / "s.json")],
        ["fix", pg.url, "DW101", "-o", str(missing / "fix.sql")],
        ["lint", str(migration), "-o", str(missing / "lint.txt")],
        ["roles", "plan", pg.url, "-o", str(missing / "roles.sql")],
        ["docs", pg.url, "-o", str(missing / "site")],
    ):
        assert_clean_failure(run_cli(*args), 23, "does not exist", str(missing))


# --- a malformed snapshot -----------------------------------------------------------------------------


def test_malformed_snapshot_is_exit_18_with_the_field_named(pg, tmp_path):
    pg.execute("CREATE TABLE t (id int PRIMARY KEY)")
    snap = tmp_path / "snap.json"
    assert run_cli("snapshot", pg.url, "-o", str(snap)).returncode == 0
    good = json.loads(snap.read_text())

    wrong_type = json.loads(snap.read_text())
    wrong_type["tables"][0]["row_estimate"] = "many"
    bad = tmp_path / "wrong_type.json"
    bad.write_text(json.dumps(wrong_type))
    assert_clean_failure(run_cli("review", str(bad)), 18, "tables[0].row_estimate", "expected a number")

    not_a_list = dict(good, tables=7)
    bad.write_text(json.dumps(not_a_list))
    assert_clean_failure(run_cli("review", str(bad)), 18, "tables: expected a list, found a number")

    bad.write_text("[1, 2, 3]")
    assert_clean_failure(run_cli("audit", str(bad)), 18, "expected a JSON object, found a list")

    review = run_cli("review", str(snap), "-f", "json").stdout  # JSON, but a review, not a snapshot
    bad.write_text(review)
    assert_clean_failure(run_cli("review", str(bad)), 18, "not a dbwright snapshot", "missing field 'server'")
    for result in (run_cli("review", str(bad)), run_cli("docs", str(bad), "-o", str(tmp_path / "site"))):
        assert "object is not" not in result.stderr and "Error" not in result.stderr


# --- migrate rollback that leaves drift -----------------------------------------------------------------


def test_rollback_that_leaves_the_schema_differing_exits_non_zero(pg, tmp_path):
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "V1__orders.sql").write_text(
        "-- migrate:up\nCREATE TABLE orders (id int PRIMARY KEY);\n-- migrate:down\nDROP TABLE orders;\n"
    )
    (migrations / "V2__note.sql").write_text(  # its down part forgets the column
        "-- migrate:up\nALTER TABLE orders ADD COLUMN note text;\n-- migrate:down\nSELECT 1;\n"
    )
    applied = run_cli("migrate", "apply", pg.url, "--dir", str(migrations))
    assert applied.returncode == 0, applied.stderr
    rolled = run_cli("migrate", "rollback", pg.url, "--dir", str(migrations))
    assert rolled.returncode == 1, rolled.stdout + rolled.stderr
    assert "does not match" in rolled.stdout and "note" in rolled.stdout
    as_json = run_cli("migrate", "rollback", pg.url, "--dir", str(migrations), "--to", "0", "-f", "json")
    assert as_json.returncode == 0, as_json.stderr  # V1's down part restores the empty schema


# --- dbwright mcp with a wrong password -----------------------------------------------------------------


def test_mcp_with_a_wrong_password_fails_at_start_with_exit_12(pg):
    pg.role("mcp_user", f"LOGIN PASSWORD '{APP_PASSWORD}'")
    url = pg.cluster.url(pg.name, user="mcp_user", password="wrong-password", tcp=True)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "dbwright", "mcp", url],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert time.monotonic() - started < 30
    assert_clean_failure(result, 12, "authentication failed", "mcp_user")


# --- no target given ------------------------------------------------------------------------------------

NO_TARGET = {"DATABASE_URL": "", "PGHOST": "", "PGDATABASE": "", "PGSERVICE": "", "PGPORT": "", "PGUSER": ""}


@pytest.mark.parametrize(
    "args",
    [
        ["review"],
        ["advise", "indexes"],
        ["design"],
        ["access", "postgres"],
        ["audit"],
        ["explain", "SELECT 1"],
    ],
)
def test_no_target_in_ci_refuses_the_demo(args):
    result = run_cli(*args, env={**NO_TARGET, "CI": "true"})
    assert_clean_failure(result, 22, "no database named and CI is set", "embedded demo")


def test_no_target_with_fail_on_refuses_the_demo():
    env = {**NO_TARGET, "CI": ""}
    assert_clean_failure(
        run_cli("review", "--fail-on", "high", env=env), 22, "no database named and --fail-on"
    )
    assert_clean_failure(run_cli("audit", "--fail-on", "high", env=env), 22, "--fail-on is given")
