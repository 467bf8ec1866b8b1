"""What the same `datalake maintain` would cost and save on AWS, from the shipped price table.

A full scan of a table opens every data file of its current snapshot; Athena (Trino) reads a Parquet file
with at least two ranged GETs (its footer, then its column chunks), so fewer files mean fewer GET requests
on every scan. Compaction on AWS (Athena `OPTIMIZE ... REWRITE DATA USING BIN_PACK`) is billed as a query
over the bytes it rewrites, plus the GETs and PUTs of the files; orphan removal lists the table's objects
(LIST is billed at the PUT rate, DELETE is free) and frees their storage.
"""

from __future__ import annotations

from typing import Any

from datalake.domain.table_care import MaintainResult
from datalake.measure.cost.pricing import PriceTable

GETS_PER_FILE = 2  # footer + column chunks: the fewest ranged GETs a Parquet reader makes per file
GB = 1024**3
LIST_PAGE = 1000  # objects per S3 ListObjectsV2 response


def maintenance_cost(result: MaintainResult, prices: PriceTable) -> dict[str, Any]:
    """Per table and in all: GET requests per full scan before and after, and the dollars both ways."""
    get = prices.s3_get_per_1000() / 1000
    put = prices.s3_put_per_1000() / 1000
    storage = prices.s3_storage_gb_month()
    rows: list[dict[str, Any]] = []
    for t in result.tables:
        gets_before, gets_after = t.files_before * GETS_PER_FILE, t.files_after * GETS_PER_FILE
        run = (
            (prices.athena_query_cost(t.bytes_rewritten) if t.files_rewritten else 0.0)
            + t.files_rewritten * GETS_PER_FILE * get
            + t.files_written * put
            + -(-t.disk_files_before // LIST_PAGE) * put
        )
        rows.append(
            {
                "table": t.table,
                "gets_per_full_scan_before": gets_before,
                "gets_per_full_scan_after": gets_after,
                "saved_per_1000_full_scans_usd": (gets_before - gets_after) * get * 1000,
                "storage_freed_bytes": max(0, t.disk_bytes_before - t.disk_bytes_after),
                "storage_saved_per_month_usd": max(0, t.disk_bytes_before - t.disk_bytes_after) / GB * storage,
                "maintenance_cost_usd": run,
            }
        )
    total = {
        key: sum(r[key] for r in rows)
        for key in (
            "gets_per_full_scan_before",
            "gets_per_full_scan_after",
            "saved_per_1000_full_scans_usd",
            "storage_freed_bytes",
            "storage_saved_per_month_usd",
            "maintenance_cost_usd",
        )
    }
    return {
        "region": prices.region,
        "prices_date": prices.date,
        "gets_per_file": GETS_PER_FILE,
        "s3_get_per_1000_usd": prices.s3_get_per_1000(),
        "s3_put_per_1000_usd": prices.s3_put_per_1000(),
        "athena_per_tb_usd": prices.athena_per_tb,
        "tables": rows,
        "total": total,
    }
