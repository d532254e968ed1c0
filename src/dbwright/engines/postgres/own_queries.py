"""Recognising dbwright's own introspection queries in pg_stat_statements.

A review run twice sees its first run's catalog queries in the workload statistics. Every
statement dbwright sends now starts with ``OWN_MARK`` (``connect.py``) and the snapshot's query
leaves those out; statements from before the mark are recognised here by dbwright's own SQL and
object names. The engine marks them (``Statement.own``) when it reads them, and the workload
checks, which run offline on a snapshot, only read the mark.
"""

from __future__ import annotations

import re
from functools import cache

from dbwright.engines.postgres import queries
from dbwright.engines.postgres.connect import OWN_MARK

_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_PARAMETER = re.compile(r"\$\d+")
_NUMBER = re.compile(r"(?<![\w.$])-?\d+(?:\.\d+)?(?![\w.])")
_KEYWORD_CONSTANT = re.compile(r"\b(?:NULL|TRUE|FALSE)\b", re.IGNORECASE)


def canonical(sql: str) -> str:
    """SQL with whitespace collapsed and every constant, or pg_stat_statements' $n for it, as '?'."""
    text = _STRING_LITERAL.sub("?", " ".join(sql.split()))
    text = _KEYWORD_CONSTANT.sub("?", _PARAMETER.sub("?", text))
    return _NUMBER.sub("?", text)


@cache
def _own_query_patterns() -> tuple[re.Pattern[str], ...]:
    """dbwright's introspection queries, as pg_stat_statements records them (schema names vary)."""
    patterns = []
    for name in dir(queries):
        text = getattr(queries, name)
        if name.isupper() and isinstance(text, str) and text.lstrip().startswith(("SELECT", "WITH")):
            patterns.append(re.compile(_pattern(canonical(text))))
    return tuple(patterns)


def _pattern(canonical_sql: str) -> str:
    """A regex for ``canonical_sql``: a format field matches any name, and any word may have become a
    constant (the parser turns some keywords, like extract's ``epoch``, into literals)."""
    parts = []
    for token in re.findall(r"\{\w+\}|\w+|\W", canonical_sql):
        if token.startswith("{"):
            parts.append(r"\S+")
        elif token[0].isalnum() or token[0] == "_":
            parts.append(f"(?:{token}|\\?)")
        else:
            parts.append(re.escape(token))
    return "".join(parts)


#: Names only dbwright's what-if machinery uses: rolled-back builds, generic-plan statements, savepoints.
_OWN_NAMES = re.compile(r"\bdbwright_(?:whatif|plan)\w*")


def is_own_query(text: str) -> bool:
    """True for statements dbwright sent: marked with OWN_MARK, naming its what-if objects (runs from
    before the mark), or beginning with one of its introspection queries."""
    if text.lstrip().startswith(OWN_MARK.strip()) or _OWN_NAMES.search(text):
        return True
    normalized = canonical(text)
    return any(pattern.match(normalized) for pattern in _own_query_patterns())
