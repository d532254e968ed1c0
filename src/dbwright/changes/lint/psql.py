"""psql scripts: the meta-commands (``\\set``, ``\\ir``, ``\\connect``, ``\\restrict`` …) that real schema
files and pg_dump output carry between their SQL statements.

PostgreSQL's parser knows nothing of them, so they are taken out of the text before it is parsed, the
way psql's own lexer finds them: a backslash outside a string, a quoted identifier, a comment or a
dollar-quoted body starts a meta-command, which runs to the end of the line. ``:name``, ``:'name'``
and ``:"name"`` are replaced by the value an earlier ``\\set`` gave (psql leaves an unset variable as
written). The rows after ``COPY … FROM stdin;`` up to ``\\.`` are data, not SQL; ``\\q`` ends the script, as
in psql. Line numbers are kept, so a statement is still reported at its own line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from dbwright.engines.postgres.locks import Effects

#: Meta-commands that send the query buffer, as ``;`` does.
_SENDS_QUERY = {"g", "gx", "gset", "gexec", "gdesc", "watch", "crosstabview"}
#: ``\\i`` reads a file relative to the working directory, ``\\ir`` relative to the including file.
INCLUDE = {"i": False, "include": False, "ir": True, "include_relative": True}
CONNECT = {"c", "connect"}
QUIT = {"q", "quit"}
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$\x80-\U0010ffff]")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")
_VARIABLE = re.compile(r":(?:'([A-Za-z0-9_]+)'|\"([A-Za-z0-9_]+)\"|([A-Za-z0-9_]+))")
#: Where the scanner has something to decide; plain SQL in between is copied as it is.
_SPECIAL = re.compile(r"[-/'\"$:\\;]")
_COPY_FROM_STDIN = re.compile(r"^\s*COPY\b.*\bFROM\s+STDIN\b", re.IGNORECASE | re.DOTALL)
_FROM_STDIN = re.compile(r"\bfrom\s+p?stdin\b", re.IGNORECASE)


@dataclass(frozen=True)
class PsqlCommand:
    """One psql meta-command, e.g. ``\\set ON_ERROR_STOP 1``: its name (no backslash) and argument text.

    ``included``/``problem`` are filled in when the lint follows an include: the file it read, or why
    it did not (``missing``, ``cycle``)."""

    name: str
    argument: str
    included: str | None = None
    problem: str | None = None

    @property
    def text(self) -> str:
        return f"\\{self.name} {self.argument}".rstrip()

    @property
    def is_include(self) -> bool:
        return self.name in INCLUDE

    @property
    def include_path(self) -> str:
        """The file an include names, without quotes."""
        argument = self.argument.strip()
        if len(argument) >= 2 and argument[0] == argument[-1] and argument[0] in "'\"":
            return argument[1:-1]
        return argument.split()[0] if argument else ""


@dataclass(frozen=True)
class ScriptText:
    """A psql script with its meta-commands taken out: ``sql`` for PostgreSQL's parser (same lines),
    and each meta-command with its offset in ``sql`` and its 1-based line."""

    sql: str
    commands: tuple[tuple[int, int, PsqlCommand], ...]


def split_script(text: str) -> ScriptText:
    """Take psql's meta-commands, variables and COPY data out of ``text``; SQL is left as written."""
    out: list[str] = []
    commands: list[tuple[int, int, PsqlCommand]] = []
    variables: dict[str, str] = {}
    statement_start = 0  # the index in ``out`` where the current statement began
    length = 0
    line = 1
    i = 0
    n = len(text)

    def emit(chunk: str) -> None:
        nonlocal length, line
        out.append(chunk)
        length += len(chunk)
        line += chunk.count("\n")

    while i < n:
        char = text[i]
        if char == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            emit(text[i:end])
            i = end
        elif char == "/" and text.startswith("/*", i):
            end = _comment_end(text, i)
            emit(text[i:end])
            i = end
        elif char == "'":
            escapes = i > 0 and text[i - 1] in "eE" and (i < 2 or not _IDENT_CHAR.match(text[i - 2]))
            end = _quoted_end(text, i, "'", escapes)
            emit(text[i:end])
            i = end
        elif char == '"':
            end = _quoted_end(text, i, '"', False)
            emit(text[i:end])
            i = end
        elif char == "$" and not (i > 0 and _IDENT_CHAR.match(text[i - 1])):
            tag = _DOLLAR_TAG.match(text, i)
            if tag:
                close = text.find(tag.group(), tag.end())
                end = n if close < 0 else close + len(tag.group())
                emit(text[i:end])
                i = end
            else:
                emit(char)
                i += 1
        elif char == ":" and not text.startswith("::", i) and not (i > 0 and text[i - 1] == ":"):
            match = _VARIABLE.match(text, i)
            name = match and next(g for g in match.groups() if g is not None)
            if match and name in variables:
                value = variables[name]
                if match.group(1) is not None:
                    value = "'" + value.replace("'", "''") + "'"
                elif match.group(2) is not None:
                    value = '"' + value.replace('"', '""') + '"'
                emit(value)
                i = match.end()
            else:
                emit(char)
                i += 1
        elif char == "\\":
            end = text.find("\n", i)
            end = n if end < 0 else end
            stop = data = False
            for command in _commands(text[i:end]):
                commands.append((length, line, command))
                _remember(command, variables)
                if command.name in _SENDS_QUERY:
                    emit(";")  # it sends the buffer, as a semicolon would
                    statement_start = len(out)
                stop = stop or command.name in QUIT
                data = data or (command.name == "copy" and bool(_FROM_STDIN.search(command.argument)))
            if stop:
                break  # psql reads no further
            i = end
            if data:  # \copy … from stdin: the rows follow in the script, up to \.
                data_start, i = i, _skip_copy_data(text, i)
                emit("\n" * text.count("\n", data_start, i))
        elif char == ";":
            emit(char)
            i += 1
            statement = "".join(out[statement_start:])
            statement_start = len(out)
            if _COPY_FROM_STDIN.match(_without_comments(statement)):
                data_start, i = i, _skip_copy_data(text, i)
                emit("\n" * text.count("\n", data_start, i))  # the data rows become empty lines
        else:
            special = _SPECIAL.search(text, i + 1)
            end = n if special is None else special.start()
            emit(text[i:end])
            i = end
    return ScriptText("".join(out), tuple(commands))


def _commands(line: str) -> list[PsqlCommand]:
    """The meta-commands of one line: a backslash outside quotes starts the next one
    (``\\echo Use CREATE EXTENSION \\quit`` is two; ``\\\\`` only separates)."""
    found: list[PsqlCommand] = []
    start, i, quote = 0, 1, ""
    while i <= len(line):
        char = line[i] if i < len(line) else "\\"
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`":
            quote = char
        elif char == "\\":
            name, _, argument = line[start + 1 : i].strip().partition(" ")
            if name and name != "\\":
                found.append(PsqlCommand(name.strip(), argument.strip()))
            start = i
        i += 1
    return found


def _remember(command: PsqlCommand, variables: dict[str, str]) -> None:
    if command.name == "set":
        name, _, value = command.argument.partition(" ")
        if name:
            variables[name] = _unquote(value.strip())
    elif command.name == "unset":
        variables.pop(command.argument.strip(), None)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def _comment_end(text: str, start: int) -> int:
    """The end of a (nested) C-style comment starting at ``start``."""
    depth = 0
    i = start
    while i < len(text):
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(text)


def _quoted_end(text: str, start: int, quote: str, escapes: bool) -> int:
    i = start + 1
    while i < len(text):
        if escapes and text[i] == "\\":
            i += 2
        elif text[i] == quote:
            if text.startswith(quote * 2, i):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return len(text)


def _skip_copy_data(text: str, start: int) -> int:
    """The offset after the ``\\.`` line that ends COPY … FROM stdin data starting at ``start``."""
    match = re.compile(r"^\\\.[ \t]*$", re.MULTILINE).search(text, start)
    return len(text) if match is None else match.end()


def _without_comments(statement: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", statement, flags=re.DOTALL)


def command_effects(command: PsqlCommand) -> Effects:
    """A meta-command runs in psql, not on the server: it names no relation and locks nothing."""
    return Effects(f"psql:\\{command.name}")


def resolve_include(command: PsqlCommand, including_file: str | None, stack: tuple[Path, ...]) -> PsqlCommand:
    """``command`` with the file it includes (``\\i``: from the working directory, ``\\ir``: from the
    including file's directory), or the reason it is not followed: ``missing`` or ``cycle``."""
    path = Path(command.include_path)
    if INCLUDE[command.name] and including_file and not including_file.startswith("<"):
        path = Path(os.path.normpath(Path(including_file).parent / path))
    try:
        resolved = path.resolve(strict=True)
    except OSError:
        return replace(command, included=str(path), problem="missing")
    if resolved in stack or not resolved.is_file():
        return replace(command, included=str(path), problem="cycle" if resolved in stack else "missing")
    return replace(command, included=str(path))
