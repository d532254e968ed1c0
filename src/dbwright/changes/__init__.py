"""Change packages and the operations they are made of."""

from dbwright.model.operations import Lock, Operation
from dbwright.model.package import ChangePackage

__all__ = ["ChangePackage", "Lock", "Operation"]
