"""Migration files: names, up and down parts, checksums. No database needed."""

from datetime import UTC, datetime

import pytest

from dbwright.changes.migration_file import DOWN_MARK, UP_MARK
from dbwright.changes.migrations.files import checksum, discover, new_migration, parse_file
from dbwright.errors import InputFileError
from tests.changes.migrations.conftest import write


def test_new_writes_timestamped_file_with_both_parts(mdir):
    first = new_migration(mdir, "Add orders status!", now=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC))
    assert first.name == "V20250304050607__add_orders_status.sql"
    text = first.read_text()
    assert text.index(UP_MARK) < text.index(DOWN_MARK)
    # a second one in the same second still sorts after the first
    second = new_migration(mdir, "next", now=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC))
    assert second.name == "V20250304050608__next.sql"
    assert [m.filename for m in discover(mdir)] == [first.name, second.name]


def test_new_with_its_up_and_down_parts_filled(mdir):
    path = new_migration(mdir, "add t\n-- migrate:down", up="CREATE TABLE t (id int);", down="DROP TABLE t;")
    migration = parse_file(path)
    assert migration.up.strip() == "CREATE TABLE t (id int);"
    assert migration.down.strip() == "DROP TABLE t;"
    assert path.read_text().splitlines()[0] == "-- add t -- migrate:down"


def test_sections_and_lines(mdir):
    path = write(
        mdir, 1, "one", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);", "DROP TABLE b;\nDROP TABLE a;"
    )
    migration = parse_file(path)
    assert migration.version == "1" and migration.name == "one"
    assert migration.up.strip().startswith("CREATE TABLE a")
    assert path.read_text().splitlines()[migration.up_line - 1] == "CREATE TABLE a (id int);"
    assert path.read_text().splitlines()[migration.down_line - 1] == "DROP TABLE b;"


def test_checksum_ignores_line_endings_and_surrounding_blank_lines():
    assert checksum("CREATE TABLE a (id int);\nSELECT 1;") == checksum(
        "\n\r\nCREATE TABLE a (id int);\r\nSELECT 1;\r\n\n"
    )
    assert checksum("SELECT 1;") != checksum("SELECT 2;")


def test_down_part_is_not_checksummed(mdir):
    path = write(mdir, 1, "one", "SELECT 1;", "SELECT 2;")
    before = parse_file(path).checksum
    write(mdir, 1, "one", "SELECT 1;", "SELECT 3;")
    assert parse_file(path).checksum == before


@pytest.mark.parametrize("name", ["001_init.sql", "V1_init.sql", "V1__bad-name.sql"])
def test_misnamed_sql_file_is_an_error(mdir, name):
    (mdir / name).write_text(f"{UP_MARK}\nSELECT 1;\n{DOWN_MARK}\n")
    with pytest.raises(InputFileError, match="not a migration file name"):
        discover(mdir)


def test_missing_or_doubled_markers(mdir):
    (mdir / "V1__a.sql").write_text("SELECT 1;\n")
    with pytest.raises(InputFileError, match="V1__a.sql: has no '-- migrate:up' line"):
        discover(mdir)
    (mdir / "V1__a.sql").write_text(f"{DOWN_MARK}\nSELECT 1;\n{UP_MARK}\nSELECT 2;\n")
    with pytest.raises(InputFileError, match="comes before"):
        discover(mdir)


def test_duplicate_versions(mdir):
    write(mdir, 1, "a", "SELECT 1;")
    write(mdir, "001", "b", "SELECT 1;")
    with pytest.raises(InputFileError, match="same version"):
        discover(mdir)


def test_missing_directory(tmp_path):
    with pytest.raises(InputFileError, match="migrations directory not found"):
        discover(tmp_path / "nope")
