"""status and measured usage of a deployed AWS lake, read from S3, Glue and Athena.

`status()` returns the same top-level keys as the local status (zones, tables, warehouse, runs)
so the CLI renders both alike, plus `storage_classes` and `crawlers`; the processed tables' files,
bytes and rows come from their Iceberg metadata (the current snapshot's summary). `usage()` is what a cost
report needs: bytes per storage class per bucket, Athena's scanned bytes and engine time for the
workgroup's recent queries, and the Glue job runs' durations and DPU-seconds.
"""

from __future__ import annotations

import re
from typing import Any

from datalake.model import LakeStatus, LakeUsage, RunSummary
from datalake.targets.aws.clients import aws_errors
from datalake.targets.aws.lake import AwsLake

RECENT_RUNS = 5
# DPUs per worker of each Glue worker type (what Glue bills a worker-second as)
GLUE_WORKER_DPUS = {"G.025X": 0.25, "G.1X": 1.0, "G.2X": 2.0, "G.4X": 4.0, "G.8X": 8.0, "Z.2X": 2.0}


def run_dpu_seconds(run: dict[str, Any]) -> float | None:
    """The DPU-seconds Glue bills a job run: its own DPUSeconds (auto-scaled and Flex runs report it),
    else workers x the worker type's DPUs x execution seconds, else MaxCapacity x seconds; None if unknown.
    """
    if run.get("DPUSeconds") is not None:
        return float(run["DPUSeconds"])
    seconds = run.get("ExecutionTime")
    if seconds is None:
        return None
    dpus = GLUE_WORKER_DPUS.get(str(run.get("WorkerType")))
    if dpus is not None and run.get("NumberOfWorkers") is not None:
        return float(run["NumberOfWorkers"]) * dpus * float(seconds)
    if run.get("MaxCapacity") is not None:
        return float(run["MaxCapacity"]) * float(seconds)
    return None


def bucket_usage(lake: AwsLake) -> dict[str, dict[str, Any]]:
    """role -> {bucket, objects, bytes, storage_classes: {class: {objects, bytes}}}."""
    from datalake.targets.aws.s3 import objects

    usage: dict[str, dict[str, Any]] = {}
    for role, bucket in lake.buckets().items():
        classes: dict[str, dict[str, int]] = {}
        with aws_errors(f"listing s3://{bucket}"):
            for obj in objects(lake, bucket):
                entry = classes.setdefault(obj.storage_class, {"objects": 0, "bytes": 0})
                entry["objects"] += 1
                entry["bytes"] += obj.size
        usage[role] = {
            "bucket": bucket,
            "objects": sum(c["objects"] for c in classes.values()),
            "bytes": sum(c["bytes"] for c in classes.values()),
            "storage_classes": dict(sorted(classes.items())),
        }
    return usage


def _crawlers(lake: AwsLake) -> list[dict[str, Any]]:
    glue = lake.client("glue")
    found = []
    for key in ("raw_crawler_name",):
        if name := lake.optional(key):
            with aws_errors(f"reading the Glue crawler {name}"):
                crawler = glue.get_crawler(Name=name)["Crawler"]
            last = crawler.get("LastCrawl") or {}
            found.append(
                {
                    "crawler": name,
                    "state": crawler.get("State"),
                    "last_status": last.get("Status"),
                    "last_started": str(last["StartTime"]) if last.get("StartTime") else None,
                    "error": last.get("ErrorMessage"),
                }
            )
    return found


def job_runs(lake: AwsLake, limit: int = RECENT_RUNS) -> list[dict[str, Any]]:
    glue = lake.client("glue")
    runs = []
    for key in ("glue_job_name", "aggregates_job_name"):
        if name := lake.optional(key):
            with aws_errors(f"reading the runs of the Glue job {name}"):
                page = glue.get_job_runs(JobName=name, MaxResults=limit)
            for run in page.get("JobRuns", [])[:limit]:
                seconds = run.get("ExecutionTime")
                dpu_seconds = run_dpu_seconds(run)
                runs.append(
                    {
                        "run_id": run["Id"],
                        "lake_run": (run.get("Arguments") or {}).get("--run_id"),
                        "job": name,
                        "status": run.get("JobRunState"),
                        "engine": "glue",
                        "started": str(run.get("StartedOn")) if run.get("StartedOn") else None,
                        "seconds": seconds,
                        "dpu_seconds": dpu_seconds,
                        "error": run.get("ErrorMessage"),
                    }
                )
    return runs


def _tables(lake: AwsLake, usage: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The lake's Iceberg tables (files, bytes, rows of the current snapshot), then the Glue database's others
    (the raw crawler's tables, run-job's outputs), whose row counts only the crawler's statistics give."""
    from datalake.targets.aws import iceberg

    glue = lake.client("glue")
    database = lake.require("glue_database")
    tables = []
    with aws_errors(f"reading the Glue database {database}"):
        for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
            for table in page.get("TableList", []):
                if table.get("Parameters", {}).get("table_type", "").upper() == "ICEBERG":
                    continue  # read from its Iceberg metadata instead (iceberg.table_stats)
                partitions = 0
                if table.get("PartitionKeys"):
                    for part_page in glue.get_paginator("get_partitions").paginate(
                        DatabaseName=database, TableName=table["Name"], ExcludeColumnSchema=True
                    ):
                        partitions += len(part_page.get("Partitions", []))
                descriptor = table.get("StorageDescriptor", {})
                params = table.get("Parameters", {})
                tables.append(
                    {
                        "database": database,
                        "table": table["Name"],
                        "format": params.get("classification") or descriptor.get("InputFormat", "").rsplit(".", 1)[-1],
                        "rows": int(params["recordCount"]) if params.get("recordCount", "").isdigit() else None,
                        "partitions": partitions,
                        "files": None,
                        "bytes": None,
                        "location": descriptor.get("Location"),
                    }
                )
    return iceberg.table_stats(lake) + tables


def _run_counts(record: dict[str, Any] | None) -> dict[str, Any]:
    """A run's files and rows, as the job committed them in its bookmark (None: no record)."""
    record = record or {}
    return {
        "files": record.get("files_in"),
        "rows_in": record.get("rows_in"),
        "rows_processed": record.get("rows_processed"),
        "rows_quarantined": record.get("rows_quarantined"),
    }


def status(lake: AwsLake) -> LakeStatus:
    from datalake.targets.aws.pipeline import load_bookmark_document, pending_files

    usage = bucket_usage(lake)
    with aws_errors("reading the job bookmark and the raw zone"):
        bookmark = load_bookmark_document(lake)
        pending = pending_files(lake, bookmark)
    return LakeStatus(
        target="aws",
        lake=f"aws ({lake.region})",
        zones={role: {"files": u["objects"], "bytes": u["bytes"]} for role, u in usage.items()},
        tables=_tables(lake, usage),
        # a run the CLI started carries the lake's run id; one the workflow started is recorded under Glue's
        runs=[{**r, **_run_counts(bookmark["runs"].get(r.get("lake_run") or r["run_id"]))} for r in job_runs(lake)],
        pending_raw_files=len(pending),  # the raw files the job's bookmark does not hold
        extra={
            "storage_classes": {role: u["storage_classes"] for role, u in usage.items()},
            "buckets": {role: u["bucket"] for role, u in usage.items()},
            "crawlers": _crawlers(lake),
        },
    )


def athena_usage(lake: AwsLake, limit: int = 50) -> dict[str, Any]:
    """Scanned bytes and engine time of the workgroup's most recent queries (as Athena measured)."""
    athena = lake.client("athena")
    workgroup = lake.require("athena_workgroup")
    with aws_errors(f"reading Athena statistics of workgroup {workgroup}"):
        ids = athena.list_query_executions(WorkGroup=workgroup, MaxResults=limit).get("QueryExecutionIds", [])
        executions = athena.batch_get_query_execution(QueryExecutionIds=ids).get("QueryExecutions", []) if ids else []
    succeeded = [e for e in executions if e.get("Status", {}).get("State") == "SUCCEEDED"]
    stats = [e.get("Statistics", {}) for e in succeeded]
    return {
        "workgroup": workgroup,
        "queries": len(succeeded),
        "data_scanned_bytes": _measured_sum(stats, "DataScannedInBytes"),
        "engine_ms": _measured_sum(stats, "EngineExecutionTimeInMillis"),
    }


def _measured_sum(stats: list[dict[str, Any]], key: str) -> int | None:
    """The sum of a statistic over the queries; None (unknown) if any query lacks it, rather than a made-up 0."""
    if any(s.get(key) is None for s in stats):
        return None
    return sum(int(s[key]) for s in stats)


def usage(lake: AwsLake) -> dict[str, Any]:
    """Measured usage for cost-report: storage by class, Athena scans, Glue job durations."""
    buckets = bucket_usage(lake)
    return {
        "target": "aws",
        "region": lake.region,
        "storage": {role: {c: v["bytes"] for c, v in u["storage_classes"].items()} for role, u in buckets.items()},
        "athena": athena_usage(lake),
        "jobs": job_runs(lake, limit=25),
    }


_DAY = re.compile(r"(?:^|/)year=(\d{4})/month=(\d{1,2})/day=(\d{1,2})/")


def _zones_and_days(lake: AwsLake) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, tuple[int, int]]], int]:
    """(zone sizes, raw and archive day partitions, sales_fact bytes), from one listing of each bucket."""
    from datalake.targets.aws.s3 import objects

    zones: dict[str, dict[str, int]] = {
        z: {"files": 0, "bytes": 0} for z in ("raw", "processed", "archive", "quarantine")
    }
    days: dict[str, dict[str, tuple[int, int]]] = {"raw": {}, "archive": {}}
    sales_fact_bytes = 0
    for role in ("raw", "processed", "archive"):
        bucket = lake.optional(f"{role}_bucket")
        if not bucket:
            continue
        with aws_errors(f"listing s3://{bucket}"):
            for key, size, _ in objects(lake, bucket):
                if key.startswith("_") or "/_" in key:
                    continue  # staging and manifests are not data
                zone = "quarantine" if role == "processed" and key.startswith("quarantine/") else role
                zones[zone]["files"] += 1
                zones[zone]["bytes"] += size
                if role == "processed" and key.startswith("sales_fact/"):
                    sales_fact_bytes += size
                match = _DAY.search(key) if role in days and key.startswith("sales/") else None
                if match:
                    y, m, d = (int(g) for g in match.groups())
                    day = f"{y:04d}-{m:02d}-{d:02d}"
                    b, n = days[role].get(day, (0, 0))
                    days[role][day] = (b + size, n + 1)
    return zones, days, sales_fact_bytes


def _bytes_by_run(lake: AwsLake) -> dict[str, int]:
    """Raw bytes each run consumed, from the job bookmark (file -> size, run id)."""
    from datalake.targets.aws.pipeline import load_bookmark

    with aws_errors("reading the job bookmark"):
        bookmark = load_bookmark(lake)
    bytes_by_run: dict[str, int] = {}
    for entry in bookmark.values():
        run_id = str(entry.get("run_id"))
        bytes_by_run[run_id] = bytes_by_run.get(run_id, 0) + int(entry["size"])
    return bytes_by_run


def glue_runs(lake: AwsLake, bytes_by_run: dict[str, int] | None = None) -> list[RunSummary]:
    """The recent successful runs of the Glue ETL job that consumed raw files, oldest first.

    A run's raw bytes come from the job bookmark (files -> run id); its duration and DPU-seconds
    from the Glue job run that carried that `--run_id`: Glue bills DPU-seconds, not wall seconds.
    """
    if bytes_by_run is None:
        bytes_by_run = _bytes_by_run(lake)
    runs: list[RunSummary] = []
    if name := lake.optional("glue_job_name"):
        with aws_errors(f"reading the runs of the Glue job {name}"):
            page = lake.client("glue").get_job_runs(JobName=name, MaxResults=RECENT_RUNS)
        for run in page.get("JobRuns", []):
            run_id = (run.get("Arguments") or {}).get("--run_id") or run["Id"]  # workflow runs: Glue's id
            if run.get("JobRunState") == "SUCCEEDED" and run_id in bytes_by_run:
                runs.append(
                    RunSummary(
                        run_id=run_id,
                        status="completed",
                        engine="glue",
                        started=str(run.get("StartedOn") or ""),
                        seconds=float(run.get("ExecutionTime") or 0),
                        bytes_in=bytes_by_run[run_id],
                        dpu_seconds=run_dpu_seconds(run),
                    )
                )
    return sorted(runs, key=lambda r: r.started)


def _step_run_id(step: dict[str, Any]) -> str | None:
    """The `--run_id` the orchestration passed in the step's spark-submit arguments."""
    args = list((step.get("Config") or {}).get("Args") or [])
    return next((args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--run_id"), None)


def emr_runs(lake: AwsLake, bytes_by_run: dict[str, int] | None = None) -> list[RunSummary]:
    """The completed ETL steps on the EMR cluster that consumed raw files, oldest first.

    A step's seconds are its timeline's start to end; EMR bills the cluster's instance-hours, not
    DPUs, so `dpu_seconds` stays None and cost-report prices the step on the deployed cluster shape.
    """
    cluster = lake.optional("emr_cluster_id")
    if cluster is None:
        return []
    if bytes_by_run is None:
        bytes_by_run = _bytes_by_run(lake)
    runs: list[RunSummary] = []
    with aws_errors(f"reading the steps of EMR cluster {cluster}"):
        pages = lake.client("emr").get_paginator("list_steps").paginate(ClusterId=cluster, StepStates=["COMPLETED"])
        steps = [step for page in pages for step in page.get("Steps", [])]
    for step in steps:
        run_id = _step_run_id(step)
        timeline = (step.get("Status") or {}).get("Timeline") or {}
        start, end = timeline.get("StartDateTime"), timeline.get("EndDateTime")
        if run_id in bytes_by_run and start is not None and end is not None:
            runs.append(
                RunSummary(
                    run_id=run_id,
                    status="completed",
                    engine="emr",
                    started=str(start),
                    seconds=max((end - start).total_seconds(), 0.0),
                    bytes_in=bytes_by_run[str(run_id)],
                )
            )
    return sorted(runs, key=lambda r: r.started)


def etl_runs(lake: AwsLake) -> list[RunSummary]:
    """The completed ETL runs that consumed raw files, on Glue and on EMR, oldest first."""
    bytes_by_run = _bytes_by_run(lake)
    runs = glue_runs(lake, bytes_by_run) + emr_runs(lake, bytes_by_run)
    return sorted(runs, key=lambda r: r.started)


def measured_usage(lake: AwsLake) -> LakeUsage:
    """cost-report's inputs measured on AWS: zone sizes and day partitions from S3, ETL runs from Glue and EMR."""
    zones, days, sales_fact_bytes = _zones_and_days(lake)
    return LakeUsage(
        lake=f"s3://{lake.require('raw_bucket')}",
        target="aws",
        zones=zones,
        day_partitions=days,
        runs=etl_runs(lake),
        sales_fact_bytes=sales_fact_bytes,
    )
