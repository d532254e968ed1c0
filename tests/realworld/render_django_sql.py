"""Print the SQL of Django's own migrations (contrib apps) for PostgreSQL, as `manage.py sqlmigrate`
renders it, in the order `migrate` applies them (JSON: "app.migration" -> sql). Runs in a virtualenv
with Django; argv[1] is an empty PostgreSQL database: each migration is rendered, then applied, as
`sqlmigrate` then `migrate` would on a real deployment."""

import io
import json
import sys

import django
from django.conf import settings
from psycopg.conninfo import conninfo_to_dict

CONTRIB = ["contenttypes", "auth", "admin", "sessions", "sites", "redirects", "flatpages"]
THIRD_PARTY = ["taggit", "django_celery_beat"]  # real packages from PyPI, with their own migrations
target = conninfo_to_dict(sys.argv[1])  # host and port may be in the query string (a unix socket)
settings.configure(
    INSTALLED_APPS=[f"django.contrib.{app}" for app in CONTRIB] + THIRD_PARTY,
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": target["dbname"],
            "USER": target.get("user", ""),
            "PASSWORD": target.get("password", ""),
            "HOST": target.get("host", ""),
            "PORT": str(target.get("port", "")),
        }
    },
    USE_TZ=True,
)
django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402

loader = MigrationLoader(connection)
order = []
for leaf in loader.graph.leaf_nodes():
    for node in loader.graph.forwards_plan(leaf):
        if node not in order:
            order.append(node)
out = {}
for app, name in order:
    buffer = io.StringIO()
    call_command("sqlmigrate", app, name, stdout=buffer)
    out[f"{app}.{name}"] = buffer.getvalue()
    # applied before the next one is rendered, so a migration that reads the schema sees the real one
    call_command("migrate", app, name, verbosity=0)
json.dump(out, sys.stdout)
