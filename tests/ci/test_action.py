"""The composite GitHub Action (action.yml): valid against the action metadata schema (SchemaStore's,
as check-jsonschema vendors it), clean under actionlint with shellcheck (its steps and the workflow
in docs/ci.md), and its run step, executed here as the runner would, writes a valid SARIF log,
annotations, a Markdown job summary and the step's outputs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dbwright.output.github import annotation
from tests.output.sarif_schema import schema_errors

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
VENV_BIN = Path(sys.executable).parent
DEMO_SNAPSHOT = ROOT / "tests" / "sitegen" / "demo_snapshot.json"
UNSAFE = "CREATE INDEX orders_status ON orders (status);\n"


def _action() -> dict:
    return yaml.safe_load(ACTION.read_text())


def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def _check_jsonschema(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(path)],
        capture_output=True,
        text=True,
    )


def test_action_is_valid_against_the_action_metadata_schema(tmp_path):
    checked = _check_jsonschema(ACTION)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    broken = _action()
    broken["runs"]["steps"][1].pop("shell")  # a composite run step must name its shell
    broken["inputs"]["command"]["required"] = "yes"
    (tmp_path / "action.yml").write_text(yaml.safe_dump(broken))
    refused = _check_jsonschema(tmp_path / "action.yml")
    assert refused.returncode == 1 and "runs" in refused.stdout and "required" in refused.stdout


def test_action_inputs_outputs_and_steps():
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {"command", "target", "fail-on", "upload-sarif", "annotations", "summary"}
    assert set(action["outputs"]) == {"sarif-file", "summary-file", "comment-file", "exit-code"}
    steps = {step.get("name"): step for step in action["runs"]["steps"]}
    upload = steps["Upload SARIF to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "inputs.upload-sarif == 'true'" in upload["if"]
    script = steps["Run dbwright"]["run"]
    for fmt in ("sarif", "github", "markdown"):
        assert f"--format {fmt}" in script
    assert "GITHUB_STEP_SUMMARY" in script
    for step in action["runs"]["steps"]:  # inputs reach scripts through env, never pasted into the script
        assert "${{" not in step.get("run", "")


def _actionlint(repo: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    _tool("shellcheck")  # actionlint runs shellcheck on every run: script it finds on PATH
    return subprocess.run(
        [_tool("actionlint"), "-oneline"], cwd=repo, env=env, capture_output=True, text=True
    )


def _workflow_repo(tmp_path: Path, workflows: dict[str, dict | str]) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copy(ACTION, tmp_path / "action.yml")
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for name, workflow in workflows.items():
        text = workflow if isinstance(workflow, str) else yaml.safe_dump(workflow, sort_keys=False)
        (folder / name).write_text(text)
    return tmp_path


def test_actionlint_passes_the_actions_steps_as_a_workflow(tmp_path):
    """actionlint reads an action's metadata only where a workflow uses it, so its steps run here as a
    workflow_dispatch job with the same inputs: expressions, action versions and shellcheck are checked."""
    action = _action()
    inputs = {
        name: {
            "description": spec["description"],
            "required": False,
            "default": spec["default"],
            "type": "string",
        }
        for name, spec in action["inputs"].items()
    }
    workflow = {
        "name": "the action's steps",
        "on": {"workflow_dispatch": {"inputs": inputs}},
        "permissions": {"contents": "read", "security-events": "write"},
        "jobs": {"dbwright": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }
    linted = _actionlint(_workflow_repo(tmp_path, {"steps.yml": workflow}))
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_actionlint_passes_the_documented_workflow_and_catches_a_wrong_input(tmp_path):
    documented = _documented_workflow()
    assert "uses: dbwright/dbwright@main" in documented
    local = documented.replace("uses: dbwright/dbwright@main", "uses: ./")
    wrong = local.replace("fail-on:", "fail-at:", 1)
    linted = _actionlint(_workflow_repo(tmp_path, {"db.yml": local}))
    assert linted.returncode == 0, linted.stdout + linted.stderr
    (tmp_path / ".github" / "workflows" / "db.yml").write_text(wrong)
    refused = _actionlint(tmp_path)
    assert refused.returncode == 1 and 'input "fail-at" is not defined in action' in refused.stdout


def _documented_workflow() -> str:
    """The GitHub workflow in docs/ci.md: its first yaml block that has jobs."""
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "ci.md").read_text(), re.DOTALL)
    return next(block for block in blocks if "\njobs:" in block)


# --- the run step, executed as the runner would ------------------------------------------------------


def _worst_finding(snapshot: Path):
    """The snapshot's worst finding, reviewed here offline: what the action must report."""
    from dbwright import api

    return max(api.review(snapshot).findings, key=lambda f: f.severity)


def _run_step(
    project: Path, comment_limit: str = "65000", **inputs: str
) -> tuple[subprocess.CompletedProcess, dict[str, str], str]:
    """The action's "Run dbwright" script under bash, with the inputs as its env; returns the process,
    the step's outputs and the job summary."""
    [step] = [s for s in _action()["runs"]["steps"] if s.get("id") == "run"]
    outputs, summary = project / "github_output", project / "step_summary"
    outputs.write_text("")
    summary.write_text("")
    defaults = {name: str(spec["default"]) for name, spec in _action()["inputs"].items()}
    values = {**defaults, **inputs}
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "NO_COLOR": "1",
        "COMMAND": values["command"],
        "TARGET": values["target"],
        "FAIL_ON": values["fail-on"],
        "SERVER_VERSION": values["server-version"],
        "ANNOTATIONS": values["annotations"],
        "SUMMARY": values["summary"],
        "OUT_DIR": str(project / "runner-temp" / "dbwright"),
        "COMMENT_LIMIT": comment_limit,
    }
    assert step["env"]["COMMENT_LIMIT"] == "65000"
    assert set(step["env"]) == set(env) - set(os.environ) - {
        "PATH",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
        "NO_COLOR",
    }
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    pairs = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return done, pairs, summary.read_text()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "V2__unsafe.sql").write_text(UNSAFE)
    shutil.copy(DEMO_SNAPSHOT, tmp_path / "db" / "prod.snapshot.json")
    return tmp_path


def test_lint_writes_sarif_annotations_and_summary_and_reports_findings(project):
    done, outputs, summary = _run_step(project, command="lint", target="db", **{"fail-on": "medium"})
    assert done.returncode == 0, done.stderr  # the step succeeds; the action's last step fails the job
    assert outputs["exit-code"] == "1"
    sarif = json.loads(Path(outputs["sarif-file"]).read_text())
    assert schema_errors(sarif) == []
    located = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]
    }
    assert located == {"db/V2__unsafe.sql"}
    assert (
        "::error file=db/V2__unsafe.sql,line=1,title=DW701 Index built without CONCURRENTLY::" in done.stdout
    )
    assert summary.startswith("# dbwright lint: ") and "[DW701](" in summary
    assert Path(outputs["summary-file"]).read_text() == summary
    assert Path(outputs["comment-file"]).read_text() == summary  # short enough for a comment as it is


def test_review_of_a_committed_snapshot_fails_on_high(project):
    done, outputs, summary = _run_step(project, command="review", target="db/prod.snapshot.json")
    assert done.returncode == 0, done.stderr
    assert outputs["exit-code"] == "1"
    sarif = json.loads(Path(outputs["sarif-file"]).read_text())
    assert schema_errors(sarif) == []
    results = sarif["runs"][0]["results"]
    located = {json.dumps(r["locations"][0]["physicalLocation"]["artifactLocation"]) for r in results}
    assert results and located == {json.dumps({"uri": "db/prod.snapshot.json", "uriBaseId": "SRCROOT"})}
    worst = _worst_finding(project / "db" / "prod.snapshot.json")
    # the snapshot is one line of JSON, so every object is on line 1 of it
    expected = annotation(
        worst.severity,
        f"{worst.check.code} {worst.check.title}",
        f"{worst.finding.object}: {worst.finding.message}",
        file="db/prod.snapshot.json",
        line=1,
    )
    assert expected.startswith("::error file=db/prod.snapshot.json,line=1,title=") and expected in done.stdout
    assert summary.startswith("# dbwright review of `dbwright_demo`")


def test_no_findings_at_the_threshold_and_bad_inputs(project):
    done, outputs, _ = _run_step(project, command="lint", target="db", **{"fail-on": "critical"})
    assert done.returncode == 0 and outputs["exit-code"] == "0", done.stderr
    for inputs, message in (
        ({"command": "migrate"}, "command must be lint or review, not 'migrate'"),
        ({"command": "lint", "target": ""}, "lint needs a target"),
    ):
        done, outputs, _ = _run_step(project, **inputs)
        assert done.returncode == 2 and f"::error title=dbwright::{message}" in done.stdout
        assert "exit-code" not in outputs
    done, outputs, _ = _run_step(project, command="lint", target="db/missing.sql")
    assert done.returncode not in (0, 1) and "exit-code" not in outputs  # an error is not "findings"


def test_the_comment_file_is_cut_at_a_heading_to_fit_a_pull_request_comment(project):
    done, outputs, summary = _run_step(
        project, comment_limit="4000", command="review", target="db/prod.snapshot.json"
    )
    assert done.returncode == 0, done.stderr
    comment = Path(outputs["comment-file"]).read_text()
    assert len(summary) > 4000 >= len(comment)
    note = "\n\n*The report is cut here to fit a comment; the job summary has all of it.*\n"
    assert comment.endswith(note)
    kept = comment.removesuffix(note)
    assert summary.startswith(kept) and summary[len(kept) :].startswith(("\n## ", "\n### "))


def test_annotations_and_summary_can_be_turned_off(project):
    done, outputs, summary = _run_step(
        project, command="lint", target="db", annotations="false", summary="false"
    )
    assert done.returncode == 0, done.stderr
    assert outputs["exit-code"] == "1"  # the default fail-on is high, and DW701 is high
    assert "::error" not in done.stdout and summary == ""
    assert "summary-file" not in outputs and "comment-file" not in outputs
    assert Path(outputs["sarif-file"]).exists()


def test_server_version_is_passed_when_given_else_the_configuration_decides(project):
    (project / "db" / "V4__not_null.sql").write_text(
        "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text NOT NULL DEFAULT 'x';\n"
    )
    versions = {}
    for version in ("10", "15"):
        done, outputs, _ = _run_step(
            project,
            command="lint",
            target="db/V4__not_null.sql",
            annotations="false",
            **{"server-version": version},
        )
        assert done.returncode == 0, done.stderr
        versions[version] = outputs["exit-code"]
    assert versions == {"10": "1", "15": "0"}  # a volatile-free default rewrites the table before 11
    (project / "dbwright.toml").write_text("[lint]\nserver_version = 10\n")
    done, outputs, _ = _run_step(project, command="lint", target="db/V4__not_null.sql", annotations="false")
    assert done.returncode == 0 and outputs["exit-code"] == "1", done.stderr
