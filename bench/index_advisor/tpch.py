"""TPC-H data and queries, generated offline by DuckDB's tpch extension and copied into PostgreSQL.

The extension ships as a PyPI package (``duckdb-extension-tpch``, same version as ``duckdb``);
loading its ``.duckdb_extension`` file directly needs no network. Tables get their primary
keys only: the advisors start from no secondary index.
"""

from __future__ import annotations

import glob
import os
import tempfile
import time
from pathlib import Path

import psycopg

TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")
PRIMARY_KEYS = {
    "region": "r_regionkey",
    "nation": "n_nationkey",
    "supplier": "s_suppkey",
    "customer": "c_custkey",
    "part": "p_partkey",
    "partsupp": "ps_partkey, ps_suppkey",
    "orders": "o_orderkey",
    "lineitem": "l_orderkey, l_linenumber",
}


def _duckdb(sf: float, database: str = ":memory:"):
    """DuckDB with the tpch extension loaded and, for ``sf`` > 0, the data generated in ``database``."""
    import duckdb
    import duckdb_extension_tpch

    found = glob.glob(
        os.path.join(os.path.dirname(duckdb_extension_tpch.__file__), "**", "*.duckdb_extension"),
        recursive=True,
    )
    if not found:
        raise RuntimeError("no .duckdb_extension file inside duckdb_extension_tpch")
    db = duckdb.connect(database)
    db.execute(f"LOAD '{found[0]}'")
    if sf:
        db.execute(f"CALL dbgen(sf={sf})")
    return db


def queries() -> list[tuple[int, str]]:
    """The 22 standard queries, as the extension prints them (their substitution parameters)."""
    db = _duckdb(0)
    return [
        (int(n), q.strip().rstrip(";"))
        for n, q in db.execute("SELECT query_nr, query FROM tpch_queries() ORDER BY query_nr").fetchall()
    ]


def _pg_type(duck_type: str) -> str:
    duck_type = duck_type.upper()
    if duck_type.startswith("DECIMAL"):
        return duck_type.replace("DECIMAL", "numeric")
    return {
        "INTEGER": "integer",
        "BIGINT": "bigint",
        "DATE": "date",
        "VARCHAR": "text",
        "DOUBLE": "double precision",
    }.get(duck_type, "text")


def load(conn: psycopg.Connection, sf: float, log=print) -> dict[str, float]:
    """Generate TPC-H at ``sf`` and load it into ``conn``'s database; returns timings in seconds."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    work = tempfile.TemporaryDirectory(prefix="tpch-duckdb-")
    # from SF 5 on, DuckDB generates into a temporary file, not memory (SF 10 is ~10 GB of rows, beside PostgreSQL)
    db = _duckdb(sf, str(Path(work.name) / "tpch.duckdb") if sf >= 5 else ":memory:")
    timings["generate_s"] = time.perf_counter() - started
    log(f"generated TPC-H sf={sf} in {timings['generate_s']:.1f} s")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tpch-") as tmp:
        for table in TABLES:
            columns = db.execute(f"DESCRIBE {table}").fetchall()
            ddl = ", ".join(f"{name} {_pg_type(kind)} NOT NULL" for name, kind, *_ in columns)
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} ({ddl})")
            path = Path(tmp) / f"{table}.csv"
            db.execute(f"COPY {table} TO '{path}' (HEADER false, DELIMITER '|')")
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY {table} FROM STDIN (FORMAT csv, DELIMITER '|')") as copy,
                path.open("rb") as source,
            ):
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            path.unlink()
            conn.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({PRIMARY_KEYS[table]})")
    db.close()
    work.cleanup()
    timings["load_s"] = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute("VACUUM ANALYZE")
    timings["analyze_s"] = time.perf_counter() - started
    log(f"loaded in {timings['load_s']:.1f} s, VACUUM ANALYZE {timings['analyze_s']:.1f} s")
    return timings


def data_bytes(conn: psycopg.Connection) -> int:
    """Heap size of the eight tables: the "data size" the budgets are multiples of."""
    return int(
        conn.execute(
            "SELECT sum(pg_relation_size(c.oid)) FROM pg_class c WHERE c.relname = ANY(%s) "
            "AND c.relkind = 'r'",
            (list(TABLES),),
        ).fetchone()[0]
    )
