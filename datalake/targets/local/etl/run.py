"""run-etl: crawl -> transform -> publish -> load the warehouse -> bookmark, crash-safe and idempotent.

A run stages every output under _state/staging/<run_id>/ and moves its journal
(_state/runs/<run_id>.json) through the states of `datalake.targets.local.journal`. Its commit
point is its Iceberg snapshot of `sales_fact` (the first table it commits, carrying the run id):
a run killed before it is rolled back by the next run, one killed after it rolled forward (its
other tables, the bookmark, the catalog, the warehouse), so a kill -9 at any point neither loses
nor duplicates a row. What is run-etl's own: which raw files
a run takes (those the bookmark has not seen), the transform engine, and what publishing writes
besides the files (the bookmark and the catalog).
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
from datalake.fsutil import tree_stats
from datalake.layout import LakeLayout, require_lake
from datalake.model import EtlOptions, RunSummary
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.local import warehouse
from datalake.targets.local.bookmark import Bookmark
from datalake.targets.local.catalog import Catalog, CatalogColumn, Partition, Table, parquet_rows
from datalake.targets.local.crawler import PROCESSED_DATABASE, DataFile, crawl, group_partitions, list_data_files
from datalake.targets.local.etl import create_engine
from datalake.targets.local.etl.engine import TransformEngine, TransformJob, TransformOutput
from datalake.targets.local.journal import Journal
from datalake.targets.local.lock import lake_lock

JOB_NAME = "sales_etl"


def run_journal(layout: LakeLayout) -> Journal:
    """run-etl's journals (`_state/runs/<run_id>.json`) and staging folders (`_state/staging/<run_id>/`)."""
    return Journal(
        root=layout.root,
        runs=layout.runs,
        staging=layout.staging,
        key="run_id",
        publish=lambda journal: _bookkeep(layout, journal),
        load=lambda journal: _load_facts(layout, journal),
        loaded=lambda: warehouse.loaded_runs(layout),
        committed=lambda journal: _committed(layout, journal),
        unpublish=lambda journal: _unpublish(layout, journal),
    )


def _committed(layout: LakeLayout, journal: dict[str, Any]) -> bool:
    """A run is committed exactly when `sales_fact` has its snapshot: recovery asks the table, not the journal."""
    from datalake.targets.local import iceberg

    return iceberg.run_committed(layout, journal["run_id"])


def _unpublish(layout: LakeLayout, journal: dict[str, Any]) -> None:
    """Take back the files of a run that never committed: its facts and quarantine (named by the run) deleted,
    each dimension's published file put back to the version its table's current snapshot names. Repeatable."""
    from datalake.targets.local import iceberg

    for rel in journal.get("moves", []):
        path = layout.root / rel
        zone, table, *_ = rel.split("/")
        if zone == "processed" and table in DIMENSIONS and path.name == f"{table}.parquet":
            committed = iceberg.committed_file(layout, table)
            if committed is None:
                path.unlink(missing_ok=True)
            elif not (path.exists() and path.samefile(committed)):
                restored = path.with_name(f".{path.name}.restore")
                restored.unlink(missing_ok=True)
                os.link(committed, restored)
                os.replace(restored, path)
        else:
            path.unlink(missing_ok=True)


def journals(layout: LakeLayout) -> list[dict[str, Any]]:
    """Every run's journal, oldest first."""
    return run_journal(layout).records()


def _new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def _bookkeep(layout: LakeLayout, journal: dict[str, Any]) -> None:
    """What publishing a run writes once its files are in place: its Iceberg snapshots, the bookmark, the catalog."""
    commit_iceberg(layout, journal)
    bookmark = Bookmark.load(layout, JOB_NAME)
    bookmark.record(journal["files"], journal["run_id"])
    bookmark.save(layout)
    register_processed(layout, Catalog(layout.catalog_dir))


def run_files(layout: LakeLayout, journal: dict[str, Any]) -> dict[str, list[Path]]:
    """A run's published data files by Iceberg table: sales_fact, sales_quarantine and each dimension."""
    from datalake.targets.local.iceberg import FACT, QUARANTINE

    files: dict[str, list[Path]] = {}
    for rel in journal.get("moves", []):
        zone, table, *_ = rel.split("/")
        if not rel.endswith(".parquet"):
            continue
        if zone == "processed" and table == FACT:
            files.setdefault(FACT, []).append(layout.root / rel)
        elif zone == "quarantine" and table == "sales":
            files.setdefault(QUARANTINE, []).append(layout.root / rel)
        elif zone == "processed" and table in DIMENSIONS:
            files.setdefault(table, []).append(layout.root / rel)
    return files


def commit_iceberg(layout: LakeLayout, journal: dict[str, Any]) -> list[str]:
    """Commit a published run to the lake's Iceberg tables, one snapshot a table, repeatable (see `iceberg`).

    A lake that held runs before it had Iceberg tables has their files registered first, once.
    """
    from datalake.targets.local import iceberg

    files = run_files(layout, journal)
    ours = {p for paths in files.values() for p in paths}
    folders = {iceberg.FACT: ("processed", "sales_fact"), iceberg.QUARANTINE: ("quarantine", "sales")}

    def existing(table: str) -> list[Path]:
        zone, folder = folders[table]
        return [f.path for f in list_data_files(layout.zone(zone), zone, folder) if f.path not in ours]

    transform = journal.get("transform") or {}
    return iceberg.commit_run(layout, journal["run_id"], files, transform, existing)


# run_etl's publish and load steps, named at module level so a crash test can kill a run inside either
def _publish(layout: LakeLayout, journal: dict[str, Any]) -> None:
    """Roll a committed run forward: rename staged files into place, bookmark, catalog. Repeatable."""
    run_journal(layout).publish(journal)


def _fact_files_of(layout: LakeLayout, journal: dict[str, Any]) -> list[Path]:
    return [layout.root / rel for rel in journal.get("moves", []) if rel.startswith("processed/sales_fact/")]


def _load_facts(layout: LakeLayout, journal: dict[str, Any]) -> int:
    presorted = journal.get("fact_sort") == list(FACT_SORT_KEY)
    return warehouse.load_run(layout, journal["run_id"], _fact_files_of(layout, journal), presorted)


def _load_warehouse(layout: LakeLayout, journal: dict[str, Any]) -> int:
    """Load a published run's facts and the dimensions into the warehouse, once; journal it loaded."""
    return run_journal(layout).load(journal)


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
            parameters={"recordCount": parquet_rows([f.path for f in facts]), "compression": "zstd"},
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
                    parameters={"recordCount": parquet_rows([path]), "files": 1, "bytes": path.stat().st_size},
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
            parameters={"recordCount": parquet_rows([f.path for f in quarantined])},
        )
    )


def run_etl(layout: LakeLayout, opts: EtlOptions | None = None, progress: Progress = NULL_PROGRESS) -> RunSummary:
    """Process every raw sales file not yet bookmarked; see `journal` for the guarantees."""
    opts = opts or EtlOptions()
    require_lake(layout)
    engine = create_engine(opts.engine)
    began = time.perf_counter()
    now = opts.run_ts or datetime.now(UTC).replace(microsecond=0)
    summary = RunSummary(run_id=None, status="nothing_to_do", engine=engine.name, started=now.isoformat())
    with lake_lock(layout, opts.wait) as held:
        from datalake.targets.local import iceberg

        iceberg.ensure_tables(layout)  # and refuse a lake moved away from its tables, before writing anything
        runs = run_journal(layout)
        summary.recovered = [line for line in [held.took_over_line()] if line] + runs.recover()

        with _timed(summary, "crawl"), progress.task("Crawl raw zone into the catalog", total=1) as task:
            summary.crawl = crawl(layout, Catalog(layout.catalog_dir)).to_dict()
            task.advance()

        pending = Bookmark.load(layout, JOB_NAME).pending(list_data_files(layout.raw, "raw", "sales"))
        if not pending:
            summary.seconds = round(time.perf_counter() - began, 3)
            return summary

        run_id = _new_run_id(now)
        summary.run_id, summary.status = run_id, "completed"
        summary.files_in = len(pending)
        summary.bytes_in = sum(f.size for f in pending)
        journal = runs.begin(
            {
                "run_id": run_id,
                "job": JOB_NAME,
                "engine": engine.name,
                "started": now.isoformat(),
                "files": [{"relative": f.relative, "size": f.size} for f in pending],
                # the row order the engines write fact files in: the warehouse appends them unsorted only
                # when the run that wrote them says so (lakes written before this key existed are sorted)
                "fact_sort": list(FACT_SORT_KEY),
            }
        )
        with _timed(summary, "transform"):
            out = _transform(engine, _transform_job(layout, run_id, now, pending), progress)

        with _timed(summary, "publish"):
            runs.commit(journal, transform=out.to_dict())  # the files to publish, journaled
            with progress.task("Publish to processed and quarantine", total=1) as task:
                _publish(layout, journal)  # the commit point: its sales_fact snapshot
                task.advance()

        with _timed(summary, "warehouse"), progress.task("Load the warehouse", total=1) as task:
            summary.warehouse_rows_loaded = _load_warehouse(layout, journal)
            task.advance()

        _account(summary, out, pending, _fact_files_of(layout, journal))
        summary.seconds = round(time.perf_counter() - began, 3)
        journal["summary"] = summary.to_dict()
        runs.write(journal)
    return summary


@contextmanager
def _timed(summary: RunSummary, stage: str) -> Iterator[None]:
    """Record how long a stage of the run took, in seconds, in the summary's `stages`."""
    began = time.perf_counter()
    yield
    summary.stages[stage] = round(time.perf_counter() - began, 3)


def _transform_job(layout: LakeLayout, run_id: str, now: datetime, pending: list[DataFile]) -> TransformJob:
    """What the engine is asked to do: the pending files that have content, and where to stage its output.

    Empty files are left out (readers reject them); they are reported as bad files by `_account`.
    """
    readable = [f for f in pending if f.size > 0]
    return TransformJob(
        run_id=run_id,
        run_ts=now.strftime("%Y-%m-%d %H:%M:%S"),
        json_files=[f.path for f in readable if f.format == "json"],
        csv_files=[f.path for f in readable if f.format == "csv"],
        dimension_files={dim: [f.path for f in list_data_files(layout.raw, "raw", dim)] for dim in DIMENSIONS},
        zone_roots=[layout.raw, layout.archive],
        existing_facts=[f.path for f in list_data_files(layout.processed, "processed", "sales_fact")],
        staging=run_journal(layout).staging(run_id),
        scratch=layout.scratch / run_id,
    )


def _transform(engine: TransformEngine, job: TransformJob, progress: Progress) -> TransformOutput:
    """Run the engine; its scratch space goes whether it succeeds or not (the staging stays for recovery)."""
    try:
        return engine.run(job, progress)
    finally:
        shutil.rmtree(job.scratch, ignore_errors=True)


def _account(summary: RunSummary, out: TransformOutput, pending: list[DataFile], fact_files: list[Path]) -> None:
    """Fill the summary with the run's row accounting, its bad files and what it published."""
    summary.rows_in = out.rows_in
    summary.rows_processed = out.rows_processed
    summary.rows_quarantined = out.rows_quarantined
    summary.by_reason = dict(sorted(out.by_reason.items()))
    bad = {file: dict(problems) for file, problems in out.bad_files.items()}
    for f in pending:
        if f.size == 0:
            bad.setdefault(f.relative, {})["empty_file"] = 0
    summary.bad_files = [{"file": k, "problems": v} for k, v in sorted(bad.items())]
    summary.fact_files_written = len(fact_files)
    summary.bytes_out = sum(p.stat().st_size for p in fact_files)


def zone_stats(layout: LakeLayout) -> dict[str, dict[str, int]]:
    return {
        zone: dict(zip(("files", "bytes"), tree_stats(layout.zone(zone)), strict=True))
        for zone in ("raw", "processed", "archive", "quarantine")
    }
