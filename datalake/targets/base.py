"""The target interface: every command goes through it, whatever runs underneath.

Core code never compares target names; it asks the target, or its `capabilities`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from datalake.config import Settings
from datalake.domain.sql import translate
from datalake.domain.table_care import EraseResult, MaintainOptions, MaintainResult
from datalake.model import (
    ArchiveResult,
    EtlOptions,
    IngestOptions,
    IngestResult,
    JobResult,
    LakeStatus,
    LakeUsage,
    RunSummary,
    SeedOptions,
    SeedResult,
    TableHistory,
    ValidationReport,
)
from datalake.progress import NULL_PROGRESS, Progress

# What `QueryEngine.measure` reports about a run's reads.
SCAN_STATS = ("bytes_scanned", "io_bytes_read", "files_read", "row_groups_scanned", "row_groups_total", "method")


@dataclass
class QueryResult:
    engine: str
    sql: str  # as sent to the engine
    columns: list[str]
    rows: list[tuple[Any, ...]]
    seconds: float
    stats: dict[str, Any] = field(default_factory=dict)

    def to_records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """`datalake query --json`: the engine, the SQL it ran, the time and the rows as records."""
        return {"engine": self.engine, "sql": self.sql, "seconds": round(self.seconds, 4), "rows": self.to_records()}


class QueryEngine(ABC):
    """Runs Athena-dialect SQL; subclasses say which dialect they speak and how to connect."""

    name: str
    dialect: str
    description: str
    # False for an engine that reads every byte whatever the filter (raw files as landed): measuring
    # it with pruning disabled would only repeat the run, the most expensive run of a benchmark
    prunes: bool = True

    @property
    def role(self) -> str:
        """What the engine stands for in comparisons: raw (files as landed), lake (Parquet) or warehouse."""
        return self.name

    def translate(self, sql: str) -> str:
        return translate(sql, self.dialect)

    @abstractmethod
    def execute(self, sql: str) -> QueryResult: ...

    def measure(self, sql: str, pruning: bool = True) -> QueryResult:
        """Run once and report what the run read, in `stats` (keys of SCAN_STATS; None when unknown).

        Call it on a freshly opened engine: a warm cache hides reads. With `pruning=False` the engine
        reads as if no filter could skip partitions or row groups, to measure what pruning saves;
        engines that cannot do that report None figures.
        """
        result = self.execute(sql)
        stats: dict[str, Any] = {key: None for key in SCAN_STATS}
        scanned = result.stats.get("data_scanned_bytes")  # engines that bill by scan report it (Athena)
        if scanned is not None:
            stats["bytes_scanned"] = int(scanned)
            stats["method"] = f"{self.name}'s own statistics (data_scanned_bytes)"
        elif "data_scanned_bytes" in result.stats:
            stats["method"] = f"unknown: {self.name} reported no data_scanned_bytes for this run"
        else:
            stats["method"] = "not measured by this engine"
        result.stats = {**result.stats, **stats}
        return result

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> QueryEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Capabilities:
    """What a target can do, so callers ask instead of branching on its name."""

    query_engines: tuple[str, ...]
    etl_engines: tuple[str, ...]
    default_query_engine: str
    default_etl_engine: str
    # the commands beyond the pipeline's core that this target runs; the CLI asks before it calls
    archive: bool = False  # `datalake archive`: raw partitions past retention to the archive zone
    validate: bool = False  # `datalake validate`: the data-quality report
    ingest: bool = False  # `datalake ingest`: bring your own files into the lake
    run_job: bool = False  # `datalake run-job`: a Spark job of jobs/ against the lake
    lake_lock: bool = False  # writers take a lake lock, so `--wait` has something to wait for
    history: bool = False  # `datalake history TABLE`: the table's snapshots (its Iceberg commits)
    time_travel: bool = False  # `datalake query --as-of SNAPSHOT`: the lake engine at an older snapshot
    maintain: bool = False  # `datalake maintain`: compaction, snapshot expiry and orphan removal of the tables
    erase: bool = False  # `datalake erase --where P [--dry-run]`: remove the rows matching P from every zone, proven
    # engines that answer every benchmark query (they expose sales_fact and the dimensions); None: all
    benchmark_engines: tuple[str, ...] | None = None


# Shown what is about to happen (a plan summary, what will be deleted); returns whether to go ahead.
Confirm = Callable[[str], bool]


def confirm_always(_: str) -> bool:
    return True


@dataclass(frozen=True)
class DeployOptions:
    plan_only: bool = False
    confirm: Confirm = confirm_always
    var_file: Path | None = None  # Terraform tfvars for targets that provision infrastructure


class Target(ABC):
    name: str
    capabilities: Capabilities
    # seconds a writer (seed, archive, destroy, run-job) waits for another holding the lake (--wait);
    # run-etl and ingest carry theirs in their options. Targets without a lake lock ignore it.
    lock_wait: float = 0.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    def deploy(self, options: DeployOptions | None = None, progress: Progress = NULL_PROGRESS) -> dict[str, Any]:
        """Create (idempotently) everything the lake needs; return its outputs (names, paths)."""

    @abstractmethod
    def seed(self, opts: SeedOptions, progress: Progress = NULL_PROGRESS) -> SeedResult: ...

    @abstractmethod
    def run_etl(self, opts: EtlOptions, progress: Progress = NULL_PROGRESS) -> RunSummary: ...

    @abstractmethod
    def query_engine(self, name: str | None = None) -> QueryEngine: ...

    @abstractmethod
    def status(self) -> LakeStatus: ...

    def unsupported(self, command: str) -> NoReturn:
        """The one error for a command this target's capabilities leave out."""
        from datalake.errors import DatalakeError

        raise DatalakeError(
            f"`datalake {command}` is not available on the {self.name} target in this version",
            hint="use the local target (the default) for this command",
        )

    def validate(self, freshness_days: int | None = None) -> ValidationReport:
        """The data-quality report (targets with `capabilities.validate`)."""
        self.unsupported("validate")

    def archive(self, older_than_days: int, dry_run: bool = False) -> ArchiveResult:
        """Move raw partitions past retention to the archive zone (targets with `capabilities.archive`)."""
        self.unsupported("archive")

    def ingest(self, opts: IngestOptions, progress: Progress = NULL_PROGRESS) -> IngestResult:
        """Bring the user's files into the lake as a table (targets with `capabilities.ingest`)."""
        self.unsupported("ingest")

    def time_travel(self, as_of: str, name: str | None = None) -> QueryEngine:
        """A query engine over the lake as it was at a snapshot id or time (targets with `capabilities.time_travel`)."""
        self.unsupported("query --as-of")

    def history(self, table: str) -> TableHistory:
        """The table's snapshots, oldest first (targets with `capabilities.history`)."""
        self.unsupported("history")

    def maintain(self, opts: MaintainOptions, progress: Progress = NULL_PROGRESS) -> MaintainResult:
        """Compact the tables' small files, expire old snapshots, remove orphans (targets with `capabilities.maintain`)."""
        self.unsupported("maintain")

    def erase(self, where: str, dry_run: bool = True, yes: bool = False) -> EraseResult:
        """Remove the rows matching `where` from every zone and verify (dry_run: count them per file, change nothing)."""
        self.unsupported("erase")

    def run_job(self, name: str, progress: Progress = NULL_PROGRESS) -> JobResult:
        """Run a Spark job of jobs/ against the lake and catalog its output (targets with `capabilities.run_job`)."""
        self.unsupported("run-job")

    @abstractmethod
    def destroy(
        self, confirm: Confirm = confirm_always, progress: Progress = NULL_PROGRESS, var_file: Path | None = None
    ) -> dict[str, Any]:
        """Delete the lake and everything in it, after `confirm` agreed to the description."""

    def services(self) -> dict[str, str]:
        """What plays each role of the original demo's architecture here (the report's diagram labels).

        Roles: raw, processed, archive, quarantine, catalog, etl, warehouse, query, provisioning.
        """
        caps = self.capabilities
        return {
            "raw": "raw zone",
            "processed": "processed zone (Parquet)",
            "archive": "archive zone" if caps.archive else "not available",
            "quarantine": "quarantine zone",
            "catalog": "catalog",
            "etl": " / ".join(caps.etl_engines),
            "warehouse": "warehouse",
            "query": " / ".join(caps.query_engines),
            "provisioning": "deploy",
        }

    def run_summaries(self) -> list[RunSummary]:
        """The completed runs' summaries, oldest first; a target that keeps none returns none."""
        return []

    def measured_usage(self) -> LakeUsage:
        """What cost-report prices about the lake itself: sizes, day partitions, runs."""
        from datalake.errors import UsageError

        raise UsageError(f"cost-report cannot measure a lake on the {self.name} target yet", hint="use --target local")
