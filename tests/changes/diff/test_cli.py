"""`dbwright diff` end to end: the file it writes is applied and rolled back by `dbwright migrate`."""

from __future__ import annotations

import json

import pytest

from dbwright.changes.diff import compare_snapshots, desired_snapshot
from tests.changes.diff.helpers import scratch_databases, snapshot
from tests.cli.test_cli_errors import run_cli

LIVE = (
    "CREATE TABLE users (id int PRIMARY KEY, mail text, fax text); INSERT INTO users VALUES (1, 'a@b', '1');"
)
DESIRED = """
CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, created_at timestamptz DEFAULT now());
CREATE INDEX users_email_idx ON users (email);
"""


def test_cli_text_summary_refuses_and_warns(pg, tmp_path):
    pg.execute(LIVE)
    pg.execute("ANALYZE users")
    schema = tmp_path / "schema.sql"
    schema.write_text(DESIRED)
    result = run_cli("diff", "--from", pg.url, "--to", str(schema))
    assert result.returncode == 0, result.stderr
    assert "REFUSED Drop column public.users.fax: dropping a column loses its values" in result.stdout
    assert "REFUSED Drop column public.users.mail: dropping a column loses its values" in result.stdout
    assert (
        "WARNING public.users.email is added NOT NULL without a default, but public.users has rows"
        in result.stdout
    )
    assert (
        "CREATE INDEX CONCURRENTLY users_email_idx ON public.users" in result.stdout
    )  # the migration follows


@pytest.mark.slow
def test_diff_writes_a_migration_that_migrate_applies_and_rolls_back(pg, tmp_path):
    pg.execute(LIVE)
    original = snapshot(pg.url)
    schema = tmp_path / "schema.sql"
    schema.write_text(DESIRED)
    out = tmp_path / "migrations" / "V2__to_schema.sql"
    out.parent.mkdir()  # -o names a file in an existing folder

    result = run_cli(
        "diff",
        "--from",
        pg.url,
        "--to",
        str(schema),
        "--rename-column",
        "public.users.mail=email",
        "--allow-destructive",
        "-o",
        str(out),
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["refused"] == [] and summary["destructive"] is True
    assert summary["renames"] == [{"kind": "column", "from": "public.users.mail", "to": "public.users.email"}]
    assert {(d["kind"], d["change"]) for d in summary["differences"]} >= {
        ("columns", "removed"),
        ("indexes", "added"),
    }
    assert out.read_text() == summary["migration"]

    applied = run_cli("migrate", "apply", "--db", pg.url, "--dir", str(out.parent))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    desired = desired_snapshot(schema, target=pg.url)
    assert compare_snapshots(snapshot(pg.url), desired) == []
    assert pg.value("SELECT email FROM users") == "a@b"  # renamed, not dropped and re-added

    rolled = run_cli("migrate", "rollback", "--db", pg.url, "--dir", str(out.parent))
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert compare_snapshots(snapshot(pg.url), original) == []
    assert scratch_databases(pg) == []


def test_cli_malformed_schema_is_one_line(pg, tmp_path):
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE t (id int PRIMARY KEY);\nCREATE TABEL oops (x int);\n")
    result = run_cli("diff", "--from", pg.url, "--to", str(schema))
    assert result.returncode == 16, result.stderr
    assert result.stderr.strip() == f'dbwright: error: {schema}:2: syntax error at or near "TABEL"'
    assert scratch_databases(pg) == []


def test_cli_strict_exits_25_on_what_it_cannot_generate(pg, tmp_path):
    pg.execute("CREATE TABLE base (id int)")
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE base (id int);\nCREATE TABLE child () INHERITS (base);\n")
    listed = run_cli("diff", "--from", pg.url, "--to", str(schema))
    assert listed.returncode == 0, listed.stderr
    assert "NOT HANDLED inheritance child public.child added" in listed.stdout
    strict = run_cli("diff", "--from", pg.url, "--to", str(schema), "--strict")
    assert strict.returncode == 25, strict.stderr
    assert strict.stderr.strip() == (
        "dbwright: error: 1 difference(s) the diff cannot generate (--strict): inheritance child public.child "
        "added: inheritance children and foreign tables are not generated"
    )
