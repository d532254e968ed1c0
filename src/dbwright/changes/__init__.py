"""Change packages and the operations they are made of."""

from dbwright.changes.operations import Lock, Operation
from dbwright.changes.package import ChangePackage

__all__ = ["ChangePackage", "Lock", "Operation"]
