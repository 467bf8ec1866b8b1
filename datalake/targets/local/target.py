"""The local target: folders for buckets, a JSON catalog, DuckDB for the engines and the warehouse."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datalake import __version__, model
from datalake.domain.table_care import EraseResult, MaintainOptions, MaintainResult
from datalake.errors import LakeNotFoundError, UsageError
from datalake.layout import MARKER, ZONES, LakeLayout, require_lake
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.base import Capabilities, Confirm, DeployOptions, QueryEngine, Target, confirm_always
from datalake.targets.local.engines import LOCAL_ENGINES, open_local_engine


class LocalTarget(Target):
    name = "local"
    capabilities = Capabilities(
        query_engines=LOCAL_ENGINES,
        etl_engines=("duckdb", "spark"),
        default_query_engine="lake",
        default_etl_engine="duckdb",
        archive=True,
        validate=True,
        ingest=True,
        run_job=True,
        lake_lock=True,
        history=True,
        time_travel=True,
        maintain=True,
        erase=True,
    )

    @property
    def layout(self) -> LakeLayout:
        return LakeLayout(self.settings.lake)

    def deploy(self, options: DeployOptions | None = None, progress: Progress = NULL_PROGRESS) -> dict[str, Any]:
        layout = self.layout
        if layout.root.exists() and not layout.root.is_dir():
            raise UsageError(f"--lake {layout.root} exists and is not a folder", hint="choose another --lake path")
        if layout.root.is_dir() and any(not _is_draft(p) for p in layout.root.iterdir()) and not layout.exists():
            raise UsageError(
                f"{layout.root} is not empty and is not a datalake lake",
                hint="choose an empty or new folder with --lake",
            )
        created = _claim(layout)
        for folder in layout.all_dirs():
            folder.mkdir(parents=True, exist_ok=True)
        from datalake.targets.local.catalog import Catalog
        from datalake.targets.local.crawler import PROCESSED_DATABASE, RAW_DATABASE

        catalog = Catalog(layout.catalog_dir)
        catalog.create_database(RAW_DATABASE)
        catalog.create_database(PROCESSED_DATABASE)
        from datalake.targets.local import warehouse

        warehouse.create(layout)
        from datalake.targets.local import iceberg

        iceberg.ensure_tables(layout)
        return {
            "created": created,
            "target": self.name,
            "lake_root": str(layout.root),
            **{f"{zone}_zone": str(layout.zone(zone)) for zone in ZONES},
            "catalog": str(layout.catalog_dir),
            "catalog_databases": catalog.databases(),
            "warehouse_database": str(warehouse.pointer_file(layout)),
            "iceberg_catalog": iceberg.catalog_info(layout),
            "query_engines": list(self.capabilities.query_engines),
        }

    def seed(self, opts: model.SeedOptions, progress: Progress = NULL_PROGRESS) -> model.SeedResult:
        from datalake.domain.seed import seed
        from datalake.targets.local.lock import lake_lock

        require_lake(self.layout)
        with lake_lock(self.layout, self.lock_wait, purpose="seed"):  # run-etl must never take a half-written file
            return seed(self.layout, opts, progress)

    def run_etl(self, opts: model.EtlOptions, progress: Progress = NULL_PROGRESS) -> model.RunSummary:
        from datalake.targets.local.etl.run import run_etl

        return run_etl(self.layout, opts, progress)

    def query_engine(self, name: str | None = None) -> QueryEngine:
        require_lake(self.layout)
        return open_local_engine(self.layout, name or self.capabilities.default_query_engine)

    def status(self) -> model.LakeStatus:
        from datalake.targets.local.status import status

        return status(self.layout)

    def validate(self, freshness_days: int | None = None) -> model.ValidationReport:
        from datalake.targets.local.validate import validate

        return validate(self.layout, freshness_days)

    def time_travel(self, as_of: str, name: str | None = None) -> QueryEngine:
        require_lake(self.layout)
        return open_local_engine(self.layout, name or self.capabilities.default_query_engine, as_of)

    def history(self, table: str) -> model.TableHistory:
        from datalake.targets.local.iceberg import history

        require_lake(self.layout)
        return history(self.layout, table)

    def maintain(self, opts: MaintainOptions, progress: Progress = NULL_PROGRESS) -> MaintainResult:
        from datalake.targets.local.maintain import maintain

        return maintain(self.layout, replace(opts, wait=self.lock_wait), progress)

    def erase(self, where: str, dry_run: bool = True, yes: bool = False) -> EraseResult:
        from datalake.targets.local.erase import plan
        from datalake.targets.local.erase_remove import erase

        if dry_run:
            return plan(self.layout, where, yes)
        return erase(self.layout, where, yes, wait=self.lock_wait)

    def archive(self, older_than_days: int, dry_run: bool = False) -> model.ArchiveResult:
        from datalake.targets.local.archive import archive

        return archive(self.layout, older_than_days, dry_run, wait=self.lock_wait)

    def services(self) -> dict[str, str]:
        return {
            "raw": "raw/ folder (JSON + CSV)",
            "processed": "processed/ folder (Parquet)",
            "archive": "archive/ folder",
            "quarantine": "quarantine/ folder",
            "catalog": "JSON catalog (local crawler)",
            "etl": "DuckDB · local Spark",
            "warehouse": "DuckDB files (one generation of segments)",
            "query": "DuckDB over Parquet",
            "provisioning": "datalake deploy (folders)",
        }

    def run_summaries(self) -> list[model.RunSummary]:
        from datalake.targets.local.usage import run_summaries

        return run_summaries(self.layout)

    def measured_usage(self) -> model.LakeUsage:
        from datalake.targets.local.usage import measure

        return measure(self.layout)

    def ingest(self, opts: model.IngestOptions, progress: Progress = NULL_PROGRESS) -> model.IngestResult:
        from datalake.targets.local.ingest.run import ingest

        return ingest(self.layout, opts, progress)

    def run_job(self, name: str, progress: Progress = NULL_PROGRESS) -> model.JobResult:
        from datalake.targets.local.jobs import run_job

        return run_job(self.layout, name, progress, wait=self.lock_wait)

    def destroy(
        self, confirm: Confirm = confirm_always, progress: Progress = NULL_PROGRESS, var_file: Path | None = None
    ) -> dict[str, Any]:
        layout = self.layout
        if not layout.exists():
            raise LakeNotFoundError(f"no lake at {layout.root}", hint="nothing to destroy; check --lake")
        from datalake.fsutil import tree_stats

        files, size = tree_stats(layout.root)
        if not confirm(f"Delete the lake at {layout.root} ({files:,} data files) and everything in it?"):
            return {"destroyed": None, "files": 0, "bytes": 0}
        from datalake.targets.local.lock import lake_lock

        with lake_lock(layout, self.lock_wait, purpose="destroy"):  # never under a writer's feet
            shutil.rmtree(layout.root)
        return {"destroyed": str(layout.root), "files": files, "bytes": size}


def _claim(layout: LakeLayout) -> bool:
    """Mark the folder as a lake before anything else is written in it; whether this call made the mark.

    The marker comes first, and appears whole (a link of a finished file, which fails if one exists), so
    a folder any deploy has started writing in is always recognisably a lake: deploys racing on a new
    folder all succeed, instead of the later ones taking the first one's folders for a stranger's files.
    A deploy that died half-way leaves a marked lake, which the next deploy (idempotent) completes.
    """
    layout.root.mkdir(parents=True, exist_ok=True)
    if layout.exists():
        return False
    draft = layout.root / f"{MARKER}.{os.getpid()}{DRAFT_SUFFIX}"
    draft.write_text(json.dumps({"version": __version__, "created": datetime.now(UTC).isoformat(timespec="seconds")}))
    try:
        os.link(draft, layout.marker)
        return True
    except FileExistsError:
        return False
    finally:
        draft.unlink(missing_ok=True)


DRAFT_SUFFIX = ".claim"


def _is_draft(path: Path) -> bool:
    """A racing deploy's marker being written (see `_claim`): not a stranger's file."""
    return path.name.startswith(MARKER + ".") and path.name.endswith(DRAFT_SUFFIX)
