"""The lock model against a real PostgreSQL 15: what pg_locks shows is what describe() claims.

Transactional statements run inside BEGIN on a real table; pg_locks is read for
pg_backend_pid() (the strongest mode held on each relation), then ROLLBACK. A rewrite shows as a
new pg_relation_filenode() inside the transaction. Statements that cannot run in a transaction
(CONCURRENTLY, VACUUM) are made to wait behind a SHARE UPDATE EXCLUSIVE held by another session,
and the mode their backend asks for is read from pg_locks.
"""

from __future__ import annotations

import copy
import threading
import time

import psycopg
import pytest

from dbwright.changes.lint import LintState, describe
from dbwright.engines.postgres.locks import LOCK_ORDER, PG_LOCKS_MODE
from dbwright.engines.registry import take_snapshot

SETUP = """
CREATE TABLE p (id bigint PRIMARY KEY);
CREATE TABLE t (id bigint PRIMARY KEY, a int, b text, v varchar(10), p_id bigint, n numeric(10,2),
                nn int NOT NULL DEFAULT 0, ts timestamp);
INSERT INTO p VALUES (1);
INSERT INTO t SELECT g, g, 'x' || g, 'v', 1, 1.5 FROM generate_series(1, 50) g;
CREATE INDEX t_a_idx ON t (a);
ALTER TABLE t ADD CONSTRAINT t_a_pos CHECK (a > 0) NOT VALID;
CREATE UNIQUE INDEX t_b_key ON t (b);
CREATE TABLE u (x int);
INSERT INTO u VALUES (1);
CREATE MATERIALIZED VIEW mv AS SELECT id FROM t;
CREATE UNIQUE INDEX mv_id ON mv (id);
CREATE VIEW vw AS SELECT id FROM t;
CREATE TABLE parted (k int, v text) PARTITION BY LIST (k);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1);
CREATE TABLE loose (k int, v text);
CREATE TYPE mood AS ENUM ('ok');
CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER t_trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION trg();
ALTER TABLE t ADD CONSTRAINT t_p_fk FOREIGN KEY (p_id) REFERENCES p (id) NOT VALID;
CREATE SEQUENCE s;
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TEXT SEARCH CONFIGURATION english_copy (COPY = english);
DO $$ BEGIN CREATE ROLE lock_probe_role; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
"""

# (statement, rewrites expected on the first table or None to skip that check)
TRANSACTIONAL = [
    ("CREATE INDEX t_b_idx ON t (b)", False),
    ("CREATE UNIQUE INDEX t_b_uidx ON t (b)", False),
    ("DROP INDEX t_a_idx", None),
    ("DROP INDEX t_b_key", None),
    ("DROP VIEW vw", None),
    ("DROP MATERIALIZED VIEW mv", None),
    ("DROP SEQUENCE s", None),
    ("DROP FUNCTION f()", None),
    ("DROP TYPE mood", None),
    ("DROP TABLE u", None),
    ("ALTER TABLE t ADD COLUMN c int", False),
    ("ALTER TABLE t ADD COLUMN c int DEFAULT 0", False),
    ("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0", False),
    ("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now()", False),
    ("ALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid()", True),
    ("ALTER TABLE t ADD COLUMN c float8 DEFAULT random()", True),
    ("ALTER TABLE t ADD COLUMN c bigserial", True),
    ("ALTER TABLE t ADD COLUMN c bigint GENERATED ALWAYS AS IDENTITY", True),
    ("ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (a * 2) STORED", True),
    ("ALTER TABLE t ADD COLUMN c bigint REFERENCES p (id)", False),
    ("ALTER TABLE t ALTER COLUMN a TYPE bigint", True),
    ("ALTER TABLE t ALTER COLUMN v TYPE varchar(20)", False),
    ("ALTER TABLE t ALTER COLUMN v TYPE text", False),
    ("ALTER TABLE t ALTER COLUMN v TYPE varchar(5)", True),
    ("ALTER TABLE t ALTER COLUMN b TYPE varchar", False),
    ("ALTER TABLE t ALTER COLUMN n TYPE numeric(12,2)", False),
    ("ALTER TABLE t ALTER COLUMN n TYPE numeric(12,3)", True),
    ("ALTER TABLE t ALTER COLUMN ts TYPE timestamptz", True),
    ("ALTER TABLE t ALTER COLUMN a TYPE int USING a + 0", True),
    ("ALTER TABLE t ALTER COLUMN a SET NOT NULL", False),
    ("ALTER TABLE t ALTER COLUMN nn DROP NOT NULL", False),
    ("ALTER TABLE t ALTER COLUMN a SET DEFAULT 5", False),
    ("ALTER TABLE t ALTER COLUMN a SET STATISTICS 500", False),
    ("ALTER TABLE t ALTER COLUMN b SET STORAGE EXTERNAL", False),
    ("ALTER TABLE t ALTER COLUMN b SET COMPRESSION pglz", False),
    ("ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0)", False),
    ("ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0) NOT VALID", False),
    ("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (p_id) REFERENCES p (id)", False),
    ("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (p_id) REFERENCES p (id) NOT VALID", False),
    ("ALTER TABLE t VALIDATE CONSTRAINT t_a_pos", False),
    ("ALTER TABLE t VALIDATE CONSTRAINT t_p_fk", False),
    ("ALTER TABLE t ADD CONSTRAINT uq UNIQUE (v, id)", False),
    ("ALTER TABLE t ADD CONSTRAINT t_b_key UNIQUE USING INDEX t_b_key", False),
    ("ALTER TABLE u ADD PRIMARY KEY (x)", False),
    ("ALTER TABLE t DROP CONSTRAINT t_a_pos", False),
    ("ALTER TABLE t DROP COLUMN b", False),
    ("ALTER TABLE t RENAME COLUMN b TO bb", False),
    ("ALTER TABLE u RENAME TO u2", None),
    ("ALTER INDEX t_a_idx RENAME TO t_a_idx2", None),
    ("ALTER INDEX t_a_idx SET (fillfactor = 50)", None),
    ("ALTER INDEX t_a_idx SET TABLESPACE pg_default", None),
    ("ALTER TABLE t RENAME CONSTRAINT t_a_pos TO t_a_positive", None),
    ("ALTER TRIGGER t_trg ON t RENAME TO t_trg_renamed", None),
    ("ALTER TYPE mood RENAME TO feeling", None),
    ("ALTER TABLE t SET TABLESPACE pg_default", None),
    ("ALTER TABLE u SET UNLOGGED", True),
    ("ALTER TABLE t SET (fillfactor = 70)", False),
    ("ALTER TABLE t SET (autovacuum_enabled = false)", False),
    ("ALTER TABLE t DISABLE TRIGGER t_trg", False),
    ("ALTER TABLE t ENABLE ROW LEVEL SECURITY", False),
    ("ALTER TABLE parted ATTACH PARTITION loose FOR VALUES IN (2)", False),
    ("ALTER TABLE parted DETACH PARTITION parted_1", False),
    ("CREATE TABLE parted_3 PARTITION OF parted FOR VALUES IN (3)", False),
    ("CREATE TABLE child (id bigint REFERENCES p (id))", False),
    ("CREATE TRIGGER t_trg2 AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg()", False),
    ("DROP TRIGGER t_trg ON t", False),
    ("REFRESH MATERIALIZED VIEW mv", True),
    ("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", None),
    ("TRUNCATE u", True),
    ("CLUSTER t USING t_pkey", True),
    ("ANALYZE t", False),
    ("REINDEX INDEX t_a_idx", None),
    ("REINDEX TABLE t", None),
    ("CREATE RULE u_rule AS ON INSERT TO u DO INSTEAD NOTHING", None),
    ("SET CONSTRAINTS ALL IMMEDIATE", None),
    ("SET CONSTRAINTS ALL DEFERRED", None),
    ("COPY u FROM '/dev/null'", False),
    ("COPY u TO '/dev/null'", False),
    ("CREATE TABLE t_copy AS SELECT * FROM u", None),
    ("GRANT SELECT ON t TO lock_probe_role", None),
    ("GRANT lock_probe_role TO CURRENT_USER", None),
    ("CREATE ROLE lock_probe_other", None),
    ("ALTER TABLE u OWNER TO lock_probe_role", None),
    ("ALTER FUNCTION f() OWNER TO lock_probe_role", None),
    ("CREATE SCHEMA side", None),
    ("CREATE SEQUENCE s2", None),
    ("ALTER SEQUENCE s RESTART WITH 10", None),
    ("CREATE TYPE pair AS (a int, b int)", None),
    ("CREATE TYPE colour AS ENUM ('red')", None),
    ("CREATE DOMAIN positive AS int CHECK (VALUE > 0)", None),
    ("CREATE EXTENSION IF NOT EXISTS plpgsql", None),
    ("CREATE AGGREGATE total (int) (SFUNC = int4pl, STYPE = int)", None),
    ("CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false)", None),
    ("CREATE TEXT SEARCH CONFIGURATION plain (COPY = simple)", None),
    ("ALTER TEXT SEARCH CONFIGURATION english_copy ALTER MAPPING FOR word WITH simple", None),
    ("CREATE FUNCTION g() RETURNS int LANGUAGE sql AS 'SELECT 2'", None),
    ("SET work_mem = '8MB'", None),
    ("SHOW work_mem", None),
    ("UPDATE t SET a = a + 1", False),
    ("DELETE FROM u", False),
    ("INSERT INTO u VALUES (2)", False),
    ("SELECT * FROM t", False),
    ("LOCK TABLE t IN SHARE MODE", False),
    ("COMMENT ON TABLE t IS 'orders'", False),
    ("COMMENT ON COLUMN t.a IS 'amount'", False),
    ("CREATE STATISTICS t_stats ON a, b FROM t", False),
    ("CREATE OR REPLACE VIEW vw AS SELECT id FROM t", None),
    ("ALTER TYPE mood ADD VALUE 'meh'", None),
    ("CREATE TABLE fresh (id bigint PRIMARY KEY)", None),
]

# (statement, relation whose requested lock is observed, the mode another session holds there)
NON_TRANSACTIONAL = [
    ("CREATE INDEX CONCURRENTLY t_b_idx ON t (b)", "t", "SHARE UPDATE EXCLUSIVE"),
    ("DROP INDEX CONCURRENTLY t_a_idx", "t", "SHARE UPDATE EXCLUSIVE"),
    ("REINDEX INDEX CONCURRENTLY t_a_idx", "t", "SHARE UPDATE EXCLUSIVE"),
    ("REINDEX TABLE CONCURRENTLY t", "t", "SHARE UPDATE EXCLUSIVE"),
    ("VACUUM t", "t", "SHARE UPDATE EXCLUSIVE"),
    ("VACUUM FULL t", "t", "SHARE UPDATE EXCLUSIVE"),
    ("ALTER TABLE parted DETACH PARTITION parted_1 CONCURRENTLY", "parted", "SHARE UPDATE EXCLUSIVE"),
    # its second transaction takes ACCESS EXCLUSIVE on the partition: a reader of the partition blocks it
    ("ALTER TABLE parted DETACH PARTITION parted_1 CONCURRENTLY", "parted_1", "ACCESS SHARE"),
]
#: Statement kinds the model covers that cannot run inside BEGIN and lock no relation, or that it marks
#: as not understood on purpose: no pg_locks comparison applies.
NOT_COMPARED = {
    "TransactionStmt": "BEGIN/COMMIT frame every case",
    "CreatedbStmt": "cannot run inside a transaction block; locks no relation",
    "DropdbStmt": "cannot run inside a transaction block; locks no relation",
    "AlterSystemStmt": "cannot run inside a transaction block; locks no relation",
    "DoStmt": "reported as not understood: its locks depend on the code it runs",
}
#: Relation kinds compared on every statement: a table, partitioned table, view or materialized view
#: the statement locks above ACCESS SHARE must be one the model names.
_TABLE_KINDS = ("r", "p", "v", "m")


@pytest.fixture(scope="module")
def lockdb(cluster):
    """One database with the SETUP schema for all transactional cases: each one rolls back."""
    name = "lint_locks"
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    url = cluster.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SETUP)
    yield url, LintState.from_snapshot(take_snapshot(url))
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _info(url: str, statement: str, state: LintState | None = None):
    state = state or LintState.from_snapshot(take_snapshot(url))
    [info] = describe(statement, server_version=150000, state=copy.deepcopy(state))
    return info


def _held(cur, oids: dict[str, int]) -> dict[str, str]:
    cur.execute("SELECT relation, mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'")
    by_oid: dict[int, list[str]] = {}
    for relation, mode in cur.fetchall():
        by_oid.setdefault(relation, []).append(PG_LOCKS_MODE[mode])
    return {name: max(by_oid.get(oid, ["none"]), key=LOCK_ORDER.index) for name, oid in oids.items()}


def _existing_tables(cur) -> dict[str, int]:
    cur.execute(
        "SELECT relname, oid FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = ANY(%s)",
        (list(_TABLE_KINDS),),
    )
    return dict(cur.fetchall())


def _user_relation_locks(cur) -> dict[str, str]:
    cur.execute("""SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                   WHERE l.pid = pg_backend_pid() AND c.relnamespace = 'public'::regnamespace""")
    found: dict[str, list[str]] = {}
    for name, mode in cur.fetchall():
        found.setdefault(name, []).append(PG_LOCKS_MODE[mode])
    return {n: max(m, key=LOCK_ORDER.index) for n, m in found.items()}


@pytest.mark.parametrize(("statement", "rewrites"), TRANSACTIONAL, ids=[s for s, _ in TRANSACTIONAL])
def test_transactional_statement_lock_matches_pg_locks(lockdb, statement, rewrites):
    url, state = lockdb
    info = _info(url, statement, state)
    assert info.understood and info.transactional, info
    expected = dict(info.table_locks)
    with psycopg.connect(url) as conn, conn.cursor() as cur:  # not autocommit: BEGIN is implicit
        cur.execute("SET TimeZone = 'Europe/Paris'")  # timestamp -> timestamptz skips the rewrite only in UTC
        oids = {}
        for name in expected:
            cur.execute("SELECT %s::regclass::oid", (name,))
            oids[name] = cur.fetchone()[0]
        first = info.tables[0] if info.tables else None
        if first:
            cur.execute("SELECT pg_relation_filenode(%s::regclass)", (first,))
            before = cur.fetchone()[0]
        tables = _existing_tables(cur)
        cur.execute("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace")
        existing = {name for (name,) in cur.fetchall()}  # a relation the statement creates is its own
        cur.execute(statement)
        unclaimed = {name: oid for name, oid in tables.items() if name not in expected}
        beyond_reading = {n: m for n, m in _held(cur, unclaimed).items() if m not in ("none", "ACCESS SHARE")}
        assert beyond_reading == {}, f"locked but not in the model: {beyond_reading}"
        if expected:
            assert _held(cur, oids) == expected
        else:
            held = _user_relation_locks(cur)
            assert info.lock == "none"
            assert all(mode == "none" or name not in existing for name, mode in held.items()), held
        if first and rewrites is not None:
            cur.execute("SELECT pg_relation_filenode(%s::regclass)", (first,))
            assert (cur.fetchone()[0] != before) == rewrites == info.rewrites, info.notes
        conn.rollback()


@pytest.mark.parametrize(
    ("statement", "observe", "blocking"),
    NON_TRANSACTIONAL,
    ids=[f"{s} [{o}]" for s, o, _ in NON_TRANSACTIONAL],
)
def test_non_transactional_statement_requests_the_modelled_lock(pg, statement, observe, blocking):
    pg.execute(SETUP)
    info = _info(pg.url, statement)
    assert info.understood and not info.transactional
    assert observe in dict(info.table_locks), info.table_locks
    blocker = pg.connect()
    blocker.execute(f"LOCK TABLE {observe} IN {blocking} MODE")
    runner = pg.connect(autocommit=True)
    pid = runner.execute("SELECT pg_backend_pid()").fetchone()[0]
    oid = pg.value("SELECT %s::regclass::oid", (observe,))
    before = pg.value("SELECT pg_relation_filenode(%s::regclass)", (observe,))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            runner.execute(statement)
        except BaseException as error:  # surfaced in the test thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    requested = None
    deadline = time.monotonic() + 5
    while requested is None and time.monotonic() < deadline:
        requested = pg.value(
            "SELECT mode FROM pg_locks WHERE pid = %s AND relation = %s AND NOT granted", (pid, oid)
        )
        time.sleep(0.02)
    blocker.rollback()
    thread.join(10)
    assert not errors, errors
    assert requested is not None, "the statement never waited for the blocker"
    assert PG_LOCKS_MODE[requested] == dict(info.table_locks)[observe]
    after = pg.value("SELECT pg_relation_filenode(%s::regclass)", (observe,))
    assert (after != before) == info.rewrites


def test_every_statement_kind_the_model_claims_is_compared_with_pg_locks():
    """Each kind of statement the lock model has an entry for is run on the real server above."""
    from pglast import parse_sql

    from dbwright.engines.postgres.locks import _HANDLERS

    cases = [statement for statement, _ in TRANSACTIONAL] + [
        statement for statement, _, _ in NON_TRANSACTIONAL
    ]
    covered = {type(parse_sql(statement)[0].stmt).__name__ for statement in cases}
    assert set(_HANDLERS) - covered - set(NOT_COMPARED) == set()
