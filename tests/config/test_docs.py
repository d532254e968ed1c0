"""docs/configuration.md stays true: its table names every key the validator knows (and no other), and
its example files load."""

import re
from pathlib import Path

from dbwright.config import load_config
from dbwright.config.settings import KEYS
from dbwright.model.findings import Severity

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
TOML_BLOCK = re.compile(r"^```toml\n(.*?)^```$", re.M | re.S)


def documented_keys() -> set[str]:
    text = PAGE.read_text()
    table = text[text.index("## Every key") :].split("\n## ", 1)[0]
    keys: set[str] = set()
    for row in table.splitlines():
        if not row.startswith("| `"):
            continue
        names = re.findall(r"`([^`]+)`", row.split("|")[1])
        if names and names[0] == "[[ignore]]":
            keys |= {f"ignore.{name}" for name in names[1:]}
            continue
        for name in names:
            keys.add(name.strip("[]").split(".<")[0])
    return keys


def known_keys() -> set[str]:
    nested = {f"{section}.{key}" for section, names in KEYS.items() if section for key in names}
    return nested | {name for name in KEYS[""] if name not in KEYS}


def test_the_key_table_is_complete_and_names_nothing_else():
    assert documented_keys() == known_keys()


def test_the_example_files_load(tmp_path):
    own, pyproject = TOML_BLOCK.findall(PAGE.read_text())[:2]
    (tmp_path / "dbwright.toml").write_text(own)
    config = load_config(tmp_path / "dbwright.toml", environ={})
    assert config.target == "postgresql://reviewer@db.internal/shop"
    assert config.disable == ("DW611", "workload") and config.severities == {"DW101": Severity.LOW}
    assert config.thresholds == {"DW203": {"min_observed_days": 14.0}} and len(config.ignores) == 2
    assert (config.review.fail_on, config.lint.server_version) == (Severity.HIGH, "13")
    (tmp_path / "pyproject.toml").write_text(pyproject)
    config = load_config(tmp_path / "pyproject.toml", environ={})
    assert (config.target, config.lint.server_version, len(config.ignores)) == ("service=shop", "14", 1)
