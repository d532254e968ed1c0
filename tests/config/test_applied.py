"""Each setting of the file, applied in a real review and audit of a real database (and offline, of its
saved snapshot): ignores suppress with their reason, severities and thresholds apply, turned-off checks
do not run unless named, and the file's target is what a review with none named reads."""

import json

import pytest

from dbwright import api
from dbwright.model.findings import Severity

SHOP = """
CREATE TABLE customers (id int PRIMARY KEY);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers);
CREATE TABLE payments (id int PRIMARY KEY, order_id int REFERENCES orders);
"""
SERVER_VARIABLES = (
    "DATABASE_URL",
    "PGHOST",
    "PGDATABASE",
    "PGSERVICE",
    "PGPORT",
    "PGUSER",
    "DBWRIGHT_CONFIG",
)


def configured(tmp_path, text):
    (tmp_path / "dbwright.toml").write_text(text)
    return api.load_config(tmp_path / "dbwright.toml")


@pytest.fixture
def shop(pg):
    pg.execute(SHOP)
    return pg


@pytest.fixture
def no_server_in_env(monkeypatch):
    for name in SERVER_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def objects(review, code):
    return sorted(f.object for f in review.by_code(code))


def test_without_configuration_both_foreign_keys_are_found(shop):
    assert objects(api.review(shop.url, codes=["DW102"]), "DW102") == ["public.orders", "public.payments"]


def test_an_ignore_suppresses_one_object_and_says_why(shop, tmp_path):
    config = configured(
        tmp_path,
        '[[ignore]]\ncheck = "DW102"\nobject = "public.orders"\nreason = "orders rows are never deleted"\n',
    )
    review = api.review(shop.url, config=config)
    assert objects(review, "DW102") == ["public.payments"]
    [suppressed] = review.suppressed
    assert (suppressed.finding.object, suppressed.ignore.reason) == (
        "public.orders",
        "orders rows are never deleted",
    )
    data = review.to_dict()
    assert data["summary"]["suppressed"] == 1
    assert data["summary"]["findings"] == len(review.findings)
    assert data["suppressed"] == [
        {
            "code": "DW102",
            "title": suppressed.check.title,
            "object": "public.orders",
            "message": suppressed.finding.message,
            "reason": "orders rows are never deleted",
            "ignored_by": f"{tmp_path / 'dbwright.toml'}: ignore[1]",
        }
    ]
    assert all(f["object"] != "public.orders" or f["code"] != "DW102" for f in data["findings"])


def test_a_suppressed_finding_neither_fails_nor_is_fixed(shop, tmp_path):
    config = configured(
        tmp_path, '[[ignore]]\ncheck = "DW102"\nobject = "public.*"\nreason = "tiny tables"\n'
    )
    review = api.review(shop.url, codes=["DW102"], config=config)
    assert review.findings == [] and len(review.suppressed) == 2
    assert api.at_or_above(review.findings, "info") == [] and api.fix_packages(review) == []


def test_a_severity_override_applies(shop, tmp_path):
    config = configured(tmp_path, '[severity]\nDW102 = "critical"\n')
    plain = api.review(shop.url, codes=["DW102"])
    review = api.review(shop.url, codes=["DW102"], config=config)
    assert {f.severity for f in plain.findings} == {Severity.MEDIUM}
    assert {f.severity for f in review.findings} == {Severity.CRITICAL}
    assert {f["severity"] for f in review.to_dict()["findings"]} == {"critical"}
    assert api.at_or_above(review.findings, "critical") and not api.at_or_above(plain.findings, "high")


def test_a_turned_off_check_does_not_run_unless_named(shop, tmp_path):
    config = configured(tmp_path, '[checks]\ndisable = ["DW102", "configuration"]\n')
    review = api.review(shop.url, config=config)
    ran = {c.code for c in review.ran}
    assert "DW102" not in ran and not any(c.category == "configuration" for c in review.ran)
    assert {"DW102", "DW601"} <= {c.code for c in review.disabled}
    assert review.to_dict()["summary"]["checks_disabled"] == len(review.disabled)
    assert review.areas()["configuration"].label() == "not checked (turned off in the configuration)"
    named = api.review(shop.url, codes=["DW102"], config=config)  # --check DW102: the flag wins
    assert objects(named, "DW102") == ["public.orders", "public.payments"]


def test_enable_runs_only_what_it_names(shop, tmp_path):
    config = configured(tmp_path, '[checks]\nenable = ["indexes", "DW102"]\n')
    review = api.review(shop.url, config=config)
    assert review.ran and all(c.category == "indexes" or c.code == "DW102" for c in review.ran)
    assert "DW102" in {c.code for c in review.ran}


def _idle_index(pg):
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, a int)")
    pg.execute("CREATE INDEX t_a_idx ON t (a)")
    pg.execute("INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g")
    pg.analyze()
    pg.execute("SELECT * FROM t WHERE id = 5")
    pg.execute("SELECT pg_stat_force_next_flush()")


def test_a_threshold_applies_and_an_argument_wins(pg, tmp_path):
    _idle_index(pg)
    config = configured(tmp_path, "[thresholds.DW203]\nmin_observed_days = 0\n")
    # The test server started minutes ago: under the default 7 days, no index is called unused yet.
    assert "public.t_a_idx" not in objects(api.review(pg.url, codes=["DW203"]), "DW203")
    assert objects(api.review(pg.url, codes=["DW203"], config=config), "DW203") == ["public.t_a_idx"]
    argument_wins = api.review(pg.url, codes=["DW203"], config=config, min_observed_days=7)
    assert "public.t_a_idx" not in objects(argument_wins, "DW203")


def test_the_offline_review_of_a_snapshot_honours_the_file(shop, tmp_path):
    saved = api.save_snapshot(api.snapshot(shop.url), tmp_path / "shop.json")
    config = configured(
        tmp_path,
        'target = "shop.json"\n[severity]\nDW102 = "high"\n'
        '[[ignore]]\ncheck = "DW102"\nobject = "public.payments"\nreason = "append-only"\n',
    )
    assert config.target == str(saved)
    review = api.review(saved, codes=["DW102"], config=config)
    assert [(f.finding.object, f.severity) for f in review.findings] == [("public.orders", Severity.HIGH)]
    assert [s.finding.object for s in review.suppressed] == ["public.payments"]


def test_the_audit_honours_ignores_and_severities(pg, tmp_path):
    plain = api.audit(pg.url, access=False)
    assert {"DWA020", "DWA006"} <= {f.check.code for f in plain.findings}  # pg_hba trust lines; a superuser
    config = configured(
        tmp_path,
        '[severity]\nDWA006 = "low"\n'
        '[[ignore]]\ncheck = "DWA020"\nobject = "pg_hba.conf:*"\nreason = "the test cluster trusts local users"\n',
    )
    audit = api.audit(pg.url, access=False, config=config)
    assert "DWA020" not in {f.check.code for f in audit.findings}
    assert {f.severity for f in audit.findings if f.check.code == "DWA006"} == {Severity.LOW}
    data = audit.to_dict()
    assert {(s["code"], s["wraps"]) for s in data["suppressed"]} == {("DWA020", "DW508")}
    assert data["summary"]["suppressed"] == len(data["suppressed"]) > 0


def test_the_file_target_is_reviewed_when_nothing_else_names_one(
    shop, tmp_path, no_server_in_env, monkeypatch
):
    config = configured(tmp_path, f'target = "{shop.url}"\n')
    assert api.review(config=config, codes=["DW102"]).snapshot.server.database == shop.name
    monkeypatch.setenv("DATABASE_URL", shop.cluster.url("postgres"))  # the environment comes first
    assert api.review(config=config, codes=["DW102"]).snapshot.server.database == "postgres"
    named = api.review(shop.url, config=config, codes=["DW102"])  # and a named target before both
    assert named.snapshot.server.database == shop.name
    assert json.loads(json.dumps(named.to_dict()))["summary"]["suppressed"] == 0
