"""Who owns the schema (issue 14, item 8): the framework is detected from its own tables, findings
on those tables are the framework's business, and fixes say how to make them in the framework."""

from dbwright.checks.frameworks import detect
from dbwright.model.findings import Severity

DJANGO = """
CREATE TABLE django_migrations (id bigserial PRIMARY KEY, app varchar(255), name varchar(255),
                                applied timestamptz);
CREATE TABLE django_session (session_key varchar(40) PRIMARY KEY, session_data text, expire_date timestamptz);
CREATE INDEX django_session_expire_date_a5c62663 ON django_session (expire_date);
CREATE INDEX django_session_expire_date_copy ON django_session (expire_date);
CREATE TABLE shop_order (id bigserial PRIMARY KEY, code varchar(20) NOT NULL, placed_at timestamptz);
CREATE UNIQUE INDEX shop_order_code_uniq ON shop_order (code);
CREATE INDEX shop_order_code_6fa2b2c1 ON shop_order (code);
"""


def test_django_alembic_and_rails_are_detected_from_their_own_tables(pg):
    pg.execute(DJANGO)
    pg.execute(
        "CREATE SCHEMA billing; CREATE TABLE billing.alembic_version (version_num varchar(32) PRIMARY KEY)"
    )
    pg.execute("CREATE SCHEMA legacy; CREATE TABLE legacy.schema_migrations (version varchar PRIMARY KEY)")
    found = {f.schema: f for f in detect(pg.snapshot())}
    assert found["public"].name == "Django" and found["public"].evidence == "public.django_migrations"
    assert found["billing"].name == "Alembic"
    assert "legacy" not in found  # Rails needs ar_internal_metadata too
    pg.execute("CREATE TABLE legacy.ar_internal_metadata (key varchar PRIMARY KEY, value varchar)")
    assert {f.schema: f.name for f in detect(pg.snapshot())}["legacy"] == "Rails"


def test_a_django_schema_gets_findings_phrased_for_django(pg):
    pg.execute(DJANGO)
    review = pg.review("DW201", "DW202")
    assert review.to_dict()["summary"]["managed_by"] == [
        {"name": "Django", "schema": "public", "evidence": "public.django_migrations"}
    ]
    by_object = {f.finding.object: f.finding for f in review.findings}
    own = by_object["public.django_session_expire_date_copy"]
    assert own.severity is Severity.INFO and own.fix is None and "Django's own table" in own.message
    app = by_object["public.shop_order_code_6fa2b2c1"]
    assert app.fix is not None and app.severity is not Severity.INFO
    assert "db_index=False" in app.evidence["in_the_application"]
    assert app.evidence["managed_by"] == "Django"


def test_a_schema_no_framework_manages_is_left_as_it_is(pg):
    pg.execute("CREATE TABLE orders (id int PRIMARY KEY, code text)")
    pg.execute("CREATE INDEX a ON orders (code); CREATE INDEX b ON orders (code)")
    review = pg.review("DW201")
    assert review.frameworks == ()
    assert review.findings and all("managed_by" not in f.finding.evidence for f in review.findings)


def test_the_summary_names_each_high_and_critical_check_with_its_count_and_why(pg):
    pg.execute("CREATE TABLE events (happened_at timestamptz, kind text)")  # DW101, high
    pg.execute("CREATE TABLE logs (line text)")
    serious = pg.review("DW101").to_dict()["summary"]["high_and_critical"]
    assert serious == [
        {"severity": "high", "code": "DW101", "count": 2, "why": "Table without a primary key"}
    ]
