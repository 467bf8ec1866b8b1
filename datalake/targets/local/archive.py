"""Move raw partitions past a retention window to the archive zone (what S3 lifecycle does by age).

Only partitions whose files were all consumed by the ETL move, so nothing unprocessed is hidden;
the crawler keeps archived partitions in the raw table, and the raw engine reads both zones.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from datalake.errors import UsageError
from datalake.layout import LakeLayout
from datalake.model import ArchiveResult
from datalake.targets.local.bookmark import Bookmark
from datalake.targets.local.catalog import Catalog
from datalake.targets.local.crawler import crawl, list_data_files
from datalake.targets.local.etl.run import JOB_NAME, require_lake
from datalake.targets.local.lock import lake_lock


def archive(
    layout: LakeLayout, older_than_days: int, dry_run: bool = False, today: date | None = None, wait: float = 0.0
) -> ArchiveResult:
    if older_than_days < 0:
        raise UsageError(f"--older-than must be zero or more days, got {older_than_days}")
    require_lake(layout)
    cutoff = (today or datetime.now(UTC).date()) - timedelta(days=older_than_days)
    moved_files = moved_bytes = 0
    partitions: list[str] = []
    skipped: list[str] = []
    with lake_lock(layout, wait, purpose="archive"):
        bookmark = Bookmark.load(layout, JOB_NAME)
        by_partition: dict[str, list[Any]] = {}
        for f in list_data_files(layout.raw, "raw", "sales"):
            by_partition.setdefault(str(f.path.parent), []).append(f)
        for folder, files in sorted(by_partition.items()):
            values = dict(files[0].partition)
            try:
                day = date(int(values["year"]), int(values["month"]), int(values["day"]))
            except (KeyError, ValueError):
                continue
            if day >= cutoff:
                continue
            rel = os.path.relpath(folder, layout.raw)
            if bookmark.pending(files):
                skipped.append(rel)
                continue
            partitions.append(rel)
            if dry_run:
                moved_files += len(files)
                moved_bytes += sum(f.size for f in files)
                continue
            for f in files:
                dst = layout.archive / f.relative
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(f.path, dst)
                moved_files += 1
                moved_bytes += f.size
            _remove_empty_parents(Path(folder), stop=layout.raw / "sales")
        if partitions and not dry_run:
            crawl(layout, Catalog(layout.catalog_dir))
    return ArchiveResult(str(cutoff), dry_run, len(partitions), moved_files, moved_bytes, skipped)


def _remove_empty_parents(folder: Path, stop: Path) -> None:
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
