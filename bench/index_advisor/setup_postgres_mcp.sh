#!/usr/bin/env bash
# postgres-mcp 0.3.0 in its own virtualenv, as the index-advisor benchmark runs it (it needs Python >= 3.12).
# As shipped it does not install here: it pins pglast==7.2.0, which the package index does not have, and
# declares mcp[cli]>=1.5.0 while importing mcp.server.fastmcp (gone in mcp 2). So: the package without its
# dependencies, then those dependencies with pglast 7.x and mcp<2. Usage: bash setup_postgres_mcp.sh [VENV]
set -euo pipefail
VENV="${1:-/tmp/bench-mcp/venv}"
PY="${PYTHON312:-}"
for candidate in "$PY" python3.13 python3.12 "$HOME/.pyenv/versions/3.12.1/bin/python" "$HOME/.pyenv/versions/3.13.0/bin/python"; do
    [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' && { PY="$candidate"; break; }
done
[ -n "$PY" ] || { echo "no Python >= 3.12 found (set PYTHON312)" >&2; exit 1; }
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps postgres-mcp==0.3.0
"$VENV/bin/pip" install -q --disable-pip-version-check 'attrs>=25.3.0' 'humanize>=4.8.0' 'instructor>=1.7.9' \
    'mcp[cli]>=1.5.0,<2' 'pglast>=7,<8' 'psycopg-pool>=3.2.6' 'psycopg[binary]>=3.2.6'
"$VENV/bin/python" -c 'import postgres_mcp.index.dta_calc; print("postgres-mcp ready:", __import__("sys").executable)'
