"""PostgresEngine is an Engine: found by the registry, and each of its parts (the services too:
what-if, planner, EXPLAIN, lock model) works on a real server."""

import pglast
import pytest

from dbwright.advisors.indexes.spec import IndexSpec
from dbwright.engines.base import FEATURES, Capabilities, Engine, IndexRefusedError, PlanError
from dbwright.engines.postgres.engine import PostgresEngine
from dbwright.engines.postgres.migrations import migration_session
from dbwright.engines.registry import engine_for_target, take_snapshot
from dbwright.errors import MigrationFailedError
from dbwright.model import Snapshot


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


def test_take_snapshot_goes_through_the_targets_engine(pg):
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


# --- the services: what-if, planner, EXPLAIN, lock model ---------------------------------------------


def test_provides_each_service():
    engine = PostgresEngine()
    machinery = engine.what_if()
    for member in (
        "HypotheticalIndexes",
        "RolledBackWrite",
        "hypopg_available",
        "hypopg_status",
        "begin_write",
        "rollback",
        "rollback_if_in_transaction",
        "is_closed",
        "rolled_back_savepoint",
        "build_index",
        "drop_index",
        "leftovers",
    ):
        assert callable(getattr(machinery, member)), member
    assert callable(engine.explainer().explain_document)
    model = engine.lock_model()
    for member in (
        "effects",
        "blocks_reads",
        "blocks_writes",
        "volatility",
        "is_serial",
        "sql_type",
        "catalog_type",
        "rewrite_for_change",
    ):
        assert callable(getattr(model, member)), member


def test_what_if_through_the_engine_plans_with_a_hypothetical_index(pg):
    pg.execute("CREATE EXTENSION hypopg")
    pg.execute("CREATE TABLE t(id int, a int)")
    pg.execute("INSERT INTO t SELECT g, g % 1000 FROM generate_series(1, 20000) g")
    pg.analyze()
    engine = PostgresEngine()
    machinery = engine.what_if()
    with engine.connect(pg.url) as conn:
        assert machinery.hypopg_available(conn)[0]
        planner = engine.planner(conn)
        query = "SELECT id FROM t WHERE a = 5"
        assert planner.plan(query)["Node Type"] == "Seq Scan"
        indexes = machinery.HypotheticalIndexes(conn)
        created, refused = indexes.ensure(frozenset([IndexSpec("public.t", ("a",))]))
        assert len(created) == 1 and not refused
        assert created[0][2] in str(planner.plan(query))  # the planner uses the hypothetical index
        indexes.reset()
        planner.close()
        assert planner.calls == 2
        assert machinery.leftovers(conn, hypopg=True) == {"hypothetical_indexes": 0, "real_indexes": 0}


def test_a_refused_real_build_raises_the_engine_neutral_error(pg):
    pg.execute("CREATE TABLE t(id int)")
    engine = PostgresEngine()
    machinery = engine.what_if()
    with engine.connect(pg.url) as conn, machinery.RolledBackWrite(conn):
        with pytest.raises(IndexRefusedError, match="no_such_column"):
            machinery.build_index(conn, "CREATE INDEX dbwright_whatif_1 ON t (no_such_column)")
        with pytest.raises(PlanError, match="no_such_table"):
            engine.planner(conn).plan("SELECT * FROM no_such_table")


def test_explain_through_the_engine(pg):
    pg.execute("CREATE TABLE t(id int PRIMARY KEY)")
    engine = PostgresEngine()
    with engine.connect(pg.url) as conn:
        document, arguments = engine.explainer().explain_document(
            conn,
            "SELECT * FROM t WHERE id = 1",
            0,
            {},
            analyze=True,
            verbose=False,
            buffers=False,
            timing=False,
        )
    assert document["Plan"]["Relation Name"] == "t" and "Execution Time" in document
    assert arguments == []


def test_lock_model_through_the_engine():
    model = PostgresEngine().lock_model()
    (statement,) = pglast.parse_sql("ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid()")
    fx = model.effects(statement.stmt, 150000)
    assert fx.locks == {"orders": "ACCESS EXCLUSIVE"} and fx.rewrites and model.blocks_reads(fx.lock)
    varchar = model.catalog_type("varchar", "character varying(20)")
    assert varchar.label == "varchar(20)"
    assert model.rewrite_for_change(varchar, model.catalog_type("text", "text"), using=False)[0] is False
