"""The CLI end to end against a real server: snapshot, offline review, fix, --fail-on."""

import json

from tests.cli.test_cli_errors import run_cli


def _bad_schema(pg):
    pg.execute("CREATE TABLE parent (id int PRIMARY KEY)")
    pg.execute("CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent)")
    pg.execute("CREATE TABLE log_lines (line text)")


def test_snapshot_then_offline_review(pg, tmp_path):
    _bad_schema(pg)
    snap_file = tmp_path / "snap.json"
    result = run_cli("snapshot", pg.url, "-o", str(snap_file))
    assert result.returncode == 0, result.stderr
    assert json.loads(snap_file.read_text())["server"]["database"] == pg.name

    pg.execute("DROP TABLE log_lines")  # the offline review must not look at the server
    result = run_cli("review", str(snap_file), "--format", "json")
    assert result.returncode == 0, result.stderr
    review = json.loads(result.stdout)
    objects = {(f["code"], f["object"]) for f in review["findings"]}
    assert ("DW101", "public.log_lines") in objects
    assert review["database"] == pg.name


def test_fail_on_sets_exit_code(pg):
    _bad_schema(pg)
    failing = run_cli("review", pg.url, "--check", "DW101", "--format", "json", "--fail-on", "high")
    assert failing.returncode == 1, failing.stderr
    assert json.loads(failing.stdout)["summary"]["by_severity"]["high"] >= 1
    passing = run_cli("review", pg.url, "--check", "DW101", "--format", "json", "--fail-on", "critical")
    assert passing.returncode == 0, passing.stderr


def test_fix_writes_migration_with_down_part(pg, tmp_path):
    _bad_schema(pg)
    out = tmp_path / "migration.sql"
    result = run_cli("fix", "DW101", "--db", pg.url, "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    up, down = text.split("-- migrate:down")
    assert "ALTER TABLE public.log_lines ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY" in up
    assert "ALTER TABLE public.log_lines DROP COLUMN id" in down
    assert "lock ACCESS EXCLUSIVE" in up
    # fix never writes to the database
    assert pg.value("SELECT count(*) FROM information_schema.columns WHERE table_name = 'log_lines'") == 1


def test_checks_lists_registry_as_json():
    result = run_cli("checks", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert any(row["code"] == "DW101" for row in rows)
    assert all(set(row) >= {"code", "category", "severity", "title"} for row in rows)


def test_target_from_pg_environment_variables(pg):
    pg.execute("CREATE TABLE no_key (v int)")
    env = {
        "PGHOST": str(pg.cluster.socket_dir),
        "PGPORT": str(pg.cluster.port),
        "PGDATABASE": pg.name,
        "PGUSER": "postgres",
    }
    result = run_cli("review", "--check", "DW101", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert [f["object"] for f in json.loads(result.stdout)["findings"]] == ["public.no_key"]


def test_target_from_database_url_and_service_file(pg, tmp_path):
    pg.execute("CREATE TABLE no_key (v int)")
    result = run_cli("review", "--check", "DW101", "--format", "json", env={"DATABASE_URL": pg.url})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["database"] == pg.name

    service_file = tmp_path / "pg_service.conf"
    service_file.write_text(
        f"[reviewdb]\nhost={pg.cluster.socket_dir}\nport={pg.cluster.port}\ndbname={pg.name}\nuser=postgres\n"
    )
    result = run_cli(
        "review",
        "service=reviewdb",
        "--check",
        "DW101",
        "--format",
        "json",
        env={"PGSERVICEFILE": str(service_file)},
    )
    assert result.returncode == 0, result.stderr
    assert [f["object"] for f in json.loads(result.stdout)["findings"]] == ["public.no_key"]


def test_database_is_positional_everywhere_and_db_still_works(pg, tmp_path):
    _bad_schema(pg)
    out = tmp_path / "migration.sql"
    result = run_cli("fix", pg.url, "DW101", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY" in out.read_text()

    migrations = tmp_path / "migrations"
    migrations.mkdir()
    positional = run_cli("migrate", "status", pg.url, "--dir", str(migrations), "--format", "json")
    as_option = run_cli("migrate", "status", "--db", pg.url, "--dir", str(migrations), "--format", "json")
    assert positional.returncode == as_option.returncode == 0, positional.stderr + as_option.stderr
    assert json.loads(positional.stdout) == json.loads(as_option.stdout)

    access = run_cli("access", "postgres", pg.url, "--format", "json")
    assert access.returncode == 0, access.stderr
    assert json.loads(access.stdout)["role"] == "postgres"


def test_two_different_databases_is_a_usage_error():
    result = run_cli("migrate", "status", "one_db", "--db", "other_db")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "dbwright: usage error: Invalid value for DATABASE: two databases named, as DATABASE and with --db; "
        "name one"
    ]


def test_bad_values_are_one_line_before_any_connection():
    budget = run_cli("advise", "indexes", "no_such_db", "--budget", "banana")
    assert budget.returncode == 22
    assert budget.stderr.splitlines() == [
        "dbwright: error: cannot read budget 'banana'; use e.g. 500MB, 2GB or 10%"
    ]
    for args in (["review", "no_such_db", "--format", "nosuch"], ["checks", "--format", "sarif"]):
        result = run_cli(*args)
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
        assert "unknown format" in result.stderr and "Traceback" not in result.stderr
