"""Glue for the aws target: run a crawler or a job, each waited for with backoff and a timeout; catalog a job's output."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from datalake.domain.schema import Column
from datalake.errors import AwsError, InputError
from datalake.model import JobResult
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
    lake: AwsLake,
    progress: Progress = NULL_PROGRESS,
    extra: Mapping[str, str] | None = None,
    job_output: str = "glue_job_name",
) -> dict[str, Any]:
    """Start a Glue job (the sales ETL unless `job_output` names another) and wait for it to succeed.

    AwsError with its message and log group on failure. `extra` adds run arguments (the
    pending-file list, run id, summary path) to the job's defaults.
    """
    glue = lake.client("glue")
    name = lake.require(job_output)
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
    return {
        "job": name,
        "run_id": run_id,
        "state": run["JobRunState"],
        "execution_seconds": run.get("ExecutionTime"),
        "log_group": run.get("LogGroupName") or "/aws-glue/jobs",
    }


# Athena/Hive names of the project's column types, for tables registered in the Glue catalog
_GLUE_TYPES = {"BIGINT": "bigint", "INTEGER": "int", "VARCHAR": "string", "DATE": "date", "DOUBLE": "double"}


def glue_type(sql_type: str) -> str:
    upper = sql_type.upper().replace(" ", "")
    return upper.lower() if upper.startswith("DECIMAL") else _GLUE_TYPES.get(upper, upper.lower())


def register_parquet_table(lake: AwsLake, table: str, location: str, columns: Sequence[Column]) -> str:
    """Create or replace a Parquet table in the lake's Glue database; returns "created" or "updated"."""
    glue = lake.client("glue")
    database = lake.require("glue_database")
    table_input = {
        "Name": table,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
        "StorageDescriptor": {
            "Columns": [{"Name": c.name, "Type": glue_type(c.type), "Comment": c.comment} for c in columns],
            "Location": location,
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
        },
    }
    with aws_errors(f"registering {database}.{table} in the Glue catalog"):
        try:
            glue.create_table(DatabaseName=database, TableInput=table_input)
            return "created"
        except glue.exceptions.AlreadyExistsException:
            glue.update_table(DatabaseName=database, TableInput=table_input)
            return "updated"


def run_aggregates_job(lake: AwsLake, jobs_dir: Path, progress: Progress = NULL_PROGRESS) -> JobResult:
    """run-job customer_aggregates on AWS: the deployed Glue job over the processed zone, then its table.

    The scripts are uploaded first (only if changed), the job writes one Parquet output that
    replaces the last, and the table is registered in the Glue catalog so Athena can query it.
    The job reports no row count, so none is claimed: rows stay None.
    """
    from datalake.domain import aggregates
    from datalake.targets.aws.jobs import upload_jobs
    from datalake.targets.aws.s3 import objects, prefix_stats

    began = time.perf_counter()
    processed = lake.require("processed_bucket")
    prefix = aggregates.LOCATION.removeprefix("processed/") + "/"
    with aws_errors(f"checking s3://{processed}/sales_fact/"):
        fact_files, _ = prefix_stats(lake, processed, "sales_fact/")
    if not fact_files:
        raise InputError("the processed zone has no sales yet", hint="run `datalake run-etl --target aws` first")
    upload_jobs(lake, jobs_dir)
    location = f"s3://{processed}/{prefix}"
    run = run_glue_job(
        lake,
        progress,
        {"--processed_path": f"s3://{processed}/", "--output_path": location},
        job_output="aggregates_job_name",
    )
    catalog = register_parquet_table(lake, aggregates.TABLE, location, aggregates.COLUMNS)
    with aws_errors(f"measuring {location}"):
        written = [o for o in objects(lake, processed, prefix) if o.key.endswith(".parquet")]
    files, size = len(written), sum(o.size for o in written)
    table = {
        "table": aggregates.TABLE,
        "location": location,
        "rows": None,  # the Glue job does not report its row count
        "files": files,
        "bytes": size,
        "catalog": catalog,
        "glue_run_id": run["run_id"],
        "execution_seconds": run.get("execution_seconds"),
    }
    return JobResult(
        job="customer_aggregates", engine="glue", seconds=round(time.perf_counter() - began, 3), tables=[table]
    )
