"""seed and run-etl on AWS: raw files to S3, crawlers, the Spark job on Glue or EMR, Redshift COPY.

seed runs the local generator into a temporary folder (the same code path, byte-identical files)
and uploads the result with boto3's managed transfer (multipart above 64 MiB, several files at
once), under the same `sales/year=/month=/day=` keys. The dimension files and the seed manifest
live in S3 (raw bucket and scripts bucket), so a second seed reuses the master data and gets the
next batch of sale ids, as locally.

run-etl uploads the jobs/ scripts when their content changed, runs the raw crawler, the Spark
job (Glue job run, or a step on the EMR cluster) and the processed crawler, each waited for with
backoff and a timeout, then reloads the Redshift warehouse from the processed Parquet with
`COPY ... FORMAT AS PARQUET` in one Data API transaction.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datalake.domain.schema import (
    DIMENSIONS,
    SALES_FACT_COLUMNS,
    SALES_PARTITION_KEYS,
    WAREHOUSE_FACT_TABLE,
    WAREHOUSE_SORT_KEY,
)
from datalake.errors import AwsError, ConfigError, UsageError
from datalake.layout import JOBS_DIR, LakeLayout
from datalake.model import EtlOptions, RunSummary, SeedOptions, SeedResult
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.aws.clients import aws_errors, error_code
from datalake.targets.aws.lake import AwsLake

MULTIPART_THRESHOLD = 64 * 1024 * 1024
UPLOAD_WORKERS = 8
SEEDS_KEY = "state/seeds.json"
JOBS_PREFIX = "jobs/"
JOB_SCRIPT = "sales_etl.py"
HASH_METADATA = "sha256"
CRAWL_OK = {"SUCCEEDED", "COMPLETED"}  # Glue says SUCCEEDED; moto (and older docs) COMPLETED
GLUE_FAILED = {"FAILED", "ERROR", "TIMEOUT", "STOPPED", "EXPIRED"}
EMR_FAILED = {"FAILED", "CANCELLED", "INTERRUPTED"}
CONTENT_TYPES = {
    ".json": "application/json",
    ".csv": "text/csv",
    ".py": "text/x-python",
    ".parquet": "application/octet-stream",
}


# ---------------------------------------------------------------------------------- S3 helpers


def _download_if_exists(s3: Any, bucket: str, key: str, path: Path) -> bool:
    from botocore.exceptions import ClientError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(path))
        return True
    except ClientError as exc:
        if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
            path.unlink(missing_ok=True)
            return False
        raise


def upload_files(
    lake: AwsLake, bucket: str, files: dict[str, Path], progress: Progress = NULL_PROGRESS, what: str = "Uploading"
) -> int:
    """Upload `key -> local file` with managed transfer (multipart for large files); bytes uploaded."""
    from boto3.s3.transfer import TransferConfig

    s3 = lake.client("s3")
    config = TransferConfig(
        multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_THRESHOLD, max_concurrency=4
    )
    total = sum(p.stat().st_size for p in files.values())
    lock = threading.Lock()
    with progress.task(f"{what} to s3://{bucket}", total=total) as task:

        def advance(amount: int) -> None:
            with lock:
                task.advance(amount)

        def put(key: str, path: Path) -> None:
            extra = {"ContentType": CONTENT_TYPES.get(path.suffix, "application/octet-stream")}
            s3.upload_file(str(path), bucket, key, ExtraArgs=extra, Config=config, Callback=advance)

        with (
            aws_errors(f"uploading to s3://{bucket}"),
            ThreadPoolExecutor(UPLOAD_WORKERS, thread_name_prefix="s3-upload") as pool,
        ):
            for future in [pool.submit(put, key, path) for key, path in sorted(files.items())]:
                future.result()
    return total


def _files_under(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


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
                name: _download_if_exists(s3, raw, f"{name}/{name}.csv", dimension_file(layout, name))
                for name in DIMENSIONS
            }
            if not all(existing.values()):  # master data comes whole or is made again
                for name in DIMENSIONS:
                    dimension_file(layout, name).unlink(missing_ok=True)
            _download_if_exists(s3, scripts, SEEDS_KEY, layout.seeds_file)
        result = generate(layout, opts, progress)
        files = _files_under(layout.raw)
        if all(existing.values()):
            files = {k: v for k, v in files.items() if k.startswith("sales/")}
        upload_files(lake, raw, files, progress, "Uploading raw files")
        with aws_errors(f"saving the seed manifest to s3://{scripts}/{SEEDS_KEY}"):
            s3.upload_file(str(layout.seeds_file), scripts, SEEDS_KEY)
    result.seconds = round(time.perf_counter() - began, 3)
    return result


# ---------------------------------------------------------------------------------- jobs/


def default_jobs_dir() -> Path:
    """jobs/ next to the package (a checkout), unless DATALAKE_JOBS_DIR points elsewhere."""
    explicit = os.environ.get("DATALAKE_JOBS_DIR")
    return Path(explicit) if explicit else JOBS_DIR


def job_files(jobs_dir: Path) -> dict[str, bytes]:
    """The scripts to upload (file name -> content); the transform spec is generated if absent."""
    if not (jobs_dir / JOB_SCRIPT).is_file():
        raise ConfigError(
            f"the Spark job {jobs_dir / JOB_SCRIPT} was not found",
            hint="run from a git checkout of datalake (jobs/ holds the Glue/EMR scripts) or set DATALAKE_JOBS_DIR",
        )
    files = {p.name: p.read_bytes() for p in sorted(jobs_dir.iterdir()) if p.suffix in (".py", ".json") and p.is_file()}
    if "transform_spec.json" not in files:
        from datalake.domain.transform import spec

        files["transform_spec.json"] = (json.dumps(spec(), indent=2, sort_keys=True) + "\n").encode()
    return files


def upload_jobs(lake: AwsLake, jobs_dir: Path) -> dict[str, str]:
    """Upload each job file whose content hash differs from the object's; name -> uploaded|unchanged."""
    from botocore.exceptions import ClientError

    bucket = lake.require("scripts_bucket")
    s3 = lake.client("s3")
    done: dict[str, str] = {}
    with aws_errors(f"uploading job scripts to s3://{bucket}/{JOBS_PREFIX}"):
        for name, content in job_files(jobs_dir).items():
            key = JOBS_PREFIX + name
            digest = hashlib.sha256(content).hexdigest()
            try:
                current = s3.head_object(Bucket=bucket, Key=key).get("Metadata", {}).get(HASH_METADATA)
            except ClientError as exc:
                if error_code(exc) not in {"404", "NoSuchKey", "NotFound"}:
                    raise
                current = None
            if current == digest:
                done[name] = "unchanged"
                continue
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=content,
                ContentType=CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream"),
                Metadata={HASH_METADATA: digest},
            )
            done[name] = "uploaded"
    return done


# ---------------------------------------------------------------------------------- crawlers and jobs


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


# ---------------------------------------------------------------------------------- warehouse


def _redshift_type(sql_type: str) -> str:
    return "VARCHAR(1024)" if sql_type.upper() == "VARCHAR" else sql_type


def _ddl(table: str, columns: list[tuple[str, str]], extra: str = "") -> str:
    cols = ", ".join(f"{name} {_redshift_type(kind)}" for name, kind in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} ({cols}){extra}"


def _parquet_objects(lake: AwsLake, bucket: str, prefix: str) -> list[tuple[str, int]]:
    s3 = lake.client("s3")
    found: list[tuple[str, int]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".parquet"):
                found.append((item["Key"], int(item["Size"])))
    return found


def _write_manifest(lake: AwsLake, bucket: str, key: str, objects: list[tuple[str, int]]) -> str:
    entries = [
        {"url": f"s3://{bucket}/{k}", "mandatory": True, "meta": {"content_length": size}} for k, size in objects
    ]
    lake.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps({"entries": entries}).encode())
    return f"s3://{bucket}/{key}"


def warehouse_load_sql(lake: AwsLake, manifests: dict[str, str]) -> list[str]:
    """The statements of one reload transaction: the fact table and the dimensions, from manifests."""
    role = lake.require("redshift_copy_role_arn")
    copy = "IAM_ROLE '{role}' FORMAT AS PARQUET MANIFEST"
    fact_cols = [(c.name, c.type) for c in SALES_FACT_COLUMNS]
    # Parquet files do not store the partition columns: stage the rest, derive them from sale_date.
    stored = [(n, t) for n, t in fact_cols if n not in SALES_PARTITION_KEYS]
    staging = "sales_fact_staging"
    select = ", ".join(
        f"EXTRACT({n} FROM sale_date)::INTEGER" if n in SALES_PARTITION_KEYS else n for n, _ in fact_cols
    )
    sort = f" SORTKEY ({', '.join(WAREHOUSE_SORT_KEY)})"
    sqls = [
        _ddl(WAREHOUSE_FACT_TABLE, fact_cols, sort),
        f"CREATE TEMP TABLE {staging} ({', '.join(f'{n} {_redshift_type(t)}' for n, t in stored)})",
        f"COPY {staging} FROM '{manifests[WAREHOUSE_FACT_TABLE]}' " + copy.format(role=role),
        f"DELETE FROM {WAREHOUSE_FACT_TABLE}",
        f"INSERT INTO {WAREHOUSE_FACT_TABLE} SELECT {select} FROM {staging} ORDER BY {', '.join(WAREHOUSE_SORT_KEY)}",
        f"DROP TABLE {staging}",
    ]
    for dim, columns in DIMENSIONS.items():
        if dim not in manifests:
            continue
        sqls += [
            _ddl(dim, [(c.name, c.type) for c in columns]),
            f"DELETE FROM {dim}",
            f"COPY {dim} FROM '{manifests[dim]}' " + copy.format(role=role),
        ]
    sqls.append(f"CREATE OR REPLACE VIEW sales_fact AS SELECT * FROM {WAREHOUSE_FACT_TABLE}")
    return sqls


def load_warehouse(lake: AwsLake, load_id: str, progress: Progress = NULL_PROGRESS) -> dict[str, Any]:
    """Reload Redshift from the processed Parquet (one transaction); rows in the fact table after."""
    from datalake.targets.aws.engines import RedshiftData

    data = RedshiftData(lake)
    processed = lake.require("processed_bucket")
    manifests: dict[str, str] = {}
    files = 0
    with aws_errors(f"preparing the warehouse load from s3://{processed}"):
        for table, prefix in [(WAREHOUSE_FACT_TABLE, "sales_fact/")] + [(d, f"{d}/") for d in DIMENSIONS]:
            objects = _parquet_objects(lake, processed, prefix)
            if not objects:
                if table == WAREHOUSE_FACT_TABLE:
                    raise AwsError(
                        f"no Parquet files under s3://{processed}/sales_fact/ after the ETL job",
                        hint="check the job's output and logs",
                    )
                continue
            files += len(objects)
            key = f"_staging/copy-manifests/{load_id}/{table}.manifest"
            manifests[table] = _write_manifest(lake, processed, key, objects)
    with progress.task("Loading Redshift (COPY ... FORMAT AS PARQUET)"):
        data.run(warehouse_load_sql(lake, manifests), "loading the Redshift warehouse")
        counted = data.run([f"SELECT count(*) FROM {WAREHOUSE_FACT_TABLE}"], "counting the warehouse rows")
        with aws_errors("counting the warehouse rows"):
            _, rows = data.fetch(counted["Id"])
    return {"files": files, "rows": int(rows[0][0]) if rows else 0, "tables": sorted(manifests)}


# ---------------------------------------------------------------------------------- run-etl


def _prefix_stats(lake: AwsLake, bucket: str, prefix: str) -> tuple[int, int]:
    files = size = 0
    for page in lake.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            files += 1
            size += int(item["Size"])
    return files, size


BOOKMARK_KEY = "state/bookmarks/sales_etl.json"
RAW_SUFFIXES = (".json", ".jsonl", ".csv")


def _raw_objects(lake: AwsLake) -> dict[str, int]:
    """Raw sales files in the raw bucket: key -> size."""
    found: dict[str, int] = {}
    bucket = lake.require("raw_bucket")
    for page in lake.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="sales/"):
        for item in page.get("Contents", []):
            if item["Key"].endswith(RAW_SUFFIXES) and int(item["Size"]) > 0:
                found[item["Key"]] = int(item["Size"])
    return found


def load_bookmark(lake: AwsLake) -> dict[str, dict[str, Any]]:
    """The raw files earlier runs consumed (key -> size, run), kept in the scripts bucket.

    Glue's own job bookmarks only follow DynamicFrame sources; the job reads with plain Spark, so
    the orchestration keeps the bookmark and hands the job the list of pending files, exactly as
    the local target does.
    """
    from botocore.exceptions import ClientError

    try:
        body = lake.client("s3").get_object(Bucket=lake.require("scripts_bucket"), Key=BOOKMARK_KEY)["Body"].read()
    except ClientError as exc:
        if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
            return {}
        raise
    files: dict[str, dict[str, Any]] = json.loads(body).get("files", {})
    return files


def _save_bookmark(lake: AwsLake, files: dict[str, dict[str, Any]]) -> None:
    body = json.dumps({"job": "sales_etl", "files": files}, indent=1, sort_keys=True).encode()
    lake.client("s3").put_object(Bucket=lake.require("scripts_bucket"), Key=BOOKMARK_KEY, Body=body)


def _read_summary(lake: AwsLake, prefix: str) -> dict[str, Any]:
    """The row counts the Spark job wrote (a one-line text output under `prefix`), or {} if it wrote none."""
    s3 = lake.client("s3")
    bucket = lake.require("scripts_bucket")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if Path(item["Key"]).name.startswith("part-"):
                text = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode().strip()
                if text:
                    summary: dict[str, Any] = json.loads(text.splitlines()[0])
                    return summary
    return {}


def run_etl(
    lake: AwsLake, opts: EtlOptions, progress: Progress = NULL_PROGRESS, jobs_dir: Path | None = None
) -> RunSummary:
    """Scripts -> raw crawler -> Spark job on the pending files (Glue or EMR) -> processed crawler -> Redshift."""
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
        objects = _raw_objects(lake)
        bookmark = load_bookmark(lake)
    pending = {k: size for k, size in objects.items() if bookmark.get(k, {}).get("size") != size}
    if not pending:
        return RunSummary(run_id=None, status="nothing_to_do", engine=opts.engine, started=now.isoformat())

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
        "--summary_path": f"s3://{scripts}/{run_prefix}summary",
    }
    t = stage("upload_scripts", t)
    crawls = [run_crawler(lake, lake.require("raw_crawler_name"), progress)]
    t = stage("crawl_raw", t)
    job = run_glue_job(lake, progress, extra) if opts.engine == "glue" else run_emr_step(lake, progress, extra)
    t = stage("job", t)
    with aws_errors("recording the consumed raw files in the job bookmark"):
        counts = _read_summary(lake, run_prefix + "summary")
        bookmark.update({key: {"size": size, "run_id": run_id} for key, size in pending.items()})
        _save_bookmark(lake, bookmark)
    if processed_crawler := lake.optional("processed_crawler_name"):
        crawls.append(run_crawler(lake, processed_crawler, progress))
        t = stage("crawl_processed", t)
    warehouse: dict[str, Any] = {"skipped": "redshift_mode = none"}
    if (lake.optional("redshift_mode") or "none") != "none":
        warehouse = load_warehouse(lake, run_id, progress)
        t = stage("warehouse", t)
    with aws_errors("measuring the processed zone"):
        fact_files, bytes_out = _prefix_stats(lake, lake.require("processed_bucket"), "sales_fact/")
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
        bytes_out=bytes_out,
        fact_files_written=fact_files,
        warehouse_rows_loaded=int(warehouse.get("rows", 0)),
        crawl={"crawls": crawls, "job": job, "scripts": uploads, "warehouse": warehouse, "run": run_id},
    )
