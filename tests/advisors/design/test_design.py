"""The design review on generated tables with known answers (targeted SQL path, no desbordante)."""

from __future__ import annotations

import psycopg
import pytest

from dbwright.advisors.design import design_review
from tests.advisors.design import scenarios
from tests.advisors.design.copying import apply_and_roll_back


def review(pg, **options):
    pg.analyze()
    options.setdefault("use_desbordante", False)
    return design_review(pg.url, **options)


def normalizations(report, table):
    return {(p.columns[0]): p for p in report.of_kind("normalize") if p.table == table}


def test_transitive_dependency_is_proposed_as_a_decomposition(pg):
    scenarios.transitive(pg)
    report = review(pg)
    found = normalizations(report, "public.employees")
    assert set(found) == {"dept_id"}, [p.title for p in report.proposals]
    proposal = found["dept_id"]
    assert proposal.columns == ("dept_id", "dept_name", "dept_floor")
    assert not proposal.approximate
    assert proposal.evidence["determinant_values"] == 40
    assert proposal.evidence["update_anomalies_removed"] == 2000 - 40
    assert proposal.evidence["storage_saved_bytes"] > 0
    sql = proposal.package.forward_sql
    assert "CREATE TABLE public.dept (dept_id integer NOT NULL, dept_name text NOT NULL" in sql
    assert "SELECT DISTINCT dept_id, dept_name, dept_floor FROM public.employees" in sql
    assert "FOREIGN KEY (dept_id) REFERENCES public.dept (dept_id) NOT VALID" in sql
    assert "CREATE VIEW public.employees_with_dept" in sql
    assert not proposal.package.destructive
    assert proposal.destructive_package.destructive
    assert "DROP COLUMN dept_name, DROP COLUMN dept_floor" in proposal.destructive_package.forward_sql
    assert "only targeted candidates" in report.notes[0] and not report.desbordante_used
    # dept_name ↔ dept_id are equivalent: only the identifier is proposed as the determinant.
    assert any("equivalent" in r.reason for r in report.rejected if r.what.startswith("dept_name"))


def test_random_attributes_are_not_dependencies(pg):
    pg.execute("CREATE TABLE staff(id int PRIMARY KEY, team_id int NOT NULL, team_label text NOT NULL)")
    pg.execute(
        "INSERT INTO staff SELECT g, g % 40, 'label ' || ((g * 7919) % 113) FROM generate_series(1, 2000) g"
    )
    assert not review(pg).of_kind("normalize")


def test_dirty_dependency_is_found_as_approximate(pg):
    scenarios.dirty(pg)
    report = review(pg)
    proposal = normalizations(report, "public.shipments")["customer_id"]
    assert proposal.approximate
    dependency = proposal.evidence["dependencies"][0]
    assert dependency["rhs"] == "customer_city"
    assert dependency["violating_rows"] == 20
    assert dependency["error"] == pytest.approx(0.005)
    assert "mode() WITHIN GROUP (ORDER BY customer_city)" in proposal.package.forward_sql


def test_dirty_dependency_above_the_error_limit_is_rejected(pg):
    scenarios.dirty(pg)
    report = review(pg, max_error=0.001)
    assert "customer_id" not in normalizations(report, "public.shipments")


def test_undeclared_natural_key_of_table_without_primary_key(pg):
    scenarios.natural_key(pg)
    report = review(pg)
    keys = {p.columns: p for p in report.of_kind("unique_key") if p.table == "public.countries"}
    assert ("code",) in keys, [p.title for p in report.proposals]
    proposal = keys[("code",)]
    assert "a natural key of a table without a primary key" in proposal.title
    assert (
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS countries_code_key ON public.countries (code)"
        in proposal.package.forward_sql
    )
    assert "UNIQUE USING INDEX countries_code_key" in proposal.package.forward_sql


def test_duplicated_code_is_not_a_key(pg):
    scenarios.natural_key(pg, duplicate=True)
    report = review(pg)
    assert ("code",) not in {p.columns for p in report.of_kind("unique_key")}


def test_missing_foreign_key_with_three_orphans(pg):
    scenarios.missing_fk(pg, orphans=3)
    report = review(pg)
    fks = [p for p in report.of_kind("foreign_key") if p.table == "public.purchases"]
    assert len(fks) == 1, [p.title for p in report.proposals]
    proposal = fks[0]
    assert proposal.columns == ("customer_id",)
    assert proposal.evidence["orphan_rows"] == 3
    assert proposal.evidence["references"] == 3000
    assert len(pg.execute(proposal.evidence["orphan_query"])) == 3
    sql = proposal.package.forward_sql
    assert "FOREIGN KEY (customer_id) REFERENCES public.customers (id) NOT VALID" in sql
    assert "VALIDATE CONSTRAINT purchases_customer_id_fkey" in sql
    assert "3 orphan row(s)" in proposal.package.manual_steps[0]


def test_column_with_many_orphans_is_not_a_foreign_key(pg):
    scenarios.missing_fk(pg, orphans=400)
    report = review(pg)
    assert not report.of_kind("foreign_key")
    assert any("400 orphan rows" in r.reason for r in report.rejected)


def test_wide_varchar_holding_short_codes(pg):
    scenarios.wide_varchar(pg)
    report = review(pg)
    found = [p for p in report.of_kind("type") if p.columns == ("currency",)]
    assert len(found) == 1
    proposal = found[0]
    assert proposal.evidence["longest"] == 3
    assert proposal.evidence["suggested"] == "varchar(7)"
    assert proposal.evidence["rewrites_table"] is True
    assert "ALTER COLUMN currency TYPE varchar(7)" in proposal.package.forward_sql
    assert "TYPE character varying(255)" in proposal.package.rollback_sql


def test_varchar_sized_to_its_values_is_left_alone(pg):
    pg.execute("CREATE TABLE codes(id int PRIMARY KEY, currency varchar(5) NOT NULL)")
    pg.execute("INSERT INTO codes SELECT g, 'EUR' FROM generate_series(1, 500) g")
    assert not review(pg).of_kind("type")


def test_text_holding_timestamps_and_booleans_and_never_null_columns(pg):
    pg.execute("CREATE TABLE imports(id int PRIMARY KEY, happened text, flag text, note text, zip text)")
    pg.execute(
        "INSERT INTO imports SELECT g, '2024-01-01 10:00:' || lpad((g % 60)::text, 2, '0'), "
        "CASE WHEN g % 2 = 0 THEN 'true' ELSE 'false' END, CASE WHEN g % 3 = 0 THEN 'x' END, "
        "lpad((g % 90000)::text, 5, '0') FROM generate_series(1, 600) g"
    )
    report = review(pg)
    suggested = {p.columns[0]: p.evidence["suggested"] for p in report.of_kind("type")}
    assert suggested == {"happened": "timestamp", "flag": "boolean"}
    not_null = {p.columns[0] for p in report.of_kind("not_null")}
    assert not_null == {"happened", "flag", "zip"}  # note has NULLs


def test_bigint_is_never_narrowed_to_the_datas_maximum(pg):
    # keys may grow, and counters and epoch-millisecond timestamps pass integer's range in time
    pg.execute("CREATE TABLE ledger(id bigint PRIMARY KEY, units bigint NOT NULL, created_ms bigint)")
    pg.execute("INSERT INTO ledger SELECT g, g % 500, 1700000000 + g FROM generate_series(1, 500) g")
    assert review(pg).of_kind("type") == []


def test_low_cardinality_text_gets_a_check(pg):
    pg.execute("CREATE TABLE tickets(id int PRIMARY KEY, state text NOT NULL)")
    pg.execute(
        "INSERT INTO tickets SELECT g, (ARRAY['open','closed','waiting'])[1 + g % 3] "
        "FROM generate_series(1, 900) g"
    )
    found = review(pg).of_kind("check_values")
    assert len(found) == 1
    assert "state IN ('closed', 'open', 'waiting')" in found[0].package.forward_sql


def test_analysis_is_read_only_and_says_what_it_sampled(pg):
    scenarios.transitive(pg)
    report = review(pg, sample_rows=500)
    employees = next(t for t in report.tables if t.table == "public.employees")
    assert employees.sample["sampled"] and employees.rows == 2000
    assert "TABLESAMPLE" in employees.sample["method"]
    assert normalizations(report, "public.employees")  # confirmed on the full table
    assert pg.value("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 1


def test_spent_time_budget_skips_tables_and_says_so(pg):
    scenarios.transitive(pg)
    report = review(pg, time_budget_s=0.0)
    assert [t.skipped for t in report.tables] == ["time budget spent"]
    assert not report.proposals and "time budget spent" in report.notes[-1]


def test_never_analyzed_table_is_counted_then_sampled(pg):
    scenarios.transitive(pg)  # no ANALYZE: the catalog does not know the table's size
    report = design_review(pg.url, use_desbordante=False, sample_rows=500)
    employees = next(t for t in report.tables if t.table == "public.employees")
    assert employees.sample["sampled"] and employees.sample["row_estimate"] == 2000
    assert employees.sample["method"].startswith("TABLESAMPLE BERNOULLI")


def test_table_the_role_cannot_read_is_skipped_and_said_so(pg):
    scenarios.transitive(pg)
    scenarios.wide_varchar(pg)
    pg.analyze()
    role = pg.role("design_reader", "LOGIN PASSWORD 'pw'")
    pg.execute(f"GRANT SELECT ON payments TO {role}")
    url = pg.cluster.url(pg.name, user=role)
    report = design_review(url, use_desbordante=False)
    employees = next(t for t in report.tables if t.table == "public.employees")
    assert employees.skipped.startswith("no privilege to read it")
    assert [p.columns for p in report.of_kind("type")] == [("currency",)]  # the readable table is reviewed


def test_identifiers_that_need_quoting(pg, copy_of):
    pg.execute(
        'CREATE TABLE "Staff"(id int PRIMARY KEY, "DeptKey" int NOT NULL, "Dept Name" text NOT NULL, '
        '"Code" varchar(200))'
    )
    pg.execute(
        """INSERT INTO "Staff" SELECT g, g % 30, 'dept ' || g % 30, 'S' || g FROM generate_series(1, 900) g"""
    )
    report = review(pg)
    kinds = {p.kind: p for p in report.proposals}
    assert kinds["normalize"].columns == ("DeptKey", "Dept Name")
    assert (
        'SELECT DISTINCT "DeptKey", "Dept Name" FROM public."Staff"' in kinds["normalize"].package.forward_sql
    )
    url = copy_of()
    with psycopg.connect(url, autocommit=True) as conn:
        for proposal in report.proposals:
            if proposal.package:
                apply_and_roll_back(conn, url, proposal)
