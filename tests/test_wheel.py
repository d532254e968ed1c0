"""The wheel works where a user installs it: built from this tree, installed in a fresh venv outside it, and
used from another folder, where nothing can fall back on the checkout's files (issue 16, item 7).

The fresh venv gets dbwright from the wheel only. Its dependencies come from the test venv's site-packages
through a .pth line (installing them from PyPI would take minutes); ``pip check`` in the fresh venv then
proves the wheel declares every dependency it imports, and ``dbwright.__file__`` that the wheel is the
copy in use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from dbwright import __version__, api

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

READ_MCP_DOC = """
import anyio
from mcp.shared.memory import create_connected_server_and_client_session
from dbwright.mcp import build_server

async def main():
    server = build_server("postgresql://nobody@localhost/none")  # resources need no connection
    async with create_connected_server_and_client_session(server) as client:
        index = await client.read_resource("dbwright://docs")
        page = await client.read_resource("dbwright://docs/mcp")
        check = await client.read_resource("dbwright://checks/DW101")
        print(index.contents[0].text)
        print(page.contents[0].text.splitlines()[0])
        print(check.contents[0].text.splitlines()[0])

anyio.run(main)
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("dbwright-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    # The dependencies, not dbwright: the test venv's dbwright is an editable finder .pth, which a path
    # added by a .pth line does not run.
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATABASE_URL", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_wheel_holds_the_license_types_and_every_page_the_product_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "dbwright/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    for page in [*DOCS.glob("*.md"), *DOCS.glob("checks/*.md"), *DOCS.glob("lint-rules/*.md")]:
        assert f"dbwright/docs/{page.relative_to(DOCS)}" in names, page
    metadata = zipfile.ZipFile(wheel).read(f"dbwright-{__version__}.dist-info/METADATA").decode()
    assert "License-Expression: GPL-3.0-or-later" in metadata
    assert "Project-URL: Source," in metadata and "Classifier: Typing :: Typed" in metadata
    for dependency in ("anyio", "uvicorn", "mcp"):
        assert f"Requires-Dist: {dependency}" in metadata


def test_installed_wheel_works_outside_the_source_tree(fresh_venv, pg, tmp_path):
    pg.execute("CREATE TABLE orders (id int, customer_id int)")  # no primary key: DW101
    snapshot = api.save_snapshot(api.snapshot(pg.url), tmp_path / "snapshot.json")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    where = run(fresh_venv, "python", "-c", "import dbwright; print(dbwright.__file__)", cwd=elsewhere)
    assert where.stdout.startswith(str(fresh_venv)), where.stdout + where.stderr

    version = run(fresh_venv, "dbwright", "--version", cwd=elsewhere)
    assert version.returncode == 0 and __version__ in version.stdout, version.stderr

    checks = run(fresh_venv, "dbwright", "checks", cwd=elsewhere)
    assert checks.returncode == 0 and "DW101" in checks.stdout, checks.stderr

    review = run(fresh_venv, "dbwright", "review", str(snapshot), "--format", "json", cwd=elsewhere)
    assert review.returncode in (0, 1), review.stderr  # 1: findings at or above --fail-on
    assert "DW101" in {f["code"] for f in json.loads(review.stdout)["findings"]}

    docs = run(fresh_venv, "python", "-c", READ_MCP_DOC, cwd=elsewhere)
    assert docs.returncode == 0, docs.stderr
    index, title, check = docs.stdout.splitlines()
    assert "mcp" in json.loads(index) and "architecture" in json.loads(index)
    assert title == "# dbwright mcp: dbwright's tools for AI agents"
    assert check.startswith("# DW101")

    lint_pages = run(
        fresh_venv,
        "python",
        "-c",
        "from dbwright.changes.lint.docs import default_dir; print(default_dir())",
        cwd=elsewhere,
    )
    assert lint_pages.stdout.strip().startswith(str(fresh_venv))

    deps = run(fresh_venv, "python", "-m", "pip", "check", cwd=elsewhere)  # pip: from the dependencies' path
    assert deps.stdout.strip() and "No module named" not in deps.stderr, deps.stderr
    assert "dbwright" not in deps.stdout, deps.stdout  # every Requires-Dist of the wheel is installed
