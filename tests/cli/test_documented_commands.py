"""Every `$ dbwright …` example in README.md and docs/ uses today's grammar: the command line parses
with the real CLI (every option exists, every value a callback checks is valid), and no example uses
an old spelling (`--db`, `--out`, diff's `--from`, explain's `-f FILE`) that is only a hidden alias."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from dbwright.cli import app

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
OLD_SPELLINGS = {"--db", "-d", "--out", "--from"}
SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "2>&1", "2>", "<"}


def documented_commands() -> list[tuple[str, int, list[str]]]:
    """(document, line, arguments) of every `$ dbwright …` line, and every `dbwright …` line of a
    bash block, continuation lines joined. Synopsis blocks (no language, `[DATABASE]`) are not examples."""
    found = []
    for path in DOCUMENTS:
        lines = path.read_text().splitlines()
        i, fence = 0, None
        while i < len(lines):
            line, number = lines[i], i + 1
            while line.endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line[:-1] + " " + lines[i].strip()
            i += 1
            if line.startswith("```"):
                fence = None if fence is not None else line[3:].strip()
                continue
            synopsis = "[--" in line or "[DATABASE" in line
            in_script = fence in ("bash", "sh", "shell") and line.startswith("dbwright ") and not synopsis
            if not (line.startswith("$ dbwright ") or in_script):
                continue
            try:
                words = shlex.split(line if in_script else line[2:], comments=True)
            except ValueError:  # an example quoting a broken statement on purpose
                continue
            for position, word in enumerate(words):
                if word in SHELL_OPERATORS or word.startswith((">", "2>")):
                    words = words[:position]
                    break
            found.append((str(path.relative_to(ROOT)), number, words[1:]))
    return found


def parse(arguments: list[str]) -> dict:
    """The parameters the real CLI reads from ``arguments``, as it parses them (errors raise)."""
    command, rest = typer.main.get_command(app), list(arguments)
    while hasattr(command, "commands"):  # a group: root options, then the subcommand
        while rest and rest[0].startswith("-"):
            rest = rest[1:]
        if not rest:
            return {}
        command, rest = command.commands[rest[0]], rest[1:]
    return command.make_context("dbwright", rest).params


COMMANDS = documented_commands()


def test_the_docs_have_examples_to_check():
    assert len(COMMANDS) > 40
    assert {document for document, _, _ in COMMANDS} >= {"README.md", "docs/explain.md", "docs/migrations.md"}


@pytest.mark.parametrize(("arguments"), [c[2] for c in COMMANDS], ids=[f"{d}:{n}" for d, n, _ in COMMANDS])
def test_documented_example_parses_with_todays_grammar(arguments):
    old = OLD_SPELLINGS & set(arguments)
    assert not old, f"old spelling {old}: use DATABASE and -o/--output"
    if arguments[:1] == ["explain"] and "-f" in arguments:
        value = arguments[arguments.index("-f") + 1]
        assert value in ("text", "json", "markdown"), "-f is --format; the statement's file is --file"
    try:
        parse(arguments)
    except Exception as error:  # click's usage errors carry their message
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        if not re.search(r"Missing (argument|option)", message):  # an excerpt may leave a value out
            raise AssertionError(f"does not parse: {message}") from None
