"""The aws target's Iceberg commits against moto's server (in a thread, plain HTTP): pyiceberg's Glue
catalog and pyarrow's S3 reach it, which in-process moto does not allow. What a run's commit does to
the tables, how it repeats, and how a commit stopped between tables is finished by the next."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from datalake.config import Settings
from datalake.domain import iceberg_tables as tables
from datalake.errors import DatalakeError
from datalake.targets.aws import iceberg
from datalake.targets.aws.lake import AwsLake
from tests.aws_helpers import FAKE_CREDENTIALS, REGION, lake_outputs

pytestmark = pytest.mark.aws


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    served = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    served.start()
    host, port = served.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        served.stop()


@pytest.fixture
def lake(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsLake]:
    """A lake whose processed bucket and Glue database exist on the server, with its five tables."""
    import urllib.request

    import boto3

    def reset() -> None:  # moto's state is the process's: start from none, leave none
        urllib.request.urlopen(urllib.request.Request(f"{server}/moto-api/reset", method="POST"), timeout=10)

    reset()
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server)
    outputs = lake_outputs()
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=outputs["processed_bucket"])
    boto3.client("glue", region_name=REGION).create_database(DatabaseInput={"Name": outputs["glue_database"]})
    made = AwsLake(Settings(lake=tmp_path, target="aws"), outputs)
    assert iceberg.ensure_tables(made) == dict.fromkeys(tables.table_defs(), "created")
    try:
        yield made
    finally:
        reset()


def _put_parquet(lake: AwsLake, key: str, columns: tuple[Any, ...], rows: int, first_id: int = 1) -> tuple[str, int]:
    """A Parquet file of `rows` rows (ids from first_id) with the columns minus the partition ones, in S3."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = tables.iceberg_schema(columns).as_arrow()
    fields = [f for f in arrow if f.name not in ("year", "month")]
    key_column = fields[0].name
    data = pa.table(
        {
            f.name: pa.array(range(first_id, first_id + rows)) if f.name == key_column else pa.nulls(rows, f.type)
            for f in fields
        },
        schema=pa.schema(fields),
    )
    sink = io.BytesIO()
    pq.write_table(data, sink)
    body = sink.getvalue()
    bucket = lake.require("processed_bucket")
    lake.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}", len(body)


def _run(lake: AwsLake, run_id: str, month: int, first_id: int, finished: str) -> dict[str, Any]:
    """A run record as the job writes it: counts and the files it wrote per table."""
    from datalake.domain.schema import DIMENSIONS, QUARANTINE_COLUMNS, SALES_FACT_COLUMNS

    fact = _put_parquet(
        lake, f"sales_fact/year=2026/month={month}/part-{run_id}.parquet", SALES_FACT_COLUMNS, 10, first_id
    )
    bad = _put_parquet(lake, f"quarantine/sales/run_id={run_id}/part-0.parquet", QUARANTINE_COLUMNS, 2)
    customers = _put_parquet(
        lake, f"customers/_iceberg_data/run_id={run_id}/part-0.parquet", DIMENSIONS["customers"], 3
    )
    return {
        "rows_in": 12,
        "rows_processed": 10,
        "rows_quarantined": 2,
        "finished": finished,
        "outputs": {"sales_fact": dict([fact]), "sales_quarantine": dict([bad]), "customers": dict([customers])},
    }


def _runs(lake: AwsLake, name: str) -> list[str | None]:
    return [s.run_id for s in iceberg.history(lake, name).snapshots]


def test_deploy_twice_leaves_the_tables_as_they_are(lake: AwsLake) -> None:
    assert iceberg.ensure_tables(lake) == dict.fromkeys(tables.table_defs(), "exists")
    glue = lake.client("glue").get_table(DatabaseName="dl_test", Name="sales_fact")["Table"]
    assert glue["Parameters"]["table_type"].upper() == "ICEBERG"
    assert glue["Parameters"]["metadata_location"].startswith("s3://dl-test-processed/sales_fact/_iceberg/")


def test_recorded_runs_commit_in_order_once_each_and_read_back_with_their_partitions(lake: AwsLake) -> None:
    bookmark = {
        "runs": {
            "r2": _run(lake, "r2", 7, 101, "2026-07-02T00:00:00+00:00"),
            "r1": _run(lake, "r1", 6, 1, "2026-07-01T00:00:00+00:00"),
        }
    }
    committed = iceberg.commit_runs(lake, bookmark)
    assert committed == {run: ["sales_fact", "sales_quarantine", "customers"] for run in ("r1", "r2")}
    assert _runs(lake, "sales_fact") == ["r1", "r2"]
    first = iceberg.history(lake, "sales_fact").snapshots[0]
    assert (first.rows_in, first.rows_processed, first.rows_quarantined, first.added_rows) == (12, 10, 2, 10)
    facts = iceberg.load_table(lake, "sales_fact").scan().to_arrow()
    assert facts.num_rows == 20
    assert sorted(set(zip(facts["year"].to_pylist(), facts["month"].to_pylist(), strict=True))) == [
        (2026, 6),
        (2026, 7),
    ]
    # a dimension holds the newest run's version only; the older one stays readable in its snapshot
    current = iceberg.current_files(lake, ["customers"])["customers"]
    assert [key for key, _ in current] == ["customers/_iceberg_data/run_id=r2/part-0.parquet"]
    assert [s.removed_files for s in iceberg.history(lake, "customers").snapshots] == [0, 1]
    # committing again adds nothing
    assert iceberg.commit_runs(lake, bookmark) == {}
    assert _runs(lake, "sales_fact") == ["r1", "r2"]
    stats = {t["table"]: t for t in iceberg.table_stats(lake)}
    assert (stats["sales_fact"]["rows"], stats["sales_fact"]["files"], stats["sales_fact"]["run_id"]) == (20, 2, "r2")
    assert stats["products"]["current_snapshot"] is None and stats["products"]["rows"] == 0


def test_a_commit_stopped_after_sales_fact_is_finished_by_the_next(lake: AwsLake) -> None:
    record = _run(lake, "r1", 6, 1, "2026-07-01T00:00:00+00:00")
    only_facts = {**record, "outputs": {"sales_fact": record["outputs"]["sales_fact"]}}
    assert iceberg.commit_runs(lake, {"runs": {"r1": only_facts}}) == {"r1": ["sales_fact"]}
    assert iceberg.commit_runs(lake, {"runs": {"r1": record}}) == {"r1": ["sales_quarantine", "customers"]}
    assert [_runs(lake, name) for name in ("sales_fact", "sales_quarantine", "customers")] == [["r1"]] * 3


def test_a_file_recorded_outside_its_table_is_one_clear_error(lake: AwsLake) -> None:
    record = _run(lake, "r1", 6, 1, "2026-07-01T00:00:00+00:00")
    record["outputs"]["sales_fact"] = {"s3://dl-test-processed/elsewhere/part-0.parquet": 10}
    with pytest.raises(DatalakeError, match="it lies outside the table"):
        iceberg.commit_runs(lake, {"runs": {"r1": record}})
    assert _runs(lake, "sales_fact") == []
