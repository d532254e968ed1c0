"""docs/api.md's examples run: every ```python block, in order, in one namespace, against a test database."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from dbwright import api

API_DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
_PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


def examples(text: str) -> list[str]:
    """The bodies of the page's ```python blocks, in page order."""
    return _PYTHON_BLOCK.findall(text)


def test_examples_are_found_and_each_parses():
    blocks = examples(API_DOC.read_text())
    assert len(blocks) >= 8
    for block in blocks:
        ast.parse(block)


def test_examples_run_against_a_database(pg, monkeypatch, capsys):
    pg.conn.close()  # verify_index_advice copies the database: CREATE DATABASE … TEMPLATE wants no sessions
    monkeypatch.setenv("DATABASE_URL", pg.url)
    namespace: dict[str, object] = {"__name__": "api_doc_examples"}
    try:
        for number, block in enumerate(examples(API_DOC.read_text()), start=1):
            exec(compile(block, f"{API_DOC.name} example {number}", "exec"), namespace)
    finally:
        import psycopg

        pg.conn = psycopg.connect(pg.url, autocommit=True)
    printed = capsys.readouterr().out
    assert "22 cannot read budget 'a lot'" in printed
    assert "CREATE INDEX CONCURRENTLY" in printed
    assert "0 findings, " in printed and "lookup tables, rows never deleted" in printed  # a config's ignore
    assert pg.value("SELECT to_regclass('orders')") is None  # the last example rolled the shop back


def test_every_api_function_is_in_the_table():
    text = API_DOC.read_text()
    table = text[text.index("## Every function") :]
    functions = [name for name in api.__all__ if callable(getattr(api, name)) and name[0].islower()]
    assert [name for name in functions if f"`{name}" not in table and f" {name}," not in table] == []
