"""`dbwright config show`, and the configuration file as every command's defaults: a flag the user types
wins, then the environment, then the file, then dbwright's own default."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dbwright.cli import app
from dbwright.cli.config import OPTION_DEFAULTS, option_name
from tests.cli.test_cli_errors import assert_clean_failure

SERVER_VARIABLES = (
    "DATABASE_URL",
    "PGHOST",
    "PGDATABASE",
    "PGSERVICE",
    "PGPORT",
    "PGUSER",
    "DBWRIGHT_CONFIG",
)
SHOP = """
CREATE TABLE customers (id int PRIMARY KEY);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers);
CREATE TABLE payments (id int PRIMARY KEY, order_id int REFERENCES orders);
"""


def dbwright(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in ``folder``, with no server named by the environment unless ``env`` names one."""
    full_env = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "dbwright", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=folder,
        timeout=120,
    )


def project(tmp_path: Path, text: str, name: str = "dbwright.toml") -> Path:
    (tmp_path / name).write_text(text)
    (tmp_path / "src" / "deep").mkdir(parents=True, exist_ok=True)
    return tmp_path / "src" / "deep"  # commands run from a subfolder: the file is found upward


def settings_json(result: subprocess.CompletedProcess) -> dict[str, dict]:
    assert result.returncode == 0, result.stderr
    return {s["key"]: s for s in json.loads(result.stdout)["settings"]}


@pytest.fixture
def shop(pg):
    pg.execute(SHOP)
    return pg


# --- config show -----------------------------------------------------------------------------------------


def test_show_names_the_file_and_key_of_each_value(tmp_path):
    folder = project(tmp_path, '[review]\nfail_on = "high"\n[lint]\nserver_version = 13\n')
    result = dbwright(folder, "config", "show")
    assert result.returncode == 0, result.stderr
    file = tmp_path / "dbwright.toml"
    lines = result.stdout.splitlines()
    assert lines[0] == "# effective settings; precedence: flag > env > file > default"
    assert any(
        line.startswith('review.fail_on = "high"')
        and f"# {file}: review.fail_on; for review --fail-on" in line
        for line in lines
    ), result.stdout
    assert any(line.startswith('lint.server_version = "13"') for line in lines)
    assert any(line.startswith("audit.fail_on = (unset)") and "# default" in line for line in lines)
    assert any(line.startswith(f'config_file = "{file}"') and "found upward from" in line for line in lines)


def test_show_json_gives_each_source(tmp_path):
    folder = project(
        tmp_path, 'target = "postgresql://app:pw@db/shop"\n[thresholds.DW203]\nmin_observed_days = 3\n'
    )
    found = settings_json(dbwright(folder, "config", "show", "--format", "json"))
    assert found["target"] | {"options": None} == {
        "key": "target",
        "value": "postgresql://app:****@db/shop",
        "source": "file",
        "from": f"{tmp_path / 'dbwright.toml'}: target",
        "note": "",
        "options": None,
    }
    assert "review" in found["target"]["options"] and "audit" in found["target"]["options"]
    days = found["thresholds.DW203.min_observed_days"]
    assert (days["value"], days["source"]) == (3.0, "file")
    assert days["options"] == ["review --min-observed", "fix --min-observed", "advise indexes --min-observed"]
    assert (found["review.fail_on"]["source"], found["lint.fail_on"]["value"]) == ("default", "high")


def test_show_the_environment_before_the_file_and_the_flag_before_the_variable(tmp_path):
    folder = project(tmp_path, 'target = "postgresql:///from_file"\n')
    other = tmp_path / "ci.toml"
    other.write_text('[review]\nfail_on = "low"\n')
    found = settings_json(
        dbwright(folder, "config", "show", "-f", "json", env={"DATABASE_URL": "postgresql:///from_env"})
    )
    assert (found["target"]["value"], found["target"]["source"]) == ("postgresql:///from_env", "env")
    found = settings_json(
        dbwright(folder, "config", "show", "-f", "json", env={"DBWRIGHT_CONFIG": str(other)})
    )
    assert (found["config_file"]["source"], found["review.fail_on"]["value"]) == ("env", "low")
    found = settings_json(
        dbwright(
            folder,
            "--config",
            str(tmp_path / "dbwright.toml"),
            "config",
            "show",
            "-f",
            "json",
            env={"DBWRIGHT_CONFIG": str(other)},
        )
    )
    assert (found["config_file"]["source"], found["config_file"]["from"]) == ("flag", "--config")
    assert found["target"]["value"] == "postgresql:///from_file"


def test_show_without_a_file(tmp_path):
    found = settings_json(dbwright(tmp_path, "config", "show", "-f", "json"))
    assert found["config_file"]["value"] is None and found["target"]["source"] == "default"


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        (
            '[checks]\ndisable = ["DW999"]\n',
            "dbwright.toml: checks.disable[1]: unknown check code or area 'DW999'",
        ),
        ("[review]\nfail_on = 3\n", "dbwright.toml: review.fail_on: must be a severity"),
        (
            '[[ignore]]\ncheck = "DW102"\nobject = "public.orders"\n',
            "dbwright.toml: ignore[1].reason: missing",
        ),
        ("[review\n", "dbwright.toml: not valid TOML"),
    ],
)
def test_a_bad_file_is_one_line_and_exit_24(tmp_path, text, phrase):
    folder = project(tmp_path, text)
    for args in (("config", "show"), ("review", "--check", "DW102"), ("lint", "-")):
        assert_clean_failure(dbwright(folder, *args), 24, phrase)


def test_a_bad_pyproject_table_names_its_key(tmp_path):
    folder = project(tmp_path, '[tool.dbwright.severity]\nDW101 = "urgent"\n', name="pyproject.toml")
    assert_clean_failure(
        dbwright(folder, "config", "show"), 24, "pyproject.toml: tool.dbwright.severity.DW101"
    )


# --- the file as the commands' defaults ------------------------------------------------------------------


def test_every_option_a_setting_feeds_exists():
    """A renamed option would silently stop taking its default from the file: this names it."""
    import typer

    root = typer.main.get_command(app)
    missing = [
        (path, flag)
        for uses in OPTION_DEFAULTS.values()
        for path, flag in uses
        if not option_name(root, path, flag)
    ]
    assert missing == []


def _review(folder, *args, env=None) -> tuple[int, dict]:
    result = dbwright(folder, "review", *args, "--format", "json", env=env)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_review_reads_the_file_target_then_the_environment_then_the_argument(shop, tmp_path):
    folder = project(tmp_path, f'target = "{shop.url}"\n')
    _, data = _review(folder, "--check", "DW102")
    assert data["database"] == shop.name and data["summary"]["findings"] == 2
    _, data = _review(folder, "--check", "DW102", env={"DATABASE_URL": shop.cluster.url("postgres")})
    assert data["database"] == "postgres"
    _, data = _review(folder, shop.cluster.url("postgres"), "--check", "DW102")
    assert data["database"] == "postgres"


def test_review_honours_ignores_severities_and_fail_on(shop, tmp_path):
    folder = project(
        tmp_path,
        f'target = "{shop.url}"\n[review]\nfail_on = "high"\n[severity]\nDW102 = "high"\n'
        '[[ignore]]\ncheck = "DW102"\nobject = "public.orders"\nreason = "orders are never deleted"\n',
    )
    code, data = _review(folder, "--check", "DW102")
    assert code == 1  # fail_on high from the file, DW102 high from the file
    assert [(f["object"], f["severity"]) for f in data["findings"]] == [("public.payments", "high")]
    assert [(s["object"], s["reason"]) for s in data["suppressed"]] == [
        ("public.orders", "orders are never deleted")
    ]
    assert data["summary"]["suppressed"] == 1
    code, _ = _review(folder, "--check", "DW102", "--fail-on", "critical")  # the flag wins
    assert code == 0
    text = dbwright(folder, "review", "--check", "DW102")
    assert "1 suppressed" in text.stdout and "orders are never deleted" in text.stdout


def test_review_leaves_out_turned_off_checks(shop, tmp_path):
    folder = project(tmp_path, f'target = "{shop.url}"\n[checks]\ndisable = ["design"]\n')
    _, data = _review(folder)
    assert not any(f["code"].startswith("DW1") for f in data["findings"])
    assert "DW102" in {d["code"] for d in data["disabled"]}
    _, named = _review(folder, "--check", "DW102")
    assert named["summary"]["findings"] == 2


def test_fix_writes_no_fix_for_a_suppressed_finding(shop, tmp_path):
    folder = project(
        tmp_path,
        f'target = "{shop.url}"\n[[ignore]]\ncheck = "DW102"\nobject = "public.*"\nreason = "tiny tables"\n',
    )
    result = dbwright(folder, "fix", shop.url, "DW102", "-o", "fix.sql")
    assert result.returncode == 0, result.stderr
    assert not (folder / "fix.sql").exists() and "no fixes" in result.stderr


def test_fix_reads_the_file_target_and_a_typed_database_wins(shop, tmp_path):
    folder = project(tmp_path, f'target = "{shop.url}"\n')
    result = dbwright(folder, "fix", "DW102", "-o", "fix.sql")
    assert result.returncode == 0, result.stderr
    assert "public.orders" in (folder / "fix.sql").read_text()
    other = dbwright(folder, "fix", shop.cluster.url("postgres"), "DW102", "-o", "none.sql")
    assert other.returncode == 0, other.stderr  # the typed database, not a "two databases" error
    assert not (folder / "none.sql").exists()


def test_the_old_db_spelling_wins_over_the_file_target(shop, tmp_path):
    folder = project(tmp_path, 'target = "postgresql:///not_this_one"\n')
    _, data = _review(folder, "--db", shop.url, "--check", "DW102")
    assert data["database"] == shop.name


def test_lint_takes_server_version_and_fail_on_from_the_file(tmp_path):
    folder = project(tmp_path, '[lint]\nserver_version = "10"\nfail_on = "critical"\n')
    (folder / "v.sql").write_text("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;\n")
    result = dbwright(folder, "lint", "v.sql")
    assert "DW704" in result.stdout  # before PostgreSQL 11 any default rewrites the table
    assert result.returncode == 0  # DW704 is high; the file fails only on critical
    assert dbwright(folder, "lint", "v.sql", "--fail-on", "high").returncode == 1
    assert "DW704" not in dbwright(folder, "lint", "v.sql", "--server-version", "15").stdout


def test_audit_takes_fail_on_and_ignores_from_the_file(pg, tmp_path):
    folder = project(
        tmp_path,
        f'target = "{pg.url}"\n[audit]\nfail_on = "medium"\n'
        '[[ignore]]\ncheck = "DWA020"\nobject = "*"\nreason = "a test cluster"\n',
    )
    result = dbwright(folder, "audit", "--format", "json", "--no-access")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["database"] == pg.name
    assert "DWA020" not in {f["code"] for f in data["findings"]}
    assert {s["code"] for s in data["suppressed"]} == {"DWA020"}


def test_help_names_both_files(tmp_path):
    result = dbwright(tmp_path, "--help", env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "--config" in result.stdout and "[tool.dbwright]" in result.stdout
