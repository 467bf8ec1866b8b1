"""What an ETL engine is given and must return, whichever engine runs the transform.

The orchestration (etl.py) decides which raw files to consume and where to stage outputs; an
engine (DuckDB here, Spark in jobs/) only turns those files into staged Parquet: the fact rows
partitioned by year/month, the quarantined rows with their reasons, and the dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from datalake.progress import Progress


@dataclass(frozen=True)
class TransformJob:
    run_id: str
    run_ts: str  # ISO timestamp: processing_timestamp of every row, and "today" for the future-date rule
    json_files: list[Path]
    csv_files: list[Path]
    dimension_files: dict[str, list[Path]]
    zone_roots: list[Path]  # stripped from file names to make zone-independent source_file values
    existing_facts: list[Path]  # published fact files, for duplicates across runs
    staging: Path  # write processed/... and quarantine/... below this folder
    scratch: Path  # spill space

    @property
    def run_date(self) -> str:
        return self.run_ts[:10]


@dataclass
class TransformOutput:
    rows_in: int = 0
    rows_processed: int = 0
    rows_quarantined: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    bad_files: dict[str, dict[str, int]] = field(default_factory=dict)  # file -> {problem: count}
    dimension_rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class TransformEngine(Protocol):
    name: str

    def run(self, job: TransformJob, progress: Progress) -> TransformOutput: ...
