"""PostgresEngine is an Engine: found by the registry, and each of its parts works on a real server."""

import pytest

from dbwright.engines.base import FEATURES, Capabilities, Engine
from dbwright.engines.postgres.engine import PostgresEngine
from dbwright.engines.postgres.migrations import migration_session
from dbwright.engines.registry import engine_for_target
from dbwright.errors import MigrationFailedError
from dbwright.model import Snapshot
from dbwright.review import take_snapshot


def test_conforms_to_the_engine_protocol():
    engine = PostgresEngine()
    assert isinstance(engine, Engine)
    assert engine.schemes == ("postgresql", "postgres")
    assert issubclass(engine.driver_error, Exception)


def test_the_registry_hands_out_postgres():
    assert isinstance(engine_for_target("postgresql://db/x"), PostgresEngine)


def test_supports_every_feature():
    capabilities = PostgresEngine().capabilities
    assert capabilities.names() == frozenset(FEATURES)
    assert all(capabilities.supports(feature) for feature in FEATURES)


def test_capabilities_name_only_known_features():
    assert Capabilities(review=True).names() == {"review"}
    assert not Capabilities(review=True).supports("pii")
    with pytest.raises(ValueError, match="unknown feature 'telepathy'"):
        Capabilities().supports("telepathy")


def test_snapshot_and_describe(pg):
    pg.execute("CREATE TABLE things (id int PRIMARY KEY)")
    engine = PostgresEngine()
    progress: list[str] = []
    snap = engine.snapshot(pg.url, server_memory_bytes=8 * 1024**3, progress=progress.append)
    assert isinstance(snap, Snapshot)
    assert [t.name for t in snap.user_tables()] == ["things"]
    assert snap.server.memory_bytes == 8 * 1024**3
    assert progress[0] == "server" and "workload" in progress
    assert engine.describe(pg.cluster.url(pg.name, password="hidden")) == (
        f"{pg.name} on {pg.cluster.socket_dir}:{pg.cluster.port}"
    )


def test_review_take_snapshot_delegates_to_the_engine(pg):
    pg.execute("CREATE TABLE things (id int PRIMARY KEY)")
    assert [t.name for t in take_snapshot(pg.url).user_tables()] == ["things"]


def test_analysis_sessions_are_read_only(pg):
    with PostgresEngine().connect(pg.url) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"


def test_run_step_on_a_writable_session(pg):
    engine = PostgresEngine()
    with migration_session(pg.url, statement_timeout="10s", lock_timeout="1s") as conn:
        engine.run_step(conn, "CREATE TABLE made_by_a_step (id int)")
        with pytest.raises(MigrationFailedError) as raised:
            engine.run_step(conn, "CREATE TABLE made_by_a_step (id int)", "V1__things.sql:3")
    assert pg.value("SELECT to_regclass('public.made_by_a_step') IS NOT NULL") is True
    assert 'relation "made_by_a_step" already exists' in raised.value.message
    assert raised.value.where == "V1__things.sql:3"
