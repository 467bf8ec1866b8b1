"""Measured usage of an AWS lake: Glue runs carry the DPU-seconds Glue bills, EMR steps count too.

S3 (the raw files, the bookmark) is moto; Glue's job runs and EMR's steps come from botocore's
Stubber, because moto's job runs always last 123 s on its own capacity and its steps never finish.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from datalake.config import Settings
from datalake.measure.cost.infra_shape import InfraShape
from datalake.measure.cost.pricing import load_prices
from datalake.measure.cost.report import CostOptions, MeasuredUsage, price_lake
from datalake.targets.aws import status as aws_status
from datalake.targets.aws.lake import AwsLake
from datalake.targets.aws.pipeline import BOOKMARK_KEY
from tests.aws_helpers import FAKE_CREDENTIALS, REGION, create_lake_resources, lake_outputs
from tests.targets.aws.test_target import fast_poller, stubbed

pytestmark = pytest.mark.aws

RAW_KEY = "sales/year=2026/month=06/day=01/sales-1.json"
RAW_BYTES = 10_000
START = datetime(2026, 6, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def moto_outputs(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The lake's buckets in moto, with one raw file that run R1 consumed (the bookmark says so)."""
    import boto3
    from moto import mock_aws

    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)

    with mock_aws():
        outputs = lake_outputs()
        create_lake_resources(boto3.session.Session(), outputs)
        s3 = boto3.client("s3", region_name=REGION)
        s3.put_object(Bucket=outputs["raw_bucket"], Key=RAW_KEY, Body=b"x" * RAW_BYTES)
        bookmark = {"job": "sales_etl", "files": {RAW_KEY: {"size": RAW_BYTES, "run_id": "R1"}}}
        s3.put_object(Bucket=outputs["scripts_bucket"], Key=BOOKMARK_KEY, Body=json.dumps(bookmark).encode())
        yield outputs


def _lake(outputs: dict[str, str], **clients: Any) -> AwsLake:
    return AwsLake(Settings(region=REGION), outputs, clients=dict(clients), poller=fast_poller())


def _glue_with_runs(outputs: dict[str, str], *runs: dict[str, Any]) -> Any:
    glue, stub = stubbed("glue")
    stub.add_response(
        "get_job_runs",
        {"JobRuns": list(runs)},
        {"JobName": outputs["glue_job_name"], "MaxResults": aws_status.RECENT_RUNS},
    )
    stub.activate()
    return glue


def _glue_run(**fields: Any) -> dict[str, Any]:
    return {
        "Id": "jr_1",
        "JobRunState": "SUCCEEDED",
        "StartedOn": START,
        "Arguments": {"--run_id": "R1"},
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "dpu_seconds"),
    [
        ({"ExecutionTime": 100, "WorkerType": "G.1X", "NumberOfWorkers": 2}, 200.0),
        ({"ExecutionTime": 100, "WorkerType": "G.2X", "NumberOfWorkers": 5}, 1000.0),
        ({"ExecutionTime": 100, "WorkerType": "G.025X", "NumberOfWorkers": 2}, 50.0),
        ({"ExecutionTime": 100, "MaxCapacity": 3.0}, 300.0),
        # Glue's own figure wins (auto-scaling ran fewer workers than configured)
        ({"ExecutionTime": 100, "WorkerType": "G.1X", "NumberOfWorkers": 10, "DPUSeconds": 420.0}, 420.0),
        ({"WorkerType": "G.1X", "NumberOfWorkers": 2}, None),
    ],
)
def test_run_dpu_seconds_follow_what_glue_bills(fields: dict[str, Any], dpu_seconds: float | None) -> None:
    assert aws_status.run_dpu_seconds(fields) == dpu_seconds


def test_a_two_worker_g1x_run_of_100s_is_priced_as_200_dpu_seconds(moto_outputs: dict[str, str]) -> None:
    run = _glue_run(ExecutionTime=100, WorkerType="G.1X", NumberOfWorkers=2, MaxCapacity=2.0)
    lake = _lake(moto_outputs, glue=_glue_with_runs(moto_outputs, run))

    usage = aws_status.measured_usage(lake)

    (measured,) = usage.runs
    assert (measured.run_id, measured.engine, measured.seconds) == ("R1", "glue", 100.0)
    assert measured.dpu_seconds == 200.0
    assert measured.bytes_in == RAW_BYTES
    report = price_lake(MeasuredUsage(**vars(usage)), InfraShape(), load_prices("us-east-1"), CostOptions(months=1))
    # the throughput Glue is priced on: bytes per DPU-second, over the 200 DPU-seconds the run was billed
    assert report.assumptions.etl_bytes_per_dpu_second == pytest.approx(RAW_BYTES / 200)


def _emr_with_steps(*steps: dict[str, Any]) -> Any:
    emr, stub = stubbed("emr")
    stub.add_response("list_steps", {"Steps": list(steps)}, {"ClusterId": "j-ABC", "StepStates": ["COMPLETED"]})
    stub.activate()
    return emr


def _step(step_id: str, run_id: str, seconds: float) -> dict[str, Any]:
    args = ["spark-submit", "--deploy-mode", "cluster", "s3://scripts/jobs/sales_etl.py", "--run_id", run_id]
    return {
        "Id": step_id,
        "Name": f"datalake sales_etl {run_id}",
        "Config": {"Jar": "command-runner.jar", "Args": args},
        "Status": {
            "State": "COMPLETED",
            "Timeline": {"StartDateTime": START, "EndDateTime": START + timedelta(seconds=seconds)},
        },
    }


def test_emr_steps_are_measured_runs_priced_on_the_cluster(moto_outputs: dict[str, str]) -> None:
    outputs = moto_outputs | {"emr_cluster_id": "j-ABC"}
    glue = _glue_with_runs(outputs)  # no Glue run: every run of this lake was an EMR step
    emr = _emr_with_steps(_step("s-1", "R1", 300), _step("s-2", "not-in-the-bookmark", 50))
    lake = _lake(outputs, glue=glue, emr=emr)

    usage = aws_status.measured_usage(lake)

    (measured,) = usage.runs
    assert (measured.run_id, measured.engine, measured.seconds, measured.dpu_seconds) == ("R1", "emr", 300.0, None)
    shape = InfraShape(emr_mode="cluster", emr_core_units=2, emr_task_units=1)
    report = price_lake(MeasuredUsage(**vars(usage)), shape, load_prices("us-east-1"), CostOptions(months=1))
    # 300 s on 3 workers; the EMR line divides by the workers again: the measured step hours come back
    assert report.assumptions.etl_bytes_per_dpu_second == pytest.approx(RAW_BYTES / 900)
    assert report.by_service["EMR"] > 0
    assert any("EMR steps" in note and "3 cluster workers" in note for note in report.notes)


def test_status_runs_carry_the_dpu_seconds(moto_outputs: dict[str, str]) -> None:
    run = _glue_run(ExecutionTime=100, WorkerType="G.1X", NumberOfWorkers=2)
    glue, stub = stubbed("glue")
    for name in (moto_outputs["glue_job_name"], moto_outputs["aggregates_job_name"]):
        stub.add_response(
            "get_job_runs", {"JobRuns": [run] if "etl" in name else []}, {"JobName": name, "MaxResults": 5}
        )
    with stub:
        (listed,) = aws_status.job_runs(_lake(moto_outputs, glue=glue))
    assert (listed["seconds"], listed["dpu_seconds"]) == (100, 200.0)
