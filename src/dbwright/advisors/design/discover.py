"""Full discovery with desbordante, when it is installed (``pip install 'dbwright[design]'``).

desbordante is AGPL-3.0-only, so dbwright never depends on it: it is imported here, lazily,
and only when present. On the sample of each table it finds approximate functional
dependencies (any left side up to ``MAX_LHS`` columns) and minimal unique column combinations.
Its results are candidates like the targeted ones: engines/postgres/design_confirm.py checks each on the full table.
"""

from __future__ import annotations

from importlib import import_module, metadata
from types import ModuleType
from typing import Any

from dbwright.advisors.design.candidates import FdCandidate, KeyCandidate
from dbwright.engines.postgres.design_sampling import TableSample

MAX_LHS = 2
NULL_TOKEN = "\x00NULL"


def desbordante_module() -> ModuleType | None:
    try:
        return import_module("desbordante")
    except ImportError:
        return None


def desbordante_version() -> str | None:
    try:
        return metadata.version("desbordante")
    except metadata.PackageNotFoundError:
        return None


def _frame(sample: TableSample) -> Any:
    import pandas as pd

    frame = pd.DataFrame.from_records(sample.rows, columns=list(sample.columns))
    # Strings, with one token for NULL: NULL equals NULL, as in GROUP BY, and values compare exactly.
    return frame.astype(object).where(frame.notna(), NULL_TOKEN).astype(str)


def discover_fds(sample: TableSample, max_error: float, screen_factor: float) -> list[FdCandidate]:
    desbordante = desbordante_module()
    if desbordante is None or len(sample.rows) < 2:
        return []
    frame = _frame(sample)
    algorithm = desbordante.afd.algorithms.Default()
    algorithm.load_data(table=frame)
    # g3, the share of rows to remove, is the measure design_confirm reports; the default (g1, pairs)
    # is far smaller on random data and would let accidental dependencies through.
    algorithm.execute(error=max_error * screen_factor, max_lhs=MAX_LHS, afd_error_measure="g3")
    found = []
    for fd in algorithm.get_fds():
        lhs = tuple(sample.columns[i] for i in fd.lhs_indices)
        if lhs:  # ∅ → Y is a constant column, not a dependency
            found.append(FdCandidate(lhs, sample.columns[fd.rhs_index], None, "desbordante"))
    return found


def discover_keys(sample: TableSample) -> list[KeyCandidate]:
    desbordante = desbordante_module()
    if desbordante is None or len(sample.rows) < 2:
        return []
    algorithm = desbordante.ucc.algorithms.Default()
    algorithm.load_data(table=_frame(sample))
    algorithm.execute()
    keys = [tuple(sample.columns[i] for i in ucc.indices) for ucc in algorithm.get_uccs()]
    return [KeyCandidate(key, "desbordante") for key in keys if 0 < len(key) <= 3]


def discover_inclusions(samples: list[TableSample]) -> list[tuple[str, str, str, str]]:
    """Single-column inclusion dependencies (child table, column, parent table, column) among samples."""
    desbordante = desbordante_module()
    usable = [s for s in samples if len(s.rows) >= 2]
    if desbordante is None or len(usable) < 2:
        return []
    algorithm = desbordante.ind.algorithms.Default()
    algorithm.load_data(tables=[_frame(s) for s in usable])
    algorithm.execute()
    found = []
    for ind in algorithm.get_inds():
        lhs, rhs = ind.get_lhs(), ind.get_rhs()
        if len(lhs.column_indices) != 1 or lhs.table_index == rhs.table_index:
            continue
        child, parent = usable[lhs.table_index], usable[rhs.table_index]
        found.append(
            (
                child.table,
                child.columns[lhs.column_indices[0]],
                parent.table,
                parent.columns[rhs.column_indices[0]],
            )
        )
    return found
