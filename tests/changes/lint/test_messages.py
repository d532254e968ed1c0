"""Lint messages and statement notes speak SQL, never the parser's node names (CreateIndex, AlterTableCmd)."""

from __future__ import annotations

import re

import pglast.ast
from pglast.enums import AlterTableType

from dbwright.changes.lint import LintState, all_rules, describe, lint

#: Names a message must never show: pglast's node classes, ALTER TABLE subcommand names, and the lock
#: model's own kinds (which are identifiers for code, not words for people).
NODE_NAMES = {name for name in dir(pglast.ast) if name[:1].isupper()} | {
    member.name.removeprefix("AT_") for member in AlterTableType
}
CAMEL = re.compile(r"\b[A-Z][a-zA-Z]+:[A-Z][a-zA-Z]+\b|\b[A-Z][a-z]+(?:[A-Z][a-z]*)+\b|\b\w+Stmt\b")

#: Statements beyond the rules' own cases: ones the lint does not model, or models only in part.
MORE = [
    "CREATE PUBLICATION pub FOR TABLE orders;",
    "ALTER TABLE orders ALTER CONSTRAINT orders_customer_fk DEFERRABLE;",
    "ALTER TABLE orders OF order_type;",
    "REINDEX SCHEMA shop;",
    "DROP OWNED BY app;",
    "CREATE AGGREGATE mysum (int) (SFUNC = int4pl, STYPE = int);",
    "ALTER TABLE orders ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;",
    "ALTER TABLE orders SET WITHOUT CLUSTER;",
    "DO $$ BEGIN PERFORM 1; END $$;",
    "DROP TYPE mood CASCADE;",
    "BEGIN;\nCREATE INDEX CONCURRENTLY i ON orders (x);\nALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;\n"
    "VACUUM orders;\nREINDEX TABLE CONCURRENTLY orders;\nDROP INDEX CONCURRENTLY i;\nCOMMIT;",
    "SET CONSTRAINTS ALL IMMEDIATE;",
    "\\set ON_ERROR_STOP 1\nDROP INDEX orders_idx;",
]


def _sql_cases() -> list[tuple[str, int]]:
    cases = [(case.sql, case.version) for rule in all_rules() for case in (*rule.fails, *rule.passes)]
    return cases + [(sql, 150000) for sql in MORE]


#: CamelCase words that are names people use, not the parser's.
PROPER_NAMES = {"PostgreSQL", "MediaWiki", "GitHub", "TimescaleDB"}


def _leaks(text: str) -> list[str]:
    """CamelCase words in ``text``: a node name (IndexStmt), a subcommand (AddColumn) or a model kind
    (CreateIndex, AlterTable:AddColumn); no SQL word is spelled that way."""
    return [word for word in CAMEL.findall(text) if word not in PROPER_NAMES]


def test_no_lint_message_or_note_names_a_parser_node():
    leaks = {}
    for sql, version in _sql_cases():
        for finding in lint(sql, server_version=version, state=LintState(server_version=version)):
            for text in (finding.message, finding.safe_rewrite or ""):
                if found := _leaks(text):
                    leaks[f"{finding.code}: {text}"] = found
        for info in describe(sql, server_version=version):
            for note in info.notes:
                if found := _leaks(note):
                    leaks[f"note: {note}"] = found
    assert leaks == {}


def test_the_issue_s_message_reads_as_sql():
    [finding] = [
        f for f in lint("BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;") if f.code == "DW703"
    ]
    assert finding.message.startswith("CREATE INDEX CONCURRENTLY cannot run inside a transaction block")


def test_the_leak_detector_sees_a_node_name():
    assert _leaks("CreateIndex cannot run inside a transaction block") == ["CreateIndex"]
    assert _leaks("dbwright does not model AlterTableCmd") == ["AlterTableCmd"]
    assert _leaks("AlterTable:AddColumn on orders") == ["AlterTable:AddColumn"]
    assert "AddColumn" in NODE_NAMES and "IndexStmt" in NODE_NAMES
