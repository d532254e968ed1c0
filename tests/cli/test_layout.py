"""The CLI is a thin face: its modules share public names only, and the MCP server does not import it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "dbwright"


def test_cli_modules_import_no_private_name_of_another_module():
    private = []
    for path in sorted((SRC / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dbwright"):
                private += [
                    f"{path.name}: {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert private == []


def test_the_mcp_server_does_not_import_the_cli():
    code = "import sys, dbwright.mcp, dbwright.mcp.tools; print(sorted(m for m in sys.modules if m.startswith('dbwright.cli')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
