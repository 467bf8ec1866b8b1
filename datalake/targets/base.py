"""The target interface: every command goes through it, whatever runs underneath.

Core code never compares target names; it asks the target, or its `capabilities`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datalake.config import Settings
from datalake.domain.seed import SeedOptions, SeedResult
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.local.engines import QueryEngine
from datalake.targets.local.etl.run import EtlOptions, RunSummary
from datalake.targets.local.ingest.run import IngestOptions, IngestResult


@dataclass(frozen=True)
class Capabilities:
    """What a target can do, so callers ask instead of branching on its name."""

    query_engines: tuple[str, ...]
    etl_engines: tuple[str, ...]
    default_query_engine: str
    default_etl_engine: str
    archive: bool = True
    embedded: bool = True  # runs in this process, offline
    ingest: bool = False  # `datalake ingest`: bring your own files into the lake
    # engines that answer every benchmark query (they expose sales_fact and the dimensions); None: all
    benchmark_engines: tuple[str, ...] | None = None


# Shown what is about to happen (a plan summary, what will be deleted); returns whether to go ahead.
Confirm = Callable[[str], bool]


def _always(_: str) -> bool:
    return True


@dataclass(frozen=True)
class DeployOptions:
    plan_only: bool = False
    confirm: Confirm = _always
    var_file: Path | None = None  # Terraform tfvars for targets that provision infrastructure


class Target(ABC):
    name: str
    capabilities: Capabilities

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
    def status(self) -> dict[str, Any]: ...

    @abstractmethod
    def validate(self, freshness_days: int | None = None) -> dict[str, Any]: ...

    @abstractmethod
    def archive(self, older_than_days: int, dry_run: bool = False) -> dict[str, Any]: ...

    def ingest(self, opts: IngestOptions, progress: Progress = NULL_PROGRESS) -> IngestResult:
        """Bring the user's files into the lake as a table (targets with `capabilities.ingest`)."""
        from datalake.errors import DatalakeError

        raise DatalakeError(
            f"`datalake ingest` is not available on the {self.name} target in this version",
            hint="use the local target (the default) to ingest files",
        )

    @abstractmethod
    def destroy(
        self, confirm: Confirm = _always, progress: Progress = NULL_PROGRESS, var_file: Path | None = None
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

    def measured_usage(self) -> Any:
        """What cost-report prices (a datalake.measure.cost.report.MeasuredUsage): sizes, day partitions, runs, benchmark."""
        from datalake.errors import UsageError

        raise UsageError(f"cost-report cannot measure a lake on the {self.name} target yet", hint="use --target local")
