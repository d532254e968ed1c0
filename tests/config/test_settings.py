"""Validation: a good file becomes typed settings; every bad key or value is one line naming the file and
the key (ConfigError, exit 24), never a traceback and never silently ignored."""

from pathlib import Path

import pytest

from dbwright.config import load_config
from dbwright.errors import ConfigError
from dbwright.model.findings import Severity

GOOD = """
target = "postgresql://app@db.internal/shop"

[checks]
disable = ["DW112", "Workload", "DWA001"]

[severity]
DW101 = "low"
dwa039 = "high"

[thresholds.DW203]
min_observed_days = 14

[[ignore]]
check = "DW102"
object = "public.orders"
reason = "a lookup table: its rows are never deleted"

[[ignore]]
check = "DW203"
object = "public.audit_*"
reason = "audit indexes are read only by the yearly report"

[review]
fail_on = "high"
server_memory = "16GB"

[audit]
fail_on = "none"

[lint]
server_version = "9.6"
fail_on = "medium"

[exporter]
port = 9187

[retention]
keep_days = 30
"""


def load(tmp_path: Path, text: str, name: str = "dbwright.toml"):
    (tmp_path / name).write_text(text)
    return load_config(tmp_path / name, environ={})


def test_a_complete_file_becomes_typed_settings(tmp_path):
    config = load(tmp_path, GOOD)
    assert config.target == "postgresql://app@db.internal/shop"
    assert config.disable == ("DW112", "workload", "DW501")  # areas lower-cased, aliases to their code
    assert config.severities == {"DW101": Severity.LOW, "DW609": Severity.HIGH}
    assert config.thresholds == {"DW203": {"min_observed_days": 14.0}}
    assert isinstance(config.thresholds["DW203"]["min_observed_days"], float)
    assert [(i.check, i.object) for i in config.ignores] == [
        ("DW102", "public.orders"),
        ("DW203", "public.audit_*"),
    ]
    assert config.ignores[1].source == f"{tmp_path / 'dbwright.toml'}: ignore[2]"
    assert (config.review.fail_on, config.review.server_memory) == (Severity.HIGH, "16GB")
    assert config.audit.fail_on is None and "audit.fail_on" in config.given  # "none": never fail
    assert (config.lint.server_version, config.lint.fail_on) == ("9.6", Severity.MEDIUM)
    assert config.reserved == {"exporter": {"port": 9187}, "retention": {"keep_days": 30}}
    policy = config.policy()
    assert policy.disabled == {"DW112", "workload", "DW501"} and policy.check_options == config.thresholds


BAD = [
    ("tresholds = {}\n", "tresholds: unknown key; did you mean 'thresholds'?"),
    ("target = 5\n", "target: must be a string, not integer"),
    ('target = "  "\n', "target: is empty"),
    ('checks = ["DW101"]\n', "checks: must be a table, not array"),
    ('[checks]\ndisable = "DW101"\n', "checks.disable: must be an array of strings, not string"),
    ('[checks]\ndisable = ["DW101", "DW999"]\n', "checks.disable[2]: unknown check code or area 'DW999'"),
    ("[checks]\nenable = [7]\n", "checks.enable[1]: must be a string, not integer"),
    (
        '[checks]\ndisable = ["DW704"]\n',
        "checks.disable[1]: DW704 is a lint rule, not a review check: silence it",
    ),
    ('[checks]\nskip = ["DW101"]\n', "checks.skip: unknown key; use enable, disable"),
    ('[severity]\nDW101 = "urgent"\n', "severity.DW101: unknown severity 'urgent'; use one of info, low"),
    ('[severity]\nDW999 = "low"\n', "severity.DW999: unknown check code 'DW999'"),
    (
        "[severity]\nDW101 = 3\n",
        "severity.DW101: must be a severity (info, low, medium, high, critical), not integer",
    ),
    (
        "[thresholds.DW101]\nx = 1\n",
        "thresholds.DW101: DW101 has no thresholds; these checks do: DW203 (min_observed_days)",
    ),
    (
        "[thresholds.DW203]\nmin_days = 14\n",
        "thresholds.DW203.min_days: unknown key; did you mean 'min_observed_days'?",
    ),
    (
        '[thresholds.DW203]\nmin_observed_days = "14"\n',
        "thresholds.DW203.min_observed_days: must be a number, not string",
    ),
    (
        "[thresholds.DW203]\nmin_observed_days = true\n",
        "thresholds.DW203.min_observed_days: must be a number, not boolean",
    ),
    (
        "[thresholds.DW203]\nmin_observed_days = -1\n",
        "thresholds.DW203.min_observed_days: must be 0 or more, not -1",
    ),
    ("[thresholds]\nDW203 = 14\n", "thresholds.DW203: must be a table, not integer"),
    (
        '[[ignore]]\ncheck = "DW102"\nobject = "public.orders"\n',
        "ignore[1].reason: missing (every ignore needs a reason",
    ),
    (
        '[[ignore]]\ncheck = "DW102"\nobject = "public.orders"\nreason = " "\n',
        "ignore[1].reason: is empty: every ignore needs a reason",
    ),
    ('[[ignore]]\ncheck = "DW102"\nreason = "why"\n', "ignore[1].object: missing"),
    ('[[ignore]]\nobject = "x"\nreason = "why"\n', "ignore[1].check: missing"),
    (
        '[[ignore]]\ncheck = "DW999"\nobject = "x"\nreason = "why"\n',
        "ignore[1].check: unknown check code 'DW999'",
    ),
    (
        '[[ignore]]\ncheck = "DW102"\nobject = "x"\nreason = "why"\nuntil = 2027\n',
        "ignore[1].until: unknown key",
    ),
    ('[ignore]\ncheck = "DW102"\n', "ignore: must be an array of tables ([[ignore]]), not table"),
    ("[review]\nfail_on = 3\n", "review.fail_on: must be a severity"),
    ('[review]\nfail_on = "hihg"\n', "review.fail_on: unknown severity 'hihg'"),
    ('[review]\nserver_memory = "lots"\n', "review.server_memory: cannot read size 'lots'"),
    ('[review]\nformat = "json"\n', "review.format: unknown key; use fail_on, server_memory"),
    ('[audit]\nfail_on = ["high"]\n', "audit.fail_on: must be a severity"),
    ('[lint]\nserver_version = "fifteen"\n', "lint.server_version: cannot read server version 'fifteen'"),
    ("[lint]\nserver_version = true\n", "lint.server_version: must be a version such as 15"),
    ("exporter = 9187\n", "exporter: must be a table, not integer"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_a_bad_key_or_value_is_one_line_naming_file_and_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text)
    error = raised.value
    assert error.exit_code == 24
    assert str(error).startswith(f"{tmp_path / 'dbwright.toml'}: {message}"), str(error)
    assert "\n" not in str(error)


def test_in_pyproject_the_key_is_spelled_as_written(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, '[tool.dbwright.severity]\nDW101 = "urgent"\n', name="pyproject.toml")
    assert str(raised.value).startswith(
        f"{tmp_path / 'pyproject.toml'}: tool.dbwright.severity.DW101: unknown"
    )


def test_every_ignore_needs_a_reason_even_among_good_ones(tmp_path):
    text = GOOD + '\n[[ignore]]\ncheck = "DW101"\nobject = "public.queue"\n'
    with pytest.raises(ConfigError, match=r"ignore\[3\]\.reason: missing"):
        load(tmp_path, text)
