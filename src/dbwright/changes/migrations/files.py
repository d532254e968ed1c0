"""Migration files on disk: naming, the up and down sections, and checksums.

One file per migration, ``V<version>__<name>.sql``, holding a ``-- migrate:up`` section and
a ``-- migrate:down`` section (the markers dbwright's own `fix` writes). The version is a
UTC timestamp, so files sort in the order they were written and two developers rarely
collide. Only the up part is checksummed: it is what ran; the down part may still be fixed
before anyone rolls back.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dbwright.changes.migration_file import DOWN_MARK, UP_MARK
from dbwright.errors import InputFileError

FILENAME = re.compile(r"V(?P<version>\d+)__(?P<name>[A-Za-z0-9_]+)\.sql")
_NAME_CHARS = re.compile(r"[^a-z0-9_]+")


@dataclass(frozen=True)
class MigrationFile:
    version: str
    name: str
    path: Path
    up: str
    down: str
    up_line: int  # line number (1-based) in the file of the first line of the up part
    down_line: int

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def checksum(self) -> str:
        return checksum(self.up)

    @property
    def sort_key(self) -> tuple[int, str]:
        return int(self.version), self.version


def checksum(text: str) -> str:
    """sha256 of a section, the same on Windows and Unix checkouts and whatever blank lines surround it."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    normalized = "\n".join(line.rstrip() for line in normalized.split("\n"))
    return hashlib.sha256(normalized.encode()).hexdigest()


def version_key(version: str) -> tuple[int, str]:
    return int(version), version


def parse_file(path: Path) -> MigrationFile:
    match = FILENAME.fullmatch(path.name)
    if not match:
        raise InputFileError(
            f"{path}: not a migration file name; use V<version>__<name>.sql "
            "(dbwright migrate new NAME writes one)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputFileError(f"{path}: not UTF-8 text ({error.reason})") from None
    up, down, up_line, down_line = _sections(path, text.replace("\r\n", "\n").replace("\r", "\n"))
    return MigrationFile(
        version=match["version"],
        name=match["name"],
        path=path,
        up=up,
        down=down,
        up_line=up_line,
        down_line=down_line,
    )


def _sections(path: Path, text: str) -> tuple[str, str, int, int]:
    lines = text.split("\n")
    marks = {UP_MARK: [], DOWN_MARK: []}
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped in marks:
            marks[stripped].append(number)
    for mark, found in marks.items():
        if len(found) != 1:
            what = "has no" if not found else f"has {len(found)}"
            raise InputFileError(
                f"{path.name}: {what} '{mark}' line; a migration has exactly one "
                f"'{UP_MARK}' section followed by one '{DOWN_MARK}' section"
            )
    up_at, down_at = marks[UP_MARK][0], marks[DOWN_MARK][0]
    if down_at < up_at:
        raise InputFileError(
            f"{path.name}: '{DOWN_MARK}' (line {down_at}) comes before '{UP_MARK}' "
            f"(line {up_at}); put the up part first"
        )
    up = "\n".join(lines[up_at : down_at - 1])
    down = "\n".join(lines[down_at:])
    return up, down, up_at + 1, down_at + 1


def discover(directory: Path) -> list[MigrationFile]:
    """Every migration in ``directory``, oldest version first. Any other .sql file is an error."""
    if not directory.is_dir():
        raise InputFileError(
            f"migrations directory not found: {directory} "
            "(create it with `dbwright migrate new NAME`, or pass --dir)"
        )
    found = [parse_file(path) for path in sorted(directory.glob("*.sql"))]
    by_version: dict[str, MigrationFile] = {}
    for migration in found:
        clash = by_version.get(str(int(migration.version)))
        if clash:
            raise InputFileError(
                f"{migration.filename} and {clash.filename} have the same version "
                f"{migration.version}; give one of them a new version"
            )
        by_version[str(int(migration.version))] = migration
    return sorted(found, key=lambda m: m.sort_key)


def slug(name: str) -> str:
    text = _NAME_CHARS.sub("_", name.strip().lower()).strip("_")
    if not text:
        raise InputFileError(f"cannot make a migration name from {name!r}; use letters, digits and _")
    return text


def new_migration(
    directory: Path, name: str, now: datetime | None = None, *, up: str = "", down: str = ""
) -> Path:
    """Write a migration with a UTC-timestamp version newer than every existing one.

    ``up`` and ``down`` fill its two parts (empty by default, for a person to write); the MCP
    server passes the change it plans, so its file is the one `dbwright migrate new` would write.
    """
    directory.mkdir(parents=True, exist_ok=True)
    existing = discover(directory)
    stamp = int((now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S"))
    if existing:
        stamp = max(stamp, int(existing[-1].version) + 1)
    path = directory / f"V{stamp}__{slug(name)}.sql"
    title = " ".join(name.split())  # one comment line: a name cannot smuggle in a section marker
    path.write_text(TEMPLATE.format(name=title, up=_part(UP_MARK, up), down=_part(DOWN_MARK, down)))
    return path


def _part(mark: str, sql: str) -> str:
    """A section's marker line, followed by its SQL when there is any."""
    return f"{mark}\n{sql.strip()}" if sql.strip() else mark


TEMPLATE = """\
-- {name}
-- The up part runs in one transaction, except statements that cannot (CREATE INDEX
-- CONCURRENTLY, VACUUM, ...): those run alone and are recorded step by step.
-- The down part undoes the up part; `dbwright migrate rollback` runs it.

{up}


{down}

"""
