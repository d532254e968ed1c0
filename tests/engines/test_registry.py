"""The engine registry: one engine per URL scheme, and an unknown scheme is a one-line error."""

import pytest

from dbwright.engines import registry
from dbwright.engines.postgres.engine import PostgresEngine
from dbwright.engines.registry import engine_for_scheme, engine_for_target, engines, register
from dbwright.errors import BadTargetError


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "PostgreSQL"])
def test_postgresql_schemes_find_the_postgres_engine(scheme):
    engine = engine_for_scheme(scheme)
    assert isinstance(engine, PostgresEngine)
    assert engine.name == "postgresql"


def test_unknown_scheme_names_the_known_ones():
    with pytest.raises(BadTargetError) as raised:
        engine_for_scheme("mysql")
    assert raised.value.exit_code == 10
    assert raised.value.message == "unsupported URL scheme 'mysql': dbwright knows postgres://, postgresql://"


@pytest.mark.parametrize(
    "target",
    [
        "postgresql://alice@db/shop",
        "postgres://db/shop",
        "host=db dbname=shop",
        "service=prod",
        "shop",
        "",
        None,
    ],
)
def test_targets_without_another_scheme_belong_to_postgres(target):
    assert engine_for_target(target).name == "postgresql"


def test_unknown_scheme_in_a_target():
    with pytest.raises(BadTargetError, match="unsupported URL scheme 'redis'"):
        engine_for_target("redis://cache:6379/0")


def test_each_engine_is_listed_once():
    assert [engine.name for engine in engines()] == ["postgresql"]


class _OtherEngine:
    """Only what the registry reads: a name and schemes (no server behind it)."""

    name = "other"
    schemes = ("other", "postgres")


def test_a_scheme_belongs_to_one_engine(monkeypatch):
    monkeypatch.setattr(registry, "_by_scheme", dict(registry._by_scheme))
    with pytest.raises(ValueError, match="already belongs to the postgresql engine"):
        register(_OtherEngine())
    with pytest.raises(BadTargetError):  # nothing of the refused engine was registered
        engine_for_scheme("other")


def test_a_new_engine_is_one_registration(monkeypatch):
    monkeypatch.setattr(registry, "_by_scheme", dict(registry._by_scheme))

    class Another(_OtherEngine):
        schemes = ("another",)

    engine = register(Another())
    assert engine_for_target("another://host/db") is engine
    assert engine in engines()
