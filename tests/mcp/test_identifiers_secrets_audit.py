"""Names and values are bound, never interpolated; no secret leaves the server; every call is audited."""

from __future__ import annotations

import json

from dbwright.mcp import build_server
from dbwright.mcp.auditlog import AuditLog
from tests.mcp.conftest import WEIRD_COLUMN, WEIRD_TABLE, call, call_many, text_of
from tests.pgcluster import APP_PASSWORD


def test_hostile_names_are_looked_up_not_interpolated(fresh_canary):
    server = build_server(fresh_canary.url, mode="plan")
    described, reviewed, rows, missing, func, docs = call_many(
        server,
        [
            ("describe_table", {"table": WEIRD_TABLE}),
            ("review", {"object": WEIRD_TABLE}),
            ("query", {"sql": 'SELECT "a""b" FROM "x\'); DROP TABLE canary;--"'}),
            ("describe_table", {"table": 'a"b'}),
            ("query", {"sql": 'SELECT "x\'); DROP TABLE canary;--"()'}),
            ("check_docs", {"code": WEIRD_TABLE}),
        ],
    )
    assert described.structuredContent["table"]["name"] == WEIRD_TABLE
    assert [c["name"] for c in described.structuredContent["columns"]] == [WEIRD_COLUMN]
    assert all(WEIRD_TABLE in f["object"] for f in reviewed.structuredContent["findings"])
    assert reviewed.structuredContent["matching_findings"] >= 1  # DW112: a name that needs quoting
    assert rows.structuredContent["rows"] == [[7]]
    assert missing.isError and "no table named" in text_of(missing)
    assert func.isError and "does not exist" in text_of(func)
    assert docs.isError
    fresh_canary.assert_intact()


def test_applying_a_fix_on_a_hostile_name_runs_no_injected_sql(fresh_canary, tmp_path):
    server = build_server(fresh_canary.url, mode="apply", migrations_dir=tmp_path)
    # DW112 proposes no rename (an ORM may own the name): the hostile table's missing key is the fix.
    fix = call(server, "review", {"code": "DW101", "object": WEIRD_TABLE}).structuredContent["findings"][0][
        "fix"
    ]
    assert '"x\'); DROP TABLE canary;--"' in fix["forward_sql"]
    planned = call(server, "plan_change", {"sql": fix["forward_sql"], "down_sql": fix["rollback_sql"]})
    assert [s["kind"] for s in planned.structuredContent["statements"]] == ["Set", "AlterTable:AddColumn"]
    assert planned.structuredContent["plan_token"] == fix["plan_token"]
    applied = call(
        server,
        "apply_plan",
        {"plan_token": fix["plan_token"], "sql": fix["forward_sql"], "down_sql": fix["rollback_sql"]},
    )
    assert not applied.isError, text_of(applied)
    assert fresh_canary.read_rows() == fresh_canary.rows  # canary is still there, untouched
    described = call(server, "describe_table", {"table": WEIRD_TABLE}).structuredContent
    assert [c["name"] for c in described["columns"]] == [WEIRD_COLUMN, "id"]  # the key went on that table


def test_no_secret_in_outputs_errors_or_the_audit_log(pg, tmp_path):
    role = pg.role("mcp_app", f"LOGIN PASSWORD '{APP_PASSWORD}'")
    pg.execute(f"GRANT pg_read_all_data TO {role}; CREATE TABLE t (id int)")
    url = pg.cluster.url(pg.name, user=role, password=APP_PASSWORD, tcp=True)
    log = tmp_path / "audit.jsonl"
    server = build_server(url, audit=AuditLog(path=log))
    results = call_many(
        server,
        [
            ("snapshot_summary", {}),
            ("query", {"sql": "SELECT current_user, 1 AS x"}),
            ("query", {"sql": "SELECT * FROM no_such_table"}),
            ("query", {"sql": "SELECT 1; DROP TABLE t"}),
            ("query", {"sql": f"SELECT 'postgresql://mcp_app:{APP_PASSWORD}@host/db' AS leaked"}),
            ("query", {"sql": f"SELECT 'password={APP_PASSWORD}'"}),
            ("explain", {"sql": "SELECT * FROM nope"}),
            ("describe_table", {"table": "nope"}),
        ],
    )
    wrong = build_server(
        pg.cluster.url(pg.name, user=role, password=APP_PASSWORD + "x", tcp=True), audit=AuditLog(path=log)
    )
    results.append(call(wrong, "snapshot_summary"))
    assert results[1].structuredContent["rows"] == [["mcp_app", 1]]
    assert results[4].structuredContent["rows"] == [["postgresql://mcp_app:****@host/db"]]
    assert results[5].structuredContent["rows"] == [["password=****"]]
    assert results[-1].isError and "authentication failed" in text_of(results[-1])
    everything = "\n".join(text_of(r) + json.dumps(r.structuredContent) for r in results) + log.read_text()
    assert APP_PASSWORD not in everything
    assert "****" in everything


def test_every_call_is_audited(pg, tmp_path):
    log = tmp_path / "audit.jsonl"
    audit = AuditLog(path=log)
    server = build_server(pg.url, audit=audit, mode="plan")
    call_many(
        server,
        [
            ("query", {"sql": "SELECT 1"}),
            ("query", {"sql": "DELETE FROM x"}),
            ("query", {"sql": "SELECT * FROM missing"}),
            ("check_docs", {"code": "DW102"}),
        ],
    )
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines == audit.records
    assert [(e["tool"], e["mode"], e["outcome"]) for e in lines] == [
        ("query", "plan", "ok"),
        ("query", "plan", "refused"),
        ("query", "plan", "error"),
        ("check_docs", "plan", "ok"),
    ]
    assert lines[1]["arguments"] == {"sql": "DELETE FROM x", "max_rows": None}
    assert "DeleteStmt" in lines[1]["error"]
    assert all(e["duration_ms"] >= 0 and e["at"] for e in lines)


def test_audit_redacts_secret_arguments():
    from dbwright.mcp.auditlog import redact_arguments

    assert redact_arguments(
        {
            "password": "hunter2",
            "plan_token": "dwp1-abc",
            "sql": "SELECT 'x'",
            "dsn": "postgresql://u:pw@h/d",
            "nested": {"secret": "s"},
        }
    ) == {
        "password": "****",
        "plan_token": "dwp1-abc",
        "sql": "SELECT 'x'",
        "dsn": "****",
        "nested": {"secret": "****"},
    }
