"""Target resolution: what was named, else DATABASE_URL, else the PG* variables, else the demo."""

import pytest

from dbwright.engines.targets import Target, is_snapshot_file, resolve_target
from dbwright.errors import BadTargetError


def no_demo() -> str:
    raise AssertionError("the demo must not start when a target is known")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("postgresql://alice@db.example:5432/shop", "url"),
        ("postgres://db.example/shop", "url"),
        ("host=db.example dbname=shop", "conninfo"),
        ("service=prod", "conninfo"),
        ("shop", "name"),
        ("  shop  ", "name"),
    ],
)
def test_named_targets(text, kind):
    target = resolve_target(text, demo=no_demo, environ={"DATABASE_URL": "postgresql://env/db"})
    assert target.kind == kind
    assert target.text == text.strip()
    assert target.engine is not None and target.engine.name == "postgresql"


def test_snapshot_file():
    target = resolve_target("saved/snap.json", demo=no_demo, environ={})
    assert target == Target("snapshot", "saved/snap.json", None)
    assert target.is_snapshot


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("snap.json", True),
        ("/tmp/x/snap.json", True),
        ("postgresql://db/x.json", False),  # a database that happens to be named x.json
        ("dbname=x.json", False),
        ("snap.sql", False),
        (None, False),
        ("", False),
    ],
)
def test_is_snapshot_file(text, expected):
    assert is_snapshot_file(text) is expected


def test_unknown_scheme_is_refused():
    with pytest.raises(BadTargetError, match="unsupported URL scheme 'mysql'"):
        resolve_target("mysql://root@localhost/db", environ={})


def test_database_url_comes_first():
    environ = {"DATABASE_URL": "postgresql://envuser@envhost/envdb", "PGHOST": "elsewhere"}
    target = resolve_target(None, demo=no_demo, environ=environ)
    assert (target.kind, target.text, target.engine.name) == (
        "env",
        "postgresql://envuser@envhost/envdb",
        "postgresql",
    )


def test_database_url_of_an_unknown_engine_is_refused():
    with pytest.raises(BadTargetError, match="unsupported URL scheme 'mysql'"):
        resolve_target("", environ={"DATABASE_URL": "mysql://root@db/app"})


@pytest.mark.parametrize("variable", ["PGHOST", "PGDATABASE", "PGSERVICE", "PGPORT", "PGUSER"])
def test_libpq_variables_leave_the_target_to_libpq(variable):
    target = resolve_target(None, demo=no_demo, environ={variable: "x", "DATABASE_URL": ""})
    assert (target.kind, target.text, target.engine.name) == ("env", "", "postgresql")


def test_demo_when_nothing_names_a_server():
    started = []

    def demo() -> str:
        started.append(True)
        return "postgresql://demo@/dbwright_demo?host=/tmp/sock&port=5999"

    target = resolve_target(None, demo=demo, environ={"PGPASSWORD": "ignored: names no server"})
    assert started == [True]
    assert target.kind == "demo"
    assert target.text == "postgresql://demo@/dbwright_demo?host=/tmp/sock&port=5999"
    assert target.engine.name == "postgresql"


def test_without_a_demo_hook_libpq_defaults_apply():
    target = resolve_target("", environ={})
    assert (target.kind, target.text, target.engine.name) == ("env", "", "postgresql")


def test_the_process_environment_is_the_default(monkeypatch):
    for name in ("PGHOST", "PGDATABASE", "PGSERVICE", "PGPORT", "PGUSER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://fromenv/db")
    assert resolve_target(None, demo=no_demo).text == "postgres://fromenv/db"
