"""The real-schema corpus: public schemas nobody on the team wrote, fetched from registries at run time.

Third-party schema files are never committed (synapse is AGPL-3.0, MediaWiki GPL-2.0-or-later):
each schema is fetched by its registry's own client into a cache outside the repository
(``$DBWRIGHT_CORPUS_CACHE``, default ``~/.cache/dbwright-corpus``), so reruns are offline.
Each loader builds the schema in an empty database the way its application does, then
``rows.fill`` adds a few generated rows per table and the database is analyzed.

No pytest here: bench/realworld/measure.py uses it too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.pgcluster import PG_BIN
from tests.realworld.rows import fill

SYNAPSE_VERSION = "1.163.2"  # its full_schemas/72 dump is the newest full schema
MLFLOW_VERSION = "3.18.0"
ROWS_PER_TABLE = 5


def cache_dir() -> Path:
    root = Path(os.environ.get("DBWRIGHT_CORPUS_CACHE", Path.home() / ".cache" / "dbwright-corpus"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _psql_file(url: str, path: Path) -> None:
    """Load a SQL file as its application's installer would: psql, stop at the first error."""
    _run([str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(path)])


# --- matrix-synapse ---------------------------------------------------------------------------


def synapse_files() -> list[Path]:
    """synapse's pg_dump-style full schemas (common, main, state), from its PyPI wheel."""
    root = cache_dir() / f"matrix-synapse-{SYNAPSE_VERSION}"
    wanted = [
        f"synapse/storage/schema/{part}/full_schemas/72/full.sql.postgres"
        for part in ("common", "main", "state")
    ]
    if not all((root / name).exists() for name in wanted):
        wheels = root / "wheel"
        _run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
              "--only-binary", ":all:", f"matrix-synapse=={SYNAPSE_VERSION}", "-d", str(wheels)])  # fmt: skip
        (wheel,) = wheels.glob("matrix_synapse-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for name in wanted:
                archive.extract(name, root)
    return [root / name for name in wanted]


def load_synapse(url: str) -> None:
    for path in synapse_files():
        _psql_file(url, path)


# --- MediaWiki --------------------------------------------------------------------------------


def mediawiki_files() -> list[Path]:
    """MediaWiki's PostgreSQL tables from Debian's package: the generated tables, then its tsearch extras.

    Its installer runs maintenance/postgres/tables-generated.sql (from tables.json), then
    maintenance/postgres/tables.sql (text-search columns and triggers).
    """
    root = cache_dir() / "mediawiki"
    wanted = [
        root / "usr/share/mediawiki/maintenance/postgres" / name
        for name in ("tables-generated.sql", "tables.sql")
    ]
    if not all(path.exists() for path in wanted):
        debs = root / "deb"
        debs.mkdir(parents=True, exist_ok=True)
        try:
            _run(["apt-get", "download", "mediawiki"], cwd=debs)
        except RuntimeError:  # a machine whose package lists were never fetched
            _run([*([] if os.geteuid() == 0 else ["sudo"]), "apt-get", "update", "-qq"])
            _run(["apt-get", "download", "mediawiki"], cwd=debs)
        (deb,) = debs.glob("mediawiki_*.deb")
        _run(["dpkg-deb", "-x", str(deb), str(root)])
    return wanted


def load_mediawiki(url: str) -> None:
    for path in mediawiki_files():
        _psql_file(url, path)


# --- MLflow -----------------------------------------------------------------------------------


def mlflow_python() -> Path:
    """A small virtualenv in the cache with mlflow-skinny (which carries the tracking store and its
    Alembic migrations), SQLAlchemy and psycopg: what MLflow's own database setup imports."""
    env = cache_dir() / f"mlflow-{MLFLOW_VERSION}-env"
    python = env / "bin" / "python"
    marker = env / ".complete"
    if not marker.exists():
        _run([sys.executable, "-m", "venv", "--clear", str(env)])
        _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
              f"mlflow-skinny=={MLFLOW_VERSION}", f"mlflow-tracing=={MLFLOW_VERSION}",
              "sqlalchemy<3", "alembic<2", "psycopg[binary]"])  # fmt: skip
        marker.touch()
    return python


_MLFLOW_INIT = """
import sys, sqlalchemy
from mlflow.store.db.utils import _initialize_tables
_initialize_tables(sqlalchemy.create_engine(sys.argv[1]))
"""


def load_mlflow(url: str) -> None:
    """MLflow's tracking-server schema, built as `mlflow server` builds it on first start: its initial
    models, then every Alembic migration (`alembic upgrade heads`, online) against this database."""
    sqlalchemy_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    _run(
        [str(mlflow_python()), "-c", _MLFLOW_INIT, sqlalchemy_url],
        env={**os.environ, "MLFLOW_LOGGING_LEVEL": "WARNING"},
    )


# --- the corpus -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusSchema:
    name: str
    source: str  # where it comes from, in one line (docs/realworld.md)
    load: Callable[[str], None]


CORPUS: tuple[CorpusSchema, ...] = (
    CorpusSchema(
        "synapse",
        f"PyPI matrix-synapse {SYNAPSE_VERSION}: synapse/storage/schema/{{common,main,state}}/full_schemas/72",
        load_synapse,
    ),
    CorpusSchema(
        "mediawiki",
        "Debian 12 mediawiki: maintenance/postgres/tables-generated.sql + tables.sql",
        load_mediawiki,
    ),
    CorpusSchema(
        "mlflow",
        f"PyPI mlflow-skinny {MLFLOW_VERSION}: initial models + every Alembic migration, applied online",
        load_mlflow,
    ),
)


def build(schema: CorpusSchema, url: str, rows: int = ROWS_PER_TABLE) -> dict[str, int]:
    """Load ``schema`` into the empty database at ``url``, add ``rows`` generated rows per table, analyze.

    Returns how many tables have rows and how many stayed empty (a CHECK or trigger refused every row).
    """
    schema.load(url)
    with psycopg.connect(url, autocommit=True) as conn:
        counts = fill(conn, rows)
        conn.execute("ANALYZE")
    return counts
