"""What is in the lake: zones, catalog tables, warehouse tables, the last runs."""

from __future__ import annotations

from datalake.layout import LakeLayout
from datalake.model import LakeStatus
from datalake.targets.local import warehouse
from datalake.targets.local.bookmark import Bookmark
from datalake.targets.local.catalog import Catalog
from datalake.targets.local.crawler import list_data_files
from datalake.targets.local.etl.run import JOB_NAME, journals, require_lake, zone_stats


def status(layout: LakeLayout, last_runs: int = 5) -> LakeStatus:
    require_lake(layout)
    from datalake.targets.local import iceberg

    catalog = Catalog(layout.catalog_dir)
    iceberg_stats = iceberg.table_stats(layout)
    tables = [
        {
            "database": t.database,
            "table": t.name,
            "format": t.classification,
            "rows": t.parameters.get("recordCount"),
            "partitions": len(t.partitions),
            "partition_keys": [k.name for k in t.partition_keys],
            "files": t.files,
            "bytes": t.bytes,
            "location": t.location,
            "updated": t.updated,
        }
        for db in catalog.databases()
        for t in catalog.tables(db)
    ]
    for record in tables:  # run-etl's tables as their Iceberg snapshot states them, not as the folders hold them
        name = _iceberg_name(record)
        stats = iceberg_stats.get(name) if name else None
        if stats is not None:
            record.update(format="iceberg", rows=stats["rows"], files=stats["files"], bytes=stats["bytes"])
            record.update(snapshots=stats["snapshots"], snapshot_id=stats["snapshot_id"], updated=stats["committed_at"])
    runs = []
    for j in journals(layout)[-last_runs:]:
        s = j.get("summary", {})
        runs.append(
            {
                "run_id": j["run_id"],
                "status": j["status"],
                "engine": j.get("engine"),
                "started": j.get("started"),
                "files": len(j.get("files", [])),
                "rows_in": s.get("rows_in"),
                "rows_processed": s.get("rows_processed"),
                "rows_quarantined": s.get("rows_quarantined"),
                "seconds": s.get("seconds"),
            }
        )
    pending = Bookmark.load(layout, JOB_NAME).pending(list_data_files(layout.raw, "raw", "sales"))
    return LakeStatus(
        target="local",
        lake=str(layout.root),
        zones=zone_stats(layout),
        tables=tables,
        warehouse=warehouse.table_counts(layout),
        runs=runs,
        pending_raw_files=len(pending),
    )


def _iceberg_name(record: dict[str, object]) -> str | None:
    """The Iceberg table a processed-zone catalog record describes, if any (the catalog uses the same names)."""
    from datalake.targets.local.crawler import PROCESSED_DATABASE
    from datalake.targets.local.iceberg import table_defs

    name = str(record["table"])
    return name if record["database"] == PROCESSED_DATABASE and name in table_defs() else None
