"""run-job customer_aggregates on local Spark: same answer as DuckDB running the same SQL, and cataloged."""

from __future__ import annotations

from typing import Any

import pyarrow.parquet as pq
import pytest

from datalake.domain import aggregates
from datalake.layout import LakeLayout
from datalake.targets.local.catalog import Catalog
from datalake.targets.local.jobs import run_job
from tests.conftest import make_target

pytestmark = pytest.mark.slow


def test_customer_aggregates_match_duckdb(processed_lake: LakeLayout, spark: Any) -> None:
    result = run_job(processed_lake, "customer_aggregates")
    assert result.tables[0]["table"] == "processed.customer_aggregates"

    files = sorted((processed_lake.root / aggregates.LOCATION).glob("*.parquet"))
    assert len(files) == 1
    spark_rows = [tuple(r.values()) for r in pq.read_table(files[0]).to_pylist()]

    # The same Athena SQL, translated to DuckDB by the lake engine, on the same Parquet.
    with make_target(processed_lake.root).query_engine("lake") as engine:
        duck = engine.execute(aggregates.CUSTOMER_AGGREGATES_SQL)
    assert duck.columns == [c.name for c in aggregates.COLUMNS]
    assert spark_rows == duck.rows
    assert len(spark_rows) > 500
    assert {r[-1] for r in spark_rows} >= {"Champions", "Hibernating"}

    table = Catalog(processed_lake.catalog_dir).get("processed", "customer_aggregates")
    assert table is not None
    assert table.parameters["recordCount"] == len(spark_rows)
    assert [c.name for c in table.columns] == pq.read_schema(files[0]).names

    again = run_job(processed_lake, "customer_aggregates")  # replaces, never appends
    assert again.tables[0]["rows"] == len(spark_rows)
