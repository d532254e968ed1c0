"""The layers hold: import-linter's contracts pass, cover the rules, and psycopg stays in the engine."""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "dbwright"
CONTRACTS = ROOT / ".importlinter"


def _contracts() -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser()
    parser.read(CONTRACTS)
    return {
        section.split(":", 2)[2]: dict(parser[section])
        for section in parser.sections()
        if section.startswith("importlinter:contract:")
    }


def _modules(value: str) -> set[str]:
    return {line.strip() for line in value.splitlines() if line.strip()}


def _top_level_packages() -> set[str]:
    names = {p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
    names |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    return {f"dbwright.{name}" for name in names}


def test_lint_imports_passes():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_contracts_cover_the_layer_rules():
    contracts = _contracts()
    everything = _top_level_packages()
    model = contracts["model-knows-nothing"]
    assert model["type"] == "forbidden" and _modules(model["source_modules"]) == {"dbwright.model"}
    assert _modules(model["forbidden_modules"]) >= everything - {"dbwright.model"}

    checks = contracts["checks-read-only-the-model"]
    allowed_for_checks = {"dbwright.checks", "dbwright.model", "dbwright.errors", "dbwright.redact"}
    assert _modules(checks["forbidden_modules"]) >= everything - allowed_for_checks

    engines = contracts["engines-below-the-core"]
    assert _modules(engines["forbidden_modules"]) >= {
        "dbwright.checks",
        "dbwright.advisors",
        "dbwright.changes",
        "dbwright.audit",
        "dbwright.review",
        "dbwright.cli",
        "dbwright.mcp",
        "dbwright.output",
        "dbwright.sitegen",
        "dbwright.api",
    }

    core = contracts["core-imports-no-face"]
    assert _modules(core["source_modules"]) >= {
        "dbwright.model",
        "dbwright.engines",
        "dbwright.checks",
        "dbwright.advisors",
        "dbwright.changes",
        "dbwright.audit",
        "dbwright.review",
    }
    assert _modules(core["forbidden_modules"]) >= {
        "dbwright.cli",
        "dbwright.mcp",
        "dbwright.output",
        "dbwright.sitegen",
    }

    faces = contracts["faces-through-the-api"]
    assert _modules(faces["source_modules"]) == {"dbwright.cli", "dbwright.mcp", "dbwright.sitegen"}
    assert _modules(faces["forbidden_modules"]) >= {
        "dbwright.advisors",
        "dbwright.audit",
        "dbwright.changes",
        "dbwright.checks",
        "dbwright.engines",
        "dbwright.review",
    }

    cycles = contracts["no-cycles"]
    assert cycles["type"] == "acyclic_siblings" and _modules(cycles["ancestors"]) == {"dbwright"}


def test_psycopg_is_imported_only_by_the_postgres_engine():
    importers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"^\s*(import psycopg|from psycopg\b)", path.read_text(), re.MULTILINE)
    )
    assert importers, "the PostgreSQL engine must import its driver somewhere"
    assert [p for p in importers if not p.startswith("engines/postgres/")] == []
