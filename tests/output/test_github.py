"""GitHub workflow-command annotations: a review or audit of a snapshot file in the repository is
annotated on the line that defines each object; a live review has no file to point at."""

from pathlib import Path

from dbwright import api
from dbwright.output import render
from tests.output.conftest import HOSTILE_TABLE


def test_review_of_a_snapshot_file_annotates_its_lines(review, tmp_path: Path):
    (tmp_path / "db").mkdir()
    snapshot = api.save_snapshot(review.snapshot, tmp_path / "db" / "snapshot.json")
    lines = snapshot.read_text().splitlines()
    annotations = render(review, "github", source=snapshot, root=tmp_path).splitlines()[:-1]
    assert len(annotations) == len(review.findings) > 0
    assert all(
        a.startswith(
            (
                "::error file=db/snapshot.json,line=",
                "::warning file=db/snapshot.json,line=",
                "::notice file=db/snapshot.json,line=",
            )
        )
        for a in annotations
    )
    [dw101] = [a for a in annotations if ",title=DW101 " in a]
    line = int(dw101.split(",line=", 1)[1].split(",", 1)[0])
    assert '"name": ' in lines[line - 1] and HOSTILE_TABLE.split("<")[0] in lines[line - 1]


def test_a_live_review_and_a_file_outside_the_repository_have_no_file(review, tmp_path: Path):
    snapshot = api.save_snapshot(review.snapshot, tmp_path / "snapshot.json")
    for annotations in (
        render(review, "github"),
        render(review, "github", source=snapshot, root=tmp_path / "repo"),
    ):
        assert "file=" not in annotations and annotations.count("::") == 2 * len(review.findings)


def test_audit_of_a_snapshot_file_annotates_its_lines(review, tmp_path: Path):
    snapshot = api.save_snapshot(review.snapshot, tmp_path / "snapshot.json")
    audit = api.audit(snapshot)
    annotations = render(audit, "github", source=snapshot, root=tmp_path).splitlines()[:-1]
    assert annotations and all("file=snapshot.json,line=" in a for a in annotations)
