"""Glue for the aws target: run a crawler, run the ETL job, each waited for with backoff and a timeout."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datalake.errors import AwsError
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.aws.clients import aws_errors
from datalake.targets.aws.lake import AwsLake

CRAWL_OK = {"SUCCEEDED", "COMPLETED"}  # Glue says SUCCEEDED; moto (and older docs) COMPLETED
GLUE_FAILED = {"FAILED", "ERROR", "TIMEOUT", "STOPPED", "EXPIRED"}


def run_crawler(lake: AwsLake, name: str, progress: Progress = NULL_PROGRESS) -> dict[str, Any]:
    """Start the crawler (or join its running crawl) and wait until its new crawl has finished."""
    glue = lake.client("glue")
    with aws_errors(f"running the Glue crawler {name}"):
        before = glue.get_crawler(Name=name)["Crawler"].get("LastCrawl", {}).get("StartTime")
        try:
            glue.start_crawler(Name=name)
        except glue.exceptions.CrawlerRunningException:
            progress.log(f"crawler {name} is already running: waiting for it")

        def check() -> dict[str, Any] | None:
            crawler: dict[str, Any] = glue.get_crawler(Name=name)["Crawler"]
            last = crawler.get("LastCrawl") or {}
            if crawler.get("State") != "READY" or not last or last.get("StartTime") == before:
                return None
            status = last.get("Status")
            if status in CRAWL_OK:
                return crawler
            raise AwsError(
                f"Glue crawler {name}: last crawl {status}: {last.get('ErrorMessage') or 'no error message'}",
                hint=f"logs: CloudWatch {last.get('LogGroup', '/aws-glue/crawlers')} / {last.get('LogStream', name)}",
            )

        with progress.task(f"Crawling ({name})"):
            crawler = lake.poller.wait(check, timeout=lake.timeouts.crawler, what=f"the Glue crawler {name}")
    last = crawler["LastCrawl"]
    return {"crawler": name, "status": last.get("Status"), "started": str(last.get("StartTime"))}


def run_glue_job(
    lake: AwsLake, progress: Progress = NULL_PROGRESS, extra: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Start the sales ETL Glue job and wait; AwsError with its message and log group on failure.

    `extra` adds run arguments (the pending-file list, run id, summary path) to the job's defaults.
    """
    glue = lake.client("glue")
    name = lake.require("glue_job_name")
    spec = lake.job_arguments()["--spec_path"]
    with aws_errors(f"running the Glue job {name}"):
        run_id = glue.start_job_run(JobName=name, Arguments={"--spec_path": spec, **(extra or {})})["JobRunId"]
        progress.log(f"Glue job {name}: run {run_id} started")

        def check() -> dict[str, Any] | None:
            run: dict[str, Any] = glue.get_job_run(JobName=name, RunId=run_id, PredecessorsIncluded=False)["JobRun"]
            state = run["JobRunState"]
            if state == "SUCCEEDED":
                return run
            if state in GLUE_FAILED:
                group = run.get("LogGroupName") or "/aws-glue/jobs"
                raise AwsError(
                    f"Glue job {name} run {run_id} {state}: {run.get('ErrorMessage') or 'no error message'}",
                    hint=f"logs: CloudWatch log group {group}, streams {run_id}*",
                )
            return None

        with progress.task(f"Glue job {name}"):
            run = lake.poller.wait(check, timeout=lake.timeouts.job, what=f"Glue job run {run_id}")
    return {"job": name, "run_id": run_id, "state": run["JobRunState"], "execution_seconds": run.get("ExecutionTime")}
