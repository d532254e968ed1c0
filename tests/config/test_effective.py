"""The effective settings and where each came from (what `dbwright config show` prints):
flag > environment > file > default."""

from dbwright.config import effective_settings, load_config


def settings(tmp_path, text, environ=None, **kwargs):
    (tmp_path / "dbwright.toml").write_text(text)
    config = load_config(environ={}, start=tmp_path, **kwargs)
    return {s.key: s for s in effective_settings(config, environ or {})}


def test_each_value_names_its_file_and_key(tmp_path):
    found = settings(tmp_path, '[review]\nfail_on = "high"\n[thresholds.DW203]\nmin_observed_days = 14\n')
    file = tmp_path / "dbwright.toml"
    fail_on = found["review.fail_on"]
    assert (fail_on.value, fail_on.source, fail_on.origin) == ("high", "file", f"{file}: review.fail_on")
    days = found["thresholds.DW203.min_observed_days"]
    assert (days.value, days.source) == (14.0, "file")
    assert days.origin == f"{file}: thresholds.DW203.min_observed_days"
    assert found["config_file"].value == str(file) and found["config_file"].source == "found"


def test_what_the_file_leaves_out_is_the_default(tmp_path):
    found = settings(tmp_path, "")
    assert (found["review.fail_on"].value, found["review.fail_on"].source) == (None, "default")
    assert (found["lint.server_version"].value, found["lint.server_version"].source) == ("15", "default")
    days = found["thresholds.DW203.min_observed_days"]
    assert (days.value, days.source, days.note) == (7.0, "default", "DW203: Unused index")
    assert found["ignore"].value == [] and found["exporter"].value == {}
    assert found["target"].source == "default" and "embedded demo" in found["target"].note


def test_the_file_target_masks_its_password(tmp_path):
    target = settings(tmp_path, 'target = "postgresql://app:s3cret@db/shop"\n')["target"]
    assert (target.value, target.source) == ("postgresql://app:****@db/shop", "file")


def test_the_environment_comes_before_the_file(tmp_path):
    text = 'target = "postgresql://app@db/shop"\n'
    by_url = settings(tmp_path, text, {"DATABASE_URL": "postgresql://ci:pw@ci-db/shop"})["target"]
    assert (by_url.value, by_url.source, by_url.origin) == (
        "postgresql://ci:****@ci-db/shop",
        "env",
        "env DATABASE_URL",
    )
    by_libpq = settings(tmp_path, text, {"PGHOST": "ci-db", "PGUSER": "ci"})["target"]
    assert (by_libpq.value, by_libpq.source, by_libpq.origin) == (None, "env", "env PGHOST, PGUSER")


def test_how_the_file_was_chosen(tmp_path):
    (tmp_path / "other.toml").write_text("")
    by_flag = settings(tmp_path, "", path=tmp_path / "other.toml")["config_file"]
    assert (by_flag.value, by_flag.source, by_flag.origin) == (
        str(tmp_path / "other.toml"),
        "flag",
        "--config",
    )
    (tmp_path / "dbwright.toml").write_text("")
    env = {"DBWRIGHT_CONFIG": str(tmp_path / "other.toml")}
    config = load_config(environ=env, start=tmp_path)
    by_env = {s.key: s for s in effective_settings(config, {})}["config_file"]
    assert (by_env.source, by_env.origin) == ("env", "env DBWRIGHT_CONFIG")


def test_reserved_sections_are_shown_as_read(tmp_path):
    found = settings(tmp_path, "[exporter]\nport = 9187\n")
    exporter = found["exporter"]
    assert (exporter.value, exporter.source) == ({"port": 9187}, "file")
    assert "reserved" in exporter.note and "reserved" in found["retention"].note
