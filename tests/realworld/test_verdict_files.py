"""The verdict files are well formed (fast: no database, no download)."""

from __future__ import annotations

import re

import pytest

from dbwright.checks.registry import find_check
from tests.realworld.corpus import CORPUS
from tests.realworld.verdicts import VERDICTS_DIR, Kind, Verdicts, load


def test_every_corpus_schema_has_a_verdict_file_and_no_other() -> None:
    assert {path.stem for path in VERDICTS_DIR.glob("*.toml")} == {schema.name for schema in CORPUS}


@pytest.mark.parametrize("schema", [schema.name for schema in CORPUS])
def test_each_kind_names_a_real_check_a_valid_pattern_and_a_one_line_reason(schema: str) -> None:
    verdicts = load(schema)
    assert verdicts.schema == schema
    assert verdicts.wrong_max >= 0
    for kind in verdicts.kinds:
        assert find_check(kind.code), f"{schema}: {kind.key} names no check"
        if kind.match:
            re.compile(kind.match)
        assert kind.reason.strip() and "\n" not in kind.reason, (
            f"{schema}: {kind.key} needs a one-line reason"
        )
    keys = [kind.key for kind in verdicts.kinds]
    assert len(keys) == len(set(keys)), f"{schema}: a kind is listed twice"


def test_the_first_matching_kind_wins_and_a_pattern_narrows_a_code() -> None:
    verdicts = Verdicts(
        "example",
        0,
        (
            Kind("DW101", "queue", "debatable", "queues"),
            Kind("DW101", None, "useful", "the rest"),
        ),
    )
    assert verdicts.kind_of("DW101", "public.jobs", "a queue table").verdict == "debatable"
    assert verdicts.kind_of("DW101", "public.t", "no key").verdict == "useful"
    assert verdicts.kind_of("DW102", "public.t", "no index") is None
