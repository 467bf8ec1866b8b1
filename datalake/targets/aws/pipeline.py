"""seed and run-etl on AWS: the orchestration over the service modules (s3, jobs, glue, emr, redshift).

seed runs the local generator into a temporary folder (the same code path, byte-identical files)
and uploads the result under the same `sales/year=/month=/day=` keys. The dimension files and the
seed manifest live in S3 (raw bucket and scripts bucket), so a second seed reuses the master data
and gets the next batch of sale ids, as locally.

run-etl uploads the jobs/ scripts when their content changed, runs the raw crawler and the Spark
job (Glue job run, or a step on the EMR cluster) on the files the bookmark has not seen, each waited
for with backoff and a timeout; commits the files the job recorded to the Glue catalog's Iceberg
tables (one snapshot per table, sales_fact first: its snapshot is the run's commit point), also for
any run recorded earlier and not committed yet; then reloads the Redshift warehouse from the
tables' current files.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datalake.domain.schema import (
    DIMENSIONS,
)
from datalake.errors import AwsError, UsageError
from datalake.layout import LakeLayout
from datalake.model import EtlOptions, RunSummary, SeedOptions, SeedResult
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.aws.clients import aws_errors, error_code
from datalake.targets.aws.emr import run_emr_step
from datalake.targets.aws.glue import run_crawler, run_glue_job
from datalake.targets.aws.iceberg import OUTPUTS
from datalake.targets.aws.jobs import default_jobs_dir, upload_jobs
from datalake.targets.aws.lake import BOOKMARK_KEY, AwsLake
from datalake.targets.aws.redshift import load_warehouse
from datalake.targets.aws.s3 import download_if_exists, files_under, objects, upload_files

SEEDS_KEY = "state/seeds.json"


# ---------------------------------------------------------------------------------- S3 helpers


# ---------------------------------------------------------------------------------- seed


def seed(lake: AwsLake, opts: SeedOptions, progress: Progress = NULL_PROGRESS) -> SeedResult:
    """Generate sales like the local seed, then upload them to the raw bucket."""
    from datalake.domain.seed import dimension_file
    from datalake.domain.seed import seed as generate

    opts.validate()
    raw, scripts = lake.require("raw_bucket"), lake.require("scripts_bucket")
    s3 = lake.client("s3")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="datalake-seed-") as tmp:
        layout = LakeLayout(Path(tmp))
        with aws_errors(f"reading the lake's master data from s3://{raw}"):
            existing = {
                name: download_if_exists(s3, raw, f"{name}/{name}.csv", dimension_file(layout, name))
                for name in DIMENSIONS
            }
            if not all(existing.values()):  # master data comes whole or is made again
                for name in DIMENSIONS:
                    dimension_file(layout, name).unlink(missing_ok=True)
            download_if_exists(s3, scripts, SEEDS_KEY, layout.seeds_file)
        result = generate(layout, opts, progress)
        files = files_under(layout.raw)
        if all(existing.values()):
            files = {k: v for k, v in files.items() if k.startswith("sales/")}
        upload_files(lake, raw, files, progress, "Uploading raw files")
        with aws_errors(f"saving the seed manifest to s3://{scripts}/{SEEDS_KEY}"):
            s3.upload_file(str(layout.seeds_file), scripts, SEEDS_KEY)
    result.seconds = round(time.perf_counter() - began, 3)
    return result


# ---------------------------------------------------------------------------------- jobs/


# ---------------------------------------------------------------------------------- crawlers and jobs


# ---------------------------------------------------------------------------------- warehouse


# ---------------------------------------------------------------------------------- run-etl


# The raw files the job reads (jobs/sales_etl.py: JSON_SUFFIXES, CSV_SUFFIXES), whatever the suffix's case.
RAW_SUFFIXES = (".json", ".jsonl", ".csv")


def is_raw_sales_file(key: str, size: int) -> bool:
    name = key.rsplit("/", 1)[-1]
    return size > 0 and not name.startswith(("_", ".")) and name.lower().endswith(RAW_SUFFIXES)


def _raw_objects(lake: AwsLake) -> dict[str, int]:
    """Raw sales files in the raw bucket: key -> size."""
    listed = objects(lake, lake.require("raw_bucket"), "sales/")
    return {o.key: o.size for o in listed if is_raw_sales_file(o.key, o.size)}


def load_bookmark_document(lake: AwsLake) -> dict[str, Any]:
    """The job's bookmark: `files` (raw key -> size, run_id) and `runs` (run id -> the job's counts).

    The Spark job writes it, last, as its commit (Glue's own job bookmarks only follow DynamicFrame
    sources): the CLI hands the job its pending files and reads the run's record back.
    """
    from botocore.exceptions import ClientError

    try:
        body = lake.client("s3").get_object(Bucket=lake.require("scripts_bucket"), Key=BOOKMARK_KEY)["Body"].read()
    except ClientError as exc:
        if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
            return {"files": {}, "runs": {}}
        raise
    document: dict[str, Any] = json.loads(body)
    document.setdefault("files", {})
    document.setdefault("runs", {})
    return document


def load_bookmark(lake: AwsLake) -> dict[str, dict[str, Any]]:
    """The raw files earlier runs consumed: key -> {size, run_id}."""
    files: dict[str, dict[str, Any]] = load_bookmark_document(lake)["files"]
    return files


def pending_files(lake: AwsLake, bookmark: dict[str, Any] | None = None) -> dict[str, int]:
    """The raw sales files the job's bookmark does not hold at their current size: key -> size."""
    consumed = (bookmark or load_bookmark_document(lake))["files"]
    return {k: size for k, size in _raw_objects(lake).items() if consumed.get(k, {}).get("size") != size}


def _job_logs(lake: AwsLake, engine: str, job: dict[str, Any]) -> str:
    if engine == "emr":
        return f"logs: s3://{lake.optional('logs_bucket') or '<logs bucket>'}/emr/{job.get('cluster')}/steps/{job.get('step_id')}/"
    return f"logs: CloudWatch log group {job.get('log_group') or '/aws-glue/jobs'}, streams {job.get('run_id')}*"


def _run_record(
    lake: AwsLake, engine: str, job: dict[str, Any], run_id: str, bookmark: dict[str, Any]
) -> dict[str, Any]:
    """The counts the job recorded for `run_id`; AwsError when it recorded none (nothing is bookmarked)."""
    record: dict[str, Any] | None = bookmark["runs"].get(run_id)
    if record is None:
        which = f"Glue job run {job.get('run_id')}" if engine == "glue" else f"EMR step {job.get('step_id')}"
        raise AwsError(
            f"{which} finished but reported nothing: run {run_id} has no record in "
            f"s3://{lake.require('scripts_bucket')}/{BOOKMARK_KEY}; its files stay pending",
            hint=_job_logs(lake, engine, job),
        )
    return record


def run_etl(
    lake: AwsLake, opts: EtlOptions, progress: Progress = NULL_PROGRESS, jobs_dir: Path | None = None
) -> RunSummary:
    """Scripts -> raw crawler -> Spark job on the pending files (Glue or EMR) -> Iceberg commit -> Redshift."""
    if opts.engine not in ("glue", "emr"):
        raise UsageError(f"unknown --engine {opts.engine!r} on aws", hint="choose glue or emr")
    now = opts.run_ts or datetime.now(UTC)
    run_id = f"{now:%Y%m%dT%H%M%S}"
    began = time.perf_counter()
    stages: dict[str, float] = {}

    def stage(name: str, t0: float) -> float:
        t1 = time.perf_counter()
        stages[name] = round(t1 - t0, 3)
        return t1

    with aws_errors("reading the raw zone and the job bookmark"):
        bookmark = load_bookmark_document(lake)
        pending = pending_files(lake, bookmark)
    # runs the job recorded but nobody committed (the Glue workflow's, a run-etl killed after its job)
    recovered = commit_recorded_runs(lake, bookmark, progress)
    if not pending:
        return RunSummary(
            run_id=None,
            status="nothing_to_do",
            engine=opts.engine,
            started=now.isoformat(),
            recovered=sorted(recovered),
            crawl={"iceberg": recovered} if recovered else {},
        )

    t = time.perf_counter()
    uploads = upload_jobs(lake, jobs_dir or default_jobs_dir())
    scripts, raw = lake.require("scripts_bucket"), lake.require("raw_bucket")
    run_prefix = f"state/runs/{run_id}/"
    with aws_errors(f"writing the pending-file list to s3://{scripts}/{run_prefix}"):
        listing = "".join(f"s3://{raw}/{key}\n" for key in sorted(pending))
        lake.client("s3").put_object(Bucket=scripts, Key=run_prefix + "pending.txt", Body=listing.encode())
    extra = {
        "--input_list": f"s3://{scripts}/{run_prefix}pending.txt",
        "--run_id": run_id,
        "--run_ts": now.strftime("%Y-%m-%d %H:%M:%S"),
    }
    t = stage("upload_scripts", t)
    crawls = [run_crawler(lake, lake.require("raw_crawler_name"), progress)]
    t = stage("crawl_raw", t)
    job = run_glue_job(lake, progress, extra) if opts.engine == "glue" else run_emr_step(lake, progress, extra)
    t = stage("job", t)
    with aws_errors("reading the run's record in the job bookmark"):
        bookmark = load_bookmark_document(lake)
        counts = _run_record(lake, opts.engine, job, run_id, bookmark)
    committed = commit_recorded_runs(lake, bookmark, progress)
    t = stage("commit", t)
    warehouse: dict[str, Any] = {"skipped": "redshift_mode = none"}
    if (lake.optional("redshift_mode") or "none") != "none":
        warehouse = load_warehouse(lake, run_id, progress)
        t = stage("warehouse", t)
    written = counts.get(OUTPUTS, {}).get("sales_fact", {})
    return RunSummary(
        run_id=str(job.get("run_id") or job.get("step_id")),
        status="completed",
        engine=opts.engine,
        started=now.isoformat(),
        seconds=round(time.perf_counter() - began, 3),
        stages=stages,
        files_in=len(pending),
        bytes_in=sum(pending.values()),
        rows_in=int(counts.get("rows_in", 0)),
        rows_processed=int(counts.get("rows_processed", 0)),
        rows_quarantined=int(counts.get("rows_quarantined", 0)),
        by_reason=dict(counts.get("by_reason", {})),
        bytes_out=sum(written.values()),
        fact_files_written=len(written),
        warehouse_rows_loaded=int(warehouse.get("rows", 0)),
        recovered=sorted(r for r in committed if r != run_id),
        crawl={
            "crawls": crawls,
            "job": job,
            "scripts": uploads,
            "warehouse": warehouse,
            "run": run_id,
            "iceberg": committed,
        },
    )


def commit_recorded_runs(lake: AwsLake, bookmark: dict[str, Any], progress: Progress) -> dict[str, list[str]]:
    """Commit the job's recorded runs the Iceberg tables do not hold yet: run id -> tables committed."""
    from datalake.targets.aws.iceberg import commit_runs

    with progress.task("Committing to the Iceberg tables (Glue catalog)"):
        return commit_runs(lake, bookmark)
