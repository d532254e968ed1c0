"""``design_review``: the one API behind ``dbwright design``.

Snapshot the catalog, read a bounded sample of each table, find candidates (targeted SQL
candidates always; desbordante's full discovery when installed), confirm every candidate on
the full table, and turn what holds into proposals with change packages. The session is
read-only: nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dbwright.advisors.design import candidates as cand
from dbwright.advisors.design import (
    discover,
    keys,
    normalize,
    partition,
    pruning,
    screen,
    sharding,
    types,
)
from dbwright.advisors.design.context import TableInfo, table_infos
from dbwright.advisors.design.proposal import Proposal, Rejected
from dbwright.advisors.design.sample import Budget, Clock
from dbwright.checks.design import null_means_something
from dbwright.checks.patterns import delimited_list_shape
from dbwright.engines.base import Connection
from dbwright.engines.postgres import design_confirm as confirm
from dbwright.engines.postgres.connect import SessionOptions, describe_target, open_session, resolve_target
from dbwright.engines.postgres.design_sampling import (
    PROFILED_TYPES,
    TableSample,
    count_rows,
    read_sample,
)
from dbwright.errors import QueryTimeoutError, ReadDeniedError, RefusedError, ServerError
from dbwright.model import Snapshot

Progress = Callable[[str], None]
#: Default largest error (share of rows off) for an approximate dependency to count.
DEFAULT_MAX_ERROR = 0.01
#: Columns wider than this on average are documents, not attributes: not profiled.
MAX_PROFILED_WIDTH = 256
#: "Few orphans" for a foreign key the data mostly obeys.
MAX_ORPHAN_SHARE = 0.01
MIN_ORPHANS_ALLOWED = 10
#: Memory per hash aggregate of a confirmation query (a session setting; the server default is often 4MB).
WORK_MEM = "64MB"
KIND_ORDER = {
    "normalize": 0,
    "foreign_key": 1,
    "unique_key": 2,
    "not_null": 3,
    "check_values": 4,
    "type": 5,
    "partition": 6,
    "shard": 7,
}


@dataclass
class TableReport:
    table: str
    rows: int
    sample: dict[str, Any]
    candidates: int = 0
    confirmed: int = 0
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rows": self.rows,
            **self.sample,
            "candidates": self.candidates,
            "confirmed": self.confirmed,
            "skipped": self.skipped,
        }


@dataclass
class DesignReport:
    database: str
    engine: str
    desbordante_used: bool
    max_error: float
    budget: Budget
    tables: list[TableReport] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def of_kind(self, kind: str) -> list[Proposal]:
        return [p for p in self.proposals if p.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "engine": self.engine,
            "desbordante_used": self.desbordante_used,
            "max_error": self.max_error,
            "budget": {
                "sample_rows": self.budget.sample_rows,
                "time_budget_s": self.budget.time_budget_s,
                "statement_timeout": self.budget.statement_timeout,
            },
            "elapsed_s": round(self.elapsed_s, 3),
            "notes": self.notes,
            "tables": [t.to_dict() for t in self.tables],
            "proposals": [p.to_dict() for p in self.proposals],
            "rejected": [r.to_dict() for r in self.rejected],
        }


def design_review(
    target: str | None,
    *,
    sample_rows: int = Budget.sample_rows,
    time_budget_s: float = Budget.time_budget_s,
    statement_timeout: str = Budget.statement_timeout,
    max_error: float = DEFAULT_MAX_ERROR,
    use_desbordante: bool | None = None,
    min_partition_rows: int = partition.DEFAULT_MIN_ROWS,
    estimate_pruning: bool = True,
    shard_bytes: int = sharding.DEFAULT_SHARD_BYTES,
    snapshot: Snapshot | None = None,
    progress: Progress | None = None,
) -> DesignReport:
    """Profile the data of ``target`` and propose normalization, keys, constraints and tighter types."""
    from dbwright.engines.registry import take_snapshot

    budget = Budget(sample_rows, time_budget_s, statement_timeout)
    available = discover.desbordante_module() is not None
    if use_desbordante and not available:
        raise RefusedError(
            "desbordante is not installed: pip install 'dbwright[design]' (AGPL-3.0), or drop --desbordante"
        )
    use = available if use_desbordante is None else use_desbordante
    engine = (
        f"desbordante {discover.desbordante_version()} (full discovery on samples) + SQL confirmation"
        if use
        else "targeted SQL candidates (FK-like and low-cardinality determinants, keys from "
        "pg_stats and the sample) + SQL confirmation"
    )
    clock = Clock(time_budget_s)
    snap = snapshot or take_snapshot(target, progress=progress)
    report = DesignReport(describe_target(resolve_target(target)), engine, use, max_error, budget)
    if not use and not available:
        report.notes.append(
            "desbordante is not installed, so only targeted candidates were tested; install "
            "dbwright[design] for full discovery."
        )
    elif not use:
        report.notes.append("desbordante was not used (turned off), so only targeted candidates were tested.")
    infos = table_infos(snap)
    existing = {t.qname for t in snap.tables} | {v.qname for v in snap.views}
    samples: dict[str, TableSample] = {}
    rows_of: dict[str, int] = {}
    try:
        with open_session(target, SessionOptions(statement_timeout=statement_timeout)) as conn:
            confirm.set_work_mem(conn, WORK_MEM)  # hash, not sort, the GROUP BY of confirmations
            for info in infos:
                if clock.expired:
                    report.tables.append(
                        TableReport(info.qname, int(info.table.row_estimate), {}, skipped="time budget spent")
                    )
                    continue
                try:
                    _review_table(
                        conn,
                        info,
                        budget,
                        max_error,
                        use,
                        existing,
                        report,
                        samples,
                        rows_of,
                        clock,
                        progress,
                    )
                    rows = rows_of.get(info.qname)
                    advice = partition.plan(conn, snap, info, rows, min_partition_rows) if rows else None
                    if advice is not None:
                        if estimate_pruning:  # a scratch database on the same server, always dropped
                            advice.evidence["pruning"] = pruning.estimate(target, snap, info, advice, conn)
                        report.proposals.append(advice)
                except QueryTimeoutError:
                    _skip(report, info, f"a query ran past statement_timeout ({statement_timeout})")
                except ReadDeniedError as error:
                    _skip(report, info, f"no privilege to read it ({error})")
            if not clock.expired:
                _foreign_keys(conn, infos, samples, rows_of, use, report, progress)
            else:
                report.notes.append("time budget spent before foreign keys were looked for")
    except ServerError as error:  # the engine names the driver's error: "UndefinedTable: …"
        raise ServerError(f"design review query failed: {error}") from None
    report.proposals += sharding.advise(snap, shard_bytes)
    _relate_decompositions(snap, report)
    report.proposals.sort(key=lambda p: (KIND_ORDER.get(p.kind, 9), -p.score, p.table, p.columns))
    report.elapsed_s = clock.elapsed
    return report


def _skip(report: DesignReport, info: TableInfo, reason: str) -> None:
    """Record a table the review could not finish; whatever it found before stays in the report."""
    entry = next((t for t in report.tables if t.table == info.qname), None)
    if entry is None:
        report.tables.append(TableReport(info.qname, int(info.table.row_estimate), {}, skipped=reason))
    else:
        entry.skipped = reason


def _proper_subsets(columns: tuple[str, ...]) -> list[tuple[str, ...]]:
    from itertools import combinations

    return [sub for size in range(1, len(columns)) for sub in combinations(columns, size)]


def _profiled_columns(info: TableInfo) -> list[str]:
    chosen = []
    for column in info.columns:
        width = column.stats.avg_width if column.stats else None
        if column.type_name in PROFILED_TYPES and (width is None or width <= MAX_PROFILED_WIDTH):
            chosen.append(column.name)
    return chosen


def _review_table(
    conn: Connection,
    info: TableInfo,
    budget: Budget,
    max_error: float,
    use: bool,
    existing: set[str],
    report: DesignReport,
    samples: dict[str, TableSample],
    rows_of: dict[str, int],
    clock: Clock,
    progress: Progress | None,
) -> None:
    columns = _profiled_columns(info)
    if not columns:
        return
    sample = read_sample(conn, info.qname, columns, info.table.row_estimate, budget.sample_rows, progress)
    rows = len(sample.rows) if not sample.sampled else count_rows(conn, info.qname)
    samples[info.qname], rows_of[info.qname] = sample, rows
    entry = TableReport(info.qname, rows, sample.to_dict())
    report.tables.append(entry)
    if rows == 0:
        return
    profiles = cand.profile_columns(sample)
    if progress:
        progress(f"confirming candidates on {info.qname}")
    # Functional dependencies → decompositions.
    fds = {(c.lhs, c.rhs): c for c in cand.targeted_fds(info, sample, profiles, max_error)}
    if use:
        for c in discover.discover_fds(sample, max_error, cand.SCREEN_FACTOR):
            fds.setdefault((c.lhs, c.rhs), c)
    by_lhs: dict[tuple[str, ...], list[str]] = {}
    for lhs, rhs in sorted(fds):
        smaller = any((sub, rhs) in fds for sub in _proper_subsets(lhs))  # not minimal: the subset says it
        rhs_is_key = any(rhs in key for key in info.declared_keys) or info.is_generated_key(rhs)
        if not (
            smaller
            or rhs_is_key
            or info.is_superkey(lhs)
            or rhs in lhs
            or any(profiles[c].near_constant for c in (*lhs, rhs))
        ):
            by_lhs.setdefault(lhs, []).append(rhs)
    for lhs in list(by_lhs):
        # Nearly unique left sides determine everything by accident; pg_stats says so without a scan.
        # Combinations are sparse and pg_stats' per-column estimates multiply optimistically: ask a
        # two-column left side for twice the rows per value.
        groups = cand.estimated_groups(info, lhs, rows)
        if groups is not None and rows / max(groups, 1.0) < normalize.MIN_ROWS_PER_GROUP ** len(lhs):
            for rhs in by_lhs.pop(lhs):
                report.rejected.append(
                    Rejected(
                        info.qname,
                        f"{', '.join(lhs)} → {rhs}",
                        f"accidental: ≈ {groups:,.0f} distinct left sides in {rows:,} rows (pg_stats)",
                    )
                )
    # Cheap screens before the full-table checks: determinants that cannot name an entity, then every
    # candidate on one larger sample (screen.py). Both engines' candidates are pooled per determinant, so
    # the confirmation below is one scan per determinant whichever engine suggested its dependents.
    screened = screen.determinants(info, by_lhs, rows, sample, profiles)
    if sample.sampled and not clock.expired:
        try:
            screened = screen.recheck(conn, info, screened, rows, budget.sample_rows, max_error)
        except QueryTimeoutError:
            report.notes.append(
                f"{info.qname}: the larger-sample re-check ran past statement_timeout; every "
                "candidate went to the full-table check"
            )
    for lhs, rhs, reason, evidence in screened.rejected:
        report.rejected.append(Rejected(info.qname, f"{', '.join(lhs)} → {rhs}", reason, evidence or {}))
    if screened.recheck:
        entry.sample["recheck"] = screened.recheck
    by_lhs = screened.kept
    type_of = {c.name: c.data_type for c in info.columns}
    checks: list[confirm.FdCheck] = []
    holds: dict[str, set[str]] = {}  # single-column determinant → confirmed right sides
    confirmed_by: dict[tuple[str, str], confirm.FdCheck] = {}  # (determinant, right side) → its check
    order = sorted(by_lhs, key=lambda lhs: (len(lhs), [normalize.determinant_rank(info, c) for c in lhs]))
    for lhs in order:
        rhs_list = by_lhs[lhs]
        if clock.expired:
            entry.skipped = "time budget spent while confirming dependencies"
            break
        entry.candidates += len(rhs_list)
        try:
            better = next((k for k, found in holds.items() if len(lhs) == 1 and lhs[0] in found), None)
            if better is not None:
                # A column determined by a better determinant: if it also determines that one, the two are
                # equivalent and this one's dependencies are that one's. The better one's scan usually
                # says so already (1:1 values); otherwise one scan instead of a scan per column.
                back = _back_check(
                    conn, info.qname, lhs[0], better, confirmed_by[(better, lhs[0])], type_of, max_error
                )
                if back is not None and back.error <= max_error:
                    checks.append(back)
                    for rhs in rhs_list:
                        report.rejected.append(
                            Rejected(
                                info.qname,
                                f"{lhs[0]} → {rhs}",
                                f"equivalent to {better}, a better determinant",
                            )
                        )
                    continue
            confirmed = confirm.fd_checks(conn, info.qname, lhs, rhs_list, type_of, max_error)
        except QueryTimeoutError:
            # One expensive candidate (often a wide determinant) must not cost the whole table.
            for rhs in rhs_list:
                report.rejected.append(
                    Rejected(
                        info.qname,
                        f"{', '.join(lhs)} → {rhs}",
                        "not confirmed: the full-table check ran past statement_timeout",
                    )
                )
            continue
        for check in confirmed:
            if check.error <= max_error:
                checks.append(check)
                if len(lhs) == 1:
                    holds.setdefault(lhs[0], set()).add(check.rhs)
                    confirmed_by[(lhs[0], check.rhs)] = check
            else:
                report.rejected.append(
                    Rejected(
                        info.qname,
                        f"{', '.join(lhs)} → {check.rhs}",
                        f"not confirmed on the full table (error "
                        f"{'at least ' if check.at_least else ''}{check.error:.2%})",
                        check.to_dict(),
                    )
                )
    listed = _list_columns(sample, info)
    for check in [c for c in checks if listed & {*c.lhs, c.rhs}]:
        checks.remove(check)
        report.rejected.append(
            Rejected(
                info.qname,
                f"{', '.join(check.lhs)} → {check.rhs}",
                f"{', '.join(sorted(listed & {*check.lhs, check.rhs}))} holds delimited lists (DW114): "
                "split the list into rows before judging what it determines",
            )
        )
    decompositions, rejected = normalize.choose(info, checks, profiles, rows)
    report.rejected += rejected
    if decompositions:
        percent = min(100.0, 100.0 * budget.sample_rows / rows) if sample.sampled else None
        used = tuple(sorted({c for d in decompositions for c in (*d.lhs, *d.rhs)}))
        widths = confirm.average_widths(conn, info.qname, used, percent)
        for d in decompositions:
            report.proposals.append(normalize.package_for(info, d, existing, widths, rows))
            entry.confirmed += 1
    # Keys.
    key_candidates = {k.columns: k for k in cand.targeted_keys(info, sample, profiles)}
    if use:
        for k in discover.discover_keys(sample):
            key_candidates.setdefault(k.columns, k)
    single_keys: set[str] = set()
    tenant = keys.tenant_column(info)
    for columns_, candidate in sorted(key_candidates.items(), key=lambda kv: (len(kv[0]), kv[0])):
        if info.is_superkey(columns_) or (len(columns_) > 1 and single_keys & set(columns_)):
            continue
        if any(set(columns_) < set(key) for key in info.declared_keys):
            # part of a declared composite key: the schema already says what it is unique within
            report.rejected.append(
                Rejected(
                    info.qname,
                    f"key ({', '.join(columns_)})",
                    "part of a declared composite key, which scopes it: not a key on its own",
                )
            )
            continue
        if tenant and tenant not in columns_:
            # unique across tenants today, but two tenants may one day share a code: scope the key
            columns_ = (tenant, *columns_)
            if columns_ in key_candidates or info.is_superkey(columns_):
                continue
        proposal = keys.key_proposal(info, columns_, rows, candidate.source)
        if proposal is None:
            continue
        entry.candidates += 1
        total, nulls, duplicates = confirm.key_violations(conn, info.qname, columns_)
        if nulls == 0 and duplicates == 0:
            report.proposals.append(proposal)
            entry.confirmed += 1
            if len(columns_) == 1:
                single_keys.add(columns_[0])
    # NOT NULL and value lists.
    if rows >= keys.MIN_CONSTRAINT_ROWS:
        nullable = [
            c.name
            for c in info.columns
            if not c.not_null
            and c.name in profiles
            and profiles[c.name].nulls == 0
            and not keys.looks_optional(c.name)
            and not null_means_something(c.name)  # the review's DW110 name rule
            and c.name not in info.fk_columns  # a nullable reference is often optional by design
        ]
        for name, nulls in confirm.null_counts(conn, info.qname, nullable).items():
            entry.candidates += 1
            if nulls == 0:
                report.proposals.append(keys.not_null_proposal(info, name, rows))
                entry.confirmed += 1
        listed = [column.name for column in info.columns if _value_list_candidate(info, column, profiles)]
        for name, values in confirm.distinct_values_many(
            conn, info.qname, listed, keys.MAX_CHECK_VALUES
        ).items():
            entry.candidates += 1
            if values:
                report.proposals.append(keys.check_values_proposal(info, name, values, rows))
                entry.confirmed += 1
    if rows >= keys.MIN_CONSTRAINT_ROWS:
        _types(conn, info, sample, entry, report)
    else:
        report.rejected.append(
            Rejected(
                info.qname,
                "types",
                f"not judged: {rows} rows is below the {keys.MIN_CONSTRAINT_ROWS} a type change needs as evidence",
            )
        )


def _back_check(
    conn: Connection,
    table: str,
    column: str,
    better: str,
    forward: confirm.FdCheck,
    type_of: dict[str, str],
    max_error: float,
) -> confirm.FdCheck | None:
    """Does ``column`` determine ``better`` (given that ``better`` → ``column`` holds)? None when it cannot.

    Without a scan when the forward check tells: exact with as many distinct values of ``column`` as of
    ``better`` means 1:1; far fewer values means each value of ``column`` spans several of ``better``,
    at least one row off per extra ``better`` value, so the error exceeds ``max_error``. (The count
    leaves NULL out, so one value fewer is allowed for it.)
    """
    values = forward.rhs_values
    if values is not None and forward.rows and forward.exact:
        if values == forward.groups:
            return confirm.FdCheck((column,), better, forward.rows, values, 0, 0)
        if (forward.groups - values - 1) / forward.rows > max_error:
            return None
    return confirm.fd_checks(conn, table, (column,), [better], type_of, max_error)[0]


def _list_columns(sample: Any, info: TableInfo) -> set[str]:
    """Text columns whose sampled values are delimited lists ('golf,cooking'): not values to normalize."""
    found = set()
    for column in info.columns:
        if column.type_name in keys.TEXT_TYPES and column.name in sample.columns:
            values = [v for v in dict.fromkeys(sample.values(column.name)) if isinstance(v, str) and v]
            if len(values) >= 5 and delimited_list_shape(values) is not None:
                found.add(column.name)
    return found


#: A reference needs this many distinct values in the sample: a count or a flag is not a key.
MIN_DISTINCT_REFERENCES = 5


def _value_list_candidate(info: TableInfo, column: Any, profiles: dict[str, cand.ColumnProfile]) -> bool:
    """A text column with a handful of values in the sample: worth a check constraint or lookup table."""
    p = profiles.get(column.name)
    return not (
        p is None
        or column.type_name not in keys.TEXT_TYPES
        or column.name in info.has_check
        or column.name in info.fk_columns
        or column.is_enum
        or not 2 <= p.distinct <= keys.MAX_CHECK_VALUES
        or p.distinct * 10 > p.non_null
    )


def _types(
    conn: Connection, info: TableInfo, sample: TableSample, entry: TableReport, report: DesignReport
) -> None:
    def typed(column: Any) -> bool:
        return column.name in sample.columns and not (
            column.name in info.fk_columns and column.type_name != "int8"
        )

    # bigint is never narrowed to integer from today's values: epoch-millisecond timestamps, counters
    # and ids grow past them, and 4 bytes a row rarely pay for the risk (every such proposal on the
    # real corpus was wrong). numeric holding whole numbers is still proposed.
    ranges = confirm.numeric_ranges(
        conn, info.qname, [c.name for c in info.columns if typed(c) and c.type_name == "numeric"]
    )
    for column in info.columns:
        if not typed(column):
            continue
        proposal = None
        if column.type_name == "numeric":
            entry.candidates += 1
            low, high, integral = ranges[column.name]
            if low is None:
                continue
            proposal = types.numeric_proposal(info, column.name, low, high, integral)
        elif column.type_name in types.TEXT_TYPES and not types.is_key_like(info, column.name):
            fmt = types.sample_format(sample.values(column.name))
            if fmt is not None:
                entry.candidates += 1
                label, target, pattern = fmt
                nonnull, mismatched, _ = confirm.text_fit(conn, info.qname, column.name, pattern)
                if nonnull and not mismatched and confirm.casts(conn, info.qname, column.name, target):
                    proposal = types.text_format_proposal(info, column.name, label, target, nonnull)
            if proposal is None and column.data_type.startswith("character varying("):
                entry.candidates += 1
                longest, nonnull = confirm.max_length(conn, info.qname, column.name)
                proposal = types.varchar_proposal(info, column.name, longest, nonnull)
        if proposal is not None:
            report.proposals.append(proposal)
            entry.confirmed += 1


def _foreign_keys(
    conn: Connection,
    infos: list[TableInfo],
    samples: dict[str, TableSample],
    rows_of: dict[str, int],
    use: bool,
    report: DesignReport,
    progress: Progress | None,
) -> None:
    """Inclusion dependencies that look like missing foreign keys: names or types match, parent side unique."""
    by_name = {i.qname: i for i in infos}
    candidates: dict[tuple[str, str, str, str], str] = {}
    for child in infos:
        for column in child.columns:
            if column.name in child.fk_columns or column.type_name not in keys.KEY_TYPES:
                continue
            for parent in infos:
                if parent is child:
                    continue
                for key in parent.declared_keys:
                    if (
                        len(key) == 1
                        and types_ok(column.type_name, parent.column(key[0]).type_name)
                        and keys.names_match(column.name, parent.table.name, key[0])
                    ):
                        candidates[(child.qname, column.name, parent.qname, key[0])] = "names and types"
    if use:
        for child_t, col, parent_t, ref in discover.discover_inclusions(list(samples.values())):
            child, parent = by_name.get(child_t), by_name.get(parent_t)
            if (
                child is None
                or parent is None
                or col in child.fk_columns
                or (ref,) not in parent.declared_keys
            ):
                continue
            if child.is_superkey((col,)) or child.is_generated_key(col) or col == "id":
                continue  # surrogate ids of unrelated tables overlap by construction
            if not cand.fk_like(col):
                continue  # values that happen to fall inside a key's values (timestamps, counts) are no reference
            if (
                types_ok(child.column(col).type_name, parent.column(ref).type_name)
                and not samples[child_t].sampled
                and not samples[parent_t].sampled
            ):
                candidates.setdefault(
                    (child_t, col, parent_t, ref), "desbordante inclusion dependency + types"
                )
    candidates = _one_parent_per_column(candidates)
    if progress and candidates:
        progress(f"checking {len(candidates)} foreign key candidate(s) for orphans")
    for (child_t, col, parent_t, ref), found_by in sorted(candidates.items()):
        child, parent = by_name[child_t], by_name[parent_t]
        sample = samples.get(child_t)
        if sample is not None and col in sample.columns:
            distinct = len({v for v in sample.values(col) if v is not None})
            if distinct < MIN_DISTINCT_REFERENCES:
                report.rejected.append(
                    Rejected(
                        child_t,
                        f"{col} → {parent_t}.{ref}",
                        f"only {distinct} distinct value(s) in the sample: a count or a flag is not a key",
                        {"distinct_values": distinct},
                    )
                )
                continue
        try:
            counts = confirm.orphans(conn, child_t, (col,), parent_t, (ref,))
        except (QueryTimeoutError, ReadDeniedError) as error:
            report.rejected.append(Rejected(child_t, f"{col} → {parent_t}.{ref}", f"not checked: {error}"))
            continue
        refs, orphan_rows, _ = counts
        listing = confirm.orphan_query(child_t, (col,), parent_t, (ref,))
        if refs == 0 or orphan_rows > max(MIN_ORPHANS_ALLOWED, MAX_ORPHAN_SHARE * refs):
            report.rejected.append(
                Rejected(
                    child_t,
                    f"{col} → {parent_t}.{ref}",
                    "no references" if refs == 0 else f"{orphan_rows} orphan rows",
                    {"references": refs, "orphan_rows": orphan_rows},
                )
            )
            continue
        report.proposals.append(keys.foreign_key_proposal(child, col, parent, ref, counts, listing, found_by))
    _respect_foreign_key_culture(infos, report)


#: A schema that declares foreign keys for fewer of its references than this has chosen not to (the
#: review's DW119 uses the same share).
FK_CULTURE = 0.25


def _respect_foreign_key_culture(infos: list[TableInfo], report: DesignReport) -> None:
    """Where a schema declares foreign keys for under a quarter of its references (declared plus
    proposed, at least three proposed), the application keeps them by choice: the proposals become
    rejections that say so, so the report does not ask for a hundred keys the design avoids."""
    declared: dict[str, int] = {}
    for info in infos:
        declared[info.table.schema] = declared.get(info.table.schema, 0) + len(info.fk_columns)
    proposed: dict[str, list[Proposal]] = {}
    for proposal in report.of_kind("foreign_key"):
        proposed.setdefault(proposal.table.split(".", 1)[0], []).append(proposal)
    for schema, proposals in proposed.items():
        share = declared.get(schema, 0) / (declared.get(schema, 0) + len(proposals))
        if len(proposals) < 3 or share >= FK_CULTURE:
            continue
        for proposal in proposals:
            report.proposals.remove(proposal)
            report.rejected.append(
                Rejected(
                    proposal.table,
                    proposal.title,
                    f"schema {schema} declares foreign keys for only {share:.0%} of its references: the "
                    "application keeps them by choice (the data obeys this one)",
                    dict(proposal.evidence),
                )
            )


def _one_parent_per_column(
    candidates: dict[tuple[str, str, str, str], str],
) -> dict[tuple[str, str, str, str], str]:
    """A column that matches several parents by name (``room_id`` is in sixteen tables' keys) keeps the
    one table named after it (``rooms``), or none: a reference has one parent."""
    by_column: dict[tuple[str, str], list[tuple[str, str, str, str]]] = {}
    for key in candidates:
        by_column.setdefault((key[0], key[1]), []).append(key)
    kept = {}
    for (_child, column), keys_ in by_column.items():
        if len(keys_) == 1:
            kept[keys_[0]] = candidates[keys_[0]]
            continue
        stem = column.lower().rsplit("_", 1)[0]
        named = [k for k in keys_ if keys.singular(k[2].rsplit(".", 1)[-1].lower()) == stem]
        if len(named) == 1:
            kept[named[0]] = candidates[named[0]]
    return kept


def types_ok(a: str, b: str) -> bool:
    return keys.types_match(a, b)


def _relate_decompositions(snap: Snapshot, report: DesignReport) -> None:
    """A split whose determinant already references (or looks like it references) a table says so:
    the moved columns may belong in that table rather than in a new one."""
    references = {
        (fk.table_qname, fk.columns[0]): fk.ref_qname for fk in snap.foreign_keys() if len(fk.columns) == 1
    }
    references.update(
        {
            (p.table, p.columns[0]): p.title.rsplit(" to ", 1)[1].rsplit(".", 1)[0]
            for p in report.of_kind("foreign_key")
        }
    )
    for p in report.of_kind("normalize"):
        parent = references.get((p.table, p.columns[0]))
        if parent:
            p.evidence["determinant_references"] = parent
            p.advice += (
                f" {p.columns[0]} references {parent} (declared or proposed): if the moved columns "
                f"describe {parent}'s rows, move them there instead of into a new table."
            )
