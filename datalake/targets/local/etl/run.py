"""run-etl: crawl -> transform -> publish -> load the warehouse -> bookmark, crash-safe and idempotent.

A run stages every output under _state/staging/<run_id>/ first. Its journal (_state/runs/<run_id>.json)
moves through staging -> committing -> published -> loaded. Writing "committing" (with the list of
staged files) is the commit point: after it the run is rolled forward (files renamed into place,
bookmark and catalog updated, warehouse loaded) by whichever process gets there next; before it
the staged files are simply dropped. Renames are atomic per file and publishing moves whole new
files into partitions, so a reader never sees half a file, and every step can be repeated after a
kill -9 without losing or duplicating a row.
"""

from __future__ import annotations

import secrets
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datalake.domain.schema import (
    DIMENSIONS,
    FACT_SORT_KEY,
    QUARANTINE_COLUMNS,
    SALES_FACT_COLUMNS,
    SALES_PARTITION_KEYS,
)
from datalake.errors import LakeNotFoundError
from datalake.fsutil import atomic_write_json, move_staged, read_json, staged_files, tree_stats
from datalake.layout import LakeLayout
from datalake.model import EtlOptions, RunSummary
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.local import warehouse
from datalake.targets.local.bookmark import Bookmark
from datalake.targets.local.catalog import Catalog, CatalogColumn, Partition, Table
from datalake.targets.local.crawler import PROCESSED_DATABASE, crawl, group_partitions, list_data_files
from datalake.targets.local.etl import create_engine
from datalake.targets.local.etl.engine import TransformJob
from datalake.targets.local.lock import lake_lock

JOB_NAME = "sales_etl"


def _journal_path(layout: LakeLayout, run_id: str) -> Path:
    return layout.runs / f"{run_id}.json"


def journals(layout: LakeLayout) -> list[dict[str, Any]]:
    """Every run's journal, oldest first."""
    if not layout.runs.is_dir():
        return []
    return [read_json(p) for p in sorted(layout.runs.glob("*.json"))]


def _write_journal(layout: LakeLayout, journal: dict[str, Any]) -> None:
    atomic_write_json(_journal_path(layout, journal["run_id"]), journal)


def _new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def _publish(layout: LakeLayout, journal: dict[str, Any]) -> None:
    """Roll a committed run forward: rename staged files into place, bookmark, catalog. Repeatable."""
    run_id = journal["run_id"]
    staging = layout.staging / run_id
    move_staged(staging, layout.root, journal["moves"])
    bookmark = Bookmark.load(layout, JOB_NAME)
    bookmark.record(journal["files"], run_id)
    bookmark.save(layout)
    register_processed(layout, Catalog(layout.catalog_dir))
    journal["status"] = "published"
    _write_journal(layout, journal)
    shutil.rmtree(staging, ignore_errors=True)


def _fact_files_of(layout: LakeLayout, journal: dict[str, Any]) -> list[Path]:
    return [layout.root / rel for rel in journal.get("moves", []) if rel.startswith("processed/sales_fact/")]


def _load_warehouse(layout: LakeLayout, journal: dict[str, Any]) -> int:
    presorted = journal.get("fact_sort") == list(FACT_SORT_KEY)
    rows = warehouse.load_run(layout, journal["run_id"], _fact_files_of(layout, journal), presorted)
    journal["status"] = "loaded"
    journal["warehouse_rows_loaded"] = rows
    _write_journal(layout, journal)
    return rows


def recover(layout: LakeLayout) -> list[str]:
    """Finish or roll back runs a crash interrupted, and reload a lost warehouse. Returns what was done."""
    done: list[str] = []
    loaded = warehouse.loaded_runs(layout)
    for journal in journals(layout):
        run_id, status = journal["run_id"], journal["status"]
        if status == "staging":
            shutil.rmtree(layout.staging / run_id, ignore_errors=True)
            journal["status"] = "abandoned"
            _write_journal(layout, journal)
            done.append(f"{run_id}: rolled back (interrupted before commit)")
        elif status == "committing":
            _publish(layout, journal)
            _load_warehouse(layout, journal)
            done.append(f"{run_id}: published and loaded (interrupted after commit)")
        elif status == "published" or (status == "loaded" and run_id not in loaded):
            _load_warehouse(layout, journal)
            done.append(f"{run_id}: loaded into the warehouse")
    # leftovers of runs that never wrote a journal
    if layout.staging.is_dir():
        known = {j["run_id"] for j in journals(layout)}
        for leftover in layout.staging.iterdir():
            if leftover.name not in known or read_json(_journal_path(layout, leftover.name), {}).get("status") in (
                "abandoned",
                "loaded",
                "published",
            ):
                shutil.rmtree(leftover, ignore_errors=True)
    return done


def _parquet_rows(files: list[Path]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(f).num_rows for f in files)


def register_processed(layout: LakeLayout, catalog: Catalog) -> None:
    """Describe the processed zone in the catalog: sales_fact with its partitions, dimensions, quarantine."""
    catalog.create_database(PROCESSED_DATABASE)
    facts = list_data_files(layout.processed, "processed", "sales_fact")
    partitions = group_partitions(facts, layout.root)
    keys = set(SALES_PARTITION_KEYS)
    catalog.put(
        Table(
            database=PROCESSED_DATABASE,
            name="sales_fact",
            location="processed/sales_fact",
            classification="parquet",
            columns=[
                CatalogColumn(c.name, c.type.lower(), c.comment) for c in SALES_FACT_COLUMNS if c.name not in keys
            ],
            partition_keys=[CatalogColumn(k, "int") for k in SALES_PARTITION_KEYS],
            partitions=[partitions[k] for k in sorted(partitions)],
            parameters={"recordCount": _parquet_rows([f.path for f in facts]), "compression": "zstd"},
        )
    )
    for dim, columns in DIMENSIONS.items():
        path = layout.processed / dim / f"{dim}.parquet"
        if path.is_file():
            catalog.put(
                Table(
                    database=PROCESSED_DATABASE,
                    name=dim,
                    location=f"processed/{dim}",
                    classification="parquet",
                    columns=[CatalogColumn(c.name, c.type.lower(), c.comment) for c in columns],
                    parameters={"recordCount": _parquet_rows([path]), "files": 1, "bytes": path.stat().st_size},
                )
            )
    quarantined = list_data_files(layout.quarantine, "quarantine", "sales")
    catalog.put(
        Table(
            database=PROCESSED_DATABASE,
            name="sales_quarantine",
            location="quarantine/sales",
            classification="parquet",
            columns=[
                CatalogColumn(c.name, c.type.lower(), c.comment) for c in QUARANTINE_COLUMNS if c.name != "run_id"
            ],
            partition_keys=[CatalogColumn("run_id", "string")],
            partitions=[
                Partition(
                    [v for _, v in f.partition], str(f.path.parent.relative_to(layout.root)), 1, f.size, ["parquet"]
                )
                for f in quarantined
            ],
            parameters={"recordCount": _parquet_rows([f.path for f in quarantined])},
        )
    )


def require_lake(layout: LakeLayout) -> None:
    if not layout.exists():
        raise LakeNotFoundError(
            f"no lake at {layout.root}",
            hint="run `datalake deploy` first, or point --lake / DATALAKE_HOME at an existing lake",
        )


def run_etl(layout: LakeLayout, opts: EtlOptions | None = None, progress: Progress = NULL_PROGRESS) -> RunSummary:
    """Process every raw sales file not yet bookmarked; see the module docstring for the guarantees."""
    opts = opts or EtlOptions()
    require_lake(layout)
    engine = create_engine(opts.engine)
    began = time.perf_counter()
    now = opts.run_ts or datetime.now(UTC).replace(microsecond=0)
    summary = RunSummary(run_id=None, status="nothing_to_do", engine=engine.name, started=now.isoformat())
    with lake_lock(layout, opts.wait):
        summary.recovered = recover(layout)

        t = time.perf_counter()
        catalog = Catalog(layout.catalog_dir)
        with progress.task("Crawl raw zone into the catalog", total=1) as task:
            summary.crawl = crawl(layout, catalog).to_dict()
            task.advance()
        summary.stages["crawl"] = round(time.perf_counter() - t, 3)

        raw_files = list_data_files(layout.raw, "raw", "sales")
        pending = Bookmark.load(layout, JOB_NAME).pending(raw_files)
        if not pending:
            summary.seconds = round(time.perf_counter() - began, 3)
            return summary

        run_id = _new_run_id(now)
        summary.run_id, summary.status = run_id, "completed"
        summary.files_in = len(pending)
        summary.bytes_in = sum(f.size for f in pending)
        journal: dict[str, Any] = {
            "run_id": run_id,
            "job": JOB_NAME,
            "engine": engine.name,
            "status": "staging",
            "started": now.isoformat(),
            "files": [{"relative": f.relative, "size": f.size} for f in pending],
            # the row order the engines write fact files in: the warehouse appends them unsorted only
            # when the run that wrote them says so (lakes written before this key existed are sorted)
            "fact_sort": list(FACT_SORT_KEY),
        }
        _write_journal(layout, journal)

        empty = [f for f in pending if f.size == 0]
        readable = [f for f in pending if f.size > 0]
        staging = layout.staging / run_id
        job = TransformJob(
            run_id=run_id,
            run_ts=now.strftime("%Y-%m-%d %H:%M:%S"),
            json_files=[f.path for f in readable if f.format == "json"],
            csv_files=[f.path for f in readable if f.format == "csv"],
            dimension_files={dim: [f.path for f in list_data_files(layout.raw, "raw", dim)] for dim in DIMENSIONS},
            zone_roots=[layout.raw, layout.archive],
            existing_facts=[f.path for f in list_data_files(layout.processed, "processed", "sales_fact")],
            staging=staging,
            scratch=layout.scratch / run_id,
        )
        t = time.perf_counter()
        try:
            out = engine.run(job, progress)
        finally:
            shutil.rmtree(job.scratch, ignore_errors=True)
        summary.stages["transform"] = round(time.perf_counter() - t, 3)

        t = time.perf_counter()
        journal.update(status="committing", moves=staged_files(staging), transform=out.to_dict())
        _write_journal(layout, journal)  # the commit point
        with progress.task("Publish to processed and quarantine", total=1) as task:
            _publish(layout, journal)
            task.advance()
        summary.stages["publish"] = round(time.perf_counter() - t, 3)

        t = time.perf_counter()
        with progress.task("Load the warehouse", total=1) as task:
            summary.warehouse_rows_loaded = _load_warehouse(layout, journal)
            task.advance()
        summary.stages["warehouse"] = round(time.perf_counter() - t, 3)

        summary.rows_in = out.rows_in
        summary.rows_processed = out.rows_processed
        summary.rows_quarantined = out.rows_quarantined
        summary.by_reason = dict(sorted(out.by_reason.items()))
        bad = {file: dict(problems) for file, problems in out.bad_files.items()}
        for f in empty:
            bad.setdefault(f.relative, {})["empty_file"] = 0
        summary.bad_files = [{"file": k, "problems": v} for k, v in sorted(bad.items())]
        fact_files = _fact_files_of(layout, journal)
        summary.fact_files_written = len(fact_files)
        summary.bytes_out = sum(p.stat().st_size for p in fact_files)
        summary.seconds = round(time.perf_counter() - began, 3)
        journal["summary"] = summary.to_dict()
        _write_journal(layout, journal)
    return summary


def zone_stats(layout: LakeLayout) -> dict[str, dict[str, int]]:
    return {
        zone: dict(zip(("files", "bytes"), tree_stats(layout.zone(zone)), strict=True))
        for zone in ("raw", "processed", "archive", "quarantine")
    }
