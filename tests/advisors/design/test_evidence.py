"""Design from data needs evidence a DBA would accept (issue 14, item 3): each planted case below is
one the issue saw go wrong on a real schema, rebuilt here from its description."""

from __future__ import annotations

from dbwright.advisors.design import design_review


def review(pg):
    pg.analyze()
    return design_review(pg.url, use_desbordante=False)


def test_a_password_column_is_not_narrowed_to_the_longest_value(pg):
    pg.execute("CREATE TABLE users (id int PRIMARY KEY, password varchar(128) NOT NULL)")
    pg.execute("INSERT INTO users SELECT g, 'pw' || (g % 100) FROM generate_series(1, 2000) g")
    assert [p for p in review(pg).of_kind("type") if p.columns == ("password",)] == []


def test_a_few_rows_are_not_evidence_for_a_type_or_not_null(pg):
    pg.execute("CREATE TABLE tracks (id int PRIMARY KEY, track_no text, length_s text)")
    pg.execute("INSERT INTO tracks VALUES (1, '1', '200'), (2, '2', '180'), (3, '3', '240')")
    report = review(pg)
    assert report.of_kind("type") == [] and report.of_kind("not_null") == []
    assert any(r.table == "public.tracks" and "not judged" in r.reason for r in report.rejected)


def test_an_order_lines_price_and_name_stay_on_the_line(pg):
    pg.execute(
        "CREATE TABLE order_items (id int PRIMARY KEY, item_id int NOT NULL, item_name text NOT NULL, "
        "price numeric(10,2) NOT NULL, qty int NOT NULL)"
    )
    pg.execute(
        "INSERT INTO order_items SELECT g, g % 50, 'item ' || (g % 50), (g % 50) * 1.5, 1 + g % 3 "
        "FROM generate_series(1, 3000) g"
    )
    report = review(pg)
    assert report.of_kind("normalize") == []
    assert any("snapshot" in r.reason for r in report.rejected if r.table == "public.order_items")


def test_a_dependency_is_proposed_as_a_candidate_to_verify_with_the_domain(pg):
    pg.execute("CREATE TABLE employees (id int PRIMARY KEY, dept_id int NOT NULL, dept_name text NOT NULL)")
    pg.execute("INSERT INTO employees SELECT g, g % 40, 'dept ' || (g % 40) FROM generate_series(1, 2000) g")
    proposal = review(pg).of_kind("normalize")[0]
    assert proposal.title.endswith("(a candidate: verify with the domain)")
    assert proposal.evidence["status"] == "candidate: verify with the domain"
    assert "for someone who knows the domain" in proposal.advice


def test_a_delimited_list_is_not_normalized_as_a_dependency(pg):
    pg.execute(
        "CREATE TABLE customers (id int PRIMARY KEY, segment_id int NOT NULL, interests text NOT NULL)"
    )
    pg.execute(
        "INSERT INTO customers SELECT g, g % 20, (ARRAY['golf,cooking', 'gaming,chess', 'golf,chess,jazz', "
        "'cooking,jazz', 'hiking,golf', 'chess,hiking'])[1 + (g % 20) % 6] FROM generate_series(1, 2000) g"
    )
    report = review(pg)
    assert [p for p in report.of_kind("normalize") if "interests" in p.columns] == []
    assert any("delimited lists" in r.reason for r in report.rejected)


def test_a_flag_that_matches_a_key_by_name_is_not_a_foreign_key(pg):
    pg.execute("CREATE TABLE status (status_id int PRIMARY KEY, label text)")
    pg.execute("INSERT INTO status VALUES (1, 'on'), (2, 'off')")
    pg.execute("CREATE TABLE devices (id int PRIMARY KEY, status_id int NOT NULL)")
    pg.execute("INSERT INTO devices SELECT g, 1 + g % 2 FROM generate_series(1, 500) g")
    report = review(pg)
    assert report.of_kind("foreign_key") == []
    assert any("a count or a flag is not a key" in r.reason for r in report.rejected)


def test_a_key_in_a_multi_tenant_table_is_proposed_scoped_by_the_tenant(pg):
    pg.execute(
        "CREATE TABLE coupons (id int PRIMARY KEY, tenant_id int NOT NULL, code text NOT NULL, percent int)"
    )
    pg.execute("INSERT INTO coupons SELECT g, g % 7, 'C' || g, 10 FROM generate_series(1, 700) g")
    keys = [p.columns for p in review(pg).of_kind("unique_key")]
    assert keys == [("tenant_id", "code")]


def test_a_new_table_does_not_clash_with_an_existing_singular_or_plural_name(pg):
    pg.execute("CREATE TABLE customers (id int PRIMARY KEY)")
    pg.execute(
        "CREATE TABLE visits (id int PRIMARY KEY, customer_id int NOT NULL, customer_city text NOT NULL, "
        "browser_id int NOT NULL, browser_name text NOT NULL)"
    )
    pg.execute(
        "INSERT INTO visits SELECT g, g % 100, 'city ' || (g % 100), g % 30, 'b' || (g % 30) "
        "FROM generate_series(1, 3000) g"
    )
    proposals = review(pg).of_kind("normalize")
    new_tables = sorted(p.evidence["new_table"] for p in proposals)
    views = [p.evidence["compatibility_view"] for p in proposals]
    assert "public.customer" not in new_tables and "public.visits_customer" in new_tables
    assert len(set(views)) == len(views) == 2


def test_a_column_of_a_declared_composite_key_is_not_a_key_on_its_own(pg):
    # synapse's account_data: UNIQUE (user_id, account_data_type); generated data makes user_id unique
    pg.execute(
        "CREATE TABLE account_data (user_id text NOT NULL, account_data_type text NOT NULL, content text, "
        "UNIQUE (user_id, account_data_type))"
    )
    pg.execute("INSERT INTO account_data SELECT 'u' || g, 'm.direct', '{}' FROM generate_series(1, 500) g")
    report = review(pg)
    assert [p for p in report.of_kind("unique_key") if p.columns == ("user_id",)] == []
    assert any("part of a declared composite key" in r.reason for r in report.rejected)


def test_values_inside_a_keys_range_and_names_matching_many_parents_are_no_foreign_key(pg):
    # numbers that fall inside another table's ids (a timestamp, a count) and a column named like a key
    # that sixteen tables share: a reference has one parent, named after it
    pg.execute("CREATE TABLE rooms (room_id text PRIMARY KEY)")
    pg.execute("CREATE TABLE room_tags (room_id text, tag text, PRIMARY KEY (room_id, tag))")
    pg.execute("CREATE TABLE room_aliases (room_id text, alias text, PRIMARY KEY (room_id, alias))")
    pg.execute("CREATE TABLE events (id int PRIMARY KEY, room_id text NOT NULL, created_ts int NOT NULL)")
    pg.execute("INSERT INTO rooms SELECT 'r' || g FROM generate_series(1, 300) g")
    pg.execute("INSERT INTO room_tags SELECT 'r' || g, 't' FROM generate_series(1, 300) g")
    pg.execute("INSERT INTO room_aliases SELECT 'r' || g, 'a' FROM generate_series(1, 300) g")
    pg.execute("INSERT INTO events SELECT g, 'r' || (1 + g % 300), g FROM generate_series(1, 300) g")
    proposals = review(pg).of_kind("foreign_key")
    parents = {(p.table, p.columns[0]): p.title for p in proposals}
    assert ("public.events", "created_ts") not in parents
    events_room = [
        t for (table, column), t in parents.items() if (table, column) == ("public.events", "room_id")
    ]
    assert len(events_room) <= 1 and all("public.rooms.room_id" in t for t in events_room)


def test_not_null_is_not_proposed_where_null_is_a_value(pg):
    pg.execute("CREATE TABLE parents (id int PRIMARY KEY)")
    pg.execute("INSERT INTO parents SELECT generate_series(1, 500)")
    pg.execute(
        "CREATE TABLE items (id int PRIMARY KEY, parent_id int REFERENCES parents, expires_at timestamptz, "
        "deleted_at timestamptz, label text)"
    )
    pg.execute("INSERT INTO items SELECT g, g, now(), now(), 'x' FROM generate_series(1, 500) g")
    not_null = {p.columns[0] for p in review(pg).of_kind("not_null")}
    assert not_null == {"label"}


def test_a_schema_that_declares_no_foreign_keys_keeps_them_in_the_application(pg):
    # synapse's way: many tables reference rooms, none declares it; the data obeys every reference
    pg.execute("CREATE TABLE rooms (room_id text PRIMARY KEY)")
    pg.execute("INSERT INTO rooms SELECT 'r' || g FROM generate_series(1, 300) g")
    for table in ("events", "receipts", "room_tags", "room_stats"):
        pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, room_id text NOT NULL)")
        pg.execute(f"INSERT INTO {table} SELECT g, 'r' || (1 + g % 300) FROM generate_series(1, 600) g")
    report = review(pg)
    assert report.of_kind("foreign_key") == []
    assert sum("declares foreign keys for only 0%" in r.reason for r in report.rejected) == 4
