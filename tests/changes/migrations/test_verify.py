"""verify and the refusals of apply: tampering named by file, drift named by object."""

import pytest

from dbwright.changes.migrations import apply, verify
from dbwright.engines.postgres.migration_history import TABLE
from dbwright.errors import RefusedError
from tests.changes.migrations.conftest import FAST, write
from tests.cli.test_cli_errors import run_cli


@pytest.fixture
def applied(pg, mdir):
    write(mdir, 1, "orders", "CREATE TABLE orders (id bigint PRIMARY KEY);", "DROP TABLE orders;")
    write(mdir, 2, "note", "ALTER TABLE orders ADD COLUMN note text;", "ALTER TABLE orders DROP COLUMN note;")
    apply(pg.url, mdir, FAST)
    assert verify(pg.url, mdir).ok
    return mdir


def _refused(pg, mdir, *phrases):
    """apply through the CLI: exit 17, one line naming the file; verify: exit 1 with the same problem."""
    write(mdir, 3, "pending", "CREATE TABLE later (id int);")
    result = run_cli("migrate", "apply", "-d", pg.url, "--dir", str(mdir))
    assert result.returncode == 17, result.stderr
    assert result.stderr.startswith("dbwright: error: ") and len(result.stderr.strip().splitlines()) == 1
    for phrase in phrases:
        assert phrase in result.stderr
    assert pg.value("SELECT to_regclass('public.later')") is None
    checked = run_cli("migrate", "verify", "-d", pg.url, "--dir", str(mdir))
    assert checked.returncode == 1
    for phrase in phrases:
        assert phrase in checked.stdout


def test_edited_file(pg, applied):
    write(applied, 2, "note", "ALTER TABLE orders ADD COLUMN note varchar(10);")
    _refused(pg, applied, "V2__note.sql was edited after it was applied")


def test_renamed_file(pg, applied):
    (applied / "V2__note.sql").rename(applied / "V2__add_note.sql")
    _refused(pg, applied, "V2__add_note.sql was applied as V2__note.sql")


def test_removed_file(pg, applied):
    (applied / "V1__orders.sql").unlink()
    _refused(pg, applied, "V1__orders.sql was applied but is missing")


def test_reordered_files(pg, applied):
    one, two = (applied / "V1__orders.sql").read_text(), (applied / "V2__note.sql").read_text()
    (applied / "V1__orders.sql").unlink()
    (applied / "V2__note.sql").unlink()
    (applied / "V1__note.sql").write_text(two)
    (applied / "V2__orders.sql").write_text(one)
    _refused(pg, applied, "reordered", "V1__note.sql")


def test_history_row_edited(pg, applied):
    pg.execute(f"UPDATE {TABLE} SET checksum = md5('x') || md5('y') WHERE version = '1'")
    report = verify(pg.url, applied)
    assert [p.kind for p in report.problems][0] == "history altered"
    assert "V1__orders.sql" in report.problems[0].message
    with pytest.raises(RefusedError, match="history row of V1__orders.sql does not chain"):
        apply(pg.url, applied, FAST)


def test_deleted_history_row(pg, applied):
    pg.execute(f"DELETE FROM {TABLE} WHERE version = '1'")
    report = verify(pg.url, applied)
    assert report.problems[0].kind == "history altered" and "V2__note.sql" in report.problems[0].message


def test_drift_names_each_object(pg, applied):
    pg.execute("ALTER TABLE orders ALTER COLUMN note TYPE varchar(20)")
    pg.execute("CREATE TABLE by_hand (id int)")
    report = verify(pg.url, applied)
    assert not report.ok and not report.problems
    assert report.drift == [
        "table public.by_hand: not in the history",
        "table public.orders: column note type changed",
    ]
    assert report.compared_with == "2"
    result = run_cli("migrate", "verify", "-d", pg.url, "--dir", str(applied), "--format", "json")
    assert result.returncode == 1
    assert '"table public.by_hand: not in the history"' in result.stdout


def test_verify_behind_a_held_lock_is_a_one_line_server_error(pg, applied):
    holder = pg.connect()
    holder.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
    result = run_cli("migrate", "verify", "-d", pg.url, "--dir", str(applied))
    holder.rollback()
    assert result.returncode == 20, result.stderr
    assert result.stderr.startswith(
        "dbwright: error: reading the history and the schema failed: canceling statement due to lock timeout"
    )
