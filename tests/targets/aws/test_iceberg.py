"""The aws target's Iceberg pieces that need no AWS: the catalog's printed properties, which recorded runs
commit in which order, and the Athena SQL of `query --as-of`. The tables themselves, created, committed,
read and time-travelled, are proven against moto's server in test_first_run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datalake.config import Settings
from datalake.errors import UsageError
from datalake.targets.aws import iceberg
from datalake.targets.aws.lake import AwsLake
from tests.aws_helpers import lake_outputs

KNOWN = ("sales_fact", "sales_quarantine", "customers", "products", "stores")


def _lake(tmp_path: Path) -> AwsLake:
    return AwsLake(Settings(lake=tmp_path, target="aws"), lake_outputs())


def test_catalog_properties_name_the_region_and_only_an_override_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    info = iceberg.catalog_info(_lake(tmp_path))
    assert info["name"] == "datalake" and info["namespace"] == "dl_test"
    assert info["properties"] == {
        "type": "glue",
        "glue.region": "us-east-1",
        "s3.region": "us-east-1",
        "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO",
    }
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://127.0.0.1:4566")
    props = iceberg.catalog_properties(_lake(tmp_path))
    assert props["glue.endpoint"] == props["s3.endpoint"] == "https://127.0.0.1:4566"


def test_table_locations_are_the_folders_the_job_writes(tmp_path: Path) -> None:
    from datalake.domain.iceberg_tables import table_defs

    lake = _lake(tmp_path)
    locations = {name: iceberg.table_location(lake, tdef) for name, tdef in table_defs().items()}
    assert locations["sales_fact"] == "s3://dl-test-processed/sales_fact"
    assert locations["sales_quarantine"] == "s3://dl-test-processed/quarantine/sales"  # --quarantine_path + sales
    assert locations["customers"] == "s3://dl-test-processed/customers"


def test_recorded_runs_commit_in_the_order_they_finished_and_older_records_are_left_alone() -> None:
    bookmark: dict[str, Any] = {
        "runs": {
            "20260702T000000": {"finished": "2026-07-02T00:00:05+00:00", "outputs": {}},
            "jr_abc": {"finished": "2026-07-01T00:00:05+00:00", "outputs": {}},  # the workflow's, earlier
            "20260630T000000": {"rows_in": 5},  # recorded by a job before it listed its outputs
        }
    }
    assert [run for run, _ in iceberg._recorded_runs(bookmark)] == ["jr_abc", "20260702T000000"]


def test_as_of_pins_every_lake_table_to_its_snapshot() -> None:
    sql = (
        "WITH recent AS (SELECT * FROM sales_fact WHERE year = 2026) "
        "SELECT c.segment, count(*) FROM recent r JOIN customers c ON r.customer_id = c.customer_id "
        "JOIN other_db.sales_fact x ON 1 = 1 JOIN customer_aggregates a ON 1 = 1 GROUP BY 1"
    )
    pinned = iceberg.pin_tables(sql, {"sales_fact": 11, "customers": 22}, None, KNOWN)
    assert "FROM sales_fact FOR VERSION AS OF 11 WHERE" in pinned
    assert "JOIN customers FOR VERSION AS OF 22 AS c" in pinned
    # the CTE, another database's table and a table that is not a lake table are read as they are
    assert "FROM recent AS r" in pinned and "JOIN other_db.sales_fact AS x" in pinned
    assert "JOIN customer_aggregates AS a" in pinned


def test_as_of_a_time_reads_sales_fact_at_that_time_and_the_rest_at_its_run() -> None:
    sql = "SELECT count(*) FROM sales_fact JOIN stores ON sales_fact.store_id = stores.store_id"
    pinned = iceberg.pin_tables(sql, {"sales_fact": 11, "stores": 33}, "2026-07-01 12:00:00.000 UTC", KNOWN)
    moment = "CAST('2026-07-01 12:00:00.000 UTC' AS TIMESTAMP(3) WITH TIME ZONE)"
    assert f"FROM sales_fact FOR TIMESTAMP AS OF {moment}" in pinned
    assert "JOIN stores FOR VERSION AS OF 33" in pinned


def test_as_of_a_table_with_no_snapshot_then_is_one_clear_error() -> None:
    with pytest.raises(UsageError, match="the table sales_quarantine had no snapshot yet then"):
        iceberg.pin_tables("SELECT * FROM sales_quarantine", {"sales_fact": 1}, None, KNOWN)


def test_as_of_on_another_engine_is_refused_in_one_line(tmp_path: Path) -> None:
    from datalake.targets.aws.engines import open_as_of_engine

    with pytest.raises(UsageError, match="--as-of needs --engine athena on aws, not 'redshift'"):
        open_as_of_engine(_lake(tmp_path), "redshift", "1")
