"""Print MLflow's Alembic migrations as offline SQL, one revision at a time (JSON: revision -> sql or
the reason it cannot render offline). Runs in MLflow's own virtualenv."""

import contextlib
import io
import json
import sys

from alembic import command
from alembic.script import ScriptDirectory
from mlflow.store.db.utils import _get_alembic_config

config = _get_alembic_config("postgresql://offline/mlflow")
revisions = list(reversed(list(ScriptDirectory.from_config(config).walk_revisions())))
out = {}
for revision in revisions:
    down = revision.down_revision if isinstance(revision.down_revision, str) else None
    target = f"{down}:{revision.revision}" if down else revision.revision
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            command.upgrade(config, target, sql=True)
        out[revision.revision] = {"sql": buffer.getvalue()}
    except Exception as error:  # a data migration that needs a live database
        out[revision.revision] = {
            "error": f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        }
json.dump(out, sys.stdout)
