"""Integrity checks: each has a bad-state test and a clean look-alike test on a real server."""

from dbwright.checks.registry import find_check


def _apply(pg, script: str) -> None:
    """Run a fix's SQL script statement by statement, as psql would."""
    for line in script.splitlines():
        pg.execute(line)


def _not_valid_constraints(pg) -> None:
    """A parent and a child whose CHECK and FOREIGN KEY were added NOT VALID; every row obeys both."""
    pg.execute("CREATE TABLE customers (id int PRIMARY KEY)")
    pg.execute("CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total numeric)")
    pg.execute("INSERT INTO customers VALUES (1); INSERT INTO orders VALUES (1, 1, 10)")
    pg.execute("ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0) NOT VALID")
    pg.execute(
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
        "REFERENCES customers NOT VALID"
    )


def test_dw113_constraint_left_not_valid_flagged(pg):
    _not_valid_constraints(pg)
    found = {f.evidence["constraint"]: f for f in pg.findings("DW113")}
    assert set(found) == {"orders_total_positive", "orders_customer_fk"}
    assert find_check("DW113").category == "integrity"
    check, fk = found["orders_total_positive"], found["orders_customer_fk"]
    assert check.object == "public.orders" and check.evidence["kind"] == "CHECK"
    assert fk.evidence["kind"] == "FOREIGN KEY"
    assert "ALTER TABLE public.orders VALIDATE CONSTRAINT orders_total_positive;" in check.fix.forward_sql
    assert [op.lock().mode for op in fk.fix.operations] == ["SHARE UPDATE EXCLUSIVE"]
    for finding in found.values():
        _apply(pg, finding.fix.forward_sql)
    assert pg.findings("DW113") == []


def test_dw113_validated_constraints_not_flagged(pg):
    pg.execute("CREATE TABLE customers (id int PRIMARY KEY)")
    pg.execute(
        "CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, "
        "total numeric CHECK (total > 0))"
    )
    # added NOT VALID, as a careful migration does, then validated: nothing left to do
    pg.execute("ALTER TABLE orders ADD CONSTRAINT orders_id_positive CHECK (id > 0) NOT VALID")
    pg.execute("ALTER TABLE orders VALIDATE CONSTRAINT orders_id_positive")
    assert pg.findings("DW113") == []


def _customers_and_orders(pg, orphan_every: int | None = None) -> None:
    """200 customers; 300 orders whose customer_id is named like a reference and has no FK."""
    pg.execute("CREATE TABLE customers (id int PRIMARY KEY, name text)")
    pg.execute("INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 200) g")
    pg.execute("CREATE TABLE orders (id int PRIMARY KEY, customer_id int, status_id int, total numeric)")
    orphan = (
        f"CASE WHEN g % {orphan_every} = 0 THEN 100000 + g ELSE 1 + g % 200 END"
        if orphan_every
        else "1 + g % 200"
    )
    pg.execute(f"INSERT INTO orders SELECT g, {orphan}, 1 + g % 2, g FROM generate_series(1, 300) g")
    pg.execute("ANALYZE")


def test_dw119_reference_the_data_implies_flagged(pg):
    _customers_and_orders(pg)
    found = pg.findings("DW119")
    assert [f.object for f in found] == ["public.orders"]
    evidence = found[0].evidence
    assert evidence["references"] == "public.customers" and evidence["columns"] == ["customer_id"]
    assert evidence["orphans"] == 0 and evidence["sampled_values"] == 300
    assert evidence["distinct_values"] == 200 and evidence["confidence"] == "medium"
    assert found[0].severity is None  # the check's own, medium: one undeclared reference is an oversight
    fix = found[0].fix
    assert "FOREIGN KEY (customer_id) REFERENCES public.customers (id) NOT VALID" in fix.forward_sql
    assert "VALIDATE CONSTRAINT orders_customer_id_fkey" in fix.forward_sql
    _apply(pg, fix.forward_sql)
    assert pg.findings("DW119") == []


def test_dw119_a_few_orphans_reported_without_a_fix_flagged(pg):
    _customers_and_orders(pg, orphan_every=50)  # 6 of 300 sampled values have no customer: 2%
    found = pg.findings("DW119")
    assert [f.object for f in found] == ["public.orders"]
    assert found[0].severity.name == "LOW" and found[0].fix is None
    assert found[0].evidence["orphans"] == 6 and "clean them" in found[0].message


def test_dw119_orphans_flags_declared_keys_and_unrelated_names_not_flagged(pg):
    _customers_and_orders(pg, orphan_every=2)  # half the values point nowhere: not a relationship
    pg.execute("CREATE TABLE statuses (id int PRIMARY KEY)")  # status_id: only 2 distinct values
    pg.execute("INSERT INTO statuses VALUES (1), (2)")
    pg.execute("CREATE TABLE payments (id int PRIMARY KEY, customer_id int REFERENCES customers)")
    pg.execute("INSERT INTO payments SELECT g, 1 + g % 200 FROM generate_series(1, 100) g")
    pg.execute("CREATE TABLE visits (id int PRIMARY KEY, session_id text)")  # no sessions table
    pg.execute("INSERT INTO visits SELECT g, 's' || g FROM generate_series(1, 100) g")
    pg.execute("ANALYZE")
    assert pg.findings("DW119") == []


def test_dw119_a_schema_that_declares_few_foreign_keys_gets_information_flagged(pg):
    # synapse's way: rooms referenced from many tables, no foreign key declared anywhere
    pg.execute("CREATE TABLE rooms (id int PRIMARY KEY)")
    pg.execute("INSERT INTO rooms SELECT generate_series(1, 200)")
    for table in ("events", "room_tags", "receipts", "room_stats"):
        pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, room_id int)")
        pg.execute(f"INSERT INTO {table} SELECT g, 1 + g % 200 FROM generate_series(1, 300) g")
    pg.execute("ANALYZE")
    found = pg.findings("DW119")
    assert len(found) == 4 and {f.severity.name for f in found} == {"INFO"}
    assert all(f.evidence["declared_share"] == 0.0 and "by choice" in f.message for f in found)
