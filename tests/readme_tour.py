"""The README's tour is real output: its console blocks are regenerated from a fresh `dbwright demo`.

Every ```console block in README.md whose first line is a ``$ dbwright …`` command is run as written,
in order, by bash in a sandbox laid out like a user's machine (a home folder with the demo's data
under ``~/.local/share/dbwright/demo`` and a ``project`` folder to work in); ``$DATABASE_URL`` is the
URL the demo prints. The output replaces the block. `dbwright demo`'s block is an excerpt (its first
progress lines, the summary, the scores and the first severity section, then the last lines: the
report paths and the demo database's URL), everything else is whole.

Only what differs on every run is normalised: the sandbox's temporary path is shown as the home
folder ``/home/you``. The check (``tour_problems``) also ignores what is measured time: timestamps,
durations, and the workload area, whose findings come from the statements' timings (a query near
the 500 ms or 20 % thresholds is found on one run and not the next, see docs/demo.md), so its score
and the finding counts in the summary line. Every other score, the checks run, the paths, the URL
and the SQL must match exactly. The README keeps the values of the run that wrote it.

    python -m tests.readme_tour            # check; exit 1 with a diff when the README is stale
    python -m tests.readme_tour --update   # rewrite README.md (scripts/update-readme-tour)
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
#: The sandbox's home folder as the README shows it.
SHOWN_HOME = "/home/you"
#: Columns rich wraps to (a pipe is no terminal; rich would use 80, which cuts the score column).
COLUMNS = "100"
ELLIPSIS = "…"

_BLOCK = re.compile(r"^```console\n(?P<body>.*?)^```$", re.M | re.S)
_SEVERITY_RULE = re.compile(r"^─+\s+(CRITICAL|HIGH|MEDIUM|LOW|INFO) \(\d+\)\s+─+$")
_DEMO_URL = re.compile(r"^Demo database: (\S+)$", re.M)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}(?::\d{2})?)?")
_DURATION = re.compile(r"~?\d[\d,]*(?:\.\d+)? ?(?:ms|s)\b")
#: Measured time decides the workload area's findings: its score and the summary's counts move with it.
_WORKLOAD_SCORE = re.compile(r"^( workload +)[█░]+ +\d+/100", re.M)
_FINDING_COUNTS = re.compile(r"\d+ finding\(s\)(?:  \d+ (?:critical|high|medium|low|info))+")


@dataclass
class Sandbox:
    """A throwaway home folder; the demo's server and data live in it while the tour runs."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # each command's wall time, last run

    @property
    def project(self) -> Path:
        return self.root / "project"

    def run(self, command: str) -> subprocess.CompletedProcess:
        started = time.monotonic()
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        self.seconds[command] = time.monotonic() - started
        return done

    def shown(self, text: str) -> str:
        """Output as the README shows it: the sandbox is the home folder, no trailing spaces."""
        text = text.replace(str(self.root), SHOWN_HOME)
        return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


@contextmanager
def sandbox() -> Iterator[Sandbox]:
    """A home folder the demo's server user can reach (as root it runs as another user); removed after,
    with the demo's server stopped."""
    root = Path(tempfile.mkdtemp(prefix="dbwright-tour-"))
    root.chmod(0o755)
    (root / "project").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PGHOST", "PGDATABASE")}
    env.pop("DBWRIGHT_DEMO_DIR", None)
    env.update(
        HOME=str(root),
        XDG_DATA_HOME=str(root / ".local" / "share"),
        COLUMNS=COLUMNS,
        NO_COLOR="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    box = Sandbox(root, env)
    try:
        yield box
    finally:
        box.run("dbwright demo --stop")
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Block:
    """One console block of the README: where it is and the commands it shows."""

    start: int  # offsets of the block's body in the README text
    end: int
    commands: list[str]


def console_blocks(readme: str) -> list[Block]:
    """The README's console blocks that start with a dbwright command, in order."""
    blocks = []
    for match in _BLOCK.finditer(readme):
        body = match.group("body")
        commands = [line[2:] for line in body.splitlines() if line.startswith("$ ")]
        if commands and commands[0].startswith("dbwright "):
            blocks.append(Block(match.start("body"), match.end("body"), commands))
    return blocks


def demo_excerpt(stdout: str, stderr: str) -> list[str]:
    """What the tour shows of `dbwright demo`: two progress lines, the review down to the end of its
    first severity section, then the lines from the report paths on."""
    progress = [line for line in stderr.splitlines() if line.strip()][:2]
    lines = stdout.splitlines()
    rules = [n for n, line in enumerate(lines) if _SEVERITY_RULE.match(line.strip())]
    review = lines[: rules[1]] if len(rules) > 1 else lines
    while review and not review[-1].strip():
        review.pop()
    tail = next((n for n, line in enumerate(lines) if line.startswith("HTML report: ")), len(lines))
    return [*progress, ELLIPSIS, *review, ELLIPSIS, *lines[tail:]]


def run_tour(box: Sandbox, readme: str) -> tuple[list[str], dict[str, subprocess.CompletedProcess]]:
    """Each tour block's new body (its commands and their real output), and each command's result."""
    results: dict[str, subprocess.CompletedProcess] = {}
    bodies: list[str] = []
    for block in console_blocks(readme):
        shown: list[str] = []
        for command in block.commands:
            done = box.run(command)
            results[command] = done
            if done.returncode != 0:
                raise RuntimeError(f"`{command}` exited {done.returncode}:\n{done.stderr[-3000:]}")
            if command.split()[:2] == ["dbwright", "demo"]:
                url = _DEMO_URL.search(done.stdout)
                if url is None:
                    raise RuntimeError("`dbwright demo` did not print its database URL")
                box.env["DATABASE_URL"] = url.group(1)
                output = "\n".join(demo_excerpt(done.stdout, done.stderr))
            else:
                output = done.stdout + done.stderr
            shown += [f"$ {command}", box.shown(output)]
        bodies.append("\n".join(shown) + "\n")
    return bodies, results


def splice(readme: str, bodies: list[str]) -> str:
    """``readme`` with its tour blocks' bodies replaced, in order."""
    blocks = console_blocks(readme)
    if len(blocks) != len(bodies):
        raise RuntimeError(f"README.md now has {len(blocks)} tour blocks, the run made {len(bodies)}")
    pieces, position = [], 0
    for block, body in zip(blocks, bodies, strict=True):
        pieces += [readme[position : block.start], body]
        position = block.end
    return "".join(pieces) + readme[position:]


def masked(text: str) -> str:
    """Text with measured time masked (timestamps, durations, the workload area's score and the
    finding counts) and whitespace collapsed, since wrapping may move with them."""
    text = _WORKLOAD_SCORE.sub(r"\1<timing-derived score>", text)
    text = _FINDING_COUNTS.sub("<finding counts>", text)
    return " ".join(_DURATION.sub("<duration>", _TIMESTAMP.sub("<time>", text)).split())


def tour_problems(current: str, regenerated: str) -> str:
    """ "" when the README's tour says what a fresh run says (up to timings); else a unified diff."""
    if masked(current) == masked(regenerated):
        return ""
    diff = difflib.unified_diff(
        current.splitlines(), regenerated.splitlines(), "README.md", "README.md (fresh run)", lineterm=""
    )
    return "\n".join(diff)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite README.md from a fresh run")
    update = parser.parse_args(argv).update
    readme = README.read_text()
    with sandbox() as box:
        bodies, _ = run_tour(box, readme)
    if update:
        README.write_text(
            splice(README.read_text(), bodies)
        )  # read again: others may have edited it meanwhile
        print(f"README.md: {len(bodies)} tour blocks regenerated")
        return 0
    regenerated = splice(readme, bodies)
    problems = tour_problems(readme, regenerated)
    if problems:
        print(problems)
        print("\nThe README's tour is stale: run scripts/update-readme-tour", file=sys.stderr)
        return 1
    print("README.md tour matches a fresh run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
