"""psql scripts: meta-commands skipped and reported, variables and COPY data read as psql reads them,
includes followed relative to the right directory, with cycles and missing files reported."""

from __future__ import annotations

from pathlib import Path

from dbwright.changes.lint import describe, lint, lint_files
from dbwright.changes.lint.parse import parse_script, parse_statements
from dbwright.changes.lint.psql import PsqlCommand, split_script
from dbwright.model.findings import Severity

SCRIPT = r"""\set ON_ERROR_STOP 1
\restrict Xy12
-- a comment with a \ backslash
CREATE TABLE t (a text DEFAULT E'x\'y\\', b text DEFAULT 'it''s \n');
\set s shop
CREATE TABLE :s.u (a int);
SELECT :'s' AS name, 1::int AS one \gset
CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; \not a command $body$ LANGUAGE sql;
COPY t (a) FROM stdin;
a\tb
\.
\connect shop
ALTER TABLE orders ADD COLUMN note text;
\unrestrict Xy12
"""


def test_meta_commands_are_taken_out_and_sql_keeps_its_lines():
    statements = parse_statements(SCRIPT, "dump.sql")
    assert [(s.line, s.sql.split()[0]) for s in statements] == [
        (4, "CREATE"),
        (6, "CREATE"),
        (7, "SELECT"),
        (8, "CREATE"),
        (9, "COPY"),
        (13, "ALTER"),
    ]
    assert statements[1].sql == "CREATE TABLE shop.u (a int)"  # \set variables are substituted
    assert statements[2].sql.startswith("SELECT 'shop' AS name, 1::int")
    assert "\\not a command" in statements[3].sql  # a backslash in a dollar-quoted body is SQL


def test_script_keeps_meta_commands_in_order_with_their_lines():
    items = parse_script(SCRIPT, "dump.sql")
    commands = [(i.line, i.node.name) for i in items if isinstance(i.node, PsqlCommand)]
    assert commands == [
        (1, "set"),
        (2, "restrict"),
        (5, "set"),
        (7, "gset"),
        (12, "connect"),
        (14, "unrestrict"),
    ]
    order = [i.line for i in items]
    assert order == sorted(order)


def test_an_unset_variable_is_left_as_psql_leaves_it():
    assert split_script("SELECT :undefined;").sql == "SELECT :undefined;"


def test_each_meta_command_is_an_info_finding_at_its_line():
    findings = lint(SCRIPT, filename="dump.sql")
    psql = [(f.line, f.severity) for f in findings if f.code == "DW743"]
    assert psql == [(line, Severity.INFO) for line in (1, 2, 5, 7, 12, 14)]
    assert all(f.code != "DW739" for f in findings)  # nothing "not understood"


def test_connect_starts_a_new_session():
    findings = lint("SET lock_timeout = '2s';\n\\connect shop\nALTER TABLE orders ADD COLUMN note text;\n")
    assert "DW730" in {f.code for f in findings}  # the timeout was set in the previous session


def _tree(root: Path) -> Path:
    (root / "sub").mkdir()
    (root / "main.sql").write_text("\\set ON_ERROR_STOP 1\nBEGIN;\n\\ir sub/b.sql\nCOMMIT;\n")
    (root / "sub" / "b.sql").write_text(
        "\n\nALTER TABLE orders ADD COLUMN x int;\n\\ir ../main.sql\n\\ir c.sql\n"
    )
    (root / "sub" / "c.sql").write_text("CREATE INDEX CONCURRENTLY orders_x_idx ON orders (x);\n")
    return root / "main.sql"


def test_ir_is_followed_from_the_including_file_and_findings_name_their_file(tmp_path):
    main = _tree(tmp_path)
    findings = lint_files([main])
    where = {(f.code, Path(f.file).relative_to(tmp_path).as_posix(), f.line) for f in findings}
    assert ("DW730", "sub/b.sql", 3) in where  # the ALTER in the included file, at its own line
    assert ("DW703", "sub/c.sql", 1) in where  # still inside main.sql's BEGIN: state carries through
    cycle = [f for f in findings if f.code == "DW743" and "cycle" in f.message]
    assert len(cycle) == 1 and cycle[0].severity == Severity.MEDIUM and cycle[0].line == 4


def test_i_is_read_from_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "part.sql").write_text("DROP TABLE legacy;\n")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "main.sql").write_text("\\i part.sql\n")
    monkeypatch.chdir(tmp_path)
    findings = lint_files([tmp_path / "dir" / "main.sql"])
    assert [(f.code, f.file) for f in findings if f.code == "DW719"] == [("DW719", "part.sql")]


def test_a_missing_include_is_reported_not_fatal(tmp_path):
    (tmp_path / "main.sql").write_text("\\ir nowhere.sql\nSELECT 1;\n")
    [finding] = [f for f in lint_files([tmp_path / "main.sql"]) if f.code == "DW743"]
    assert finding.severity == Severity.MEDIUM and "does not exist" in finding.message


def test_describe_lists_included_statements_with_their_file(tmp_path):
    main = _tree(tmp_path)
    infos = describe(main.read_text(), filename=str(main))
    files = [Path(i.file).name for i in infos if i.kind.startswith("AlterTable")]
    assert files == ["b.sql"]


def test_quit_ends_the_script_as_in_psql():
    sql = '\\echo Use "CREATE EXTENSION x" to load this file. \\quit\nDROP TABLE orders;\n'
    findings = lint(sql)
    assert [f.code for f in findings] == ["DW743", "DW743"]  # \\echo, \\quit; the DROP is never run
    assert "psql stops here" in findings[1].message


def test_describe_lists_sql_only():
    infos = describe("\\set ON_ERROR_STOP 1\nBEGIN;\nCREATE TABLE t (id bigint);\nCOMMIT;\n")
    assert [i.kind for i in infos] == ["Transaction:Begin", "CreateTable", "Transaction:Commit"]


def test_copy_from_stdin_data_is_not_sql():
    sql = "\\copy orders (id) from stdin\n1\n2\n\\.\nDROP TABLE legacy;\n"
    findings = lint(sql)
    assert {(f.code, f.line) for f in findings if f.code != "DW743"} >= {("DW719", 5)}
    assert {f.line for f in findings} == {1, 5}  # the data rows are not statements


def test_gexec_runs_sql_the_lint_cannot_see():
    sql = "SELECT format('DROP TABLE %I', relname) FROM pg_class WHERE relname LIKE 'tmp_%' \\gexec\n"
    [finding] = [f for f in lint(sql) if f.code == "DW743"]
    assert finding.severity == Severity.MEDIUM and "cannot see" in finding.message
