"""What a local lake holds, for cost-report: zone sizes, the day partitions' ages, the completed runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from datalake.fsutil import tree_stats
from datalake.layout import LakeLayout
from datalake.model import LakeUsage, RunSummary
from datalake.targets.local.etl.run import journals, require_lake, zone_stats


def run_summaries(layout: LakeLayout) -> list[RunSummary]:
    """The summaries of the completed runs, oldest first (runs that found nothing to do included)."""
    return [RunSummary.from_dict(j["summary"]) for j in journals(layout) if isinstance(j.get("summary"), dict)]


def day_partitions(zone_root: Path) -> dict[str, tuple[int, int]]:
    """ISO day -> (bytes, files) of the `year=/month=/day=` partitions under a zone's table."""
    out: dict[str, tuple[int, int]] = {}
    for day_dir in zone_root.rglob("day=*"):
        if not day_dir.is_dir():
            continue
        parts = dict(p.split("=", 1) for p in day_dir.parts if "=" in p)
        try:
            day = date(int(parts["year"]), int(parts["month"]), int(parts["day"])).isoformat()
        except (KeyError, ValueError):
            continue
        files = [f for f in day_dir.iterdir() if f.is_file() and not f.name.startswith((".", "_"))]
        size, count = out.get(day, (0, 0))
        out[day] = (size + sum(f.stat().st_size for f in files), count + len(files))
    return out


def measure(layout: LakeLayout) -> LakeUsage:
    """The local lake's usage: zones, the raw and archive day partitions, runs that read raw bytes."""
    require_lake(layout)
    return LakeUsage(
        lake=str(layout.root),
        target="local",
        zones=zone_stats(layout),
        day_partitions={z: day_partitions(layout.zone(z) / "sales") for z in ("raw", "archive")},
        runs=[r for r in run_summaries(layout) if r.bytes_in],
        sales_fact_bytes=_sales_fact_bytes(layout),
    )


def _sales_fact_bytes(layout: LakeLayout) -> int:
    """What a full scan of sales_fact reads: its current snapshot's data files (Iceberg's own total), not the folder,
    which also holds the table's metadata and files no live snapshot names."""
    from datalake.targets.local import iceberg

    stats = iceberg.table_stats(layout).get(iceberg.FACT)
    return stats["bytes"] if stats is not None else tree_stats(layout.processed / "sales_fact")[1]
