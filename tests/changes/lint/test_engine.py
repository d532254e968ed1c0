"""The lint engine: statement facts, parse errors, ignores, state across statements and files."""

from __future__ import annotations

import pytest

from dbwright.changes.lint import LintState, describe, lint, lint_files
from dbwright.errors import InputFileError, SqlParseError


def codes(findings, *, ignored: bool = False) -> set[str]:
    return {f.code for f in findings if f.ignored == ignored}


def test_describe_gives_lock_rewrite_scan_and_transaction_per_statement():
    infos = describe(
        "SET lock_timeout = '2s';\n\nCREATE INDEX CONCURRENTLY i ON shop.orders (a);\n"
        "ALTER TABLE shop.orders ADD CONSTRAINT f FOREIGN KEY (c) REFERENCES customers (id);\n"
        "DO $$ BEGIN END $$;"
    )
    assert [(i.line, i.kind, i.lock, i.transactional, i.understood) for i in infos] == [
        (1, "Set", "none", True, True),
        (3, "CreateIndex", "SHARE UPDATE EXCLUSIVE", False, True),
        (4, "AlterTable:AddConstraint:Foreign", "SHARE ROW EXCLUSIVE", True, True),
        (5, "Do", "unknown", True, False),  # a DO block's locks are not modelled: reported, not passed
    ]
    assert infos[2].tables == ("shop.orders", "customers") and infos[2].scans and not infos[2].rewrites
    assert infos[1].sql == "CREATE INDEX CONCURRENTLY i ON shop.orders (a)"


def test_a_do_block_that_commits_runs_outside_a_transaction():
    batched = describe("DO $$ BEGIN LOOP UPDATE t SET x = 1 WHERE x IS NULL; EXIT; COMMIT; END LOOP; END $$;")
    plain = describe("DO $$ BEGIN PERFORM 1; END $$;")
    assert (batched[0].kind, batched[0].transactional) == ("Do", False)
    assert (plain[0].kind, plain[0].transactional) == ("Do", True)


@pytest.mark.parametrize(
    ("sql", "line"),
    [("SELECT 1;\n\nSELEC 2;", 3), ("SELECT 1;\nSELECT (1", 2), ("CREATE TABLE t (a int,);", 1)],
)
def test_malformed_sql_names_file_and_line(sql, line):
    with pytest.raises(SqlParseError) as raised:
        lint(sql, filename="migrations/003_bad.sql")
    assert str(raised.value).startswith(f"migrations/003_bad.sql:{line}: syntax error")
    assert "\n" not in str(raised.value)


def test_ignore_with_reason_marks_the_finding_ignored():
    findings = lint(
        "SET lock_timeout = '1s';\n"
        "-- dbwright:ignore DW701 reason: orders is empty until launch\n"
        "CREATE INDEX i ON orders (a);"
    )
    [dw701] = [f for f in findings if f.code == "DW701"]
    assert dw701.ignored and dw701.ignore_reason == "orders is empty until launch"
    assert "DW738" not in codes(findings)


def test_ignore_on_the_same_line_and_for_several_codes():
    findings = lint(
        "CREATE INDEX i ON orders (a); -- dbwright:ignore DW701, DW730, DW731 reason: empty table"
    )
    assert codes(findings, ignored=True) == {"DW701", "DW730", "DW731"} and not codes(findings)


def test_ignore_without_reason_is_a_finding_and_silences_nothing():
    findings = lint("-- dbwright:ignore DW701\nCREATE INDEX i ON orders (a);")
    assert {"DW701", "DW738"} <= codes(findings)


def test_ignore_inside_a_string_is_not_an_ignore():
    findings = lint("UPDATE orders SET note = '-- dbwright:ignore DW729 reason: x';")
    assert "DW729" in codes(findings)


def test_table_created_in_the_migration_raises_no_lock_warnings():
    findings = lint(
        "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind text);\n"
        "CREATE INDEX ON events (kind);\nALTER TABLE events ADD COLUMN t uuid DEFAULT gen_random_uuid();\n"
        "ALTER TABLE events ALTER COLUMN kind SET NOT NULL;\nALTER TABLE events RENAME COLUMN kind TO k;"
    )
    assert not codes(findings)


def test_state_carries_across_files_in_name_order(tmp_path):
    (tmp_path / "002_use.sql").write_text(
        "ALTER TABLE orders ALTER COLUMN note TYPE varchar(40);\n"
        "ALTER TABLE orders ALTER COLUMN region SET NOT NULL;"
    )
    (tmp_path / "001_create.sql").write_text(
        "CREATE TABLE orders (id bigint PRIMARY KEY, note varchar(20), region text);\n"
        "ALTER TABLE orders ADD CONSTRAINT region_nn CHECK (region IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT region_nn;"
    )
    (tmp_path / "notes.txt").write_text("not SQL")
    findings = lint_files([tmp_path])
    later = [f for f in findings if f.file.endswith("002_use.sql")]
    # varchar(20) -> varchar(40) is known binary-coercible; SET NOT NULL has its validated CHECK (PG 12+).
    assert not {"DW711", "DW712", "DW706"} & codes(later)
    # But orders existed before 002 ran, so lock rules apply to it there.
    assert "DW730" in codes(later)
    # Deployed together (--unapplied), the table is still new in 002.
    together = lint_files([tmp_path], state=LintState(earlier_files_unapplied=True))
    assert not codes(together) - {"DW737"}  # only the varchar(20) hygiene note in 001


def test_without_the_history_the_type_change_is_flagged(tmp_path):
    (tmp_path / "002_use.sql").write_text("ALTER TABLE orders ALTER COLUMN note TYPE varchar(40);")
    assert "DW711" in codes(lint_files([tmp_path]))


def test_transaction_blocks_are_tracked():
    findings = lint(
        "BEGIN;\nCREATE INDEX CONCURRENTLY a ON t (x);\nCOMMIT;\nCREATE INDEX CONCURRENTLY b ON t (y);"
    )
    assert [f.line for f in findings if f.code == "DW703"] == [2]


def test_runner_timeouts_silence_the_timeout_rules():
    sql = "ALTER TABLE orders ADD CONSTRAINT c CHECK (qty > 0);"
    assert {"DW730", "DW731"} <= codes(lint(sql))
    assert not {"DW730", "DW731"} & codes(lint(sql, state=LintState(timeouts_set_by_runner=True)))


def test_version_awareness():
    add_default = "SET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN c int DEFAULT 0;"
    assert "DW704" in codes(lint(add_default, server_version=100000))
    assert "DW704" not in codes(lint(add_default, server_version=110000))
    add_value = "BEGIN;\nALTER TYPE mood ADD VALUE 'meh';\nCOMMIT;"
    assert "DW733" in codes(lint(add_value, server_version=110000))
    assert "DW733" not in codes(lint(add_value, server_version=120000))
    [info] = describe("ALTER TYPE mood ADD VALUE 'meh';", server_version=110000)
    assert not info.transactional


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputFileError):
        lint_files([tmp_path / "nope.sql"])


def test_snapshot_state_knows_live_column_types(pg):
    pg.execute(
        "CREATE TABLE orders (note varchar(20), qty int, region text, "
        "CONSTRAINT region_nn CHECK (region IS NOT NULL))"
    )
    state = LintState.from_snapshot(pg.snapshot())
    sql = (
        "SET lock_timeout = '1s'; SET statement_timeout = '1min';\n"
        "ALTER TABLE orders ALTER COLUMN note TYPE text;\nALTER TABLE orders ALTER COLUMN region SET NOT NULL;\n"
        "ALTER TABLE orders ALTER COLUMN qty TYPE bigint;"
    )
    findings = lint(sql, state=state)
    assert codes(findings) == {"DW711"} and "int4" not in findings[0].message
    assert "integer to bigint" in findings[0].message
