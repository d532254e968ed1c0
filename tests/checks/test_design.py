"""Design checks: each has a bad-state test and a clean look-alike test on a real server."""

import dataclasses
import time
from datetime import datetime, timedelta

from dbwright.model.findings import Severity
from dbwright.review import run_review


def apply(pg, script: str) -> None:
    """Run a fix's SQL script statement by statement, as psql would (CONCURRENTLY needs that)."""
    for line in script.splitlines():
        pg.execute(line)


def test_dw101_table_without_primary_key_flagged(pg):
    pg.execute("CREATE TABLE events (happened_at timestamptz, kind text)")
    found = pg.findings("DW101")
    assert [f.object for f in found] == ["public.events"]
    assert "ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY" in found[0].fix.forward_sql
    assert "DROP COLUMN id" in found[0].fix.rollback_sql


def test_dw101_table_with_primary_key_not_flagged(pg):
    pg.execute("CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind text)")
    pg.execute("CREATE TABLE parts (id int, PRIMARY KEY (id)) PARTITION BY RANGE (id)")
    pg.execute("CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (10)")
    assert pg.findings("DW101") == []


def _tables_without_primary_keys(pg) -> None:
    """Every kind of table DW101 judges differently, each without a primary key."""
    pg.execute("CREATE TABLE events (happened_at timestamptz, kind text)")
    pg.execute("CREATE TABLE accounts (email text NOT NULL, name text)")
    pg.execute("CREATE UNIQUE INDEX accounts_email_key ON accounts (email)")
    # Unique constraints: their index cannot become the key itself; one is referenced by a foreign key.
    pg.execute("CREATE TABLE members (email text NOT NULL UNIQUE)")
    pg.execute("CREATE TABLE coupons (code text NOT NULL UNIQUE)")
    pg.execute("CREATE TABLE redemptions (id int PRIMARY KEY, code text REFERENCES coupons (code))")
    pg.execute("INSERT INTO members VALUES ('m@x.org'); INSERT INTO coupons VALUES ('SAVE')")
    pg.execute("CREATE TABLE tags (name text)")
    pg.execute("CREATE UNIQUE INDEX tags_lower_name_key ON tags (lower(name))")
    pg.execute("CREATE TABLE job_queue (payload jsonb, queued_at timestamptz)")
    pg.execute("CREATE TABLE staging_orders (raw text)")
    pg.execute("CREATE TABLE querycache (name text, value text)")
    pg.execute("CREATE UNLOGGED TABLE hits (path text)")
    pg.execute("CREATE TABLE cache (key text, value text) PARTITION BY HASH (key)")
    pg.execute("CREATE TABLE cache_0 PARTITION OF cache FOR VALUES WITH (MODULUS 2, REMAINDER 0)")
    pg.execute("CREATE TABLE cache_1 PARTITION OF cache FOR VALUES WITH (MODULUS 2, REMAINDER 1)")
    pg.execute("INSERT INTO accounts VALUES ('a@x.org', 'a'); INSERT INTO tags VALUES ('Golf')")
    pg.execute("INSERT INTO job_queue VALUES ('{}', now()); INSERT INTO cache VALUES ('k', 'v')")


def test_dw101_candidate_keys_transient_and_partitioned_tables_judged(pg):
    _tables_without_primary_keys(pg)
    found = {f.object: f for f in pg.findings("DW101")}
    assert set(found) == {
        "public.events",
        "public.accounts",
        "public.members",
        "public.coupons",
        "public.tags",
        "public.job_queue",
        "public.staging_orders",
        "public.querycache",
        "public.hits",
        "public.cache",
    }
    members, coupons = found["public.members"].fix.forward_sql, found["public.coupons"].fix.forward_sql
    assert "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS members_pkey ON public.members (email);" in members
    assert "ADD CONSTRAINT members_pkey PRIMARY KEY USING INDEX members_pkey;" in members
    assert "DROP CONSTRAINT members_email_key;" in members
    assert "DROP CONSTRAINT coupons_code_key" not in coupons  # the foreign key references it
    assert found["public.events"].severity is None  # the check's own: high
    accounts = found["public.accounts"]
    assert accounts.severity == Severity.MEDIUM
    assert "PRIMARY KEY USING INDEX accounts_email_key" in accounts.fix.forward_sql
    tags = found["public.tags"]
    assert tags.severity == Severity.LOW
    assert "lower(name)" in tags.evidence["candidate_key"]
    assert "cannot be a primary key" in tags.message
    for transient in ("public.job_queue", "public.staging_orders", "public.querycache", "public.hits"):
        assert found[transient].severity == Severity.LOW
        assert "logical replication" in found[transient].message
    cache = found["public.cache"]
    assert cache.fix is None  # an identity column cannot be added to a table with partitions
    assert cache.evidence["partition_key"] == "key"
    assert "must include its partition key (key)" in cache.message


def test_dw101_every_fix_applies_on_its_table(pg):
    _tables_without_primary_keys(pg)
    fixes = {f.object: f.fix for f in pg.findings("DW101") if f.fix is not None}
    assert set(fixes) == {
        "public.events",
        "public.accounts",
        "public.members",
        "public.coupons",
        "public.tags",
        "public.job_queue",
        "public.staging_orders",
        "public.querycache",
        "public.hits",
    }
    for fix in fixes.values():
        apply(pg, fix.forward_sql)
    assert [f.object for f in pg.findings("DW101")] == ["public.cache"]
    assert pg.value(
        "SELECT conindid::regclass::text FROM pg_constraint WHERE conname = 'accounts_email_key'"
    ) == ("accounts_email_key")
    for fix in fixes.values():
        apply(pg, fix.rollback_sql)
    assert len(pg.findings("DW101")) == 10
    assert pg.value("SELECT count(*) FROM pg_constraint WHERE conname = 'members_email_key'") == 1
    assert (
        pg.value("SELECT indisunique FROM pg_index WHERE indexrelid = 'accounts_email_key'::regclass") is True
    )


def test_dw102_foreign_key_without_index_flagged(pg):
    pg.execute("CREATE TABLE parent (id int PRIMARY KEY)")
    pg.execute("CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent)")
    pg.execute("INSERT INTO parent SELECT g FROM generate_series(1, 100) g")
    pg.execute("INSERT INTO child SELECT g, g % 100 + 1 FROM generate_series(1, 1000) g")
    pg.execute("CREATE TABLE pair (a int, b int, PRIMARY KEY (a, b))")
    # An index on b alone, and a partial index on (a, b), do not support the two-column key.
    pg.execute(
        "CREATE TABLE pair_child (id int PRIMARY KEY, a int, b int, FOREIGN KEY (a, b) REFERENCES pair)"
    )
    pg.execute("CREATE INDEX ON pair_child (b)")
    pg.execute("CREATE INDEX ON pair_child (a, b) WHERE a > 0")  # named pair_child_a_b_idx
    pg.analyze()
    found = {f.object: f for f in pg.findings("DW102")}
    assert set(found) == {"public.child", "public.pair_child"}
    assert found["public.pair_child"].evidence["columns"] == ["a", "b"]
    # The partial index took the name the fix would use: the fix picks another, never a no-op.
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS pair_child_a_b_idx_2 ON public.pair_child (a, b);" in (
        found["public.pair_child"].fix.forward_sql
    )
    fix = found["public.child"].fix
    assert found["public.child"].evidence["child_rows"] == 1000
    assert (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS child_parent_id_idx ON public.child (parent_id);"
        in fix.forward_sql
    )
    assert "DROP INDEX CONCURRENTLY IF EXISTS public.child_parent_id_idx;" in fix.rollback_sql
    assert fix.steps()[0]["lock"] == "SHARE UPDATE EXCLUSIVE"
    apply(pg, fix.forward_sql)
    assert [f.object for f in pg.findings("DW102")] == ["public.pair_child"]
    apply(pg, fix.rollback_sql)
    assert pg.value("SELECT to_regclass('public.child_parent_id_idx')") is None


def test_dw102_foreign_key_with_leading_index_not_flagged(pg):
    pg.execute("CREATE TABLE parent (id int PRIMARY KEY)")
    pg.execute("CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent, made date)")
    pg.execute("CREATE INDEX ON child (parent_id, made)")
    pg.execute("CREATE TABLE pair (a int, b int, PRIMARY KEY (a, b))")
    # The key's columns lead the index in the other order: still supports it.
    pg.execute(
        "CREATE TABLE pair_child (id int PRIMARY KEY, a int, b int, FOREIGN KEY (a, b) REFERENCES pair)"
    )
    pg.execute("CREATE INDEX ON pair_child (b, a, id)")
    # A unique constraint and a unique index whose leading columns are the key's, in any order.
    pg.execute(
        "CREATE TABLE pair_unique (id int PRIMARY KEY, a int, b int, c int, FOREIGN KEY (a, b) REFERENCES pair, "
        "UNIQUE (b, a, c))"
    )
    pg.execute("CREATE TABLE member (id int PRIMARY KEY, parent_id int REFERENCES parent, slot int)")
    pg.execute("CREATE UNIQUE INDEX ON member (parent_id, slot)")
    # The foreign key column is the primary key itself.
    pg.execute("CREATE TABLE parent_extra (id int PRIMARY KEY REFERENCES parent)")
    assert pg.findings("DW102") == []


def _wait_for_table_stats(pg, table: str, column: str, expected: int) -> None:
    """Table counters reach pg_stat only when the writing session flushes them; wait until they have."""
    pg.execute("SELECT pg_stat_force_next_flush()")
    for _ in range(100):
        if (
            pg.value(f"SELECT {column} FROM pg_stat_user_tables WHERE relid = '{table}'::regclass")
            >= expected
        ):
            return
        time.sleep(0.05)
    raise AssertionError(f"pg_stat never showed {column} >= {expected} on {table}")


def test_dw102_observed_small_lookup_parent_drops_to_info_but_written_parents_do_not(pg):
    for parent in ("languages", "statuses", "kinds", "orders"):
        pg.execute(f"CREATE TABLE {parent} (id int PRIMARY KEY, label text)")
        pg.execute(f"INSERT INTO {parent} SELECT g, 'l' || g FROM generate_series(1, 20) g")
        pg.execute(f"CREATE TABLE {parent}_refs (id int PRIMARY KEY, ref int REFERENCES {parent})")
    pg.execute("UPDATE languages SET label = 'renamed' WHERE id = 1")  # HOT: cannot have changed the key
    pg.execute("DELETE FROM statuses WHERE id = 20")
    pg.execute("UPDATE kinds SET id = 100 WHERE id = 20")  # a key update: not HOT
    pg.execute("INSERT INTO orders SELECT g, 'o' FROM generate_series(21, 20000) g")  # too big for a lookup
    _wait_for_table_stats(pg, "kinds", "n_tup_upd", 1)
    pg.analyze()
    snap = pg.snapshot()
    # A fresh cluster's counters have run for seconds: zero deletes prove nothing yet.
    young = {f.object: f for f in run_review(snap, codes=("DW102",)).by_code("DW102")}
    assert young["public.languages_refs"].severity is None
    assert "days)" in young["public.languages_refs"].evidence["parent_writes_observed"]
    # The same counters, read as if the server had run for 30 days.
    started = (datetime.fromisoformat(snap.taken_at) - timedelta(days=30)).isoformat()
    observed = dataclasses.replace(snap, server=dataclasses.replace(snap.server, postmaster_start=started))
    found = {f.object: f for f in run_review(observed, codes=("DW102",)).by_code("DW102")}
    assert set(found) == {
        "public.languages_refs",
        "public.statuses_refs",
        "public.kinds_refs",
        "public.orders_refs",
    }
    lookup = found["public.languages_refs"]
    assert lookup.severity == Severity.INFO
    assert "public.languages is a small lookup table (20 rows)" in lookup.evidence["lookup_table"]
    assert "info only" in lookup.message
    assert lookup.evidence["parent_deletes"] == 0 and lookup.evidence["parent_key_updates"] == 0
    assert found["public.statuses_refs"].evidence["parent_deletes"] == 1
    assert found["public.kinds_refs"].evidence["parent_key_updates"] == 1
    for written in ("public.statuses_refs", "public.kinds_refs", "public.orders_refs"):
        assert found[written].severity is None  # the check's own: medium
        assert found[written].evidence["lookup_table"] is None


def test_dw102_partitioned_child_judged_per_partition(pg):
    pg.execute("CREATE TABLE parent (id int PRIMARY KEY)")
    for child in ("covered", "half", "bare"):
        pg.execute(
            f"CREATE TABLE {child} (id int, parent_id int REFERENCES parent, made date) PARTITION BY RANGE (made)"
        )
        pg.execute(
            f"CREATE TABLE {child}_2020 PARTITION OF {child} FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')"
        )
        pg.execute(
            f"CREATE TABLE {child}_2021 PARTITION OF {child} FOR VALUES FROM ('2021-01-01') TO ('2022-01-01')"
        )
    # Every partition of covered has a supporting index of its own; the partitioned parent has none.
    pg.execute("CREATE INDEX ON covered_2020 (parent_id)")
    pg.execute("CREATE INDEX ON covered_2021 (parent_id, made)")
    pg.execute("CREATE INDEX ON half_2020 (parent_id, made)")
    found = {f.object: f for f in pg.findings("DW102")}
    assert set(found) == {"public.half", "public.bare"}
    half = found["public.half"]
    assert half.evidence["partitions_without_index"] == ["public.half_2021"]
    assert half.fix.forward_sql.count("CREATE INDEX") == 1
    assert (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS half_2021_parent_id_idx ON public.half_2021 (parent_id);"
        in (half.fix.forward_sql)
    )
    bare = found["public.bare"]
    assert bare.evidence["partitions_without_index"] == ["public.bare_2020", "public.bare_2021"]
    for fix in (half.fix, bare.fix):
        apply(pg, fix.forward_sql)
    assert pg.findings("DW102") == []
    # The parent's index attached the partitions' ones: one index per partition, no duplicate.
    assert pg.value("SELECT to_regclass('public.bare_parent_id_idx') IS NOT NULL") is True
    assert pg.value("SELECT count(*) FROM pg_index WHERE indrelid = 'bare_2020'::regclass") == 1
    assert pg.value("SELECT count(*) FROM pg_index WHERE indrelid = 'half_2020'::regclass") == 1
    apply(pg, bare.fix.rollback_sql)
    assert pg.value("SELECT count(*) FROM pg_index WHERE indrelid = 'bare_2020'::regclass") == 0
    assert [f.object for f in pg.findings("DW102")] == ["public.bare"]


def test_dw103_foreign_key_type_mismatch_flagged(pg):
    pg.execute("CREATE TABLE parent (id bigint PRIMARY KEY)")
    pg.execute("CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent)")
    pg.execute("INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1)")
    found = pg.findings("DW103")
    assert [f.object for f in found] == ["public.child.parent_id"]
    assert found[0].evidence["column_type"] == "integer"
    assert found[0].evidence["referenced_type"] == "bigint"
    fix = found[0].fix
    assert "ALTER TABLE public.child ALTER COLUMN parent_id TYPE bigint;" in fix.forward_sql
    assert "ALTER TABLE public.child ALTER COLUMN parent_id TYPE integer;" in fix.rollback_sql
    assert fix.steps()[0]["rewrites_table"] is True
    apply(pg, fix.forward_sql)
    assert pg.findings("DW103") == []
    apply(pg, fix.rollback_sql)
    assert (
        pg.value(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'child'::regclass AND attname = 'parent_id'"
        )
        == "integer"
    )


def test_dw103_matching_types_not_flagged(pg):
    pg.execute("CREATE DOMAIN account_id AS bigint CHECK (VALUE > 0)")
    pg.execute("CREATE TABLE parent (id bigint PRIMARY KEY, code varchar(10) UNIQUE)")
    pg.execute(
        "CREATE TABLE child (id int PRIMARY KEY, parent_id bigint REFERENCES parent, "
        "other account_id REFERENCES parent, code varchar(10) REFERENCES parent (code))"
    )
    assert pg.findings("DW103") == []


def test_dw104_money_in_float_flagged(pg):
    pg.execute(
        "CREATE TABLE orders (id int PRIMARY KEY, total_price double precision, fee real, weight_kg real)"
    )
    pg.execute("INSERT INTO orders VALUES (1, 0.1 + 0.2, 1.5, 2)")
    found = {f.object: f for f in pg.findings("DW104")}
    assert set(found) == {"public.orders.total_price", "public.orders.fee"}
    fix = found["public.orders.total_price"].fix
    assert (
        "ALTER TABLE public.orders ALTER COLUMN total_price TYPE numeric(19,4) "
        "USING round(total_price::numeric, 4);"
    ) in fix.forward_sql
    apply(pg, fix.forward_sql)
    assert str(pg.value("SELECT total_price FROM orders")) == "0.3000"
    apply(pg, fix.rollback_sql)
    assert pg.value("SELECT pg_typeof(total_price)::text FROM orders") == "double precision"


def test_dw104_exact_money_and_float_measurements_not_flagged(pg):
    pg.execute(
        "CREATE TABLE orders (id int PRIMARY KEY, total_price numeric(12,2), fee bigint, "
        "weight_kg real, latitude double precision, priceless boolean, tax_rate real, "
        "credit_score double precision, total_distance double precision)"
    )
    assert pg.findings("DW104") == []


def test_dw105_event_timestamp_without_time_zone_flagged(pg):
    pg.execute(
        "CREATE TABLE events (id int PRIMARY KEY, created_at timestamp DEFAULT now(), "
        "finish_time timestamp, local_opening timestamp)"
    )
    pg.execute("INSERT INTO events VALUES (1, '2024-03-01 12:00', NULL, '2024-03-01 09:00')")
    found = {f.object: f for f in pg.findings("DW105")}
    assert set(found) == {"public.events.created_at", "public.events.finish_time"}
    fix = found["public.events.created_at"].fix
    assert (
        "ALTER TABLE public.events ALTER COLUMN created_at TYPE timestamptz "
        "USING created_at AT TIME ZONE 'UTC';"
    ) in fix.forward_sql
    assert (
        "ALTER TABLE public.events ALTER COLUMN created_at TYPE timestamp without time zone "
        "USING created_at AT TIME ZONE 'UTC';"
    ) in fix.rollback_sql
    pg.execute("SET TimeZone = 'America/New_York'")
    apply(pg, fix.forward_sql)
    assert pg.value("SELECT created_at = '2024-03-01 12:00+00' FROM events") is True
    apply(pg, fix.rollback_sql)
    assert str(pg.value("SELECT created_at FROM events")) == "2024-03-01 12:00:00"


def test_dw105_timestamptz_and_wall_clock_columns_not_flagged(pg):
    pg.execute(
        "CREATE TABLE events (id int PRIMARY KEY, created_at timestamptz, due_at date, "
        "local_opening timestamp, starts time)"
    )
    assert pg.findings("DW105") == []


def test_dw106_json_column_flagged(pg):
    pg.execute("CREATE TABLE docs (id int PRIMARY KEY, body json)")
    pg.execute("""INSERT INTO docs VALUES (1, '{"b": 1, "a": 2}')""")
    found = pg.findings("DW106")
    assert [f.object for f in found] == ["public.docs.body"]
    fix = found[0].fix
    assert "ALTER TABLE public.docs ALTER COLUMN body TYPE jsonb USING body::jsonb;" in fix.forward_sql
    apply(pg, fix.forward_sql)
    assert pg.value("SELECT pg_typeof(body)::text FROM docs") == "jsonb"
    assert pg.value("""SELECT body @> '{"a": 2}' FROM docs""") is True
    apply(pg, fix.rollback_sql)
    assert pg.value("SELECT pg_typeof(body)::text FROM docs") == "json"


def test_dw106_jsonb_column_not_flagged(pg):
    pg.execute("CREATE TABLE docs (id int PRIMARY KEY, body jsonb, raw text)")
    pg.execute("CREATE VIEW doc_json AS SELECT id, body::json AS body FROM docs")
    assert pg.findings("DW106") == []


def test_dw107_char_column_flagged(pg):
    pg.execute("CREATE TABLE countries (code char(2) PRIMARY KEY, name text)")
    pg.execute("INSERT INTO countries VALUES ('DE', 'Germany')")
    found = pg.findings("DW107")
    assert [f.object for f in found] == ["public.countries.code"]
    assert found[0].evidence["suggested_type"] == "character varying(2)"
    fix = found[0].fix
    assert "ALTER TABLE public.countries ALTER COLUMN code TYPE character varying(2);" in fix.forward_sql
    apply(pg, fix.forward_sql)
    assert pg.findings("DW107") == []
    apply(pg, fix.rollback_sql)
    assert [f.object for f in pg.findings("DW107")] == ["public.countries.code"]


def test_dw107_varchar_and_internal_char_not_flagged(pg):
    pg.execute("""CREATE TABLE countries (code varchar(2) PRIMARY KEY, kind "char", name text)""")
    assert pg.findings("DW107") == []


def test_dw107_fixed_length_codes_not_flagged_but_padded_values_are(pg):
    pg.execute(
        "CREATE TABLE releases (id int PRIMARY KEY, country char(2), isrc char(12) CHECK (length(isrc) = 12), "
        "currency char(3) CHECK (currency ~ '^[A-Z]{3}$'), postal_code char(10), grade char(2))"
    )
    # A single-row table's lock and a CHECK listing two-letter values fix the length too; a CHECK
    # that allows other lengths does not.
    pg.execute(
        "CREATE TABLE settings (lock char(1) NOT NULL DEFAULT 'X' UNIQUE CHECK (lock = 'X'), "
        "kind char(2) CHECK (kind IN ('AB', 'CD')), size char(4) CHECK (length(size) > 0), "
        "pair char(2) CHECK (pair IN ('A', 'BB')))"
    )
    pg.execute(
        "INSERT INTO releases SELECT g, (ARRAY['DE', 'AT', 'FR'])[g % 3 + 1], 'USRC1' || lpad(g::text, 7, '0'), "
        "'EUR', (ARRAY['10115', '8010', 'SW1A 1AA'])[g % 3 + 1], (ARRAY['A', 'B+'])[g % 2 + 1] "
        "FROM generate_series(1, 2000) g"
    )
    pg.analyze()
    found = {f.object: f for f in pg.findings("DW107")}
    # Every sampled country code has two characters; the CHECKs hold the others' lengths.
    assert set(found) == {
        "public.releases.postal_code",
        "public.releases.grade",
        "public.settings.size",
        "public.settings.pair",
    }
    assert found["public.releases.postal_code"].evidence["sampled_lengths"] == [4, 5, 8]
    assert found["public.releases.grade"].evidence["sampled_lengths"] == [1, 2]


def test_dw108_repeated_column_group_flagged(pg):
    pg.execute(
        "CREATE TABLE customers (id int PRIMARY KEY, name text, phone1 text, phone2 text, phone3 text)"
    )
    pg.execute("INSERT INTO customers VALUES (1, 'a', '111', NULL, '333'), (2, 'b', '222', NULL, NULL)")
    found = pg.findings("DW108")
    assert [f.object for f in found] == ["public.customers"]
    assert found[0].evidence["stem"] == "phone"
    assert found[0].evidence["columns"] == ["phone1", "phone2", "phone3"]
    fix = found[0].fix
    assert "CREATE TABLE public.customers_phone_values (id integer NOT NULL" in fix.forward_sql
    assert "DROP TABLE IF EXISTS public.customers_phone_values;" in fix.rollback_sql
    apply(pg, fix.forward_sql)
    assert pg.execute("SELECT id, position, value FROM customers_phone_values ORDER BY 1, 2") == [
        (1, 1, "111"),
        (1, 3, "333"),
        (2, 1, "222"),
    ]
    apply(pg, fix.rollback_sql)
    assert pg.value("SELECT to_regclass('public.customers_phone_values')") is None


def test_dw108_numbered_pairs_and_versions_not_flagged(pg):
    pg.execute(
        "CREATE TABLE places (id int PRIMARY KEY, address_line1 text, address_line2 text, "
        "x1 int, y1 int, x2 int, y2 int, ipv4 inet, ipv6 inet, "
        "col1 int, col2 text, col3 date, sha1 text, sha256 text, md5 text)"
    )
    assert pg.findings("DW108") == []


def _tickets(pg, rows: int = 2000) -> None:
    pg.execute(
        "CREATE TABLE tickets (id int PRIMARY KEY, status text NOT NULL, note text, priority varchar(10))"
    )
    pg.execute(
        f"INSERT INTO tickets SELECT g, (ARRAY['open', 'closed', 'pending'])[g % 3 + 1], "
        f"'note ' || g, 'p' || (g % 50) FROM generate_series(1, {rows}) g"
    )


def test_dw109_enum_like_text_column_flagged(pg):
    _tickets(pg)
    pg.analyze()
    found = pg.findings("DW109")
    assert [f.object for f in found] == ["public.tickets.status"]
    assert found[0].evidence["values"] == ["closed", "open", "pending"]
    assert found[0].evidence["rows"] == 2000
    fix = found[0].fix
    assert (
        "ALTER TABLE public.tickets ADD CONSTRAINT tickets_status_check "
        "CHECK (status IN ('closed', 'open', 'pending')) NOT VALID;"
    ) in fix.forward_sql
    assert "VALIDATE CONSTRAINT tickets_status_check;" in fix.forward_sql
    apply(pg, fix.forward_sql)
    assert pg.findings("DW109") == []
    apply(pg, fix.rollback_sql)
    assert pg.value("SELECT count(*) FROM pg_constraint WHERE conname = 'tickets_status_check'") == 0


def test_dw109_constrained_or_varied_columns_not_flagged(pg):
    _tickets(pg)
    pg.execute("ALTER TABLE tickets ADD CHECK (status IN ('open', 'closed', 'pending'))")
    pg.execute("CREATE TABLE kinds (name text PRIMARY KEY)")
    pg.execute("INSERT INTO kinds VALUES ('a'), ('b')")
    pg.execute("CREATE TABLE items (id int PRIMARY KEY, kind text REFERENCES kinds)")
    pg.execute("INSERT INTO items SELECT g, (ARRAY['a', 'b'])[g % 2 + 1] FROM generate_series(1, 2000) g")
    pg.execute("CREATE TABLE small (id int PRIMARY KEY, state text)")
    pg.execute("INSERT INTO small SELECT g, 'x' || (g % 2) FROM generate_series(1, 200) g")
    pg.analyze()
    assert pg.findings("DW109") == []


def test_dw109_needs_a_closed_set_by_name_and_values(pg):
    pg.execute(
        "CREATE TABLE scans (id int PRIMARY KEY, scan_type text, action_type text, plugin_kind text, "
        'review_state text, payment_mode varchar(20), label text, sparse_status text, "deliveryStatus" text)'
    )
    pg.execute(
        "INSERT INTO scans SELECT g, 'entry', (ARRAY['create', 'update', 'delete'])[g % 3 + 1], "
        "(ARRAY['core', 'extra'])[g % 2 + 1], (ARRAY['looks good to me', 'needs work'])[g % 2 + 1], "
        "(ARRAY['card', 'cash'])[g % 2 + 1], (ARRAY['red', 'blue'])[g % 2 + 1], "
        "CASE WHEN g % 3 = 0 THEN (ARRAY['on', 'off'])[g % 2 + 1] END, (ARRAY['sent', 'lost'])[g % 2 + 1] "
        "FROM generate_series(1, 2000) g"
    )
    pg.execute("CREATE TABLE hooks (id int PRIMARY KEY, handler_type text, status text)")
    pg.execute(
        "INSERT INTO hooks SELECT g, (ARRAY['app.hooks.Mail', 'app.hooks.Chat'])[g % 2 + 1], "
        "(ARRAY['ok', 'failed'])[g % 2 + 1] FROM generate_series(1, 2000) g"
    )
    pg.analyze()
    found = {f.object: f for f in pg.findings("DW109")}
    # Not flagged: one value (scan_type), open-ended kinds (action_type, plugin_kind, handler_type),
    # free text (review_state), a name that says nothing (label), too few non-null rows (sparse_status).
    assert set(found) == {"public.scans.payment_mode", "public.scans.deliveryStatus", "public.hooks.status"}
    assert found["public.scans.payment_mode"].evidence["values"] == ["card", "cash"]


def test_dw110_nullable_column_without_nulls_flagged(pg):
    pg.execute("CREATE TABLE users (id int PRIMARY KEY, email text, nickname text)")
    pg.execute(
        "INSERT INTO users SELECT g, 'u' || g || '@x.org', CASE WHEN g % 2 = 0 THEN 'n' END "
        "FROM generate_series(1, 2000) g"
    )
    pg.execute("CREATE TABLE visits (id int NOT NULL, page text) PARTITION BY RANGE (id)")
    pg.execute("CREATE TABLE visits_1 PARTITION OF visits FOR VALUES FROM (0) TO (100000)")
    pg.execute("INSERT INTO visits SELECT g, '/p' FROM generate_series(1, 2000) g")
    pg.analyze()
    found = pg.findings("DW110")
    assert [f.object for f in found] == ["public.users.email", "public.visits.page"]  # the parent, once
    fix = found[0].fix
    # The VALIDATE runs in a transaction of its own, so the ADD's lock is not held through its scan.
    statements = [line for line in fix.forward_sql.splitlines() if line.startswith("ALTER TABLE")]
    assert statements == [
        "ALTER TABLE public.users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;",
        "ALTER TABLE public.users VALIDATE CONSTRAINT users_email_not_null;",
        "ALTER TABLE public.users ALTER COLUMN email SET NOT NULL;",
        "ALTER TABLE public.users DROP CONSTRAINT IF EXISTS users_email_not_null;",
    ]
    blocks = fix.forward_sql.split("COMMIT;")
    assert "NOT VALID" in blocks[0] and "VALIDATE CONSTRAINT" not in blocks[0]
    assert "VALIDATE CONSTRAINT" in blocks[1]
    assert [s["scans_table"] for s in fix.steps()] == [False, True, False, False]
    apply(pg, fix.forward_sql)
    assert (
        pg.value(
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'"
        )
        is True
    )
    apply(pg, fix.rollback_sql)
    assert (
        pg.value(
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'"
        )
        is False
    )


def test_dw110_columns_with_nulls_or_few_rows_not_flagged(pg):
    pg.execute(
        "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, nickname text, "
        "phone text CHECK (phone IS NOT NULL))"
    )
    pg.execute(
        "INSERT INTO users SELECT g, 'u' || g, CASE WHEN g % 2 = 0 THEN 'n' END, 'p' "
        "FROM generate_series(1, 2000) g"
    )
    pg.execute("CREATE TABLE tiny (id int PRIMARY KEY, label text)")
    pg.execute("INSERT INTO tiny SELECT g, 'l' FROM generate_series(1, 50) g")
    pg.analyze()
    assert pg.findings("DW110") == []


def test_dw110_nullable_by_design_columns_stay_info_without_a_fix(pg):
    pg.execute("CREATE TABLE carts (id int PRIMARY KEY); CREATE TABLE orders (id int PRIMARY KEY)")
    pg.execute("INSERT INTO carts VALUES (1); INSERT INTO orders VALUES (1)")
    pg.execute(
        "CREATE TABLE answers (id int PRIMARY KEY, cart_id int REFERENCES carts, session_id text, "
        "order_id int REFERENCES orders, finished_at timestamptz, birth_date date, email text, owner_id int)"
    )
    # In the sample every answer belongs to an order; the schema lets it belong to a cart or a session.
    pg.execute(
        "INSERT INTO answers SELECT g, NULL, NULL, 1, now(), '2000-01-01', "
        "'a' || g, g FROM generate_series(1, 2000) g"
    )
    # A required reference next to an optional one is no arc: both are set on many rows.
    pg.execute("CREATE TABLE coupons (id int PRIMARY KEY); INSERT INTO coupons VALUES (1)")
    pg.execute(
        "CREATE TABLE purchases (id int PRIMARY KEY, order_id int REFERENCES orders, "
        "coupon_id int REFERENCES coupons)"
    )
    pg.execute(
        "INSERT INTO purchases SELECT g, 1, CASE WHEN g % 3 = 0 THEN 1 END FROM generate_series(1, 2000) g"
    )
    pg.analyze()
    found = {f.object: f for f in pg.findings("DW110")}
    assert set(found) == {
        "public.purchases.order_id",
        "public.answers.order_id",
        "public.answers.finished_at",
        "public.answers.birth_date",
        "public.answers.email",
        "public.answers.owner_id",
    }
    for by_design in ("order_id", "finished_at", "birth_date"):
        info = found[f"public.answers.{by_design}"]
        assert info.severity == Severity.INFO and info.fix is None, by_design
        assert info.evidence["nullable_by_design"]
    assert (
        "at most one of order_id, cart_id, session_id"
        in found["public.answers.order_id"].evidence["nullable_by_design"]
    )
    # Plain columns, and an *_id column that is no foreign key, are still fixes: no new false negative.
    for plain in ("answers.email", "answers.owner_id", "purchases.order_id"):
        assert found[f"public.{plain}"].severity is None and found[f"public.{plain}"].fix is not None, plain


def test_dw111_integer_key_running_out_flagged(pg):
    pg.execute("CREATE TABLE orders (id serial PRIMARY KEY, note text)")
    pg.execute("CREATE TABLE order_lines (id bigint PRIMARY KEY, order_id int REFERENCES orders)")
    pg.execute("INSERT INTO orders (note) VALUES ('a')")
    pg.execute("SELECT setval('orders_id_seq', 1500000000)")
    pg.execute("CREATE TABLE tickets (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY)")
    pg.execute("SELECT setval('tickets_id_seq', 2000000000)")
    found = {f.object: f for f in pg.findings("DW111")}
    assert set(found) == {"public.orders.id", "public.tickets.id"}
    orders = found["public.orders.id"]
    assert orders.evidence["sequence"] == "public.orders_id_seq"
    assert orders.evidence["used_fraction"] == 0.6985
    assert orders.evidence["referencing_columns"] == ["public.order_lines.order_id"]
    assert orders.severity is None  # the check's own: high
    assert found["public.tickets.id"].severity == Severity.CRITICAL
    fix = orders.fix
    assert "ALTER TABLE public.orders ALTER COLUMN id TYPE bigint;" in fix.forward_sql
    assert "ALTER TABLE public.order_lines ALTER COLUMN order_id TYPE bigint;" in fix.forward_sql
    assert "ALTER SEQUENCE public.orders_id_seq AS bigint;" in fix.forward_sql
    assert "ALTER SEQUENCE" not in found["public.tickets.id"].fix.forward_sql
    apply(pg, fix.forward_sql)
    apply(pg, found["public.tickets.id"].fix.forward_sql)
    assert pg.findings("DW111") == []
    apply(pg, fix.rollback_sql)
    assert (
        pg.value("SELECT data_type::regtype::text FROM pg_sequences WHERE sequencename = 'orders_id_seq'")
        == "integer"
    )


def test_dw111_bigint_or_young_keys_not_flagged(pg):
    pg.execute("CREATE TABLE big (id bigserial PRIMARY KEY)")
    pg.execute("SELECT setval('big_id_seq', 3000000000)")
    pg.execute("CREATE TABLE young (id serial PRIMARY KEY)")
    pg.execute("SELECT setval('young_id_seq', 1000)")
    pg.execute("CREATE TABLE unused (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)")
    assert pg.findings("DW111") == []


def test_dw112_identifier_needs_quoting_info_without_a_rename_flagged(pg):
    pg.execute('CREATE TABLE "Order Items" ("Id" int PRIMARY KEY, "user" int, qty int)')
    # Reserved words an ORM maps and quotes itself: reported, never renamed.
    pg.execute('CREATE TABLE schedule (id int PRIMARY KEY, "default" bool, "end" date, "to" text)')
    found = {f.object: f for f in pg.findings("DW112")}
    assert set(found) == {
        "public.Order Items",
        "public.Order Items.Id",
        "public.Order Items.user",
        "public.schedule.default",
        "public.schedule.end",
        "public.schedule.to",
    }
    assert found["public.Order Items"].evidence["quoted"] == '"Order Items"'
    assert found["public.schedule.end"].message == 'column public.schedule.end must be quoted as "end"'
    assert all(f.fix is None for f in found.values())
    assert all(f.severity is None for f in found.values())  # the check's own: info
    assert all("suggested_name" not in f.evidence for f in found.values())


def test_dw112_plain_identifiers_not_flagged(pg):
    pg.execute(
        "CREATE TABLE order_items (id int PRIMARY KEY, user_id int, qty int, select_ text, name2 text)"
    )
    assert pg.findings("DW112") == []


def test_dw107_unique_fixed_length_codes_seen_in_the_histogram_not_flagged(pg):
    # Every value distinct: no most-common values, only the histogram's bounds show the lengths.
    pg.execute("CREATE TABLE discs (id int PRIMARY KEY, disc_id char(8), label char(12))")
    pg.execute(
        "INSERT INTO discs SELECT g, lpad(to_hex(g * 7919), 8, '0'), 'L' || g FROM generate_series(1, 3000) g"
    )
    pg.analyze()
    found = {f.object: f for f in pg.findings("DW107")}
    assert set(found) == {"public.discs.label"}  # labels vary in length; every disc id has eight characters
    assert found["public.discs.label"].evidence["sampled_lengths"][-1] <= 5
