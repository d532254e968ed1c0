"""How much the design review may read, and its deadline.

The samples themselves are read by ``dbwright.engines.postgres.design_sampling``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

DEFAULT_SAMPLE_ROWS = 20_000
DEFAULT_TIME_BUDGET_S = 120.0


@dataclass(frozen=True)
class Budget:
    """How much the review may read: rows per table sample, seconds overall, per statement."""

    sample_rows: int = DEFAULT_SAMPLE_ROWS
    time_budget_s: float = DEFAULT_TIME_BUDGET_S
    statement_timeout: str = "60s"


@dataclass
class Clock:
    """The review's deadline; work past it is skipped and said so."""

    budget_s: float
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def expired(self) -> bool:
        return self.elapsed > self.budget_s
