"""The snapshot covers what the issue lists and round-trips through JSON."""

from dbwright.model import Snapshot


def test_snapshot_covers_catalog_and_round_trips(pg):
    pg.execute("""
        CREATE EXTENSION pg_stat_statements;
        CREATE SCHEMA shop;
        CREATE TABLE shop.customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE,
                                     score numeric CHECK (score >= 0));
        CREATE TABLE shop.orders (id serial PRIMARY KEY, customer_id bigint REFERENCES shop.customers ON DELETE CASCADE,
                                  total numeric GENERATED ALWAYS AS (1) STORED, placed_at timestamptz DEFAULT now())
            WITH (fillfactor = 90);
        CREATE INDEX orders_cust_idx ON shop.orders (customer_id) INCLUDE (placed_at) WHERE placed_at IS NOT NULL;
        CREATE INDEX orders_expr_idx ON shop.orders (lower(customer_id::text));
        CREATE TABLE shop.events (id bigint, at date) PARTITION BY RANGE (at);
        CREATE TABLE shop.events_2026 PARTITION OF shop.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE VIEW shop.big_orders AS SELECT * FROM shop.orders WHERE id > 10;
        CREATE MATERIALIZED VIEW shop.order_counts AS SELECT count(*) FROM shop.orders;
        CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
            AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER orders_touch BEFORE UPDATE ON shop.orders FOR EACH ROW EXECUTE FUNCTION shop.touch();
        INSERT INTO shop.customers (email, score) SELECT 'u' || g || '@x.test', g FROM generate_series(1, 50) g;
        ANALYZE;
        SELECT count(*) FROM shop.customers;
    """)
    pg.role("reader", "NOLOGIN")
    pg.role("app_login", "LOGIN IN ROLE reader")
    pg.execute("GRANT SELECT ON shop.customers TO reader; GRANT USAGE ON SCHEMA shop TO PUBLIC")
    pg.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO reader")
    snap = pg.snapshot()

    assert snap.server.version_num >= 150000 and snap.server.setting("shared_buffers").source
    assert snap.server.extension("pg_stat_statements").installed_version
    assert {"shop", "public"} <= {s.name for s in snap.schemas}
    events = snap.table("shop.events")
    assert events.kind == "p" and "RANGE" in events.partition_key
    assert snap.table("shop.events_2026").parent == "shop.events"
    orders = snap.table("shop.orders")
    assert orders.reloption("fillfactor") == "90" and orders.frozen_xid_age is not None
    customers = snap.table("shop.customers")
    assert customers.row_estimate == 50 and customers.heap_bytes > 0 and customers.index_bytes > 0
    email = snap.column("shop.customers", "email")
    assert email.not_null and email.stats.n_distinct == -1 and email.stats.null_frac == 0
    assert snap.column("shop.customers", "id").identity == "a"
    assert snap.column("shop.orders", "total").generated == "s"
    types = {(c.table, c.type) for c in snap.constraints}
    assert {("customers", "p"), ("customers", "u"), ("customers", "c"), ("orders", "f")} <= types
    fk = next(c for c in snap.constraints if c.type == "f")
    assert fk.columns == ("customer_id",) and fk.ref_qname == "shop.customers" and fk.on_delete == "c"
    idx = {i.name: i for i in snap.indexes}
    assert idx["orders_cust_idx"].include == ("placed_at",)
    assert idx["orders_cust_idx"].predicate == "(placed_at IS NOT NULL)"
    assert idx["orders_expr_idx"].columns == (None,) and "lower" in idx["orders_expr_idx"].expressions
    seq = next(s for s in snap.sequences if s.name == "orders_id_seq")
    assert seq.data_type == "integer" and seq.max_value == 2**31 - 1 and seq.owned_by == "shop.orders.id"
    assert {(v.name, v.materialized) for v in snap.views} == {("big_orders", False), ("order_counts", True)}
    fn = next(f for f in snap.functions if f.name == "touch")
    assert fn.security_definer and fn.search_path == "pg_catalog" and fn.language == "plpgsql"
    assert [t.name for t in snap.triggers] == ["orders_touch"]
    roles = {r.name: r for r in snap.roles}
    assert roles["app_login"].member_of == ("reader",) and roles["postgres"].password_type == "none"
    assert any(
        p.grantee == "reader" and p.privilege == "SELECT" and p.object_name == "shop.customers"
        for p in snap.privileges
    )
    assert any(
        p.grantee == "PUBLIC" and p.object_type == "schema" and p.object_name == "shop"
        for p in snap.privileges
    )
    assert any(p.grantee == "PUBLIC" and p.object_type == "function" for p in snap.privileges)
    assert any(d.grantee == "reader" and d.schema == "shop" for d in snap.default_privileges)
    assert any(r.auth_method == "trust" for r in snap.hba_rules)
    assert any("shop.customers" in s.query for s in snap.statements)
    assert snap.sessions is not None

    assert Snapshot.from_json(snap.to_json()) == snap


def test_transitive_membership_is_resolved(pg):
    pg.role("grand", "NOLOGIN")
    pg.role("middle", "NOLOGIN IN ROLE grand")
    pg.role("leaf", "LOGIN IN ROLE middle")
    roles = {r.name: r for r in pg.snapshot().roles}
    assert roles["leaf"].member_of == ("middle",)
    assert roles["leaf"].member_of_all == ("grand", "middle")


def test_snapshot_does_not_wait_behind_an_access_exclusive_lock(pg):
    pg.execute("CREATE TABLE busy (id int PRIMARY KEY, v text DEFAULT 'x' CHECK (v <> ''))")
    pg.execute("CREATE INDEX busy_v_idx ON busy (lower(v)) WHERE v > 'a'")
    pg.execute("CREATE VIEW busy_view AS SELECT * FROM busy")
    pg.execute("INSERT INTO busy SELECT g, 'x' FROM generate_series(1, 1000) g")
    pg.execute("VACUUM ANALYZE busy")
    holder = pg.connect()
    holder.execute("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")  # a migration mid-flight
    try:
        snap = pg.snapshot()
    finally:
        holder.rollback()
    busy = snap.table("public.busy")
    assert busy.heap_bytes > 0 and busy.index_bytes > 0  # from relpages, without waiting
    assert "ACCESS EXCLUSIVE" in snap.skipped_reason("locked_relations")
    assert all(i.bytes > 0 and "unavailable" in i.definition for i in snap.indexes)
    assert snap.column("public.busy", "v").default is None
    assert {c.type for c in snap.constraints} == {"p", "c"}


def test_bootstrap_superuser_and_setting_sources(pg):
    pg.role("second_admin", "LOGIN SUPERUSER")
    snap = pg.snapshot()
    assert [r.name for r in snap.roles if r.bootstrap] == ["postgres"]
    assert snap.server.setting("shared_preload_libraries").sourcefile.endswith("postgresql.conf")


def test_types_comments_and_function_definitions(pg):
    pg.execute("""
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
        ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok';
        CREATE DOMAIN price AS numeric(10,2) NOT NULL DEFAULT 0 CONSTRAINT price_positive CHECK (VALUE >= 0);
        CREATE TYPE pair AS (a int, "B" text);
        CREATE TABLE item (id int PRIMARY KEY, p price, m mood);
        CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x * 2';
        COMMENT ON TABLE item IS 'things we sell';
        COMMENT ON COLUMN item.p IS 'in euros';
        COMMENT ON FUNCTION twice(int) IS 'doubles';
        COMMENT ON TYPE mood IS 'feelings';
        COMMENT ON CONSTRAINT item_pkey ON item IS 'the key';
    """)
    snap = pg.snapshot()
    types = {t.name: t for t in snap.types}
    assert set(types) == {"mood", "price", "pair"}  # no array types, no table row types
    assert types["mood"].kind == "e" and types["mood"].labels == ("sad", "meh", "ok", "happy")
    price = types["price"]
    assert (price.kind, price.base_type, price.not_null, price.default) == ("d", "numeric(10,2)", True, "0")
    assert price.checks == ("CONSTRAINT price_positive CHECK ((VALUE >= (0)::numeric))",)
    assert types["pair"].attributes == ("a integer", '"B" text')
    comments = {(c.object_type, c.object_name): c.comment for c in snap.comments}
    assert comments == {
        ("TABLE", "public.item"): "things we sell",
        ("COLUMN", "public.item.p"): "in euros",
        ("FUNCTION", "public.twice(x integer)"): "doubles",
        ("TYPE", "public.mood"): "feelings",
        ("CONSTRAINT", "public.item.item_pkey"): "the key",
        ("SCHEMA", "public"): "standard public schema",
    }
    twice = next(f for f in snap.functions if f.name == "twice")
    assert twice.definition.startswith("CREATE OR REPLACE FUNCTION public.twice(x integer)")
    assert "SELECT x * 2" in twice.definition
    assert Snapshot.from_json(snap.to_json()) == snap


def test_sequences_are_read_under_access_share_with_their_last_value(pg):
    """pg_sequences' last_value locks each sequence ROW EXCLUSIVE; the snapshot reads the sequence itself."""
    from dbwright.engines.postgres.connect import open_session
    from dbwright.engines.postgres.introspect import snapshot as take

    pg.execute("CREATE TABLE counted (id serial PRIMARY KEY); INSERT INTO counted DEFAULT VALUES")
    pg.execute("CREATE SEQUENCE fresh")
    with open_session(pg.url) as conn:
        conn.execute("BEGIN")  # the locks stay held until the end of the transaction, to be seen
        snap = take(conn)
        modes = conn.execute(
            "SELECT DISTINCT mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.pid = pg_backend_pid() AND c.relkind = 'S'"
        ).fetchall()
        conn.execute("ROLLBACK")
    assert modes == [("AccessShareLock",)]
    by_name = {s.name: s for s in snap.sequences}
    assert (
        by_name["counted_id_seq"].last_value == 1
        and by_name["counted_id_seq"].owned_by == "public.counted.id"
    )
    assert by_name["fresh"].last_value is None and by_name["fresh"].data_type == "bigint"
