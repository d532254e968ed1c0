"""The shared words: snapshots, findings and change packages.

``model`` imports no other dbwright package and knows no server: an engine fills a snapshot,
checks read it and yield findings, and fixes are change packages of operations.
"""

from dbwright.model.base import EngineSnapshot
from dbwright.model.snapshot import *  # noqa: F403
from dbwright.model.snapshot import SNAPSHOT_FORMAT, qualify  # noqa: F401

__all__ = ["EngineSnapshot", *[name for name in dir() if not name.startswith("_")]]  # noqa: PLE0604
