"""How a migration's statements become steps (what commits at once)."""

from pathlib import Path

from dbwright.changes.migrations.files import MigrationFile
from dbwright.changes.migrations.statements import statements_of, steps_of


def _steps(up: str) -> list[list[str]]:
    migration = MigrationFile("1", "m", Path("V1__m.sql"), up, "", 2, 3)
    return [
        [" ".join(s.sql.split()[2:4]) for s in step.statements] for step in steps_of(statements_of(migration))
    ]


def test_validate_constraint_starts_its_own_step():
    steps = _steps(
        "ALTER TABLE t ADD CONSTRAINT c CHECK (x > 0) NOT VALID;\n"
        "ALTER TABLE t VALIDATE CONSTRAINT c;\nALTER TABLE t ALTER COLUMN x SET NOT NULL;"
    )
    assert steps == [["t ADD"], ["t VALIDATE", "t ALTER"]]


def test_explicit_commit_ends_a_step_and_begin_is_dropped():
    steps = _steps("BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (id int);\nCOMMIT;")
    assert steps == [["a (id"], ["b (id"]]
    assert _steps("CREATE TABLE a (id int);\nCREATE TABLE b (id int);") == [["a (id", "b (id"]]
