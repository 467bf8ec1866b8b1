"""A command a target cannot run says so in one line, from its capabilities, before touching anything."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datalake.cli.app import app
from datalake.targets.aws.infra import save_outputs
from datalake.targets.aws.target import AwsTarget
from datalake.targets.base import Capabilities, Target
from datalake.targets.local.target import LocalTarget
from tests.aws_helpers import FAKE_CREDENTIALS, create_lake_resources, lake_outputs, write_jobs_dir

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["archive", "--older-than", "30"],
        ["validate"],
        ["ingest", "x.csv", "--table", "t"],
        ["maintain", "--dry-run"],
        ["erase", "--where", "customer_id = 1", "--dry-run"],
    ],
)
def test_aws_target_refuses_what_it_cannot_do_in_one_line(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a\n1\n")
    result = runner.invoke(app, [*args, "--target", "aws", "--lake", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    assert f"`datalake {args[0]}` is not available on the aws target" in text
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [["history", "sales_fact"], ["query", "SELECT 1", "--as-of", "1"]])
def test_aws_history_and_time_travel_before_deploy_say_to_deploy_in_one_line(args: list[str], tmp_path: Path) -> None:
    result = runner.invoke(app, [*args, "--target", "aws", "--lake", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    assert "no AWS deployment outputs" in text and "datalake deploy --target aws" in text
    assert "Traceback" not in result.output


def test_every_optional_capability_is_a_method_both_targets_answer() -> None:
    optional = [name for name, value in vars(Capabilities).items() if isinstance(value, bool) and name != "lake_lock"]
    assert sorted(optional) == [
        "archive",
        "erase",
        "history",
        "ingest",
        "maintain",
        "run_job",
        "time_travel",
        "validate",
    ]
    # lake_lock is not a command but whether writers lock (what --wait waits for): local only
    assert LocalTarget.capabilities.lake_lock and not AwsTarget.capabilities.lake_lock
    aws_runs = {"run_job", "history", "time_travel"}  # the deployed Glue jobs; the Glue catalog's Iceberg tables
    for name in optional:
        assert getattr(LocalTarget.capabilities, name) is True
        assert getattr(AwsTarget.capabilities, name) is (name in aws_runs)
        assert callable(getattr(LocalTarget, name))
        if name in aws_runs:  # a capability the target claims is a method it overrides, not the refusal
            assert getattr(AwsTarget, name) is not getattr(Target, name)


@pytest.fixture
def aws_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A lake folder whose aws outputs name resources in moto (in-process)."""
    import boto3
    from moto import mock_aws

    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATALAKE_JOBS_DIR", str(write_jobs_dir(tmp_path / "jobs")))
    with mock_aws():
        outputs = lake_outputs()
        create_lake_resources(boto3.session.Session(), outputs)
        save_outputs(tmp_path / "lake" / "aws-outputs.json", outputs)
        yield tmp_path / "lake"


@pytest.mark.aws
def test_run_job_on_aws_runs_the_glue_job_and_claims_no_rows(aws_lake: Path) -> None:
    import boto3

    processed = lake_outputs()["processed_bucket"]
    boto3.client("s3").put_object(Bucket=processed, Key="sales_fact/part-0.parquet", Body=b"PAR1")
    args = ["run-job", "customer_aggregates", "--target", "aws", "--lake", str(aws_lake)]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Job customer_aggregates (glue" in result.output and "not reported" in result.output
    as_json = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
    (table,) = json.loads(as_json.stdout)["tables"]
    assert table["rows"] is None and table["location"] == f"s3://{processed}/aggregates/customer_aggregates/"


@pytest.mark.aws
def test_run_etl_wait_on_aws_is_one_line(aws_lake: Path) -> None:
    args = ["run-etl", "--wait", "30", "--target", "aws", "--lake", str(aws_lake)]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    assert "`datalake run-etl --wait` is not available on the aws target" in text
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "command", [["seed", "--rows", "10"], ["destroy", "--yes"], ["run-job", "customer_aggregates"]]
)
def test_wait_on_a_target_without_a_lake_lock_is_one_line(aws_lake: Path, command: list[str]) -> None:
    """--wait once was accepted and ignored on aws: nothing there takes the lake lock it waits for."""
    result = runner.invoke(app, [*command, "--wait", "5", "--target", "aws", "--lake", str(aws_lake)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "--wait is not available on the aws target" in text
    assert "Traceback" not in result.output
