"""Every object kind of a mature schema, from an empty database and back (issue 15 item 1).

The schema below is written here, in the shapes the issue saw on a large real schema: extensions
(one depending on another), an ICU collation used by a column, a text-search configuration,
SQL-standard functions that call each other in reverse alphabetical order, a CHECK and an
expression index that call them, a CHECK and a view with ``IN`` on a varchar column (printed
differently on each reload), a constraint trigger, a partitioned table with a partition, an
aggregate, RLS with a policy, identity, an owner and a grant, comments, a sequence owned by a
column, a publication, extended statistics, a rule, an event trigger, REPLICA IDENTITY and CLUSTER ON.
"""

from __future__ import annotations

from pathlib import Path

from dbwright.changes.diff import diff
from tests.changes.diff.helpers import pg_dump_lines, psql_errors, round_trip, sections, step_sql

MATURE = """
\\set ON_ERROR_STOP 1
CREATE EXTENSION IF NOT EXISTS cube WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS earthdistance WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
CREATE SCHEMA app;
CREATE COLLATION app.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TEXT SEARCH CONFIGURATION app.plain (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION app.plain ALTER MAPPING FOR word, hword, hword_part WITH public.unaccent, simple;
CREATE DOMAIN app.email AS text CHECK (VALUE ~ '@');
CREATE TYPE app.status AS ENUM ('new', 'done');
CREATE FUNCTION app.z_norm(t text) RETURNS text LANGUAGE sql IMMUTABLE RETURN lower(t);
CREATE FUNCTION app.a_key(t text) RETURNS text LANGUAGE sql IMMUTABLE RETURN app.z_norm(t) || '!';
CREATE TABLE app.people (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text COLLATE app.ci NOT NULL,
    email app.email,
    kind varchar(10) NOT NULL CHECK (kind IN ('a', 'b')),
    status app.status DEFAULT 'new',
    code text CHECK (app.a_key(code) <> '!'),
    home earth
);
ALTER TABLE app.people ALTER COLUMN kind SET (n_distinct = 2);
CREATE INDEX people_key ON app.people (app.a_key(name));
CREATE VIEW app.active AS SELECT id, name FROM app.people WHERE kind IN ('a', 'b');
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE CONSTRAINT TRIGGER people_touch AFTER INSERT ON app.people DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE TABLE app.events (id bigint, at date NOT NULL, body text) PARTITION BY RANGE (at);
CREATE TABLE app.events_2025 PARTITION OF app.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX events_at ON app.events (at);
CREATE AGGREGATE app.concat_all(text) (SFUNC = textcat, STYPE = text, INITCOND = '');
ALTER TABLE app.people ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON app.people FOR SELECT TO PUBLIC USING (kind IN ('a', 'b'));
CREATE SEQUENCE app.ticket_seq START WITH 1000 CACHE 20;
CREATE TABLE app.tickets (n int DEFAULT nextval('app.ticket_seq'), owner_note text);
ALTER SEQUENCE app.ticket_seq OWNED BY app.tickets.n;
ALTER TABLE app.tickets OWNER TO diff_kinds_owner;
GRANT SELECT ON app.people TO diff_kinds_reader;
CREATE PUBLICATION diff_kinds_pub FOR TABLE app.people WITH (publish = 'insert, update');
ALTER TABLE app.people REPLICA IDENTITY USING INDEX people_pkey;
ALTER TABLE app.people CLUSTER ON people_key;
ALTER TABLE app.tickets REPLICA IDENTITY FULL;
CREATE STATISTICS app.people_stats (dependencies) ON kind, status FROM app.people;
CREATE TABLE app.audit_log (id int, note text);
CREATE RULE no_delete AS ON DELETE TO app.audit_log DO INSTEAD NOTHING;
CREATE FUNCTION app.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER diff_kinds_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION app.on_ddl();
COMMENT ON TABLE app.people IS 'people';
COMMENT ON COLUMN app.people.name IS 'compared without case';
COMMENT ON FUNCTION app.a_key(text) IS 'the sort key';
"""


def test_a_mature_schema_round_trips_from_empty(pg, tmp_path: Path) -> None:
    pg.role("diff_kinds_owner", "NOLOGIN")
    pg.role("diff_kinds_reader", "NOLOGIN")
    source = pg.cluster.url(pg.name + "_src")
    pg.execute(f'CREATE DATABASE "{pg.name}_src" TEMPLATE template0')
    try:
        schema = tmp_path / "schema.sql"
        schema.write_text(MATURE)
        assert psql_errors(source, schema) == []

        plan = diff(pg.url, schema, allow_destructive=True)
        assert plan.manual == [] and plan.refused == []
        up, down = sections(plan.migration())
        assert up.lstrip().startswith("SET search_path = pg_catalog;\nSET check_function_bodies = false;")
        titles = [p.title for p in plan.packages]
        # pg_depend's order, not the kinds': z_norm before a_key, a_key before what calls it.
        assert titles.index("Create extension cube") < titles.index("Create extension earthdistance")
        assert titles.index("Create function app.z_norm(t text)") < titles.index(
            "Create function app.a_key(t text)"
        )
        assert titles.index("Create function app.a_key(t text)") < titles.index(
            "Add constraint people_code_check on app.people"
        )
        assert titles.index("Create function app.a_key(t text)") < titles.index("Create index app.people_key")
        sql = "\n".join(p.forward_sql for p in plan.packages)
        assert "CREATE CONSTRAINT TRIGGER people_touch" in sql and "ADD CONSTRAINT people_touch" not in sql
        assert 'name text COLLATE "app"."ci" NOT NULL' in sql or "name text COLLATE app.ci NOT NULL" in sql
        assert "CREATE TABLE app.events_2025 PARTITION OF app.events FOR VALUES FROM" in sql
        assert "CREATE AGGREGATE app.concat_all(text) (SFUNC = textcat, STYPE = text, INITCOND = '')" in sql
        assert "COMMENT ON FUNCTION public.cube" not in sql  # the extension's own comments come with it
        assert "ALTER TABLE app.tickets OWNER TO diff_kinds_owner;" in sql
        assert (
            "ALTER TABLE app.people REPLICA IDENTITY USING INDEX people_pkey;\nALTER TABLE app.people CLUSTER ON people_key;"
            in sql
        )
        assert "CREATE STATISTICS app.people_stats (dependencies) ON kind, status FROM app.people;" in sql
        assert "CREATE RULE no_delete AS\n    ON DELETE TO app.audit_log DO INSTEAD NOTHING;" in sql
        assert "CREATE EVENT TRIGGER diff_kinds_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE')" in sql

        (tmp_path / "up.sql").write_text(up)
        (tmp_path / "down.sql").write_text(down)
        assert psql_errors(pg.url, tmp_path / "up.sql") == []
        again = diff(pg.url, schema, allow_destructive=True)
        assert [d.to_dict() for d in again.differences] == [] and again.manual == []
        # `kind IN ('a', 'b')` on varchar is stored as ANY((ARRAY[…])::text[]), which reads back as
        # ARRAY[(…)::text, …]: pg_dump and a restore of it print the same change. The reference is the
        # source as pg_dump restores it; the diff's own comparison (above) found the two equal.
        reloaded = tmp_path / "source.sql"
        reloaded.write_text("\n".join(pg_dump_lines(source, sort=False)) + "\n")
        pg.execute(f'CREATE DATABASE "{pg.name}_ref" TEMPLATE template0')
        reference = pg.cluster.url(pg.name + "_ref")
        assert psql_errors(reference, reloaded) == []
        target_lines, reference_lines = pg_dump_lines(pg.url), pg_dump_lines(reference)
        assert [x for x in target_lines if x not in reference_lines] == [
            x for x in reference_lines if x not in target_lines
        ]
        assert target_lines == reference_lines
        assert {*pg_dump_lines(pg.url)} ^ {*pg_dump_lines(source)} <= {
            line for line in pg_dump_lines(pg.url) + pg_dump_lines(source) if "ARRAY[" in line
        }

        assert psql_errors(pg.url, tmp_path / "down.sql") == []
        assert pg.value("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = 'app'") == 0  # fmt: skip
        assert pg.value("SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql'") == 0
    finally:
        pg.execute(f'DROP DATABASE IF EXISTS "{pg.name}_src" WITH (FORCE)')
        pg.execute(f'DROP DATABASE IF EXISTS "{pg.name}_ref" WITH (FORCE)')
        pg.execute("DROP PUBLICATION IF EXISTS diff_kinds_pub")
        for role in ("diff_kinds_owner", "diff_kinds_reader"):
            pg.execute(f'DROP OWNED BY "{role}"')


LIVE = """
CREATE EXTENSION IF NOT EXISTS cube;
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TEXT SEARCH CONFIGURATION plain (COPY = pg_catalog.simple);
CREATE TABLE people (id int NOT NULL, name text, kind varchar(10));
ALTER TABLE people ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON people FOR SELECT USING (kind = 'a');
CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX events_at ON events (at);
CREATE AGGREGATE concat_all(text) (SFUNC = textcat, STYPE = text, INITCOND = '');
CREATE PUBLICATION diff_kinds_changes FOR TABLE people WITH (publish = 'insert');
INSERT INTO people VALUES (1, 'Ann', 'a');
INSERT INTO events VALUES (1, '2025-06-01');
"""

CHANGED = """
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TEXT SEARCH CONFIGURATION plain (COPY = pg_catalog.english);
CREATE TABLE people (id int GENERATED BY DEFAULT AS IDENTITY, name text COLLATE ci, kind varchar(10));
ALTER TABLE people ALTER COLUMN kind SET STATISTICS 500;
ALTER TABLE people ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON people FOR SELECT USING (kind IN ('a', 'b'));
CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2027-01-01');
CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
CREATE INDEX events_at ON events (at);
CREATE AGGREGATE concat_all(text) (SFUNC = textcat, STYPE = text, INITCOND = '-');
CREATE PUBLICATION diff_kinds_changes FOR TABLE people WHERE (kind <> 'x') WITH (publish = 'insert, delete');
"""


def test_changes_to_each_kind_round_trip(pg, tmp_path: Path) -> None:
    """Live → desired → live: an extension dropped and one added, text-search mappings, identity and
    COLLATE added, column statistics, a policy's expression, a partition's bound (detach, attach) and
    a new partition, an aggregate and a publication (now with a row filter) changed."""
    try:
        plan = round_trip(pg, tmp_path, LIVE, CHANGED, allow_destructive=True)
    finally:
        pg.execute("DROP PUBLICATION IF EXISTS diff_kinds_changes")
    sql = "\n".join(step_sql(plan))
    assert (
        "DROP EXTENSION cube;" in sql and "CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;" in sql
    )
    assert "ALTER TABLE public.events DETACH PARTITION public.events_2025;" in sql
    assert "ATTACH PARTITION public.events_2025 FOR VALUES FROM ('2025-01-01') TO ('2027-01-01');" in sql
    assert "ALTER TABLE public.people ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;" in sql
    assert "ALTER TABLE public.people ALTER COLUMN name TYPE text COLLATE public.ci;" in sql
    assert "ALTER TABLE public.people ALTER COLUMN kind SET STATISTICS 500;" in sql
    assert "DROP MAPPING IF EXISTS FOR" in sql
    assert (
        "CREATE PUBLICATION diff_kinds_changes FOR TABLE public.people WHERE (((kind)::text <> 'x'::text)) "
        "WITH (publish = 'insert, delete');"
    ) in sql
    assert plan.manual == []


def test_dropping_a_mature_schema_follows_the_live_pg_depend(pg, tmp_path: Path) -> None:
    """Everything dropped (--allow-destructive), in the order the live database's pg_depend allows:
    the CHECK and index before the function they call, a_key before z_norm, earthdistance before cube."""
    pg.role("diff_kinds_owner", "NOLOGIN")
    pg.role("diff_kinds_reader", "NOLOGIN")
    try:
        loaded = tmp_path / "mature.sql"
        loaded.write_text(MATURE)
        assert psql_errors(pg.url, loaded) == []
        empty = tmp_path / "empty.sql"
        empty.write_text("-- nothing\n")
        plan = diff(pg.url, empty, allow_destructive=True)
        assert plan.manual == []
        titles = [p.title for p in plan.packages]
        assert titles.index("Drop function app.a_key(t text)") < titles.index(
            "Drop function app.z_norm(t text)"
        )
        assert titles.index("Drop extension earthdistance") < titles.index("Drop extension cube")
        up, down = sections(plan.migration())
        (tmp_path / "up.sql").write_text(up)
        (tmp_path / "down.sql").write_text(down)
        assert psql_errors(pg.url, tmp_path / "up.sql") == []
        assert [d.to_dict() for d in diff(pg.url, empty).differences] == []
        # The down part builds it all again, dependencies first, the dropped table's owner included.
        assert psql_errors(pg.url, tmp_path / "down.sql") == []
        left = [(d.kind, d.key, d.change) for d in diff(pg.url, loaded).differences]
        assert left == [], str(left)
    finally:
        pg.execute("DROP PUBLICATION IF EXISTS diff_kinds_pub")
        pg.execute("DROP EVENT TRIGGER IF EXISTS diff_kinds_ddl")
        for role in ("diff_kinds_owner", "diff_kinds_reader"):
            pg.execute(f'DROP OWNED BY "{role}"')
