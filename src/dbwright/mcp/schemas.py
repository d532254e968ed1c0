"""What each tool takes and returns, as types an agent reads: parameter enums and output schemas.

The enums are ``Literal`` types, so the SDK lists their values in each tool's ``inputSchema``. Each tool's
``outputSchema`` comes from one model here: the fields every successful call returns, described.
Models allow more fields than they name (``extra="allow"``), because the nested findings, plans and
packages are the library's own JSON (docs/json-format.md), documented there rather than twice. A
failed call is ``isError: true`` with ``{"error": {"kind", "label", "message"}}`` instead
(``ToolError`` below).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["info", "low", "medium", "high", "critical"]
Category = Literal[
    "design", "integrity", "indexes", "maintenance", "workload", "security", "compliance", "configuration"
]
AuditCategory = Literal[
    "access", "authentication", "encryption", "logging", "data protection", "configuration"
]
OrderBy = Literal["total_ms", "mean_ms", "calls", "rows", "shared_blks_read", "temp_blks_written"]
Objective = Literal["auto", "total", "per-query"]
ObjectKind = Literal["tables", "views", "materialized_views", "functions", "sequences", "extensions"]
ScratchServer = Literal["target", "embedded"]

Json = dict[str, Any]


class Output(BaseModel):
    """A tool's structured result: the named fields, and the library's JSON around them."""

    model_config = ConfigDict(extra="allow")


class ToolError(BaseModel):
    """A failed call's ``structuredContent["error"]``, the same for every tool."""

    kind: str = Field(
        description="The dbwright error class: InvalidArgumentError, RefusedError, ServerError, …"
    )
    label: str = Field(
        description="The kind in words, as the CLI prints it: 'invalid argument', 'refused', …"
    )
    message: str = Field(description="One line, passwords masked.")


class ListObjectsOutput(Output):
    database: str
    schema_filter: str | None = Field(description="The schema asked for; null for every user schema.")
    schemas: list[Json] = Field(description="The schemas listed (only the filtered one, when filtered).")
    counts: dict[str, int] = Field(description="Objects listed per kind, within the filtered schemas.")
    tables: list[Json] = Field(description="Tables, partitioned and foreign tables: name, kind, rows, bytes.")
    views: list[Json]
    materialized_views: list[Json]
    functions: list[Json] = Field(description="Functions, procedures, aggregates: name(arguments), kind.")
    sequences: list[Json]
    extensions: list[Json] = Field(description="Installed extensions (in the schema, when filtered).")


class DescribeTableOutput(Output):
    table: Json
    columns: list[Json]
    indexes: list[Json]
    constraints: list[Json]
    triggers: list[str]
    policies: list[str]


class SnapshotSummaryOutput(Output):
    database: str
    server_version: int = Field(description="server_version_num, e.g. 150004.")
    current_user: str
    superuser: bool
    counts: dict[str, int]
    extensions: list[str]
    skipped: list[Json] = Field(description="Catalog sections the role could not read, with the reason.")


class FindingsOutput(Output):
    summary: Json = Field(description="Counts by severity, scores per area, checks run and skipped.")
    findings: list[Json] = Field(description="Findings (docs/json-format.md); each fix is a change package.")
    filters: Json
    matching_findings: int
    truncated: bool = Field(description="True when more findings matched than `limit` allowed.")


class ExplainOutput(Output):
    statement_kind: str
    analyze: bool
    plan: list[Json] = Field(description="EXPLAIN (FORMAT JSON) as PostgreSQL returns it.")
    transaction: str


class HypotheticalExplainOutput(Output):
    statement_kind: str
    hypothetical_indexes: list[Json] = Field(
        description="Each index given: its definition, HypoPG's name for it, HypoPG's size estimate."
    )
    indexes_used: list[str] = Field(description="The hypothetical indexes the new plan uses.")
    cost_before: float = Field(description="The planner's total cost without the indexes.")
    cost_after: float = Field(description="The planner's total cost with them.")
    improvement: float = Field(description="1 - cost_after / cost_before (0 when nothing changed).")
    plan_before: list[Json]
    plan_after: list[Json]
    built: Literal[False] = Field(
        description="Always false: HypoPG indexes exist only in this session's memory."
    )


class TopQueriesOutput(Output):
    statements: list[Json]
    order_by: str | None = None
    skipped: str | None = Field(default=None, description="Why there are no statistics, and what to do.")


class IndexAdviceOutput(Output):
    what_if: str = Field(description="How candidates were priced: hypothetical indexes (HypoPG), or not.")
    recommendations: list[Json]
    drops: list[Json]


class LintOutput(Output):
    server_version: int
    findings: list[Json]


class CheckDocsOutput(Output):
    code: str
    title: str
    category: str
    severity: str
    doc: str


class QueryOutput(Output):
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    transaction: str
    limits: dict[str, int]


class AuditOutput(FindingsOutput):
    pass


class PiiOutput(Output):
    findings: list[Json]
    recommendations: list[Json]


class MigrationStatusOutput(Output):
    history: list[Json] = Field(
        description="Migrations recorded as applied in dbwright.schema_history, oldest first."
    )
    migrations_dir: bool = Field(description="Whether the server was started with --migrations DIR.")
    pending: list[str] | None = Field(
        description="Files not applied yet (null without a migrations directory)."
    )
    out_of_order: list[str] | None
    partial: Json | None = Field(description="A migration stopped part way, if any.")
    baseline: str | None


class DiffPlanOutput(Output):
    differences: list[Json]
    packages: list[Json] = Field(description="Change packages that take the live schema to the desired one.")
    refused: list[Json] = Field(
        description="Destructive changes left out (allow_destructive=true includes them)."
    )
    migration: str = Field(
        description="The migration file (-- migrate:up / -- migrate:down) dbwright migrate reads."
    )
    destructive: bool
    estimated_seconds: float


class AccessOutput(Output):
    role: str
    database: str
    summary: list[Json]
    entries: list[Json] = Field(
        description="Each object the role can reach and how: read, write, own, execute."
    )


class ReplicationOutput(Output):
    role: Literal["primary", "standby"]
    in_recovery: bool
    wal_lsn: str | None
    settings: Json
    standbys: list[Json] = Field(description="pg_stat_replication: each standby with its LSNs and lags.")
    slots: list[Json] = Field(description="pg_replication_slots, with the WAL each slot retains.")
    wal_receiver: Json | None = Field(description="pg_stat_wal_receiver, on a standby.")
    notes: list[str]


class PlanOutput(Output):
    statements: list[Json]
    plan_token: str | None


class ApplyOutput(Output):
    migrations: list[str]
    steps: list[Json]
