"""The option and result types every layer shares: what a command is asked, and what it answers.

They live below the target interface (`datalake.targets.base` speaks in them) and above nothing of
ours but the kernel, so the CLI, the report and both targets can name them without importing an
implementation, and without numpy, pyarrow or DuckDB: `datalake --help` stays instant.
Each result's `to_dict()` is its JSON form (`--json`, the results files).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from datalake.errors import UsageError

SEED_FORMATS = ("mixed", "json", "csv")

# ------------------------------------------------------------------------------------ seed


@dataclass(frozen=True)
class SeedOptions:
    rows: int
    days: int = 365
    end_date: date | None = None
    seed: int = 42
    format: str = "mixed"
    error_rate: float = 0.002
    online_share: float = 0.4
    chunk_rows: int = 1_000_000
    customers: int | None = None
    products: int = 400
    stores: int = 60

    def validate(self) -> None:
        if self.rows < 1:
            raise UsageError(f"--rows must be at least 1, got {self.rows}")
        if self.days < 1:
            raise UsageError(f"--days must be at least 1, got {self.days}")
        if self.format not in SEED_FORMATS:
            raise UsageError(f"--format must be one of {', '.join(SEED_FORMATS)}, got {self.format!r}")
        if not 0 <= self.error_rate <= 0.5:
            raise UsageError(f"--error-rate must be between 0 and 0.5, got {self.error_rate}")
        if self.seed < 0:
            raise UsageError(f"--seed must be a non-negative integer, got {self.seed}")
        if self.chunk_rows < 1:
            raise UsageError("chunk_rows must be positive")


@dataclass
class SeedResult:
    batch: int
    rows: int
    json_rows: int
    csv_rows: int
    files: int
    bytes: int
    first_date: str
    last_date: str
    defects: dict[str, int]
    seconds: float
    sale_id_min: int
    sale_id_max: int
    dimensions: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rows_per_second"] = round(self.rows / self.seconds) if self.seconds else None
        return data


# ------------------------------------------------------------------------------------ run-etl


@dataclass(frozen=True)
class EtlOptions:
    engine: str = "duckdb"
    wait: float = 0.0
    run_ts: datetime | None = None  # fixed in tests; defaults to now


@dataclass
class RunSummary:
    run_id: str | None
    status: str
    engine: str
    started: str
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    files_in: int = 0
    bytes_in: int = 0
    rows_in: int = 0
    rows_processed: int = 0
    rows_quarantined: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    bad_files: list[dict[str, Any]] = field(default_factory=list)
    bytes_out: int = 0
    fact_files_written: int = 0
    warehouse_rows_loaded: int = 0
    recovered: list[str] = field(default_factory=list)
    crawl: dict[str, Any] = field(default_factory=dict)
    # What Glue bills the run for (DPUs x seconds); None where no DPU count applies (local engines,
    # EMR steps): cost-report then takes `seconds` on one worker, as its throughput convention says.
    dpu_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        """A summary saved by this or an older version (a run journal's `summary`): unknown keys are ignored."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known.setdefault("run_id", None)
        known.setdefault("status", "completed")
        known.setdefault("engine", "")
        known.setdefault("started", "")
        return cls(**known)

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_processed + self.rows_quarantined


# ------------------------------------------------------------------------------------ ingest


@dataclass(frozen=True)
class IngestOptions:
    table: str
    paths: tuple[Path, ...]
    partition_by: str | None = None
    format: str = "auto"
    flatten: bool = False  # JSON: nested objects become parent_child columns instead of STRUCTs
    wait: float = 0.0
    today: date | None = None  # the ingest_date folder of the raw copies; fixed in tests
    mode: str = "append"  # append | overwrite | merge
    key: tuple[str, ...] = ()  # merge: the columns that identify a row


@dataclass
class IngestResult:
    table: str
    ingest_id: str | None
    status: str  # ingested | nothing_to_do
    files: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    rows: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    parquet_files: int = 0
    new_columns: list[str] = field(default_factory=list)
    widened: list[dict[str, str]] = field(default_factory=list)
    columns: list[dict[str, str]] = field(default_factory=list)
    partition_by: str | None = None
    partitions: int = 0
    table_rows: int = 0
    warehouse_rows_loaded: int = 0
    recovered: list[str] = field(default_factory=list)
    seconds: float = 0.0
    mode: str = "append"
    key: list[str] = field(default_factory=list)
    rows_inserted: int = 0  # every input row is inserted, updated or unchanged (merge: unchanged = same values)
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_replaced: int = 0  # overwrite: the rows the table held before
    rewritten_rows: int = (
        0  # rows of the table rewritten in a new type (a widening Iceberg cannot promote) or by a merge
    )
    snapshot_id: int | None = None  # the table's Iceberg snapshot of this ingest

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# ------------------------------------------------------------------------------------ run-job


@dataclass
class JobResult:
    job: str
    engine: str = "spark (local)"
    seconds: float = 0.0
    tables: list[dict[str, Any]] = field(default_factory=list)
    etl: RunSummary | None = None  # sales_etl runs as run-etl with the spark engine

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "etl": self.etl.to_dict() if self.etl else None}


# ------------------------------------------------------------------------------------ status


@dataclass
class LakeStatus:
    """What is in the lake (`datalake status`): zones, catalog tables, warehouse tables, the last runs.

    Table and run records keep the columns their target knows (the aws target's runs name the Glue
    job and its DPU-seconds; its tables have no file counts); `extra` holds a target's own sections,
    such as the aws target's storage classes, buckets and crawlers, which `to_dict` puts beside the rest.
    """

    target: str
    lake: str
    zones: dict[str, dict[str, int]]  # zone -> {"files", "bytes"}
    tables: list[dict[str, Any]] = field(default_factory=list)
    warehouse: dict[str, int] = field(default_factory=dict)  # table -> rows
    runs: list[dict[str, Any]] = field(default_factory=list)  # the last runs, oldest first
    pending_raw_files: int | None = None  # None: the target cannot tell
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "extra"}
        return {**data, **self.extra}

    def table(self, name: str) -> list[dict[str, Any]]:
        """The catalog records of a table name, in every database that holds one."""
        return [t for t in self.tables if t.get("table") == name]


# ------------------------------------------------------------------------------------ history


@dataclass(frozen=True)
class Snapshot:
    """One commit of a lake table (an Iceberg snapshot): which run made it, and what it added and removed."""

    snapshot_id: int
    parent_id: int | None
    committed_at: str  # ISO timestamp, UTC, milliseconds
    operation: str | None  # append, overwrite, delete, replace
    run_id: str | None  # None: not a run's (a migration registering a lake's older files, a maintenance job)
    migrated: bool
    added_files: int
    removed_files: int
    added_rows: int
    removed_rows: int
    total_rows: int
    rows_in: int | None = None  # the run's own counts, as its summary carries them
    rows_processed: int | None = None
    rows_quarantined: int | None = None
    current: bool = False


@dataclass
class TableHistory:
    """`datalake history TABLE`: the table's snapshots, oldest first."""

    table: str
    snapshots: list[Snapshot] = field(default_factory=list)

    @property
    def current(self) -> Snapshot | None:
        return next((s for s in self.snapshots if s.current), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------ archive


@dataclass
class ArchiveResult:
    """What `datalake archive` moved (or, with --dry-run, would move) to the archive zone."""

    cutoff: str  # ISO day: partitions dated before it move
    dry_run: bool
    partitions: int = 0
    files: int = 0
    bytes: int = 0
    skipped_unprocessed: list[str] = field(default_factory=list)  # old partitions kept: files not yet consumed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------ validate


@dataclass
class Check:
    name: str
    status: str  # pass | fail | warn
    detail: str
    observed: dict[str, Any] = field(default_factory=dict)


@dataclass
class ValidationReport:
    checks: list[Check]
    rules: dict[str, int]

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [asdict(c) for c in self.checks], "rules": self.rules}


# ------------------------------------------------------------------------------------ cost-report


@dataclass
class LakeUsage:
    """What a target measures about its own lake, for cost-report: sizes, the age of the data, the runs."""

    lake: str
    target: str
    zones: dict[str, dict[str, int]]  # zone -> {"files", "bytes"}
    day_partitions: dict[str, dict[str, tuple[int, int]]]  # zone -> ISO day -> (bytes, files) of sales partitions
    runs: list[RunSummary]  # completed runs that read raw bytes, oldest first
    sales_fact_bytes: int = 0
