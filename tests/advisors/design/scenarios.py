"""Generated tables where the right design answer is known, shared by the design tests."""

from __future__ import annotations


def transitive(pg) -> None:
    """employees.id → dept_id → dept_name, dept_floor: a transitive dependency (3NF violation)."""
    pg.execute(
        "CREATE TABLE employees(id serial PRIMARY KEY, full_name text NOT NULL, salary int NOT NULL, "
        "dept_id int NOT NULL, dept_name text NOT NULL, dept_floor int NOT NULL)"
    )
    pg.execute(
        "INSERT INTO employees(full_name, salary, dept_id, dept_name, dept_floor) "
        "SELECT 'emp ' || g, 30000 + (g * 7919) % 50000, g % 40, 'department ' || (g % 40), "
        "(g % 40) % 9 FROM generate_series(1, 2000) g"
    )


def dirty(pg) -> None:
    """orders.customer_id → customer_city except in 20 of 4,000 rows (0.5%)."""
    pg.execute(
        "CREATE TABLE shipments(id int PRIMARY KEY, customer_id int NOT NULL, customer_city text NOT NULL, "
        "weight int NOT NULL)"
    )
    pg.execute("SELECT setseed(0.25)")
    pg.execute(
        "INSERT INTO shipments SELECT g, g % 200, 'city ' || ((g % 200) * 37 % 150), "
        "(random() * 1000)::int FROM generate_series(1, 4000) g"
    )
    pg.execute(
        "UPDATE shipments SET customer_city = 'typo ' || id "
        "WHERE id IN (SELECT g * 199 FROM generate_series(1, 20) g)"
    )


def natural_key(pg, duplicate: bool = False) -> None:
    """countries has no primary key, but code is unique and never NULL."""
    pg.execute("CREATE TABLE countries(code text NOT NULL, label text, population int)")
    pg.execute(
        "INSERT INTO countries SELECT 'C' || lpad(g::text, 3, '0'), 'Country ' || g, (g * 7) % 13 "
        "FROM generate_series(1, 300) g"
    )
    if duplicate:
        pg.execute("UPDATE countries SET code = 'C001' WHERE code = 'C002'")


def missing_fk(pg, orphans: int = 3) -> None:
    """purchases.customer_id matches customers.id except in ``orphans`` rows; no FK declared."""
    pg.execute("CREATE TABLE customers(id int PRIMARY KEY, email text NOT NULL)")
    pg.execute("INSERT INTO customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 500) g")
    pg.execute("CREATE TABLE purchases(id int PRIMARY KEY, customer_id int, total numeric(10,2) NOT NULL)")
    pg.execute("INSERT INTO purchases SELECT g, 1 + g % 500, (g % 97) + 0.5 FROM generate_series(1, 3000) g")
    if orphans:
        pg.execute(f"UPDATE purchases SET customer_id = 100000 + id WHERE id <= {orphans}")


def wide_varchar(pg) -> None:
    """currency is varchar(255) but holds 3-letter codes."""
    pg.execute(
        "CREATE TABLE payments(id int PRIMARY KEY, currency varchar(255) NOT NULL, amount int NOT NULL)"
    )
    pg.execute(
        "INSERT INTO payments SELECT g, chr(65 + g % 26) || chr(65 + (g / 26) % 26) || 'X', g % 1000 "
        "FROM generate_series(1, 1500) g"
    )


def order_lines(pg, rows: int = 6000) -> None:
    """order_lines.product_id → product_name, unit_price (planted), next to two false determinants.

    extended_price = qty × unit_price is a derived measure: 2,500 distinct values (2.4 rows each),
    and it determines product_id and unit_price in this data. note is free text, 1,500 distinct
    sentences (4 rows each) that determine product_id too. Neither is an entity.
    """
    pg.execute(
        "CREATE TABLE order_lines(id int PRIMARY KEY, product_id int NOT NULL, product_name text NOT NULL, "
        "unit_price numeric(10,2) NOT NULL, qty int NOT NULL, extended_price numeric(12,2) NOT NULL, "
        "note text NOT NULL)"
    )
    pg.execute(f"""INSERT INTO order_lines
        SELECT g, p, 'product ' || p, u, q, q * u,
               'customer asked about delivery window ' || (g % 1500) || ' before noon'
        FROM (SELECT g, g % 500 AS p, 1 + (g / 500) % 5 AS q, round(3.17 + (g % 500) * 1.731, 2) AS u
              FROM generate_series(1, {rows}) g) s""")
