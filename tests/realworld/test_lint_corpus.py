"""The lint on real schema files, upgrade scripts and migrations nobody here wrote (issue 15, item 3).

Every file is linted as its application runs it; none may stop on a parse failure, except the few that
PostgreSQL's own parser rejects too (pinned below with the reason: the lint reports those, one line
with file and line, exactly as the server would refuse them).
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from dbwright.changes.lint import LintState, describe, lint
from dbwright.errors import SqlParseError
from tests.pgcluster import PG_BIN, Cluster
from tests.realworld.corpus import load_synapse
from tests.realworld.migration_sql import (
    as_synapse_runs_it,
    django_migrations,
    mediawiki_postgres_dir,
    mediawiki_sql_files,
    mlflow_revisions,
    musicbrainz_sql_dir,
    rails_migrations,
    synapse_runs_on_postgres,
    synapse_schema_dir,
    synapse_sql_files,
)

pytestmark = pytest.mark.slow

#: Files PostgreSQL itself cannot parse: relative path -> why. None of them is run on PostgreSQL today.
NOT_POSTGRESQL = {
    "synapse/main/delta/12/v12.sql": "SQLite's AUTOINCREMENT, from before synapse supported PostgreSQL",
    "synapse/main/delta/14/v14.sql": "SQLite's AUTOINCREMENT, from before synapse supported PostgreSQL",
    "synapse/main/delta/16/users.sql": "BIGINT UNSIGNED (SQLite/MySQL), from before synapse supported PostgreSQL",
    "synapse/main/delta/54/account_validity_with_renewal.sql": "a missing semicolon between two CREATE INDEX",
    "mediawiki/archives/patch-objectcache_keyname-pk.sql": "ALTER TABLE … ADD DEFAULT '' (not PostgreSQL syntax)",
}


def _lint_files(files: list[Path], name, prepare=lambda sql: sql) -> tuple[dict[str, str], Counter]:
    """Lint each file as its own migration; parse failures by name, and the finding codes counted."""
    failures: dict[str, str] = {}
    codes: Counter = Counter()
    state = LintState(atomic_files=True)  # synapse and MediaWiki's updater run each script in a transaction
    for path in files:
        try:
            codes.update(f.code for f in lint(prepare(path.read_text()), filename=str(path), state=state))
        except SqlParseError as error:
            failures[name(path)] = str(error)
    return failures, codes


def _synapse_name(path: Path) -> str:
    return "synapse/" + path.relative_to(synapse_schema_dir()).as_posix()


def test_synapse_schema_files_and_every_delta_lint_without_a_parse_failure():
    files = synapse_sql_files()
    assert len(files) >= 400, len(files)  # 3 full schemas and hundreds of deltas, .sql and .sql.postgres
    failures, codes = _lint_files(files, _synapse_name, as_synapse_runs_it)
    run_on_postgres = {_synapse_name(p) for p in files if synapse_runs_on_postgres(p)}
    assert not run_on_postgres & set(failures), failures
    assert set(failures) == {name for name in NOT_POSTGRESQL if name.startswith("synapse/")}, failures
    for name, error in failures.items():  # one line, naming the file and the line
        assert "\n" not in error and f"{name.removeprefix('synapse/')}:" in error
    assert codes["DW739"] <= 2, codes  # nearly every statement is understood


def test_mediawiki_postgres_tables_and_upgrade_patches_lint_without_a_parse_failure():
    files = mediawiki_sql_files()
    assert len(files) >= 30 and any("archives" in p.parts for p in files)
    failures, codes = _lint_files(
        files, lambda p: "mediawiki/" + p.relative_to(mediawiki_postgres_dir()).as_posix()
    )
    assert set(failures) == {name for name in NOT_POSTGRESQL if name.startswith("mediawiki/")}, failures
    assert codes["DW739"] == 0, codes  # CREATE RULE and the rest are modelled


def test_musicbrainz_psql_scripts_lint_without_a_parse_failure():
    """The mature schema of issue 15: \\set ON_ERROR_STOP 1 in nearly every file, \\ir includes."""
    root = musicbrainz_sql_dir()
    files = sorted(root.rglob("*.sql"))
    assert len(files) >= 140
    failures, codes = _lint_files(files, lambda p: p.relative_to(root).as_posix())
    assert failures == {}
    assert codes["DW743"] >= 150  # \\set ON_ERROR_STOP 1, \\unset ON_ERROR_STOP, \\ir: listed, skipped
    helper = root / "CreateAllReplicationTriggers2.sql"  # six \\ir lines, nothing else
    statements = describe(helper.read_text(), filename=str(helper))
    read = {Path(info.file).relative_to(root).as_posix() for info in statements}
    assert "documentation/CreateReplicationTriggers2.sql" in read and len(read) == 6  # each \\ir followed
    not_understood = {f.sql.split()[0] for path in files for f in lint(path.read_text()) if f.code == "DW739"}
    assert not_understood <= {"DO"}, not_understood  # only DO blocks, whose locks no model can see


def test_pg_dump_schema_of_a_real_database_lints_cleanly(cluster: Cluster, tmp_path: Path):
    """pg_dump -s -C from the local 15.x client writes \\restrict and \\unrestrict around the dump, and
    \\connect to the database it creates."""
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS lint_dump WITH (FORCE)")
        admin.execute("CREATE DATABASE lint_dump")
    try:
        load_synapse(cluster.url("lint_dump"))
        dump = subprocess.run(
            [str(PG_BIN / "pg_dump"), "-s", "-C", "-d", cluster.url("lint_dump")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS lint_dump WITH (FORCE)")
    assert dump.lstrip().startswith("--") and "\n\\restrict " in dump and "\n\\unrestrict " in dump
    findings = lint(dump, filename="synapse.dump.sql")
    psql = [f for f in findings if f.code == "DW743"]
    # pg_dump lifts the restriction around \\connect and sets it again for the new connection
    expected = ["\\restrict", "\\unrestrict", "\\connect", "\\restrict", "\\unrestrict"]
    assert [f.sql.split()[0] for f in psql] == expected
    assert not [f for f in findings if f.code == "DW739"]


def test_mlflow_alembic_revisions_lint_without_a_parse_failure():
    revisions = mlflow_revisions()
    rendered = {name: r["sql"] for name, r in revisions.items() if "sql" in r}
    assert len(rendered) >= 60, f"only {len(rendered)} of {len(revisions)} revisions render offline"
    state = LintState()
    codes: Counter = Counter()
    for name, sql in rendered.items():  # in upgrade order: state carries from revision to revision
        assert "BEGIN;" in sql and "COMMIT;" in sql  # Alembic's offline SQL writes its transaction
        codes.update(f.code for f in lint(sql, filename=f"mlflow/{name}.sql", state=state))
    assert codes["DW739"] == 0, codes
    assert codes["DW744"] > 0  # an ALTER and then a scan in one revision's transaction: the lock is held


def test_django_sqlmigrate_output_is_understood(cluster: Cluster):
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS lint_django WITH (FORCE)")
        admin.execute("CREATE DATABASE lint_django")
    try:
        migrations = django_migrations(cluster.url("lint_django"))
    finally:
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS lint_django WITH (FORCE)")
    assert len(migrations) >= 40
    with_set_constraints = [name for name, sql in migrations.items() if "SET CONSTRAINTS" in sql]
    assert with_set_constraints  # Django writes it after adding a deferrable foreign key
    state = LintState()
    by_migration: dict[str, set[str]] = {}
    for name, sql in migrations.items():
        by_migration[name] = {f.code for f in lint(sql, filename=f"{name}.sql", state=state)}
    assert not [
        name for name, codes in by_migration.items() if "DW739" in codes
    ]  # SET CONSTRAINTS understood
    # ADD COLUMN … REFERENCES, then CREATE INDEX, in one atomic migration: ACCESS EXCLUSIVE held through the build
    assert "DW744" in by_migration["django_celery_beat.0002_auto_20161118_0346"]


def test_rails_migrations_of_a_real_gem_are_understood(cluster: Cluster):
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS lint_rails WITH (FORCE)")
        admin.execute("CREATE DATABASE lint_rails")
    try:
        migrations = rails_migrations(cluster.url("lint_rails"))
    finally:
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS lint_rails WITH (FORCE)")
    assert len(migrations) == 7 and all("BEGIN;" in sql and "COMMIT;" in sql for sql in migrations.values())
    state = LintState()
    found = {name: lint(sql, filename=f"{name}.rb.sql", state=state) for name, sql in migrations.items()}
    assert not [f for findings in found.values() for f in findings if f.code == "DW739"]
    # DROP INDEX of an index migration 1 created locks its table, taggings
    [drop] = [f for f in found["2_AddMissingUniqueIndices"] if f.code == "DW702"][:1]
    assert "on taggings" in drop.message
    # ADD COLUMN then CREATE INDEX in one migration's transaction: ACCESS EXCLUSIVE held through the build
    [held] = [f for f in found["7_AddTenantToTaggings"] if f.code == "DW744"]
    assert "ACCESS EXCLUSIVE on taggings" in held.message
