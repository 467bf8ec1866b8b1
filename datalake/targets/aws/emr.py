"""EMR for the aws target: the same Spark job as a step on the cluster, waited for like a Glue run."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from datalake.errors import AwsError, ConfigError
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.aws.clients import aws_errors
from datalake.targets.aws.jobs import JOB_SCRIPT, JOBS_PREFIX
from datalake.targets.aws.lake import AwsLake

EMR_FAILED = {"FAILED", "CANCELLED", "INTERRUPTED"}


def emr_step_args(lake: AwsLake, extra: Mapping[str, str] | None = None) -> list[str]:
    scripts = lake.require("scripts_bucket")
    args = ["spark-submit", "--deploy-mode", "cluster", f"s3://{scripts}/{JOBS_PREFIX}{JOB_SCRIPT}"]
    for key, value in {**lake.job_arguments(), **(extra or {})}.items():
        args += [key, value]
    return args


def run_emr_step(
    lake: AwsLake, progress: Progress = NULL_PROGRESS, extra: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Add the Spark job as a step on the EMR cluster and wait for it."""
    cluster = lake.optional("emr_cluster_id")
    if cluster is None:
        raise ConfigError(
            "this deployment has no EMR cluster (emr_cluster_id is not in the outputs)",
            hint='set emr_mode = "cluster" in the tfvars and deploy again, or use --engine glue',
        )
    emr = lake.client("emr")
    with aws_errors(f"running the ETL step on EMR cluster {cluster}"):
        step = {
            "Name": f"datalake sales_etl {datetime.now(UTC):%Y%m%dT%H%M%S}",
            "ActionOnFailure": "CONTINUE",
            "HadoopJarStep": {"Jar": "command-runner.jar", "Args": emr_step_args(lake, extra)},
        }
        step_id = emr.add_job_flow_steps(JobFlowId=cluster, Steps=[step])["StepIds"][0]
        progress.log(f"EMR cluster {cluster}: step {step_id} added")

        def check() -> dict[str, Any] | None:
            described: dict[str, Any] = emr.describe_step(ClusterId=cluster, StepId=step_id)["Step"]
            status = described["Status"]
            if status["State"] == "COMPLETED":
                return described
            if status["State"] in EMR_FAILED:
                details = status.get("FailureDetails", {})
                reason = (
                    details.get("Message")
                    or details.get("Reason")
                    or status.get("StateChangeReason", {}).get("Message")
                )
                raise AwsError(
                    f"EMR step {step_id} on {cluster} {status['State']}: {reason or 'no reason given'}",
                    hint=f"logs: {details.get('LogFile') or 'the cluster log URI (logs bucket), steps/' + step_id}",
                )
            return None

        with progress.task(f"EMR step {step_id}"):
            lake.poller.wait(check, timeout=lake.timeouts.job, what=f"EMR step {step_id}")
    return {"cluster": cluster, "step_id": step_id, "state": "COMPLETED"}
