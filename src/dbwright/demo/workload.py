"""The demo's application workload: what a small web shop asks its database all day.

A fixed list of statements, each run a fixed number of times with deterministic parameters,
as the application role, right after ``pg_stat_statements_reset()``. Some are what a healthy
application does (point lookups through indexes); some are the problems a review should find:

- ``order_detail`` filters ``shop.order_items`` on its unindexed FK column: a seq scan per call
  (heavy in total, DW402; the missing index is DW102);
- ``top_customers`` and ``customer_cohorts`` are genuinely slow joins and aggregates over the
  biggest tables (DW401);
- ``events_report`` and ``user_activity`` scan ``analytics.events`` for a date range and a user
  it has no index for (DW206);
- ``latest_payment_per_customer`` sorts 100k+ rows with ``work_mem = 64kB`` and spills (DW403).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbwright.demo.data import ANCHOR, APP_ROLE, DATABASE, SESSION, ProgressFn, Sizes
from dbwright.engines.base import Connection
from dbwright.engines.postgres.connect import open_session
from dbwright.engines.postgres.replay import replay


@dataclass(frozen=True)
class Context:
    """What parameters are drawn from: the data's sizes and a few values read before the run."""

    sizes: Sizes
    emails: tuple[str, ...]

    def __getitem__(self, name: str) -> int:
        return self.sizes[name]


Params = Callable[[int, Context], tuple[Any, ...]]


def _spread(call: int, salt: int, n: int) -> int:
    """A deterministic id in 1..n for the call-th execution (Knuth's multiplicative hash)."""
    return 1 + (call * 2654435761 + salt * 40503) % n


def _session_token(g: int) -> str:
    """The token the generator gave session number g (see data._auth)."""
    return hashlib.md5(f"session{g}".encode()).hexdigest() + hashlib.md5(f"token{g}".encode()).hexdigest()


@dataclass(frozen=True)
class Query:
    name: str
    sql: str
    calls: int
    params: Params | None = None
    session_settings: tuple[str, ...] = ()  # SET … before, RESET after (as the application would)


def _no_params(call: int, s: Context) -> tuple[Any, ...]:
    return ()


QUERIES: tuple[Query, ...] = (
    Query(
        "product_page",
        "SELECT id, sku, name, price, stock FROM shop.products WHERE id = %s",
        400,
        lambda i, s: (_spread(i, 1, s["products"]),),
    ),
    Query(
        "login",
        "SELECT id, password_hash, role FROM auth.users WHERE email = %s",
        300,
        lambda i, s: (s.emails[i % len(s.emails)],),
    ),
    Query(
        "session_check",
        "SELECT user_id, expires_at FROM auth.sessions WHERE token = %s AND expires_at > %s",
        400,
        lambda i, s: (_session_token(s["sessions"] - _spread(i, 3, s["sessions"] // 3) + 1), f"{ANCHOR}+00"),
    ),
    Query(
        "customer_orders",
        "SELECT id, status, total, created_at FROM shop.orders WHERE customer_id = %s "
        "ORDER BY created_at DESC LIMIT 20",
        300,
        lambda i, s: (_spread(i, 4, s["customers"]),),
    ),
    Query(
        "customer_tickets",
        "SELECT id, subject, status, updated_at FROM support.tickets "
        "WHERE customer_id = %s AND status <> 'closed' ORDER BY updated_at DESC",
        200,
        lambda i, s: (_spread(i, 5, s["customers"]),),
    ),
    Query(
        "decrement_stock",
        "UPDATE shop.products SET stock = stock - 1 WHERE id = %s AND stock > 0",
        200,
        lambda i, s: (_spread(i, 6, s["products"]),),
    ),
    Query(
        "recent_page_views",
        "SELECT path, viewed_at FROM analytics.page_views WHERE user_id = %s "
        "ORDER BY viewed_at DESC LIMIT 10",
        200,
        lambda i, s: (_spread(i, 8, s["users"]),),
    ),
    Query(
        "support_queue",
        "SELECT id, subject, priority, updated_at FROM support.tickets "
        "WHERE status IN ('open', 'pending') AND updated_at < %s ORDER BY updated_at LIMIT 50",
        50,
        lambda i, s: (f"2025-0{1 + i % 6}-15 00:00:00+00",),
    ),
    Query("next_invoice_number", "SELECT nextval('billing.invoice_number_seq')", 50),
    Query(
        "order_detail",
        "SELECT oi.product_id, p.name, oi.quantity, oi.unit_price "
        "FROM shop.order_items oi JOIN shop.products p ON p.id = oi.product_id WHERE oi.order_id = %s",
        110,
        lambda i, s: (_spread(i, 7, s["orders"]),),
    ),
    Query(
        "daily_revenue",
        "SELECT date_trunc('day', created_at) AS day, count(*), sum(total) "
        "FROM shop.orders WHERE created_at >= %s AND status <> 'cancelled' GROUP BY 1 ORDER BY 1",
        8,
        lambda i, s: (f"2025-0{1 + i % 5}-01 00:00:00",),
    ),
    Query(
        "events_report",
        "SELECT event_type, count(*) AS events, count(DISTINCT user_id) AS users "
        "FROM analytics.events WHERE created_at >= %s AND created_at < %s GROUP BY event_type ORDER BY 2 DESC",
        40,
        lambda i, s: (f"2025-06-{1 + i % 20:02d} 00:00:00+00", f"2025-06-{8 + i % 20:02d} 00:00:00+00"),
    ),
    Query(
        "user_activity",
        "SELECT event_type, count(*) FROM analytics.events WHERE user_id = %s GROUP BY event_type",
        70,
        lambda i, s: (_spread(i, 9, s["users"]),),
    ),
    Query(
        "top_customers",
        "SELECT c.id, c.full_name, c.email, sum(oi.quantity * oi.unit_price) AS revenue "
        "FROM shop.customers c JOIN shop.orders o ON o.customer_id = c.id "
        "JOIN shop.order_items oi ON oi.order_id = o.id WHERE o.status <> 'cancelled' "
        "GROUP BY c.id ORDER BY revenue DESC LIMIT 50",
        3,
    ),
    Query(
        "customer_cohorts",
        "SELECT c.country_code, date_trunc('month', c.created_at) AS cohort, "
        "date_trunc('month', o.created_at) AS month, count(DISTINCT c.id) AS customers, "
        "count(DISTINCT o.id) AS orders, count(DISTINCT oi.product_id) AS products, "
        "sum(oi.quantity * oi.unit_price) AS revenue "
        "FROM shop.customers c JOIN shop.orders o ON o.customer_id = c.id "
        "JOIN shop.order_items oi ON oi.order_id = o.id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        2,
    ),
    Query(
        "latest_payment_per_customer",
        "SELECT customer_id, paid_at, amount FROM ("
        "SELECT o.customer_id, p.paid_at, p.amount, "
        "row_number() OVER (PARTITION BY o.customer_id ORDER BY p.paid_at DESC) AS rn "
        "FROM shop.payments p JOIN shop.orders o ON o.id = p.order_id) latest WHERE rn = 1",
        2,
        session_settings=("work_mem = '64kB'",),
    ),
)


def app_url(demo_url: str) -> str:
    """The demo URL, as the application role instead of the superuser."""
    return demo_url.replace("postgresql://postgres@", f"postgresql://{APP_ROLE}@", 1)


def has_run(demo_url: str) -> bool:
    """True when pg_stat_statements still holds the workload's statements."""
    with open_session(demo_url, SESSION) as conn:
        count = conn.execute(
            "SELECT count(*) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid "
            "JOIN pg_database d ON d.oid = s.dbid WHERE r.rolname = %s AND d.datname = %s",
            (APP_ROLE, DATABASE),
        ).fetchone()[0]
    return count >= len(QUERIES)


def run(demo_url: str, scale: float, progress: ProgressFn | None = None) -> dict[str, float]:
    """Reset pg_stat_statements and run every query its number of times; seconds per query name."""
    sizes = Sizes.at(scale)
    user_ids = sorted({_spread(call, 2, sizes["users"]) for call in range(100)})
    with open_session(demo_url, SESSION) as admin:
        emails = admin.execute("SELECT email FROM auth.users WHERE id = ANY(%s) ORDER BY id", (user_ids,))
        context = Context(sizes, tuple(row[0] for row in emails.fetchall()))
        admin.execute("SELECT pg_stat_statements_reset()")
    seconds: dict[str, float] = {}
    with open_session(app_url(demo_url), SESSION) as conn:
        for number, query in enumerate(QUERIES):
            if progress:
                progress(f"running workload: {query.name}", number / len(QUERIES))
            started = time.perf_counter()
            _run_query(conn, query, context)
            seconds[query.name] = round(time.perf_counter() - started, 3)
    if progress:
        progress("running workload", 1.0)
    return seconds


def _run_query(conn: Connection, query: Query, context: Context) -> None:
    for setting in query.session_settings:
        conn.execute(f"SET {setting}")
    params = query.params or _no_params
    replay(conn, query.sql, (params(call, context) for call in range(query.calls)))
    for setting in query.session_settings:
        conn.execute(f"RESET {setting.split('=')[0].strip()}")
