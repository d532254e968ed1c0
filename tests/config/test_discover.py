"""Finding the configuration file: --config, DBWRIGHT_CONFIG, else upward from the folder, first hit wins."""

from pathlib import Path

import pytest

from dbwright.config import load_config
from dbwright.errors import ConfigError
from dbwright.review import NO_POLICY

NO_ENV: dict[str, str] = {}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_found_upward_from_a_nested_folder(tmp_path):
    own = write(tmp_path / "repo" / "dbwright.toml", 'target = "postgresql:///shop"\n')
    nested = tmp_path / "repo" / "migrations" / "2026"
    nested.mkdir(parents=True)
    config = load_config(environ=NO_ENV, start=nested)
    assert config.file is not None and config.file.path == own
    assert config.file.chosen_by == f"found upward from {nested.resolve()}"
    assert config.target == "postgresql:///shop"


def test_the_nearest_file_wins(tmp_path):
    write(tmp_path / "dbwright.toml", 'target = "outer"\n')
    inner = write(tmp_path / "app" / "dbwright.toml", 'target = "inner"\n')
    config = load_config(environ=NO_ENV, start=tmp_path / "app")
    assert (config.file.path, config.target) == (inner, "inner")


def test_pyproject_tool_dbwright_table(tmp_path):
    pyproject = write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "app"\n\n[tool.dbwright]\ntarget = "shop"\n\n[tool.dbwright.lint]\nserver_version = 13\n',
    )
    config = load_config(environ=NO_ENV, start=tmp_path)
    assert config.file.path == pyproject and config.file.table == ("tool", "dbwright")
    assert (config.target, config.lint.server_version) == ("shop", "13")
    assert config.file.where("lint.server_version") == f"{pyproject}: tool.dbwright.lint.server_version"


def test_a_pyproject_without_the_table_is_no_hit(tmp_path):
    outer = write(tmp_path / "dbwright.toml", 'target = "outer"\n')
    write(tmp_path / "app" / "pyproject.toml", '[project]\nname = "app"\n\n[tool.ruff]\nline-length = 100\n')
    config = load_config(environ=NO_ENV, start=tmp_path / "app")
    assert (config.file.path, config.target) == (outer, "outer")


def test_dbwright_toml_wins_over_pyproject_in_the_same_folder(tmp_path):
    own = write(tmp_path / "dbwright.toml", 'target = "from-dbwright-toml"\n')
    write(tmp_path / "pyproject.toml", '[tool.dbwright]\ntarget = "from-pyproject"\n')
    config = load_config(environ=NO_ENV, start=tmp_path)
    assert (config.file.path, config.target) == (own, "from-dbwright-toml")


def test_no_file_is_an_empty_configuration(tmp_path):
    config = load_config(environ=NO_ENV, start=tmp_path)
    assert config.file is None and config.target is None and config.ignores == ()
    assert config.policy() == NO_POLICY


def test_variable_names_the_file_and_the_flag_beats_it(tmp_path):
    by_env = write(tmp_path / "ci" / "env.toml", 'target = "from-env"\n')
    by_flag = write(tmp_path / "ci" / "flag.toml", 'target = "from-flag"\n')
    write(tmp_path / "dbwright.toml", 'target = "found"\n')
    env = {"DBWRIGHT_CONFIG": str(by_env)}
    config = load_config(environ=env, start=tmp_path)
    assert (config.file.path, config.file.chosen_by, config.target) == (
        by_env,
        "env DBWRIGHT_CONFIG",
        "from-env",
    )
    config = load_config(by_flag, environ=env, start=tmp_path)
    assert (config.file.path, config.file.chosen_by, config.target) == (by_flag, "--config", "from-flag")


def test_a_named_file_must_exist(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path / "missing.toml", environ=NO_ENV)
    assert raised.value.exit_code == 24
    assert (
        str(raised.value) == f"{tmp_path / 'missing.toml'}: configuration file not found (named by --config)"
    )


def test_a_named_pyproject_needs_the_table(tmp_path):
    pyproject = write(tmp_path / "pyproject.toml", '[project]\nname = "app"\n')
    with pytest.raises(ConfigError, match=r"has no \[tool.dbwright\] table"):
        load_config(pyproject, environ=NO_ENV)


def test_malformed_toml_names_the_file_and_the_line(tmp_path):
    bad = write(tmp_path / "dbwright.toml", '[review]\nfail_on = "high\n')
    with pytest.raises(ConfigError) as raised:
        load_config(environ=NO_ENV, start=tmp_path)
    message = str(raised.value)
    assert message.startswith(f"{bad}: not valid TOML: ") and "line 2" in message
    assert "\n" not in message


def test_a_relative_snapshot_target_is_relative_to_the_file(tmp_path):
    write(tmp_path / "dbwright.toml", 'target = "snapshots/prod.json"\n')
    (tmp_path / "deep").mkdir()
    config = load_config(environ=NO_ENV, start=tmp_path / "deep")
    assert config.target == str(tmp_path / "snapshots" / "prod.json")
