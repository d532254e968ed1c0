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
