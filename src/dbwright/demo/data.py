"""The demo database: a small web shop over five schemas, with planted problems.

Everything is generated server-side with ``INSERT … SELECT … FROM generate_series`` and
deterministic hash expressions (``hashint8``), never ``random()``: two builds at the same
scale are identical row for row. Timestamps count back from a fixed anchor, not ``now()``.

Each planted problem is marked ``-- plant DWnnn`` where it is made; docs/demo.md lists them
all. Columns that are always filled are declared NOT NULL and nullable columns really hold
NULLs, so the planted problems stand out from an otherwise careful schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dbwright.engines.base import Connection
from dbwright.engines.postgres.connect import SessionOptions, open_session
from dbwright.engines.postgres.failures import UNIQUE_VIOLATION, StatementFailed, failures

#: Bump when the generated data or the planted problems change: prepare() then reloads.
DATA_VERSION = 2
DATABASE = "dbwright_demo"
APP_ROLE = "shop_app"
EXTRA_SUPERUSER = "ops_admin"
MD5_ROLE = "legacy_reporting"
ROLES = (APP_ROLE, EXTRA_SUPERUSER, MD5_ROLE)

#: Timestamps are generated backwards from this instant, so the data never depends on the clock.
ANCHOR = "2025-06-30 00:00:00"

#: Row counts at scale 1.0 (~1.2 million rows once expired sessions are purged).
FULL_SIZES = {
    "categories": 40,
    "customers": 50_000,
    "products": 5_000,
    "orders": 150_000,
    "order_items": 300_000,
    "users": 40_000,
    "sessions": 120_000,
    "api_keys": 2_000,
    "events": 200_000,
    "page_views": 80_000,
    "page_views_late": 32_000,
    "invoices": 30_000,
    "invoice_lines": 75_000,
    "tickets": 30_000,
    "ticket_messages": 75_000,
}

ProgressFn = Callable[[str, float | None], None]

#: The demo's own sessions to its embedded server: writable, and no timeouts (loading at full scale
#: and the workload's slow queries are meant to take their time). Unmarked: the workload plays the
#: application, so pg_stat_statements must show it as the application's, not as dbwright's own.
SESSION = SessionOptions(
    read_only=False,
    statement_timeout="0",
    lock_timeout="0",
    application_name="dbwright demo",
    mark_statements=False,
)


@dataclass(frozen=True)
class Sizes:
    """How many rows each generator makes at a given scale."""

    scale: float
    counts: dict[str, int]

    @classmethod
    def at(cls, scale: float) -> Sizes:
        if scale <= 0:
            raise ValueError("scale must be positive")
        return cls(scale, {name: max(10, round(n * scale)) for name, n in FULL_SIZES.items()})

    def __getitem__(self, name: str) -> int:
        return self.counts[name]


def marker(scale: float) -> str:
    """The database comment that records which data is loaded (written last, when complete)."""
    return f"dbwright demo data: version={DATA_VERSION} scale={scale:g}"


# --- helpers, created per loading session in pg_temp ---------------------------------------------

_HELPERS = """
CREATE OR REPLACE FUNCTION pg_temp.h(seed bigint, salt int) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT hashint8(seed * 7919 + salt)::bigint & 2147483647 $$;
CREATE OR REPLACE FUNCTION pg_temp.u(seed bigint, salt int) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (hashint8(seed * 7919 + salt)::bigint & 2147483647) / 2147483648.0 $$;
CREATE OR REPLACE FUNCTION pg_temp.pick(choices text[], seed bigint, salt int) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT choices[1 + (hashint8(seed * 7919 + salt)::bigint & 2147483647) % cardinality(choices)] $$;
"""

_FIRST = (
    "ARRAY['Anna','Ben','Clara','David','Emma','Felix','Greta','Hannah','Ivan','Julia','Karl','Lena',"
    "'Max','Nora','Oskar','Paula','Quentin','Rosa','Sven','Tara','Uwe','Vera','Willi','Yara','Zoe']"
)
_LAST = (
    "ARRAY['Schmidt','Meyer','Weber','Wagner','Becker','Hoffmann','Koch','Richter','Klein','Wolf',"
    "'Neumann','Schwarz','Braun','Zimmermann','Hartmann','Lange','Krause','Lehmann','Walter','Peters']"
)
_ADJECTIVES = "ARRAY['Classic','Compact','Deluxe','Eco','Smart','Solid','Ultra','Vintage','Pro','Mini']"
_NOUNS = (
    "ARRAY['Kettle','Lamp','Chair','Backpack','Headphones','Mug','Blender','Desk','Jacket','Watch','Bottle']"
)
_STREETS = "ARRAY['Hauptstr.','Bahnhofstr.','Gartenweg','Lindenallee','Schulstr.','Marktplatz','Bergstr.']"
_BROWSERS = "ARRAY['Firefox','Chrome','Safari','Edge']"
_PLATFORMS = "ARRAY['Windows NT 10.0','Macintosh; Intel Mac OS X 14_5','X11; Linux x86_64','iPhone; CPU iPhone OS 17_5']"
_EVENT_TYPES = (
    "ARRAY['page_view','page_view','page_view','search','add_to_cart','remove_from_cart',"
    "'checkout_started','checkout_completed','login','logout','wishlist_add','review_posted']"
)


def _user_agent(seed: str, salt: int) -> str:
    return (
        f"'Mozilla/5.0 (' || pg_temp.pick({_PLATFORMS}, {seed}, {salt}) || ') ' || "
        f"pg_temp.pick({_BROWSERS}, {seed}, {salt + 1}) || '/' || (100 + pg_temp.h({seed}, {salt + 2}) % 40)"
        f" || '.0.' || pg_temp.h({seed}, {salt + 3}) % 5000"
    )


def _ago(seed: str, salt: int, days: int) -> str:
    """A timestamptz up to ``days`` before the anchor."""
    return f"(TIMESTAMPTZ '{ANCHOR}+00' - (pg_temp.h({seed}, {salt}) % {days * 86400}) * INTERVAL '1 second')"


# --- the steps ---------------------------------------------------------------------------------------


def _schemas(s: Sizes) -> str:
    return """
CREATE SCHEMA shop; CREATE SCHEMA auth; CREATE SCHEMA analytics; CREATE SCHEMA billing; CREATE SCHEMA support;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
"""


def _shop(s: Sizes) -> str:
    return f"""
CREATE TABLE shop.categories (
    id integer PRIMARY KEY,
    name text NOT NULL UNIQUE,
    parent_id integer REFERENCES shop.categories
);
CREATE INDEX categories_parent_id_idx ON shop.categories (parent_id);
INSERT INTO shop.categories
SELECT g, 'Category ' || g, CASE WHEN g > 8 THEN 1 + g % 8 END FROM generate_series(1, {s["categories"]}) g;

CREATE TABLE shop.customers (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    full_name text NOT NULL,
    phone1 text,                       -- plant DW108: repeated column group
    phone2 text,
    phone3 text,
    postal_code char(10),              -- plant DW107: char(n)
    country_code text NOT NULL CHECK (country_code ~ '^[A-Z]{{2}}$'),
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL
);
INSERT INTO shop.customers
SELECT g,
       lower(pg_temp.pick({_FIRST}, g, 1)) || '.' || lower(pg_temp.pick({_LAST}, g, 2)) || g || '@example.com',
       pg_temp.pick({_FIRST}, g, 1) || ' ' || pg_temp.pick({_LAST}, g, 2),
       CASE WHEN pg_temp.u(g, 4) < 0.9 THEN '+49 30 ' || lpad((pg_temp.h(g, 5) % 10000000)::text, 7, '0') END,
       CASE WHEN pg_temp.u(g, 6) < 0.3 THEN '+49 170 ' || lpad((pg_temp.h(g, 7) % 10000000)::text, 7, '0') END,
       CASE WHEN pg_temp.u(g, 8) < 0.05 THEN '+49 89 ' || lpad((pg_temp.h(g, 9) % 10000000)::text, 7, '0') END,
       CASE WHEN pg_temp.u(g, 10) < 0.95 THEN lpad((pg_temp.h(g, 11) % 99999)::text, 5, '0') END,
       pg_temp.pick(ARRAY['DE','DE','DE','DE','AT','CH','FR','NL','PL','DK'], g, 12),
       pg_temp.u(g, 13) < 0.93,
       {_ago("g", 14, 730)}
FROM generate_series(1, {s["customers"]}) g;

CREATE TABLE shop.products (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    category_id integer NOT NULL REFERENCES shop.categories,
    sku text NOT NULL UNIQUE,
    name text NOT NULL,
    price double precision NOT NULL,   -- plant DW104: money in a float
    stock integer NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO shop.products
SELECT g,
       1 + pg_temp.h(g, 1) % {s["categories"]},
       'SKU-' || lpad(g::text, 6, '0'),
       pg_temp.pick({_ADJECTIVES}, g, 2) || ' ' || pg_temp.pick({_NOUNS}, g, 3) || ' ' || (1 + g % 97),
       ((199 + pg_temp.h(g, 4) % 49800) / 100.0)::double precision,
       pg_temp.h(g, 5) % 500,
       {_ago("g", 6, 1000)}
FROM generate_series(1, {s["products"]}) g;
CREATE INDEX products_category_id_idx ON shop.products (category_id);
"""


def _orders(s: Sizes) -> str:
    n_orders = s["orders"]
    return f"""
CREATE TABLE shop.order_items (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL,          -- plant DW102: FK added below, no index
    product_id integer NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price numeric(10,2) NOT NULL
);
INSERT INTO shop.order_items
SELECT i,
       CASE WHEN i <= {n_orders} THEN i ELSE 1 + pg_temp.h(i, 20) % {n_orders} END,
       p.id,
       1 + (pg_temp.h(i, 22) % 10) / 7,
       p.price::numeric(10,2)
FROM generate_series(1, {s["order_items"]}) i
JOIN shop.products p ON p.id = 1 + pg_temp.h(i, 21) % {s["products"]};

CREATE TABLE shop.orders (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL,      -- plant DW103: int FK to bigint customers.id
    status text NOT NULL,              -- plant DW109: five values, no CHECK
    currency text NOT NULL CHECK (currency IN ('EUR', 'USD', 'CHF')),
    total numeric(12,2) NOT NULL,
    shipping_address text,             -- plant DW110: nullable, never NULL
    created_at timestamp NOT NULL,     -- plant DW105: timestamp without time zone
    shipped_at timestamptz
);
INSERT INTO shop.orders
SELECT g, customer_id, status, currency, coalesce(t.total, 0), shipping_address, created_at,
       CASE WHEN status IN ('shipped', 'delivered')
            THEN (created_at + (1 + g % 4) * INTERVAL '1 day') AT TIME ZONE 'UTC' END
FROM (
    SELECT g,
           1 + pg_temp.h(g, 31) % {s["customers"]} AS customer_id,
           CASE WHEN pg_temp.u(g, 32) < 0.05 THEN 'pending'
                WHEN pg_temp.u(g, 32) < 0.10 THEN 'cancelled'
                WHEN pg_temp.u(g, 32) < 0.22 THEN 'paid'
                WHEN pg_temp.u(g, 32) < 0.35 THEN 'shipped'
                ELSE 'delivered' END AS status,
           CASE WHEN g % 500 = 7 THEN 'USD' WHEN g % 1000 = 3 THEN 'CHF' ELSE 'EUR' END AS currency,
           pg_temp.pick({_STREETS}, g, 33) || ' ' || (1 + pg_temp.h(g, 34) % 180) || ', '
               || lpad((pg_temp.h(g, 35) % 99999)::text, 5, '0') AS shipping_address,
           TIMESTAMP '{ANCHOR}' - (pg_temp.h(g, 36) % (730 * 86400)) * INTERVAL '1 second' AS created_at
    FROM generate_series(1, {n_orders}) g
) o
LEFT JOIN (SELECT order_id, sum(quantity * unit_price) AS total FROM shop.order_items GROUP BY order_id) t
       ON t.order_id = o.g;

CREATE TABLE shop.payments (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL,
    amount double precision NOT NULL,  -- plant DW104: money in a float
    method text NOT NULL CHECK (method IN ('card', 'paypal', 'invoice', 'sepa')),
    status text NOT NULL CHECK (status IN ('authorized', 'captured', 'refunded', 'failed')),
    paid_at timestamptz NOT NULL
);
INSERT INTO shop.payments (order_id, amount, method, status, paid_at)
SELECT o.id, o.total::double precision,
       pg_temp.pick(ARRAY['card','card','card','paypal','paypal','invoice','sepa'], o.id, 40),
       CASE WHEN o.id % 97 = 0 THEN 'refunded' WHEN o.id % 89 = 0 THEN 'authorized' ELSE 'captured' END,
       (o.created_at + (pg_temp.h(o.id, 41) % 3600) * INTERVAL '1 second') AT TIME ZONE 'UTC'
FROM shop.orders o
WHERE o.status IN ('paid', 'shipped', 'delivered')
ORDER BY o.id;
"""


def _auth(s: Sizes) -> str:
    n_users = s["users"]
    user_email = (
        f"lower(pg_temp.pick({_FIRST}, g, 1)) || '.' || lower(pg_temp.pick({_LAST}, g, 2)) || g"
        " || '@mail.example'"
    )
    # Every 250th user signed up again with different capitals: invisible to the case-sensitive
    # UNIQUE constraint, fatal to the case-insensitive unique index built later.
    twin_email = (
        f"pg_temp.pick({_FIRST}, g - 1, 1) || '.' || pg_temp.pick({_LAST}, g - 1, 2) || (g - 1)"
        " || '@mail.example'"
    )
    return f"""
CREATE TABLE auth.users (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    display_name text,                 -- plant DW110: nullable, never NULL
    role text NOT NULL CHECK (role IN ('customer', 'staff', 'admin')),
    created_at timestamptz NOT NULL,
    last_login_at timestamptz
);
INSERT INTO auth.users
SELECT g,
       CASE WHEN g % 250 = 2 THEN {twin_email} ELSE {user_email} END,
       'scrypt$16384$8$1$' || md5('salt' || g) || '$' || md5('password' || g),
       pg_temp.pick({_FIRST}, g, 1) || ' ' || left(pg_temp.pick({_LAST}, g, 2), 1) || '.',
       CASE WHEN g <= 10 THEN 'admin' WHEN g <= 150 THEN 'staff' ELSE 'customer' END,
       {_ago("g", 3, 900)},
       CASE WHEN pg_temp.u(g, 4) < 0.85 THEN {_ago("g", 5, 60)} END
FROM generate_series(1, {n_users}) g;

CREATE TABLE auth.sessions (
    id serial PRIMARY KEY,             -- plant DW111: int4 key, sequence restarted past half its range
    user_id bigint NOT NULL REFERENCES auth.users,
    token text NOT NULL UNIQUE,
    user_agent text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
) WITH (autovacuum_enabled = false);  -- plant DW305 (and DW303 once expired sessions are purged)
SELECT setval('auth.sessions_id_seq', 1200000000);
INSERT INTO auth.sessions (user_id, token, user_agent, created_at, expires_at)
SELECT 1 + pg_temp.h(g, 50) % {n_users},
       md5('session' || g) || md5('token' || g),
       {_user_agent("g", 51)},
       TIMESTAMPTZ '{ANCHOR}+00' - ({s["sessions"]} - g) * (INTERVAL '90 days' / {s["sessions"]}),
       TIMESTAMPTZ '{ANCHOR}+00' - ({s["sessions"]} - g) * (INTERVAL '90 days' / {s["sessions"]})
           + INTERVAL '30 days'
FROM generate_series(1, {s["sessions"]}) g
ORDER BY g;
CREATE INDEX sessions_user_id_idx ON auth.sessions (user_id);

CREATE TABLE auth.api_keys (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES auth.users,
    key_hash text NOT NULL UNIQUE,
    label text NOT NULL,
    scopes text[] NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
INSERT INTO auth.api_keys
SELECT g, 1 + pg_temp.h(g, 60) % {min(150, s["users"])}, md5('api-key' || g), 'integration ' || g,
       CASE WHEN g % 3 = 0 THEN ARRAY['orders:read', 'orders:write'] ELSE ARRAY['orders:read'] END,
       {_ago("g", 61, 700)},
       CASE WHEN g % 7 = 0 THEN TIMESTAMPTZ '{ANCHOR}+00' - (g % 30) * INTERVAL '1 day' END
FROM generate_series(1, {s["api_keys"]}) g;
CREATE INDEX api_keys_user_id_idx ON auth.api_keys (user_id);

-- plant DW504: SECURITY DEFINER without a pinned search_path (and executable by PUBLIC)
CREATE FUNCTION auth.set_password(p_user_id bigint, p_hash text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    AS $$ UPDATE auth.users SET password_hash = p_hash WHERE id = p_user_id $$;
-- the clean look-alike: search_path pinned, EXECUTE granted to the application only
CREATE FUNCTION auth.touch_login(p_user_id bigint) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ UPDATE auth.users SET last_login_at = now() WHERE id = p_user_id $$;
REVOKE EXECUTE ON FUNCTION auth.touch_login(bigint) FROM PUBLIC;
"""


def _analytics(s: Sizes) -> str:
    return f"""
CREATE TABLE analytics.events (        -- plant DW101: no primary key
    id bigint NOT NULL,
    user_id bigint,
    event_type text NOT NULL CHECK (event_type ~ '^[a-z_]+$'),
    payload json NOT NULL,             -- plant DW106: json, not jsonb
    created_at timestamptz NOT NULL    -- no index: the daily report scans the table (DW206)
);
INSERT INTO analytics.events
SELECT g,
       CASE WHEN pg_temp.u(g, 70) < 0.3 THEN NULL ELSE 1 + pg_temp.h(g, 71) % {s["users"]} END,
       pg_temp.pick({_EVENT_TYPES}, g, 72),
       json_build_object('source', pg_temp.pick(ARRAY['web','ios','android'], g, 73),
                         'path', '/products/' || (1 + pg_temp.h(g, 74) % {s["products"]}),
                         'duration_ms', pg_temp.h(g, 75) % 5000),
       {_ago("g", 76, 60)}
FROM generate_series(1, {s["events"]}) g;

CREATE TABLE analytics.page_views (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    user_id bigint REFERENCES auth.users,
    path text NOT NULL,
    "userAgent" text NOT NULL,         -- plant DW112: an identifier that needs quoting
    referrer text,
    viewed_at timestamptz NOT NULL
) WITH (autovacuum_enabled = false);  -- plant DW305, and DW306 once late rows arrive unanalyzed
CREATE INDEX page_views_user_id_idx ON analytics.page_views (user_id);  -- plant DW202: prefix of the next
CREATE INDEX page_views_user_id_viewed_at_idx ON analytics.page_views (user_id, viewed_at);
{_page_views_insert(1, s["page_views"], s)}
"""


def _page_views_insert(first: int, last: int, s: Sizes) -> str:
    return f"""
INSERT INTO analytics.page_views
SELECT g,
       CASE WHEN pg_temp.u(g, 80) < 0.4 THEN NULL ELSE 1 + pg_temp.h(g, 81) % {s["users"]} END,
       '/products/' || (1 + pg_temp.h(g, 82) % {s["products"]}),
       {_user_agent("g", 83)},
       CASE WHEN pg_temp.u(g, 87) < 0.5 THEN NULL
            ELSE pg_temp.pick(ARRAY['https://www.google.com/','https://duckduckgo.com/','https://t.co/'], g, 88)
                 || 'r/' || pg_temp.h(g, 86) % 5000 END,
       {_ago("g", 89, 30)}
FROM generate_series({first}, {last}) g;
"""


def _billing(s: Sizes) -> str:
    return f"""
-- plant DW409: the invoice number sequence is an int4 about to run out
CREATE SEQUENCE billing.invoice_number_seq AS integer START 2100000000;
CREATE TABLE billing.invoice_lines (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    invoice_id bigint NOT NULL,
    description text NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    amount numeric(12,2) NOT NULL
) WITH (autovacuum_enabled = false);  -- plant DW304 (never analyzed) and DW305
INSERT INTO billing.invoice_lines
SELECT i,
       CASE WHEN i <= {s["invoices"]} THEN i ELSE 1 + pg_temp.h(i, 90) % {s["invoices"]} END,
       pg_temp.pick(ARRAY['Subscription','Shipping','Service fee','Extended warranty','Gift wrap'], i, 91),
       1 + pg_temp.h(i, 92) % 3,
       ((500 + pg_temp.h(i, 93) % 20000) / 100.0)::numeric(12,2)
FROM generate_series(1, {s["invoice_lines"]}) i;

CREATE TABLE billing.invoices (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    number integer NOT NULL UNIQUE DEFAULT nextval('billing.invoice_number_seq'),
    customer_id bigint NOT NULL REFERENCES shop.customers,
    status text NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void')),
    total numeric(12,2) NOT NULL,
    issued_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL
);
ALTER SEQUENCE billing.invoice_number_seq OWNED BY billing.invoices.number;
INSERT INTO billing.invoices (id, customer_id, status, total, issued_at, due_at)
SELECT g,
       1 + pg_temp.h(g, 94) % {s["customers"]},
       pg_temp.pick(ARRAY['paid','paid','paid','open','void','draft'], g, 95),
       coalesce(t.total, 0),
       TIMESTAMPTZ '{ANCHOR}+00' - ({s["invoices"]} - g) * (INTERVAL '700 days' / {s["invoices"]}),
       TIMESTAMPTZ '{ANCHOR}+00' - ({s["invoices"]} - g) * (INTERVAL '700 days' / {s["invoices"]})
           + INTERVAL '14 days'
FROM generate_series(1, {s["invoices"]}) g
LEFT JOIN (SELECT invoice_id, sum(quantity * amount) AS total FROM billing.invoice_lines GROUP BY invoice_id) t
       ON t.invoice_id = g
ORDER BY g;
CREATE INDEX invoices_customer_id_idx ON billing.invoices (customer_id);
ALTER TABLE billing.invoice_lines ADD FOREIGN KEY (invoice_id) REFERENCES billing.invoices;
CREATE INDEX invoice_lines_invoice_id_idx ON billing.invoice_lines (invoice_id);
"""


def _support(s: Sizes) -> str:
    return f"""
CREATE TABLE support.tickets (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES shop.customers,
    subject text NOT NULL,
    priority text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    status text NOT NULL CHECK (status IN ('open', 'pending', 'solved', 'closed')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
INSERT INTO support.tickets
SELECT g,
       1 + pg_temp.h(g, 100) % {s["customers"]},
       pg_temp.pick(ARRAY['Where is my order?','Refund request','Wrong item delivered','Cannot log in',
                          'Invoice address','Damaged package','Change delivery date'], g, 101) || ' #' || g,
       pg_temp.pick(ARRAY['normal','normal','normal','low','high','urgent'], g, 102),
       'open',
       {_ago("g", 103, 365)},
       {_ago("g", 103, 365)}
FROM generate_series(1, {s["tickets"]}) g;
CREATE INDEX tickets_customer_id_idx ON support.tickets (customer_id);
CREATE INDEX tickets_updated_at_idx ON support.tickets (updated_at);  -- plant DW205: bloated below

CREATE TABLE support.ticket_messages (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    ticket_id bigint NOT NULL REFERENCES support.tickets,
    author_kind text NOT NULL CHECK (author_kind IN ('customer', 'agent')),
    body text NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO support.ticket_messages
SELECT i,
       CASE WHEN i <= {s["tickets"]} THEN i ELSE 1 + pg_temp.h(i, 110) % {s["tickets"]} END,
       CASE WHEN i % 2 = 0 THEN 'agent' ELSE 'customer' END,
       'Message ' || i || ': ' || repeat(pg_temp.pick(ARRAY['Thanks! ','Any update? ','Please check. '], i, 111),
                                         (1 + pg_temp.h(i, 112) % 6)::int),
       {_ago("i", 113, 365)}
FROM generate_series(1, {s["ticket_messages"]}) i;
CREATE INDEX ticket_messages_ticket_id_idx ON support.ticket_messages (ticket_id);
"""


def _constraints_and_indexes(s: Sizes) -> str:
    return """
ALTER TABLE shop.order_items ADD FOREIGN KEY (order_id) REFERENCES shop.orders;       -- plant DW102
ALTER TABLE shop.order_items ADD FOREIGN KEY (product_id) REFERENCES shop.products;
ALTER TABLE shop.order_items ADD CONSTRAINT order_items_unit_price_check
    CHECK (unit_price >= 0) NOT VALID;                                               -- plant DW113: never validated
CREATE INDEX order_items_product_id_idx ON shop.order_items (product_id);
ALTER TABLE shop.orders ADD FOREIGN KEY (customer_id) REFERENCES shop.customers;      -- plant DW103
CREATE INDEX orders_customer_id_idx ON shop.orders (customer_id);
CREATE INDEX idx_orders_customer ON shop.orders (customer_id);       -- plant DW201: same as the one above
CREATE INDEX orders_currency_idx ON shop.orders (currency);          -- plant DW207: 99.7 % 'EUR'
CREATE INDEX orders_shipped_at_idx ON shop.orders (shipped_at);      -- plant DW203: nothing uses it
ALTER TABLE shop.payments ADD FOREIGN KEY (order_id) REFERENCES shop.orders;
CREATE INDEX payments_order_id_idx ON shop.payments (order_id);
DO $$
DECLARE col record;
BEGIN  -- identity sequences continue after the generated ids
    FOR col IN SELECT a.attrelid::regclass AS tbl, a.attname
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE a.attidentity <> '' AND n.nspname IN ('shop', 'auth', 'analytics', 'billing', 'support')
    LOOP
        EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), (SELECT max(%I) FROM %s))',
                       col.tbl, col.attname, col.attname, col.tbl);
    END LOOP;
END $$;
"""


def _security(s: Sizes) -> str:
    schemas = "shop, auth, analytics, billing, support"
    return f"""
GRANT USAGE ON SCHEMA {schemas} TO {APP_ROLE};
-- an OLTP application role without parallel query, as many shops run it; it also keeps one
-- pg_stat_user_tables.seq_scan per full scan (each parallel worker counts its partial scan)
ALTER ROLE {APP_ROLE} IN DATABASE {DATABASE} SET max_parallel_workers_per_gather = 0;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schemas} TO {APP_ROLE};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schemas} TO {APP_ROLE};
GRANT EXECUTE ON FUNCTION auth.touch_login(bigint) TO {APP_ROLE};
GRANT USAGE ON SCHEMA shop TO {MD5_ROLE};
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO {MD5_ROLE};
GRANT CREATE ON SCHEMA public TO PUBLIC;     -- plant DW502: anyone may create objects in public
GRANT SELECT ON auth.users TO PUBLIC;        -- plant DW503: password hashes readable by every role
ALTER DATABASE {DATABASE} SET password_encryption = 'md5';  -- plant DW506: new passwords hashed with MD5
"""


def _roles(conn: Connection) -> None:
    """Cluster-wide roles, recreated with the database (their grants live in it)."""
    for role in ROLES:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
    conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
    conn.execute(f"CREATE ROLE {EXTRA_SUPERUSER} LOGIN SUPERUSER PASSWORD 'ops-admin-2019'")  # plant DW501
    with conn.transaction():  # plant DW505/DW506: an md5 password hash
        conn.execute("SET LOCAL password_encryption = 'md5'")
        conn.execute(f"CREATE ROLE {MD5_ROLE} LOGIN PASSWORD 'reporting2018'")


def _purge_expired_sessions(conn: Connection, s: Sizes) -> None:
    """The nightly purge: two thirds of the sessions deleted, and no autovacuum to clean up."""
    conn.execute(f"DELETE FROM auth.sessions WHERE expires_at < TIMESTAMPTZ '{ANCHOR}+00'")
    _flush_stats(conn)
    conn.execute("ANALYZE auth.sessions")  # n_dead_tup stays: ANALYZE does not vacuum


def _bloat_ticket_index(conn: Connection, s: Sizes) -> None:
    """Tickets are touched again and again: each pass moves updated_at and leaves the index emptier."""
    for step in range(1, 7):
        conn.execute(
            f"UPDATE support.tickets SET updated_at = updated_at + {step} * INTERVAL '37 minutes', "
            f"status = (ARRAY['open','pending','solved','closed'])[1 + (id + {step}) % 4]"
        )
        if step % 2 == 0:
            conn.execute("VACUUM support.tickets")


def _invalid_index(conn: Connection, s: Sizes) -> None:
    """Plant DW204: a CONCURRENTLY build that failed on duplicates leaves an INVALID index behind."""
    try:
        with failures():
            conn.execute(
                "CREATE UNIQUE INDEX CONCURRENTLY users_email_lower_key ON auth.users (lower(email))"
            )
    except StatementFailed as error:
        if error.sqlstate != UNIQUE_VIOLATION:  # what the planted build fails with
            raise
    else:  # pragma: no cover - the generator always makes case-insensitive twins
        raise RuntimeError("the demo's case-insensitive email twins are missing")


def _flush_stats(conn: Connection) -> None:
    """Publish this session's pending row counters now (PostgreSQL 15+ batches them for up to a
    second): an ANALYZE before the flush would be followed by counts it already covers."""
    conn.execute("SELECT pg_stat_force_next_flush()")


def _vacuum_analyze(conn: Connection, s: Sizes) -> None:
    """Fresh statistics everywhere, except the tables whose maintenance problems are planted."""
    _flush_stats(conn)
    tables = conn.execute("""
        SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
        WHERE schemaname IN ('shop', 'auth', 'analytics', 'billing', 'support')
          AND (schemaname, relname) NOT IN (('billing', 'invoice_lines'), ('auth', 'sessions'))
        ORDER BY 1""").fetchall()
    for (table,) in tables:
        conn.execute(f"VACUUM (ANALYZE) {table}")


def _late_page_views(conn: Connection, s: Sizes) -> None:
    """Plant DW306: rows arrive after the last ANALYZE, and autoanalyze is off for the table."""
    first = s["page_views"] + 1
    conn.execute(_HELPERS)
    conn.execute(_page_views_insert(first, first + s["page_views_late"] - 1, s))
    conn.execute(
        "SELECT setval(pg_get_serial_sequence('analytics.page_views', 'id'), max(id)) "
        "FROM analytics.page_views"
    )


@dataclass(frozen=True)
class Step:
    label: str
    weight: float  # share of the load time, for progress
    run: Callable[[Connection, Sizes], None]


def _sql(builder: Callable[[Sizes], str]) -> Callable[[Connection, Sizes], None]:
    def run(conn: Connection, s: Sizes) -> None:
        conn.execute(_HELPERS + builder(s))  # one implicit transaction; pg_temp helpers per step

    return run


STEPS = (
    Step("schemas", 0.01, _sql(_schemas)),
    Step("shop: customers, products", 0.08, _sql(_shop)),
    Step("shop: orders, items, payments", 0.30, _sql(_orders)),
    Step("auth: users, sessions, api keys", 0.10, _sql(_auth)),
    Step("analytics: events, page views", 0.15, _sql(_analytics)),
    Step("billing: invoices", 0.06, _sql(_billing)),
    Step("support: tickets, messages", 0.06, _sql(_support)),
    Step("constraints and indexes", 0.08, _sql(_constraints_and_indexes)),
    Step("security", 0.01, _sql(_security)),
    Step("expired sessions purge", 0.02, _purge_expired_sessions),
    Step("ticket updates", 0.04, _bloat_ticket_index),
    Step("failed concurrent index", 0.01, _invalid_index),
    Step("vacuum and analyze", 0.07, _vacuum_analyze),
    Step("late page views", 0.01, _late_page_views),
)


def load(admin_url: str, demo_url: str, scale: float, progress: ProgressFn | None = None) -> None:
    """(Re)create the demo database and fill it; the marker comment is written last."""
    sizes = Sizes.at(scale)
    with open_session(admin_url, SESSION) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        _roles(admin)
        admin.execute(f"CREATE DATABASE {DATABASE}")
    total = sum(step.weight for step in STEPS)
    done = 0.0
    with open_session(demo_url, SESSION) as conn:
        conn.execute("SET synchronous_commit = off")  # this session only: loading speed, no config change
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SET TimeZone = 'UTC'")
        for step in STEPS:
            if progress:
                progress(f"loading demo data: {step.label}", done / total)
            step.run(conn, sizes)
            done += step.weight
        _flush_stats(conn)
    with open_session(admin_url, SESSION) as admin:
        admin.execute(f"COMMENT ON DATABASE {DATABASE} IS '{marker(scale)}'")
    if progress:
        progress("loading demo data", 1.0)


def loaded_marker(admin_url: str) -> str | None:
    """The marker comment of the demo database, or None when it is missing or incomplete."""
    with open_session(admin_url, SESSION) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (DATABASE,)
        ).fetchone()
    return row[0] if row else None
