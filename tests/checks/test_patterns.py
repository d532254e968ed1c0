"""Design-pattern checks (issue 14, item 4): each planted pattern is found from the sample the snapshot
holds, and its look-alike is not."""

INTERESTS = ("golf", "cooking", "gaming", "chess", "hiking", "jazz")


def _customers_with_interests(pg, value_sql: str) -> None:
    pg.execute("CREATE TABLE customers (id int PRIMARY KEY, name text, interests text)")
    pg.execute(f"INSERT INTO customers SELECT g, 'c' || g, {value_sql} FROM generate_series(1, 300) g")
    pg.execute("ANALYZE customers")


def test_dw114_comma_separated_interests_flagged(pg):
    words = "ARRAY[" + ", ".join(f"'{w}'" for w in INTERESTS) + "]"
    _customers_with_interests(
        pg,
        f"array_to_string(ARRAY[({words})[1 + g % 6], ({words})[1 + (g / 6) % 6], ({words})[1 + (g / 36) % 6]], ',')",
    )
    found = pg.findings("DW114")
    assert [f.object for f in found] == ["public.customers.interests"]
    evidence = found[0].evidence
    assert evidence["delimiter"] == "," and evidence["share_of_sampled_values"] >= 0.6
    assert evidence["sample"].startswith("pg_stats")


def test_dw114_prose_with_commas_and_single_values_not_flagged(pg):
    _customers_with_interests(
        pg, "'Called on ' || g || ', asked for a refund, then thanked us for the quick answer'"
    )
    pg.execute("CREATE TABLE tags (id int PRIMARY KEY, tag text)")
    pg.execute(
        "INSERT INTO tags SELECT g, (ARRAY['golf','cooking','chess'])[1 + g % 3] FROM generate_series(1, 300) g"
    )
    pg.execute("CREATE TABLE small (id int PRIMARY KEY, interests text)")  # too few rows to judge
    pg.execute("INSERT INTO small VALUES (1, 'golf,chess'), (2, 'chess,jazz'), (3, 'golf,jazz')")
    pg.execute("ANALYZE")
    assert pg.findings("DW114") == []


def test_dw115_entity_attribute_value_table_flagged(pg):
    pg.execute("CREATE TABLE products (id int PRIMARY KEY)")
    pg.execute("INSERT INTO products SELECT generate_series(1, 100)")
    pg.execute(
        "CREATE TABLE product_attributes (product_id int REFERENCES products, attribute text, value text)"
    )
    pg.execute(
        "INSERT INTO product_attributes SELECT p, a, 'v' || p FROM generate_series(1, 100) p, "
        "unnest(ARRAY['colour', 'size', 'weight', 'material']) a"
    )
    pg.execute("ANALYZE")
    found = pg.findings("DW115")
    assert [f.object for f in found] == ["public.product_attributes"]
    assert found[0].severity.name == "INFO"
    assert found[0].evidence["distinct_attributes"] == 4 and found[0].evidence["rows_per_entity"] >= 3


def test_dw115_narrow_tables_that_are_not_eav_not_flagged(pg):
    pg.execute("CREATE TABLE settings (name text PRIMARY KEY, value text)")  # one row per name: no entity
    pg.execute("INSERT INTO settings SELECT 's' || g, 'v' FROM generate_series(1, 50) g")
    pg.execute("CREATE TABLE labels (item_id int, name text, value text)")  # every name unique per row
    pg.execute("INSERT INTO labels SELECT g, 'n' || g, 'v' FROM generate_series(1, 300) g")
    pg.execute("ANALYZE")
    assert pg.findings("DW115") == []


def test_dw116_polymorphic_type_and_id_without_foreign_key_flagged(pg):
    pg.execute("CREATE TABLE posts (id int PRIMARY KEY); CREATE TABLE photos (id int PRIMARY KEY)")
    pg.execute(
        "CREATE TABLE comments (id int PRIMARY KEY, commentable_type text, commentable_id int, body text)"
    )
    pg.execute(
        "INSERT INTO comments SELECT g, (ARRAY['Post', 'Photo'])[1 + g % 2], g, 'x' FROM generate_series(1, 50) g"
    )
    pg.execute("ANALYZE comments")
    found = pg.findings("DW116")
    assert [f.object for f in found] == ["public.comments"]
    assert found[0].evidence["id_column"] == "commentable_id"
    assert sorted(found[0].evidence["types_seen"]) == ["Photo", "Post"]


def test_dw116_type_column_alone_or_with_a_foreign_key_not_flagged(pg):
    pg.execute("CREATE TABLE owners (id int PRIMARY KEY)")
    pg.execute("CREATE TABLE pets (id int PRIMARY KEY, owner_type text, owner_id int REFERENCES owners)")
    pg.execute("CREATE TABLE payments (id int PRIMARY KEY, payment_type text, amount numeric)")
    # synapse's look-alikes: the id names the row itself, or the "type" is a category (MIME type)
    pg.execute(
        "CREATE TABLE sessions (session_type text NOT NULL, session_id text NOT NULL, value text, "
        "UNIQUE (session_type, session_id))"
    )
    pg.execute("CREATE TABLE media (media_id text, media_type text, upload_name text)")
    pg.execute(
        "INSERT INTO media SELECT 'm' || g, (ARRAY['image/png', 'video/mp4'])[1 + g % 2], 'f' "
        "FROM generate_series(1, 50) g"
    )
    # mediawiki's: the "type" is a kind of log entry, the id always points into one log table
    pg.execute("CREATE TABLE logging (log_id int PRIMARY KEY)")
    pg.execute("CREATE TABLE recentchanges (rc_id int PRIMARY KEY, rc_log_type text, rc_logid int)")
    pg.execute(
        "INSERT INTO recentchanges SELECT g, (ARRAY['delete', 'block', 'move'])[1 + g % 3], g "
        "FROM generate_series(1, 60) g"
    )
    pg.execute("ANALYZE")
    assert pg.findings("DW116") == []


def test_dw117_jsonb_with_the_same_keys_in_every_document_flagged(pg):
    pg.execute("CREATE TABLE orders (id int PRIMARY KEY, doc jsonb)")
    pg.execute(
        "INSERT INTO orders SELECT g, jsonb_build_object('status', 'paid', 'total', g, "
        "'currency', 'EUR') || CASE WHEN g % 10 = 0 THEN '{\"gift\": true}' ELSE '{}' END::jsonb "
        "FROM generate_series(1, 200) g"
    )
    pg.execute("ANALYZE orders")
    found = pg.findings("DW117")
    assert [f.object for f in found] == ["public.orders.doc"]
    assert sorted(found[0].evidence["fixed_keys"]) == ["currency", "status", "total"]
    assert found[0].evidence["documents_sampled"] == 200


def test_dw117_jsonb_documents_of_varying_shape_not_flagged(pg):
    pg.execute("CREATE TABLE events (id int PRIMARY KEY, payload jsonb)")
    pg.execute(
        "INSERT INTO events SELECT g, jsonb_build_object('k' || (g % 7), g) FROM generate_series(1, 200) g"
    )
    pg.execute("CREATE TABLE few (id int PRIMARY KEY, doc jsonb)")  # too few documents to judge
    pg.execute("INSERT INTO few SELECT g, '{\"a\": 1}' FROM generate_series(1, 5) g")
    pg.execute("ANALYZE")
    assert pg.findings("DW117") == []


def _wide_table(pg, name: str, filled: int) -> None:
    columns = ", ".join(f"attr_{k} text" for k in range(35))
    pg.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, {columns})")
    values = ", ".join(f"CASE WHEN g % 50 = {k % 50} OR {k} < {filled} THEN 'x' END" for k in range(35))
    pg.execute(f"INSERT INTO {name} SELECT g, {values} FROM generate_series(1, 500) g")
    pg.execute(f"ANALYZE {name}")


def test_dw118_wide_table_of_mostly_empty_columns_flagged(pg):
    _wide_table(pg, "things", filled=5)
    found = pg.findings("DW118")
    assert [f.object for f in found] == ["public.things"]
    assert len(found[0].evidence["sparse_columns"]) == 30


def test_dw118_wide_table_whose_columns_are_filled_not_flagged(pg):
    _wide_table(pg, "measurements", filled=35)
    assert pg.findings("DW118") == []
