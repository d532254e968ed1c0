"""Reading a SQL file the way psql runs it: meta-commands found, includes followed, the SQL kept.

Schema files and pg_dump output are psql scripts, not plain SQL: ``\\set ON_ERROR_STOP 1``,
``\\ir other.sql``, and since pg_dump 15.14 (and 13.22, 14.19, 16.10, 17.6) ``\\restrict KEY`` /
``\\unrestrict KEY`` around the dump. PostgreSQL's parser rejects every one of them, so a reader
that hands the file to pglast as it is fails on the first backslash.

``read_psql_script`` scans the text with psql's own rules for where a backslash starts a
meta-command (never inside a quoted string, a quoted identifier, a dollar-quoted body or a
comment), follows ``\\i``/``\\include`` (relative to the working directory, as psql does) and
``\\ir``/``\\include_relative`` (relative to the including file), accepts the ``\\restrict``
pair, skips the data of ``COPY … FROM stdin`` up to ``\\.``, and reports every other
meta-command as skipped. Each meta-command line is blanked, so statement line numbers stay
those of the file. ``\\q`` ends the script there, as in psql. The diff and the lint share it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from dbwright.errors import InputFileError

#: Meta-commands that change nothing a schema reader needs: accepted without a note.
ACCEPTED = frozenset({"restrict", "unrestrict"})
INCLUDE = frozenset({"i", "include"})
INCLUDE_RELATIVE = frozenset({"ir", "include_relative"})
QUIT = frozenset({"q", "quit"})
MAX_INCLUDE_DEPTH = 16

_COPY_FROM_STDIN = re.compile(r"\bCOPY\b[^;]*\bFROM\s+stdin\b[^;]*;\s*$", re.IGNORECASE | re.DOTALL)
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\uffff][\w\x80-\uffff]*)?\$")


@dataclass(frozen=True)
class MetaCommand:
    """One backslash command met in a script, and what the reader did with it."""

    path: str
    line: int
    command: str  # without the backslash, e.g. "set"
    text: str  # the whole meta-command, e.g. "\\set ON_ERROR_STOP 1"
    action: str  # "accepted", "followed", "skipped", "stopped" (\\q), "copy data skipped"

    def describe(self) -> str:
        return f"{self.path}:{self.line}: {self.text} ({self.action})"


@dataclass(frozen=True)
class ScriptPart:
    """The SQL of one file (meta-command lines blanked), in the order psql would run the parts."""

    path: str
    sql: str


@dataclass
class PsqlScript:
    parts: list[ScriptPart] = field(default_factory=list)
    meta_commands: list[MetaCommand] = field(default_factory=list)

    @property
    def skipped(self) -> list[MetaCommand]:
        """Meta-commands whose effect the reader did not reproduce: worth telling the user."""
        return [m for m in self.meta_commands if m.action not in ("accepted", "followed")]


def read_psql_script(path: Path, *, cwd: Path | None = None) -> PsqlScript:
    """The script at ``path`` with its includes followed; a missing file is an InputFileError."""
    script = PsqlScript()
    _read(Path(path), script, cwd or Path.cwd(), depth=0, seen=())
    return script


def read_psql_text(sql: str, name: str = "<sql>", *, cwd: Path | None = None) -> PsqlScript:
    """The same for text already in memory; ``\\ir`` is relative to ``cwd`` then."""
    script = PsqlScript()
    base = cwd or Path.cwd()
    _split(sql, name, base, script, base, depth=0, seen=())
    return script


def _read(path: Path, script: PsqlScript, cwd: Path, depth: int, seen: tuple[Path, ...]) -> None:
    try:
        text = path.read_text()
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error.strerror or error}") from None
    resolved = path.resolve()
    if resolved in seen or depth > MAX_INCLUDE_DEPTH:
        raise InputFileError(f"{path}: includes itself (through \\i or \\ir)")
    _split(text, str(path), path.parent, script, cwd, depth, (*seen, resolved))


def _split(
    text: str,
    name: str,
    folder: Path,
    script: PsqlScript,
    cwd: Path,
    depth: int,
    seen: tuple[Path, ...],
) -> None:
    """Walk ``text``; SQL goes to the current part, a meta-command blanks its line and acts."""
    out: list[str] = []
    i, n = 0, len(text)
    statement_start = 0  # index in ``out`` of the current statement's first piece

    def flush() -> None:
        if "".join(out).strip():
            script.parts.append(ScriptPart(name, "".join(out)))
        out.clear()

    while i < n:
        ch = text[i]
        if ch == "-" and text.startswith("--", i):
            end = _line_end(text, i)
            out.append(text[i:end])
            i = end
        elif ch == "/" and text.startswith("/*", i):
            end = _block_comment_end(text, i)
            out.append(text[i:end])
            i = end
        elif ch == "'" or (ch in "eE" and text.startswith("'", i + 1) and not _word_before(text, i)):
            start = i
            i = _quoted_end(text, i + (1 if ch != "'" else 0), "'", backslash=ch != "'")
            out.append(text[start:i])
        elif ch == '"':
            start = i
            i = _quoted_end(text, i, '"', backslash=False)
            out.append(text[start:i])
        elif ch == "$" and (tag := _DOLLAR_TAG.match(text, i)) and not _word_before(text, i):
            close = text.find(tag.group(0), tag.end())
            end = n if close < 0 else close + len(tag.group(0))
            out.append(text[i:end])
            i = end
        elif ch == ";":
            out.append(ch)
            i += 1
            statement = "".join(out[statement_start:])
            if _COPY_FROM_STDIN.search(statement):
                line = text.count("\n", 0, i) + 1
                i = _skip_copy_data(text, i, out)
                script.meta_commands.append(
                    MetaCommand(name, line, "copy", "COPY … FROM stdin data", "copy data skipped")
                )
            statement_start = len(out)
        elif ch == "\\":
            end = _line_end(text, i)
            command_text = text[i:end].rstrip()
            line = text.count("\n", 0, i) + 1
            out.append(" " * (end - i))  # blank the meta-command, keep the columns and lines
            i = end
            word, _, argument = command_text[1:].partition(" ")
            word = word.split("\\", 1)[0]
            argument = argument.strip()
            if word in ACCEPTED:
                script.meta_commands.append(MetaCommand(name, line, word, command_text, "accepted"))
            elif word in INCLUDE | INCLUDE_RELATIVE:
                target = Path(os.path.expanduser(_unquote(argument)))
                base = folder if word in INCLUDE_RELATIVE else cwd
                if not argument:
                    raise InputFileError(f"{name}:{line}: \\{word} needs a file name")
                script.meta_commands.append(MetaCommand(name, line, word, command_text, "followed"))
                flush()
                statement_start = 0
                _read(target if target.is_absolute() else base / target, script, cwd, depth + 1, seen)
                out.append("\n" * text.count("\n", 0, i))  # the rest keeps its line numbers
            elif word in QUIT:
                script.meta_commands.append(MetaCommand(name, line, word, command_text, "stopped"))
                break
            else:
                script.meta_commands.append(MetaCommand(name, line, word, command_text, "skipped"))
        else:
            out.append(ch)
            i += 1
    flush()


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _block_comment_end(text: str, i: int) -> int:
    """PostgreSQL block comments nest."""
    depth, j = 0, i
    while j < len(text):
        if text.startswith("/*", j):
            depth += 1
            j += 2
        elif text.startswith("*/", j):
            depth -= 1
            j += 2
            if depth == 0:
                return j
        else:
            j += 1
    return len(text)


def _quoted_end(text: str, i: int, quote: str, *, backslash: bool) -> int:
    """The offset after the closing quote of the string opening at ``i`` (doubled quotes stay inside)."""
    j = i + 1
    while j < len(text):
        ch = text[j]
        if backslash and ch == "\\":
            j += 2
            continue
        if ch == quote:
            if text.startswith(quote, j + 1):
                j += 2
                continue
            return j + 1
        j += 1
    return len(text)


def _word_before(text: str, i: int) -> bool:
    """``e'…'`` and ``$tag$`` start only at a token boundary, not inside a name like ``some$1``."""
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_$")


def _skip_copy_data(text: str, i: int, out: list[str]) -> int:
    """COPY … FROM stdin: its data lines run to a line ``\\.``; they are blanked (newlines kept)."""
    end_mark = re.compile(r"^\\\.\s*$", re.MULTILINE)
    found = end_mark.search(text, i)
    end = len(text) if found is None else found.end()
    out.append("\n" * text.count("\n", i, end))
    return end


def _unquote(argument: str) -> str:
    if len(argument) >= 2 and argument[0] == argument[-1] and argument[0] in "'\"":
        return argument[1:-1]
    return argument
