from __future__ import annotations

from datalake.layout import LakeLayout
from datalake.targets.local.catalog import Catalog


def test_catalog_describes_raw_and_processed(shared_processed_lake: LakeLayout) -> None:
    catalog = Catalog(shared_processed_lake.catalog_dir)
    assert catalog.databases() == ["processed", "raw"]
    raw = catalog.get("raw", "sales")
    assert raw is not None
    assert raw.classification == "csv+json"
    assert [k.name for k in raw.partition_keys] == ["year", "month", "day"]
    assert len(raw.partitions) == 60  # one per seeded day
    types = raw.column_types()
    assert types["sale_id"] == "bigint" and types["unit_price"] == "double" and types["store_id"] == "bigint"
    assert types["sale_timestamp"] == "timestamp"
    fact = catalog.get("processed", "sales_fact")
    assert fact is not None and fact.classification == "parquet"
    assert [k.name for k in fact.partition_keys] == ["year", "month"]
    assert fact.parameters["recordCount"] > 19_000
    assert fact.column_types()["total_amount"] == "decimal(12,2)"
    assert {t.name for t in catalog.tables("processed")} >= {"customers", "products", "stores", "sales_quarantine"}
