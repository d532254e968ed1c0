"""Real schema files, upgrade scripts and migrations as SQL, for the lint (tests/realworld/test_lint_corpus.py).

Fetched like the rest of the corpus (corpus.py), into the same cache:
- synapse: every ``.sql`` and ``.sql.postgres`` of its schema directories (full schemas and the hundreds of
  upgrade deltas), from the PyPI wheel, with the placeholder synapse's own runner replaces before it runs
  a delta on PostgreSQL;
- MediaWiki: every ``.sql`` under ``maintenance/postgres`` (tables, and the archived upgrade patches);
- MusicBrainz: its schema's SQL files, as the PyPI package mbdata ships them (psql scripts throughout);
- MLflow: each Alembic revision rendered offline (``alembic upgrade A:B --sql``) by MLflow's own
  environment; revisions that read the database while they run cannot render offline and are listed;
- Django: ``sqlmigrate`` of Django's contrib apps and two PyPI packages with migrations (django-taggit,
  django-celery-beat), each migration rendered and then applied, as on a real deployment;
- Rails: the migrations acts-as-taggable-on ships, run by ActiveRecord 6.1 (Debian's ruby-activerecord,
  ruby-pg and ruby-acts-as-taggable-on, which scripts/test installs), with the SQL it sent recorded.

No pytest here.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

from tests.realworld.corpus import (
    SYNAPSE_VERSION,
    _run,
    cache_dir,
    mediawiki_files,
    mlflow_python,
    synapse_files,
)

HERE = Path(__file__).parent
DJANGO = "Django>=5.2,<5.3"
DJANGO_PACKAGES = ("django-taggit==6.1.0", "django-celery-beat==2.9.0")
#: synapse's runner replaces this before it runs a script on PostgreSQL (synapse/storage/engines/postgres.py).
SYNAPSE_PLACEHOLDERS = {"$%AUTO_INCREMENT_PRIMARY_KEY%$": "BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY"}


def synapse_schema_dir() -> Path:
    """synapse/storage/schema with every .sql and .sql.postgres file of the wheel."""
    synapse_files()  # the wheel, downloaded once
    root = cache_dir() / f"matrix-synapse-{SYNAPSE_VERSION}"
    marker = root / ".all-schema-files"
    if not marker.exists():
        (wheel,) = (root / "wheel").glob("matrix_synapse-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.startswith("synapse/storage/schema/") and name.endswith((".sql", ".sql.postgres")):
                    archive.extract(name, root)
        marker.touch()
    return root / "synapse" / "storage" / "schema"


def synapse_sql_files() -> list[Path]:
    return sorted(p for p in synapse_schema_dir().rglob("*") if p.name.endswith((".sql", ".sql.postgres")))


def synapse_runs_on_postgres(path: Path) -> bool:
    """synapse builds a new PostgreSQL database from full_schemas/72 and then runs only the newer deltas."""
    parts = path.relative_to(synapse_schema_dir()).parts
    if "delta" not in parts:
        return True  # full_schemas/72
    return int(parts[parts.index("delta") + 1]) > 72


def as_synapse_runs_it(sql: str) -> str:
    for placeholder, value in SYNAPSE_PLACEHOLDERS.items():
        sql = sql.replace(placeholder, value)
    return sql


def mediawiki_postgres_dir() -> Path:
    return mediawiki_files()[0].parent  # maintenance/postgres


def mediawiki_sql_files() -> list[Path]:
    return sorted(mediawiki_postgres_dir().rglob("*.sql"))


def mlflow_revisions() -> dict[str, dict[str, str]]:
    """revision -> {"sql": …} or {"error": why it cannot render offline}, in upgrade order."""
    cached = cache_dir() / "mlflow-offline-sql.json"
    if not cached.exists():
        out = _run([str(mlflow_python()), str(HERE / "render_mlflow_sql.py")], cwd=cache_dir())
        cached.write_text(out)
    return json.loads(cached.read_text())


def django_python() -> Path:
    env = cache_dir() / "django-5.2-env"
    python = env / "bin" / "python"
    marker = env / ".complete"
    if not marker.exists():
        _run([sys.executable, "-m", "venv", "--clear", str(env)])
        _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", DJANGO,
              *DJANGO_PACKAGES, "psycopg[binary]"])  # fmt: skip
        marker.touch()
    return python


def django_migrations(empty_database_url: str) -> dict[str, str]:
    """ "app.migration" -> its ``sqlmigrate`` SQL for PostgreSQL, in the order ``migrate`` applies them."""
    return json.loads(_run([str(django_python()), str(HERE / "render_django_sql.py"), empty_database_url]))


def rails_migrations(empty_database_url: str) -> dict[str, str]:
    """ "version_name" -> the SQL ActiveRecord sent for each of acts-as-taggable-on's own migrations (Debian's
    ruby-acts-as-taggable-on, Rails 6.1's ActiveRecord), run in order against an empty database."""
    from psycopg.conninfo import conninfo_to_dict

    target = json.dumps(conninfo_to_dict(empty_database_url))
    return json.loads(_run(["ruby", str(HERE / "render_rails_sql.rb"), target]))


MBDATA_VERSION = "31.0.1"


def musicbrainz_sql_dir() -> Path:
    """MusicBrainz's schema SQL (the PyPI package mbdata ships musicbrainz-server's admin/sql): psql scripts
    with ``\\set ON_ERROR_STOP 1``, ``\\unset`` and ``\\ir`` includes, collations, text search, triggers."""
    root = cache_dir() / f"mbdata-{MBDATA_VERSION}"
    marker = root / ".complete"
    if not marker.exists():
        wheels = root / "wheel"
        _run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
              "--only-binary", ":all:", f"mbdata=={MBDATA_VERSION}", "-d", str(wheels)])  # fmt: skip
        (wheel,) = wheels.glob("mbdata-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.startswith("mbdata/sql/") and name.endswith(".sql"):
                    archive.extract(name, root)
        marker.touch()
    return root / "mbdata" / "sql"
