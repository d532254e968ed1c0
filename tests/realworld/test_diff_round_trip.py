"""The declarative diff on real schemas (issue 15 item 2): each corpus schema, from an empty database.

For each schema: its SQL, as the application ships it, is the desired file — synapse's three
pg_dump-style full schemas and MediaWiki's two table files through a psql script of ``\\ir``
lines, MLflow's Alembic-built database through ``pg_dump --schema-only`` by this machine's
client (which writes ``\\restrict``). Then:

- the diff from an empty database applies with 0 errors (psql, without ON_ERROR_STOP, counts them);
- a second diff finds nothing;
- ``pg_dump --schema-only`` of the source (the file loaded by psql) and of the target match after
  sorting, with pg_dump's noise (comments, ``\\restrict`` keys, blank lines) left out;
- the down part returns the target to empty with 0 errors.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from dbwright.changes.diff import diff
from tests.changes.diff.helpers import pg_dump_lines, psql_errors, sections
from tests.pgcluster import PG_BIN, Cluster
from tests.realworld.corpus import load_mlflow, mediawiki_files, synapse_files

pytestmark = pytest.mark.slow


def _fresh(cluster: Cluster, name: str) -> str:
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    return cluster.url(name)


def _drop(cluster: Cluster, *names: str) -> None:
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _includes(folder: Path, files: list[Path]) -> Path:
    """A psql script that includes the schema's own files, as their installers run them in order."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(files):
        link = folder / f"{i}-{path.name}"
        link.symlink_to(path)
    script = folder / "schema.sql"
    script.write_text(
        "\\set ON_ERROR_STOP 1\n" + "".join(f"\\ir {i}-{path.name}\n" for i, path in enumerate(files))
    )
    return script


def _synapse(cluster: Cluster, tmp_path: Path) -> Path:
    return _includes(tmp_path / "synapse", synapse_files())


def _mediawiki(cluster: Cluster, tmp_path: Path) -> Path:
    return _includes(tmp_path / "mediawiki", mediawiki_files())


def _mlflow(cluster: Cluster, tmp_path: Path) -> Path:
    """MLflow builds its schema online (models + Alembic); pg_dump writes it as a file."""
    url = _fresh(cluster, "rt_mlflow_built")
    try:
        load_mlflow(url)
        dump = tmp_path / "mlflow.sql"
        subprocess.run(
            [str(PG_BIN / "pg_dump"), "--schema-only", "--no-owner", "-d", url, "-f", str(dump)], check=True
        )
    finally:
        _drop(cluster, "rt_mlflow_built")
    assert "\\restrict " in dump.read_text()  # this machine's pg_dump 15.x writes it
    return dump


@pytest.mark.parametrize("build", [_synapse, _mediawiki, _mlflow], ids=["synapse", "mediawiki", "mlflow"])
def test_real_schema_round_trips_from_empty(cluster: Cluster, tmp_path: Path, build) -> None:
    name = build.__name__.strip("_")
    schema = build(cluster, tmp_path)
    source, target = f"rt_{name}_source", f"rt_{name}_target"
    try:
        source_url, target_url = _fresh(cluster, source), _fresh(cluster, target)
        assert psql_errors(source_url, schema) == []

        started = time.monotonic()
        plan = diff(target_url, schema, allow_destructive=True)
        up, down = sections(plan.migration())
        (tmp_path / "up.sql").write_text(up)
        (tmp_path / "down.sql").write_text(down)
        assert plan.manual == [], plan.manual
        up_errors = psql_errors(target_url, tmp_path / "up.sql")
        again = diff(target_url, schema, allow_destructive=True)
        print(
            f"\n{name}: {len(plan.packages)} steps, {len(up_errors)} errors on apply, "
            f"{len(again.packages)} steps in a second diff, {time.monotonic() - started:.1f}s"
        )
        assert up_errors == []
        assert [d.to_dict() for d in again.differences] == []
        assert pg_dump_lines(target_url) == pg_dump_lines(source_url)

        down_errors = psql_errors(target_url, tmp_path / "down.sql")
        assert down_errors == []
        assert pg_dump_lines(target_url) == pg_dump_lines(_fresh(cluster, f"rt_{name}_empty"))
    finally:
        _drop(cluster, source, target, f"rt_{name}_empty")
