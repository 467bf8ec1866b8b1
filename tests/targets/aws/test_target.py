"""The aws target against moto (in-process) and botocore's Stubber where moto never finishes.

moto runs S3, the Glue catalog, crawlers and job runs, and Athena; its crawlers only finish
when its state manager says so, Athena's statistics are zero and Redshift Data API statements
never finish, so those paths are driven through `Stubber` and the SQL, parameters and polling
the code sends are asserted.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from datalake.config import Settings
from datalake.errors import AwsError, ConfigError, QueryError
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.aws.clients import Poller, aws_error, client
from datalake.targets.aws.infra import save_outputs
from datalake.targets.aws.lake import AwsLake
from datalake.targets.aws.target import AwsTarget
from tests.aws_helpers import ACCOUNT, FAKE_CREDENTIALS, REGION, create_lake_resources, lake_outputs, write_jobs_dir
from tests.conftest import END_DATE, make_target

pytestmark = pytest.mark.aws


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def s3_keys(lake: AwsLake, bucket: str, prefix: str) -> list[str]:
    return sorted(o["Key"] for o in lake.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


def fast_poller() -> Poller:
    clock = FakeClock()
    return Poller(sleep=clock.sleep, clock=clock)


class BytesProgress:
    """Records the totals and advances of each task."""

    def __init__(self) -> None:
        self.tasks: dict[str, list[float]] = {}
        self.totals: dict[str, float | None] = {}

    @contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[Any]:
        self.totals[description] = total
        advances = self.tasks.setdefault(description, [])

        class Task:
            def advance(self, amount: float = 1) -> None:
                advances.append(amount)

            def update(self, *, total: float | None = None, description: str | None = None) -> None:
                pass

        yield Task()

    def log(self, message: str) -> None:
        pass


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def iceberg_commits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """The Iceberg commits run-etl asks for: (run id, its record's outputs), each run once.

    pyarrow's S3 (pyiceberg's FileIO) cannot reach moto's in-process mock: the commits themselves are
    proven against moto's server in test_first_run; here, that run-etl hands over what the job recorded.
    """
    from datalake.targets.aws import iceberg

    asked: list[tuple[str, dict[str, Any]]] = []

    def commit_runs(lake: AwsLake, bookmark: dict[str, Any], catalog: Any = None) -> dict[str, list[str]]:
        done = {run for run, _ in asked}
        fresh = [(run, record) for run, record in iceberg._recorded_runs(bookmark) if run not in done]
        asked.extend((run, record[iceberg.OUTPUTS]) for run, record in fresh)
        return {run: ["sales_fact"] for run, _ in fresh}

    monkeypatch.setattr(iceberg, "commit_runs", commit_runs)
    monkeypatch.setattr(iceberg, "table_stats", lambda lake, catalog=None: [])
    return asked


@pytest.fixture
def target(aws_env: None, tmp_path: Path, iceberg_commits: list[Any]) -> Iterator[AwsTarget]:
    """An aws target whose outputs name resources created in moto (in-process)."""
    import boto3
    from moto import mock_aws
    from moto.moto_api import state_manager

    with mock_aws():
        outputs = lake_outputs()
        create_lake_resources(boto3.session.Session(), outputs)
        settings = Settings(lake=tmp_path / "lake", target="aws")
        save_outputs(settings.lake / "aws-outputs.json", outputs)
        tgt = AwsTarget(settings)
        tgt.lake().poller = fast_poller()
        try:
            yield tgt
        finally:
            for model in ("glue::crawl", "glue::job_run"):
                state_manager.unset_transition(model)


def stubbed(service: str) -> tuple[Any, Any]:
    from botocore.stub import Stubber

    c = client(service, Settings(region=REGION))
    return c, Stubber(c)


def stub_lake(outputs: dict[str, str], **clients: Any) -> AwsLake:
    return AwsLake(Settings(region=REGION), outputs, clients=dict(clients), poller=fast_poller())


# ---------------------------------------------------------------------------------- clients


def test_client_uses_standard_retries_region_and_endpoint(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    c = client("s3", Settings(region="eu-west-1"))
    assert c.meta.region_name == "eu-west-1"
    assert c.meta.config.retries["mode"] == "standard"
    assert c.meta.endpoint_url == "https://s3.eu-west-1.amazonaws.com"
    configured = client("glue", Settings(region="eu-west-1", endpoint_url="http://127.0.0.1:9"))
    assert configured.meta.endpoint_url == "http://127.0.0.1:9"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7")
    assert client("glue", Settings(endpoint_url="http://127.0.0.1:9")).meta.endpoint_url == "http://127.0.0.1:7"


def test_unknown_profile_is_a_clean_error(aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(AwsError, match="profile 'nope' not found"):
        client("s3", Settings(profile="nope"))


@pytest.mark.parametrize(
    ("code", "hint_word"),
    [("AccessDenied", "permission"), ("ThrottlingException", "throttling"), ("ExpiredToken", "refresh")],
)
def test_aws_error_keeps_reason_and_hints(code: str, hint_word: str) -> None:
    from botocore.exceptions import ClientError

    exc = ClientError({"Error": {"Code": code, "Message": "the reason"}}, "GetObject")
    error = aws_error(exc, "reading s3://b/k")
    assert error.message == f"reading s3://b/k: {code}: the reason"
    assert hint_word in (error.hint or "")


def test_upload_failure_keeps_the_wrapped_aws_reason() -> None:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError

    from datalake.targets.aws.clients import aws_errors

    with pytest.raises(AwsError, match="uploading: AccessDenied: Access Denied") as info, aws_errors("uploading"):
        try:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "PutObject")
        except ClientError as exc:
            raise S3UploadFailedError(f"Failed to upload: {exc}") from exc
    assert "permission" in (info.value.hint or "")


def test_missing_outputs_say_to_deploy(aws_env: None, tmp_path: Path) -> None:
    tgt = AwsTarget(Settings(lake=tmp_path / "lake", target="aws"))
    with pytest.raises(ConfigError) as info:
        tgt.seed(SeedOptions(rows=10, days=1, end_date=END_DATE))
    assert info.value.hint == "run `datalake deploy --target aws`"


def test_missing_single_output_says_to_deploy(aws_env: None) -> None:
    lake = stub_lake({"region": REGION})
    with pytest.raises(ConfigError, match="'raw_bucket'") as info:
        lake.require("raw_bucket")
    assert "deploy --target aws" in (info.value.hint or "")


def test_no_credentials_is_a_clean_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    lake = stub_lake(lake_outputs())
    with pytest.raises(AwsError, match="no AWS credentials found") as info:
        lake.client("s3")  # creating works; the first call fails
        from datalake.targets.aws.status import bucket_usage

        bucket_usage(lake)
    assert "aws configure" in (info.value.hint or "")


# ---------------------------------------------------------------------------------- seed


def _objects(s3: Any, bucket: str) -> dict[str, bytes]:
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def test_seed_uploads_the_local_files_byte_identical(target: AwsTarget, tmp_path: Path) -> None:
    opts = SeedOptions(rows=3_000, days=5, end_date=END_DATE, seed=3)
    progress = BytesProgress()
    result = target.seed(opts, progress)

    local = make_target(tmp_path / "local")
    local.deploy()
    expected_result = local.seed(opts)
    expected = {
        p.relative_to(local.layout.raw).as_posix(): p.read_bytes() for p in local.layout.raw.rglob("*") if p.is_file()
    }
    lake = target.lake()
    uploaded = _objects(lake.client("s3"), lake.require("raw_bucket"))
    assert uploaded == expected
    assert any(k.startswith("sales/year=2026/month=06/day=30/") for k in uploaded)
    assert {"customers/customers.csv", "products/products.csv", "stores/stores.csv"} <= set(uploaded)
    assert (result.rows, result.files, result.bytes) == (
        expected_result.rows,
        expected_result.files,
        expected_result.bytes,
    )
    # progress by bytes: the upload task's total is every uploaded byte, and advances add up to it
    (upload_task,) = [name for name in progress.totals if name.startswith("Uploading raw files")]
    assert progress.totals[upload_task] == sum(len(v) for v in uploaded.values())
    assert sum(progress.tasks[upload_task]) == progress.totals[upload_task]


def test_second_seed_reuses_dimensions_and_takes_the_next_batch(target: AwsTarget) -> None:
    lake = target.lake()
    s3 = lake.client("s3")
    target.seed(SeedOptions(rows=500, days=2, end_date=END_DATE))
    before = _objects(s3, lake.require("raw_bucket"))
    second = target.seed(SeedOptions(rows=400, days=2, end_date=END_DATE, seed=9))
    after = _objects(s3, lake.require("raw_bucket"))
    assert second.batch == 1
    assert second.sale_id_min == 10**10 + 1
    for dim in ("customers", "products", "stores"):
        assert after[f"{dim}/{dim}.csv"] == before[f"{dim}/{dim}.csv"]
    assert len(after) == len(before) + second.files
    manifest = json.loads(s3.get_object(Bucket=lake.require("scripts_bucket"), Key="state/seeds.json")["Body"].read())
    assert [m["batch"] for m in manifest] == [0, 1]


def test_seed_access_denied_is_one_clean_error(aws_env: None) -> None:
    s3, stub = stubbed("s3")
    stub.add_client_error(
        "head_object", service_error_code="AccessDenied", service_message="Access Denied", http_status_code=403
    )
    lake = stub_lake(lake_outputs(), s3=s3)
    with stub, pytest.raises(AwsError, match="AccessDenied") as info:
        from datalake.targets.aws.pipeline import seed

        seed(lake, SeedOptions(rows=10, days=1, end_date=END_DATE))
    assert "permission" in (info.value.hint or "")


# ---------------------------------------------------------------------------------- run-etl


def test_job_scripts_upload_only_when_changed(target: AwsTarget, tmp_path: Path) -> None:
    from datalake.targets.aws.jobs import upload_jobs

    lake = target.lake()
    jobs = write_jobs_dir(tmp_path / "jobs")
    first = upload_jobs(lake, jobs)
    assert first == {
        "customer_aggregates.py": "uploaded",
        "sales_etl.py": "uploaded",
        "transform_spec.json": "uploaded",
    }
    assert upload_jobs(lake, jobs) == dict.fromkeys(first, "unchanged")
    (jobs / "sales_etl.py").write_text("print('v2')\n")
    again = upload_jobs(lake, jobs)
    assert again["sales_etl.py"] == "uploaded" and again["transform_spec.json"] == "unchanged"
    body = lake.client("s3").get_object(Bucket=lake.require("scripts_bucket"), Key="jobs/sales_etl.py")
    assert body["Body"].read() == b"print('v2')\n"
    assert body["Metadata"]["sha256"] == hashlib.sha256(b"print('v2')\n").hexdigest()
    spec = lake.client("s3").get_object(Bucket=lake.require("scripts_bucket"), Key="jobs/transform_spec.json")
    from datalake.domain.job_spec import build

    assert json.loads(spec["Body"].read()) == json.loads(json.dumps(build()))


def test_missing_job_script_is_a_config_error(target: AwsTarget, tmp_path: Path) -> None:
    from datalake.targets.aws.jobs import upload_jobs

    with pytest.raises(ConfigError, match=r"sales_etl\.py was not found"):
        upload_jobs(target.lake(), tmp_path)


@pytest.fixture
def glue_job(target: AwsTarget) -> Iterator[list[dict[str, Any]]]:
    """Glue runs of the sales job do what jobs/sales_etl.py does (tests/aws_emulator.py); their summaries."""
    import boto3

    from tests.aws_emulator import simulate_jobs

    with simulate_jobs(lambda: boto3.client("s3", region_name=REGION)) as summaries:
        yield summaries


def test_run_etl_on_glue_drives_crawlers_and_job_to_completion(
    target: AwsTarget,
    glue_job: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    iceberg_commits: list[tuple[str, dict[str, Any]]],
) -> None:
    from moto.moto_api import state_manager

    state_manager.set_transition(model_name="glue::crawl", transition={"progression": "immediate"})
    monkeypatch.setenv("DATALAKE_JOBS_DIR", str(write_jobs_dir(tmp_path / "jobs")))
    target.seed(SeedOptions(rows=300, days=2, end_date=END_DATE))
    summary = target.run_etl(EtlOptions(engine="glue"))

    lake = target.lake()
    glue = lake.client("glue")
    assert summary.status == "completed"
    assert summary.engine == "glue"
    assert list(summary.stages) == ["upload_scripts", "crawl_raw", "job", "commit"]
    assert [c["status"] for c in summary.crawl["crawls"]] == ["COMPLETED"]  # the raw crawler only
    # the job recorded the files it wrote, per table; run-etl committed exactly those
    ((committed, outputs),) = iceberg_commits
    assert committed == summary.crawl["run"] and summary.crawl["iceberg"] == {committed: ["sales_fact"]}
    processed = lake.require("processed_bucket")
    facts = s3_keys(lake, processed, "sales_fact/")
    assert sorted(outputs["sales_fact"]) == [f"s3://{processed}/{k}" for k in facts if k.endswith(".parquet")]
    assert summary.fact_files_written == len(outputs["sales_fact"]) > 0
    for dim in ("customers", "products", "stores"):
        (version,) = outputs[dim]
        assert version.startswith(f"s3://{processed}/{dim}/_iceberg_data/run_id={committed}/")
    run = glue.get_job_run(JobName=lake.require("glue_job_name"), RunId=summary.run_id)["JobRun"]
    assert run["JobRunState"] == "SUCCEEDED"
    scripts = lake.require("scripts_bucket")
    run_prefix = f"s3://{scripts}/state/runs/{summary.crawl['run']}/"
    # the CLI's arguments over the job's defaults (Glue merges them): the pending list, the run's id and clock
    assert {k: v for k, v in run["Arguments"].items() if k not in lake.job_arguments()} == {
        "--input_list": run_prefix + "pending.txt",
        "--run_id": summary.crawl["run"],
        "--run_ts": run["Arguments"]["--run_ts"],
    }
    assert summary.files_in > 0 and summary.bytes_in > 0
    # the counts are the ones the job committed, and they add up
    assert (summary.rows_in, summary.rows_processed, summary.rows_quarantined) == tuple(
        glue_job[0][k] for k in ("rows_in", "rows_processed", "rows_quarantined")
    )
    assert summary.rows_in == 300 and summary.balanced
    assert summary.crawl["warehouse"] == {"skipped": "redshift_mode = none"}
    assert glue.get_crawler(Name=lake.require("raw_crawler_name"))["Crawler"]["State"] == "READY"
    # the job is handed exactly the pending raw files, and has bookmarked them
    s3 = lake.client("s3")
    listed = s3.get_object(Bucket=scripts, Key=f"state/runs/{summary.crawl['run']}/pending.txt")["Body"].read()
    raw_keys = [o["Key"] for o in s3.list_objects_v2(Bucket=lake.require("raw_bucket"), Prefix="sales/")["Contents"]]
    assert listed.decode().split() == sorted(f"s3://{lake.require('raw_bucket')}/{k}" for k in raw_keys)
    assert summary.files_in == len(raw_keys)
    again = target.run_etl(EtlOptions(engine="glue"))
    assert again.status == "nothing_to_do" and again.recovered == []
    assert len(glue.get_job_runs(JobName=lake.require("glue_job_name"))["JobRuns"]) == 1
    assert len(iceberg_commits) == 1

    # cost-report's measurements on aws: zones and day partitions from S3, the run from Glue + bookmark
    usage = target.measured_usage()
    raw_bytes = sum(o["Size"] for o in s3.list_objects_v2(Bucket=lake.require("raw_bucket"))["Contents"])
    assert usage.target == "aws" and usage.zones["raw"]["bytes"] == raw_bytes
    assert sorted(usage.day_partitions["raw"]) == ["2026-06-29", "2026-06-30"]
    assert sum(b for b, _ in usage.day_partitions["raw"].values()) == summary.bytes_in
    assert [r.bytes_in for r in usage.runs] == [summary.bytes_in]


def test_run_etl_on_emr_runs_the_same_job_as_a_step_and_reports_its_record(
    target: AwsTarget, glue_job: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.moto_api import state_manager

    from datalake.targets.aws.pipeline import load_bookmark

    state_manager.set_transition(model_name="glue::crawl", transition={"progression": "immediate"})
    monkeypatch.setenv("DATALAKE_JOBS_DIR", str(write_jobs_dir(tmp_path / "jobs")))
    lake = target.lake()
    cluster = lake.client("emr").run_job_flow(
        Name="lake-spark",
        ReleaseLabel="emr-7.5.0",
        Instances={"MasterInstanceType": "m5.xlarge", "InstanceCount": 1, "KeepJobFlowAliveWhenNoSteps": True},
        JobFlowRole="EMR_EC2_DefaultRole",
        ServiceRole="EMR_DefaultRole",
    )["JobFlowId"]
    lake.outputs = {**lake.outputs, "emr_cluster_id": cluster}
    seeded = target.seed(SeedOptions(rows=250, days=1, end_date=END_DATE))
    summary = target.run_etl(EtlOptions(engine="emr"))
    assert summary.status == "completed" and summary.engine == "emr"
    assert summary.run_id.startswith("s-") and summary.files_in == seeded.files
    assert summary.rows_in == 250 == summary.rows_processed + summary.rows_quarantined
    assert glue_job[0]["run_id"] == summary.crawl["run"]
    assert {entry["run_id"] for entry in load_bookmark(lake).values()} == {summary.crawl["run"]}


def test_a_job_that_reports_nothing_fails_the_run_and_leaves_its_files_pending(
    target: AwsTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto's job run succeeds and does nothing: once counted as 0 = 0 + 0 and bookmarked (defect 2)."""
    from moto.moto_api import state_manager

    from datalake.targets.aws.pipeline import load_bookmark

    state_manager.set_transition(model_name="glue::crawl", transition={"progression": "immediate"})
    monkeypatch.setenv("DATALAKE_JOBS_DIR", str(write_jobs_dir(tmp_path / "jobs")))
    target.seed(SeedOptions(rows=100, days=1, end_date=END_DATE))
    with pytest.raises(AwsError, match=r"Glue job run jr_\w+ finished but reported nothing") as info:
        target.run_etl(EtlOptions(engine="glue"))
    assert "files stay pending" in str(info.value)
    assert "CloudWatch" in (info.value.hint or "") and "jr_" in (info.value.hint or "")
    lake = target.lake()
    assert load_bookmark(lake) == {}
    # so the next run hands the job the same files again
    with pytest.raises(AwsError, match="reported nothing"):
        target.run_etl(EtlOptions(engine="glue"))
    assert len(lake.client("glue").get_job_runs(JobName=lake.require("glue_job_name"))["JobRuns"]) == 2


def test_a_job_started_like_the_workflow_trigger_consumes_exactly_the_unconsumed_files(
    target: AwsTarget, glue_job: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workflow's trigger starts the job with its default arguments only (no --input_list, defect 3)."""
    from moto.moto_api import state_manager

    from datalake.targets.aws.pipeline import load_bookmark, load_bookmark_document

    state_manager.set_transition(model_name="glue::crawl", transition={"progression": "immediate"})
    monkeypatch.setenv("DATALAKE_JOBS_DIR", str(write_jobs_dir(tmp_path / "jobs")))
    lake = target.lake()
    first = target.seed(SeedOptions(rows=200, days=1, end_date=END_DATE))
    target.run_etl(EtlOptions(engine="glue"))
    second = target.seed(SeedOptions(rows=150, days=1, end_date=END_DATE))
    assert target.status().pending_raw_files == second.files  # status reads the job's bookmark
    glue = lake.client("glue")
    glue.start_job_run(JobName=lake.require("glue_job_name"))  # what aws_glue_trigger.raw_crawled does
    scheduled = glue_job[-1]
    assert scheduled["files_in"] == second.files and scheduled["rows_in"] == 150
    assert scheduled["rows_in"] == scheduled["rows_processed"] + scheduled["rows_quarantined"]
    bookmark = load_bookmark(lake)
    assert len(bookmark) == first.files + second.files
    runs = glue.get_job_runs(JobName=lake.require("glue_job_name"))["JobRuns"]
    started = next(r["Id"] for r in runs if "--input_list" not in r.get("Arguments", {}))
    assert scheduled["run_id"] == started  # recorded under Glue's own run id (--JOB_RUN_ID)
    assert started in load_bookmark_document(lake)["runs"]
    by_run = {r["run_id"]: r for r in target.status().runs}
    assert by_run[started]["rows_in"] == 150
    # cost-report counts it among the ETL runs, with the bytes it consumed
    assert sorted(r.bytes_in for r in target.measured_usage().runs) == sorted(
        [scheduled["bytes_in"], sum(v["size"] for v in bookmark.values()) - scheduled["bytes_in"]]
    )
    # and the CLI, after it, finds nothing left to run, and commits the workflow's run to the tables
    assert target.status().pending_raw_files == 0
    after = target.run_etl(EtlOptions(engine="glue"))
    assert after.status == "nothing_to_do" and after.recovered == [started]


def test_the_cli_and_the_job_read_the_same_raw_files() -> None:
    """.jsonl and upper-case suffixes: accepted by the CLI's listing, read by the job (defect 5)."""
    from datalake.targets.aws.pipeline import is_raw_sales_file
    from tests.aws_emulator import _job_module

    job = _job_module()
    names = ["a.json", "a.jsonl", "A.JSON", "b.JSONL", "c.csv", "C.CSV", "d.parquet", "e.txt", "_x.json", ".y.csv"]
    cli = {n for n in names if is_raw_sales_file(f"sales/year=2026/month=06/day=30/{n}", 10)}
    read = {n for n in names if not n.startswith(("_", ".")) and (job.is_json(n) or job.is_csv(n))}
    assert cli == read == {"a.json", "a.jsonl", "A.JSON", "b.JSONL", "c.csv", "C.CSV"}
    listed = {
        "s3://raw/sales/year=2026/month=06/day=30/x.jsonl": 5,
        "s3://raw/sales/year=2026/month=06/day=30/Y.CSV": 7,
    }
    # a listing of named files is read unfiltered (Spark's glob filter would drop .jsonl and .CSV)
    assert job._files_only(list(listed)) and not job._files_only(["s3://raw/sales"])
    assert job.pending_files(
        listed, {"files": {"sales/year=2026/month=06/day=30/x.jsonl": {"size": 5}}}, "s3://raw/"
    ) == {"s3://raw/sales/year=2026/month=06/day=30/Y.CSV": 7}


@pytest.mark.usefixtures("short_timeouts")
def test_crawler_that_never_finishes_times_out_with_backoff(target: AwsTarget) -> None:
    """moto's crawl stays RUNNING by default (manual transition): the poller backs off, then gives up."""
    from datalake.targets.aws.glue import run_crawler

    lake = target.lake()
    lake.poller = fast_poller()
    with pytest.raises(AwsError, match="timed out after 60s waiting for the Glue crawler") as info:
        run_crawler(lake, lake.require("raw_crawler_name"))
    assert "still be running" in (info.value.hint or "")
    delays = lake.poller.delays
    assert delays[0] == 1.0 and all(b >= a for a, b in itertools.pairwise(delays))
    assert max(delays) <= 15.0
    assert sum(delays) <= 60


@pytest.fixture
def short_timeouts(target: AwsTarget) -> None:
    from datalake.targets.aws.lake import Timeouts

    target.lake().timeouts = Timeouts(crawler=60, job=60, query=60, statement=60)


def test_crawler_failure_carries_the_crawl_error(aws_env: None) -> None:
    glue, stub = stubbed("glue")
    name = lake_outputs()["raw_crawler_name"]
    stub.add_response("get_crawler", {"Crawler": {"Name": name, "State": "READY"}}, {"Name": name})
    stub.add_response("start_crawler", {}, {"Name": name})
    running = {"Crawler": {"Name": name, "State": "RUNNING", "LastCrawl": {"Status": "SUCCEEDED", "StartTime": 1}}}
    stub.add_response("get_crawler", running, {"Name": name})
    failed = {
        "Crawler": {
            "Name": name,
            "State": "READY",
            "LastCrawl": {
                "Status": "FAILED",
                "ErrorMessage": "Insufficient Lake Formation permission",
                "StartTime": 2,
                "LogGroup": "/aws-glue/crawlers",
                "LogStream": name,
            },
        }
    }
    stub.add_response("get_crawler", failed, {"Name": name})
    lake = stub_lake(lake_outputs(), glue=glue)
    from datalake.targets.aws.glue import run_crawler

    with stub, pytest.raises(AwsError, match="last crawl FAILED: Insufficient Lake Formation permission") as info:
        run_crawler(lake, name)
    assert "/aws-glue/crawlers" in (info.value.hint or "")
    assert lake.poller.delays == [1.0]
    stub.assert_no_pending_responses()


def test_crawler_accepts_succeeded(aws_env: None) -> None:
    glue, stub = stubbed("glue")
    name = "c"
    stub.add_response(
        "get_crawler",
        {"Crawler": {"Name": name, "State": "READY", "LastCrawl": {"Status": "SUCCEEDED", "StartTime": 1}}},
        {"Name": name},
    )
    stub.add_client_error("start_crawler", service_error_code="CrawlerRunningException", service_message="running")
    stub.add_response(
        "get_crawler",
        {"Crawler": {"Name": name, "State": "READY", "LastCrawl": {"Status": "SUCCEEDED", "StartTime": 5}}},
        {"Name": name},
    )
    from datalake.targets.aws.glue import run_crawler

    with stub:
        assert run_crawler(stub_lake(lake_outputs(), glue=glue), name)["status"] == "SUCCEEDED"


def test_glue_job_failure_carries_message_and_log_location(aws_env: None) -> None:
    glue, stub = stubbed("glue")
    outputs = lake_outputs()
    job = outputs["glue_job_name"]
    spec = f"s3://{outputs['scripts_bucket']}/jobs/transform_spec.json"
    stub.add_response("start_job_run", {"JobRunId": "jr_1"}, {"JobName": job, "Arguments": {"--spec_path": spec}})
    params = {"JobName": job, "RunId": "jr_1", "PredecessorsIncluded": False}
    stub.add_response("get_job_run", {"JobRun": {"Id": "jr_1", "JobRunState": "RUNNING"}}, params)
    stub.add_response("get_job_run", {"JobRun": {"Id": "jr_1", "JobRunState": "RUNNING"}}, params)
    failed = {
        "Id": "jr_1",
        "JobRunState": "FAILED",
        "ErrorMessage": "AnalysisException: Path does not exist",
        "LogGroupName": "/aws-glue/dl/jobs",
    }
    stub.add_response("get_job_run", {"JobRun": failed}, params)
    lake = stub_lake(outputs, glue=glue)
    from datalake.targets.aws.glue import run_glue_job

    with stub, pytest.raises(AwsError, match="run jr_1 FAILED: AnalysisException: Path does not exist") as info:
        run_glue_job(lake)
    assert "/aws-glue/dl/jobs" in (info.value.hint or "") and "jr_1" in (info.value.hint or "")
    assert lake.poller.delays == [1.0, 1.6]


def test_glue_job_timeout(aws_env: None) -> None:
    from datalake.targets.aws.lake import Timeouts

    glue, stub = stubbed("glue")
    outputs = lake_outputs()
    stub.add_response("start_job_run", {"JobRunId": "jr_2"})
    for _ in range(20):
        stub.add_response("get_job_run", {"JobRun": {"Id": "jr_2", "JobRunState": "RUNNING"}})
    lake = stub_lake(outputs, glue=glue)
    lake.timeouts = Timeouts(job=10)
    from datalake.targets.aws.glue import run_glue_job

    with stub, pytest.raises(AwsError, match="timed out after 10s waiting for Glue job run jr_2"):
        run_glue_job(lake)


def test_emr_step_sends_the_spark_job_and_waits(aws_env: None) -> None:
    emr, stub = stubbed("emr")
    outputs = lake_outputs() | {"emr_cluster_id": "j-ABC"}
    from botocore.stub import ANY

    from datalake.targets.aws.emr import run_emr_step

    stub.add_response("add_job_flow_steps", {"StepIds": ["s-1"]}, {"JobFlowId": "j-ABC", "Steps": ANY})
    stub.add_response(
        "describe_step",
        {"Step": {"Id": "s-1", "Status": {"State": "RUNNING"}}},
        {"ClusterId": "j-ABC", "StepId": "s-1"},
    )
    stub.add_response(
        "describe_step",
        {"Step": {"Id": "s-1", "Status": {"State": "COMPLETED"}}},
        {"ClusterId": "j-ABC", "StepId": "s-1"},
    )
    sent: list[dict[str, Any]] = []
    emr.meta.events.register("provide-client-params.emr.AddJobFlowSteps", lambda params, **_: sent.append(params))
    lake = stub_lake(outputs, emr=emr)
    with stub:
        assert run_emr_step(lake) == {"cluster": "j-ABC", "step_id": "s-1", "state": "COMPLETED"}
    step = sent[0]["Steps"][0]
    args = step["HadoopJarStep"]["Args"]
    assert step["HadoopJarStep"]["Jar"] == "command-runner.jar"
    assert args[:4] == [
        "spark-submit",
        "--deploy-mode",
        "cluster",
        f"s3://{outputs['scripts_bucket']}/jobs/sales_etl.py",
    ]
    pairs = dict(zip(args[4::2], args[5::2], strict=True))
    assert pairs["--raw_path"] == f"s3://{outputs['raw_bucket']}/"
    assert pairs["--quarantine_path"] == f"s3://{outputs['processed_bucket']}/quarantine/"
    assert pairs["--spec_path"].endswith("/jobs/transform_spec.json")


def test_emr_step_failure_carries_reason_and_log(aws_env: None) -> None:
    emr, stub = stubbed("emr")
    details = {
        "Reason": "Unknown error",
        "Message": "Exception in thread main: FileNotFound",
        "LogFile": "s3://logs/emr/j-ABC/steps/s-1/",
    }
    stub.add_response("add_job_flow_steps", {"StepIds": ["s-1"]})
    stub.add_response(
        "describe_step", {"Step": {"Id": "s-1", "Status": {"State": "FAILED", "FailureDetails": details}}}
    )
    from datalake.targets.aws.emr import run_emr_step

    with stub, pytest.raises(AwsError, match="s-1 on j-ABC FAILED: Exception in thread main: FileNotFound") as info:
        run_emr_step(stub_lake(lake_outputs() | {"emr_cluster_id": "j-ABC"}, emr=emr))
    assert "s3://logs/emr/j-ABC/steps/s-1/" in (info.value.hint or "")


def test_emr_without_cluster_is_a_config_error(aws_env: None) -> None:
    from datalake.targets.aws.emr import run_emr_step

    with pytest.raises(ConfigError, match="no EMR cluster"):
        run_emr_step(stub_lake(lake_outputs()))


def test_warehouse_load_copies_parquet_through_the_data_api(
    target: AwsTarget, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Manifests of the Iceberg tables' current files in S3 (moto), COPY statements to Redshift (Stubber)."""
    from botocore.stub import ANY

    from datalake.targets.aws import iceberg
    from datalake.targets.aws.redshift import load_warehouse

    current = {  # the tables' current snapshots (pyiceberg's planning is proven in test_first_run)
        "sales_fact": [
            ("sales_fact/year=2026/month=6/part-0.parquet", 12),
            ("sales_fact/year=2026/month=7/part-0.parquet", 12),
        ],
        "customers": [("customers/_iceberg_data/run_id=r2/part-0.parquet", 12)],
        "products": [],
        "stores": [],
    }
    monkeypatch.setattr(iceberg, "current_files", lambda lake, names, catalog=None: {n: current[n] for n in names})

    lake = target.lake()
    outputs = dict(lake.outputs) | {
        "redshift_mode": "serverless",
        "redshift_workgroup": "dl-wg",
        "redshift_database": "lake",
    }
    s3 = lake.client("s3")
    processed = outputs["processed_bucket"]
    for key in (
        "sales_fact/year=2026/month=6/part-0.parquet",
        "sales_fact/year=2026/month=7/part-0.parquet",
        "sales_fact/year=2026/month=8/part-uncommitted.parquet",  # written by a run not committed: not loaded
        "customers/_iceberg_data/run_id=r1/part-0.parquet",  # an older version: not loaded
        "customers/_iceberg_data/run_id=r2/part-0.parquet",
    ):
        s3.put_object(Bucket=processed, Key=key, Body=b"PAR1....PAR1")
    s3.put_object(Bucket=processed, Key="sales_fact/_SUCCESS", Body=b"")
    rsd, stub = stubbed("redshift-data")
    sent: list[dict[str, Any]] = []
    rsd.meta.events.register(
        "provide-client-params.redshift-data.BatchExecuteStatement", lambda params, **_: sent.append(params)
    )
    stub.add_response(
        "batch_execute_statement", {"Id": "b-1"}, {"Sqls": ANY, "WorkgroupName": "dl-wg", "Database": "lake"}
    )
    stub.add_response("describe_statement", {"Id": "b-1", "Status": "STARTED"}, {"Id": "b-1"})
    stub.add_response("describe_statement", {"Id": "b-1", "Status": "FINISHED", "HasResultSet": False}, {"Id": "b-1"})
    stub.add_response(
        "execute_statement",
        {"Id": "c-1"},
        {"Sql": "SELECT count(*) FROM sales_fact_redshift", "WorkgroupName": "dl-wg", "Database": "lake"},
    )
    stub.add_response("describe_statement", {"Id": "c-1", "Status": "FINISHED", "HasResultSet": True}, {"Id": "c-1"})
    stub.add_response(
        "get_statement_result",
        {
            "Records": [[{"longValue": 1234}]],
            "ColumnMetadata": [{"name": "count", "typeName": "int8"}],
            "TotalNumRows": 1,
        },
        {"Id": "c-1"},
    )
    aws_lake = AwsLake(lake.settings, outputs, clients={"s3": s3, "redshift-data": rsd}, poller=fast_poller())
    with stub:
        loaded = load_warehouse(aws_lake, "20260701T120000")
    assert loaded == {"files": 3, "rows": 1234, "tables": ["customers", "sales_fact_redshift"]}
    sqls = sent[0]["Sqls"]
    role = outputs["redshift_copy_role_arn"]
    manifest_url = f"s3://{processed}/_staging/copy-manifests/20260701T120000/sales_fact_redshift.manifest"
    assert f"COPY sales_fact_staging FROM '{manifest_url}' IAM_ROLE '{role}' FORMAT AS PARQUET MANIFEST" in sqls
    assert "DELETE FROM sales_fact_redshift" in sqls
    assert not any(s.startswith("TRUNCATE") for s in sqls)  # TRUNCATE would commit mid-transaction
    insert = next(s for s in sqls if s.startswith("INSERT INTO sales_fact_redshift"))
    assert "EXTRACT(year FROM sale_date)::INTEGER" in insert and insert.endswith("ORDER BY sale_date, region")
    assert sqls.index("DELETE FROM customers") < next(i for i, s in enumerate(sqls) if s.startswith("COPY customers"))
    manifest = json.loads(s3.get_object(Bucket=processed, Key=manifest_url.split("/", 3)[3])["Body"].read())
    assert [e["url"] for e in manifest["entries"]] == [
        f"s3://{processed}/sales_fact/year=2026/month=6/part-0.parquet",
        f"s3://{processed}/sales_fact/year=2026/month=7/part-0.parquet",
    ]
    assert manifest["entries"][0]["meta"] == {"content_length": 12}
    key = "_staging/copy-manifests/20260701T120000/customers.manifest"
    customers = json.loads(s3.get_object(Bucket=processed, Key=key)["Body"].read())
    assert [e["url"] for e in customers["entries"]] == [
        f"s3://{processed}/customers/_iceberg_data/run_id=r2/part-0.parquet"
    ]


# ---------------------------------------------------------------------------------- queries


def test_athena_query_in_moto_returns_typed_rows(target: AwsTarget) -> None:
    from moto.moto_api._internal.models import moto_api_backend

    columns = [("region", "varchar"), ("sales", "bigint"), ("revenue", "decimal"), ("first_day", "date")]
    rows = [
        {"Data": [{"VarCharValue": name} for name, _ in columns]},
        {
            "Data": [
                {"VarCharValue": "West"},
                {"VarCharValue": "12"},
                {"VarCharValue": "1234.50"},
                {"VarCharValue": "2026-06-01"},
            ]
        },
        {"Data": [{"VarCharValue": "East"}, {"VarCharValue": "3"}, {}, {"VarCharValue": "2026-06-02"}]},
    ]
    moto_api_backend.set_athena_result(
        rows=rows,
        column_info=[
            {
                "Name": n,
                "Label": n,
                "Type": t,
                "CatalogName": "hive",
                "SchemaName": "",
                "TableName": "",
                "Nullable": "UNKNOWN",
                "CaseSensitive": False,
            }
            for n, t in columns
        ],
        account_id=ACCOUNT,
        region=REGION,
    )
    with target.query_engine("athena") as engine:
        result = engine.execute("SELECT region, count(*) AS sales FROM sales_fact GROUP BY 1")
    assert result.columns == ["region", "sales", "revenue", "first_day"]
    assert result.rows == [("West", 12, Decimal("1234.50"), date(2026, 6, 1)), ("East", 3, None, date(2026, 6, 2))]
    athena = target.lake().client("athena")
    execution = athena.get_query_execution(QueryExecutionId=result.stats["query_execution_id"])["QueryExecution"]
    assert execution["WorkGroup"] == target.lake().require("athena_workgroup")
    assert execution["QueryExecutionContext"]["Database"] == "dl_test"
    assert execution["Query"] == result.sql


def test_athena_raw_engine_renames_to_the_raw_tables(target: AwsTarget) -> None:
    engine = target.query_engine("athena-raw")
    assert engine.translate("SELECT count(*) FROM sales s JOIN customers c ON s.customer_id = c.customer_id") == (
        "SELECT COUNT(*) FROM raw_sales AS s JOIN raw_customers AS c ON s.customer_id = c.customer_id"
    )


def test_athena_paginates_and_reads_statistics(aws_env: None) -> None:
    athena, stub = stubbed("athena")
    outputs = lake_outputs()
    from botocore.stub import ANY

    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q-1"},
        {
            "QueryString": ANY,
            "QueryExecutionContext": {"Database": "dl_test"},
            "WorkGroup": outputs["athena_workgroup"],
        },
    )
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"QueryExecutionId": "q-1", "Status": {"State": "QUEUED"}}},
        {"QueryExecutionId": "q-1"},
    )
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"QueryExecutionId": "q-1", "Status": {"State": "RUNNING"}}},
        {"QueryExecutionId": "q-1"},
    )
    done = {
        "QueryExecutionId": "q-1",
        "StatementType": "DML",
        "Status": {"State": "SUCCEEDED"},
        "Statistics": {
            "DataScannedInBytes": 52_428_800,
            "EngineExecutionTimeInMillis": 812,
            "TotalExecutionTimeInMillis": 900,
        },
    }
    stub.add_response("get_query_execution", {"QueryExecution": done}, {"QueryExecutionId": "q-1"})
    meta = {"ColumnInfo": [{"Name": "n", "Type": "integer"}, {"Name": "ok", "Type": "boolean"}]}
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "Rows": [
                    {"Data": [{"VarCharValue": "n"}, {"VarCharValue": "ok"}]},
                    {"Data": [{"VarCharValue": "1"}, {"VarCharValue": "true"}]},
                ],
                "ResultSetMetadata": meta,
            },
            "NextToken": "t2",
        },
        {"QueryExecutionId": "q-1"},
    )
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "Rows": [{"Data": [{"VarCharValue": "2"}, {"VarCharValue": "false"}]}],
                "ResultSetMetadata": meta,
            }
        },
        {"QueryExecutionId": "q-1", "NextToken": "t2"},
    )
    from datalake.targets.aws.engines import AthenaEngine

    lake = stub_lake(outputs, athena=athena)
    with stub:
        result = AthenaEngine(lake).execute("SELECT n, ok FROM t")
    assert result.rows == [(1, True), (2, False)]
    assert result.stats["data_scanned_bytes"] == 52_428_800
    assert result.stats["engine_ms"] == 812
    assert lake.poller.delays == [1.0, 1.6]


def test_athena_without_a_scan_statistic_reports_unknown_not_zero(aws_env: None) -> None:
    athena, stub = stubbed("athena")
    outputs = lake_outputs()
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-9"})
    done = {
        "QueryExecutionId": "q-9",
        "StatementType": "DML",
        "Status": {"State": "SUCCEEDED"},
        "Statistics": {"EngineExecutionTimeInMillis": 40},  # no DataScannedInBytes
    }
    stub.add_response("get_query_execution", {"QueryExecution": done})
    meta = {"ColumnInfo": [{"Name": "n", "Type": "integer"}]}
    rows = [{"Data": [{"VarCharValue": "n"}]}, {"Data": [{"VarCharValue": "7"}]}]
    stub.add_response("get_query_results", {"ResultSet": {"Rows": rows, "ResultSetMetadata": meta}})
    from datalake.targets.aws.engines import AthenaEngine

    with stub:
        result = AthenaEngine(stub_lake(outputs, athena=athena)).measure("SELECT n FROM t")
    assert result.rows == [(7,)]
    assert result.stats["data_scanned_bytes"] is None and result.stats["bytes_scanned"] is None
    assert result.stats["engine_ms"] == 40 and result.stats["total_ms"] is None
    assert "unknown" in result.stats["method"]


def test_athena_usage_with_a_query_lacking_statistics_is_unknown(aws_env: None) -> None:
    athena, stub = stubbed("athena")
    outputs = lake_outputs()
    stub.add_response("list_query_executions", {"QueryExecutionIds": ["q-1", "q-2"]})
    executions = [
        {"QueryExecutionId": "q-1", "Status": {"State": "SUCCEEDED"}, "Statistics": {"DataScannedInBytes": 100}},
        {"QueryExecutionId": "q-2", "Status": {"State": "SUCCEEDED"}, "Statistics": {}},
    ]
    stub.add_response("batch_get_query_execution", {"QueryExecutions": executions})
    from datalake.targets.aws.status import athena_usage

    with stub:
        usage = athena_usage(stub_lake(outputs, athena=athena))
    assert usage["queries"] == 2
    assert usage["data_scanned_bytes"] is None and usage["engine_ms"] is None


def test_athena_failed_query_carries_athenas_reason(aws_env: None) -> None:
    athena, stub = stubbed("athena")
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-2"})
    status = {
        "State": "FAILED",
        "StateChangeReason": "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.dl_test.nope' does not exist",
    }
    stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q-2", "Status": status}})
    from datalake.targets.aws.engines import AthenaEngine

    with stub, pytest.raises(QueryError, match="q-2 FAILED: TABLE_NOT_FOUND"):
        AthenaEngine(stub_lake(lake_outputs(), athena=athena)).execute("SELECT * FROM nope")


@pytest.mark.parametrize("mode", ["serverless", "provisioned"])
def test_redshift_engine_through_the_data_api(aws_env: None, mode: str) -> None:
    rsd, stub = stubbed("redshift-data")
    outputs = lake_outputs(redshift_mode=mode)
    where = (
        {"WorkgroupName": outputs["redshift_workgroup"]}
        if mode == "serverless"
        else {"ClusterIdentifier": outputs["redshift_cluster_id"], "SecretArn": outputs["redshift_secret_arn"]}
    )
    sql = "SELECT region, sum(total_amount) AS revenue, max(sale_date) AS last FROM sales_fact_redshift GROUP BY region"
    from datalake.domain.sql import translate

    stub.add_response(
        "execute_statement", {"Id": "s-1"}, {"Sql": translate(sql, "redshift"), "Database": "lake", **where}
    )
    stub.add_response("describe_statement", {"Id": "s-1", "Status": "SUBMITTED"}, {"Id": "s-1"})
    stub.add_response(
        "describe_statement",
        {"Id": "s-1", "Status": "FINISHED", "HasResultSet": True, "Duration": 42_000_000, "ResultRows": 2},
        {"Id": "s-1"},
    )
    meta = [
        {"name": "region", "typeName": "varchar"},
        {"name": "revenue", "typeName": "numeric"},
        {"name": "last", "typeName": "date"},
    ]
    stub.add_response(
        "get_statement_result",
        {
            "Records": [[{"stringValue": "West"}, {"stringValue": "10.50"}, {"stringValue": "2026-06-30"}]],
            "ColumnMetadata": meta,
            "NextToken": "p2",
        },
        {"Id": "s-1"},
    )
    stub.add_response(
        "get_statement_result",
        {
            "Records": [[{"stringValue": "East"}, {"isNull": True}, {"stringValue": "2026-06-29"}]],
            "ColumnMetadata": meta,
        },
        {"Id": "s-1", "NextToken": "p2"},
    )
    from datalake.targets.aws.engines import RedshiftEngine

    with stub:
        result = RedshiftEngine(stub_lake(outputs, **{"redshift-data": rsd})).execute(sql)
    assert result.rows == [("West", Decimal("10.50"), date(2026, 6, 30)), ("East", None, date(2026, 6, 29))]
    assert result.stats == {"statement_id": "s-1", "duration_ms": 42, "result_rows": 2}


def test_redshift_failed_statement_carries_the_error(aws_env: None) -> None:
    rsd, stub = stubbed("redshift-data")
    stub.add_response("execute_statement", {"Id": "s-9"})
    stub.add_response(
        "describe_statement", {"Id": "s-9", "Status": "FAILED", "Error": 'ERROR: relation "nope" does not exist'}
    )
    from datalake.targets.aws.engines import RedshiftEngine

    with stub, pytest.raises(QueryError, match='s-9 FAILED: ERROR: relation "nope" does not exist'):
        RedshiftEngine(stub_lake(lake_outputs("serverless"), **{"redshift-data": rsd})).execute("SELECT * FROM nope")


def test_redshift_needs_a_deployed_warehouse(aws_env: None) -> None:
    from datalake.targets.aws.engines import RedshiftEngine

    with pytest.raises(ConfigError, match="redshift_mode = none"):
        RedshiftEngine(stub_lake(lake_outputs("none")))


# ---------------------------------------------------------------------------------- status and usage


def test_status_reports_buckets_storage_classes_crawlers_jobs_and_partitions(target: AwsTarget) -> None:
    lake = target.lake()
    s3, glue = lake.client("s3"), lake.client("glue")
    target.seed(SeedOptions(rows=200, days=2, end_date=END_DATE))
    s3.put_object(
        Bucket=lake.require("archive_bucket"), Key="sales/old.json", Body=b"x" * 100, StorageClass="GLACIER_IR"
    )
    s3.put_object(Bucket=lake.require("archive_bucket"), Key="sales/new.json", Body=b"y" * 10)
    table = {
        "Name": "sales_fact",
        "PartitionKeys": [{"Name": "year", "Type": "int"}, {"Name": "month", "Type": "int"}],
        "StorageDescriptor": {"Location": "s3://p/sales_fact/", "Columns": [{"Name": "sale_id", "Type": "bigint"}]},
        "Parameters": {"classification": "parquet", "recordCount": "200"},
    }
    glue.create_table(DatabaseName="dl_test", TableInput=table)
    for month in ("6", "7"):
        glue.create_partition(
            DatabaseName="dl_test",
            TableName="sales_fact",
            PartitionInput={
                "Values": ["2026", month],
                "StorageDescriptor": {"Location": f"s3://p/sales_fact/year=2026/month={month}/"},
            },
        )
    glue.start_job_run(JobName=lake.require("glue_job_name"))

    info = target.status()
    raw_objects = s3.list_objects_v2(Bucket=lake.require("raw_bucket"))["KeyCount"]
    assert info.zones["raw"]["files"] == raw_objects
    assert info.extra["storage_classes"]["archive"] == {
        "GLACIER_IR": {"objects": 1, "bytes": 100},
        "STANDARD": {"objects": 1, "bytes": 10},
    }
    assert info.zones["processed"] == {"files": 0, "bytes": 0}
    (fact,) = [t for t in info.tables if t["table"] == "sales_fact"]
    assert (fact["partitions"], fact["format"], fact["rows"]) == (2, "parquet", 200)
    assert [c["state"] for c in info.extra["crawlers"]] == ["READY"]  # the raw crawler: processed is Iceberg
    assert info.runs[0]["status"] == "SUCCEEDED" and info.runs[0]["engine"] == "glue"
    usage = target.usage()
    assert usage["storage"]["archive"] == {"GLACIER_IR": 100, "STANDARD": 10}
    assert usage["jobs"][0]["seconds"] == 123  # moto's fixed ExecutionTime
    assert usage["athena"] == {
        "workgroup": lake.require("athena_workgroup"),
        "queries": 0,
        "data_scanned_bytes": 0,
        "engine_ms": 0,
    }


# ---------------------------------------------------------------------------------- run-job, --wait


def test_run_job_customer_aggregates_runs_the_deployed_glue_job_and_catalogs_it(
    target: AwsTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATALAKE_JOBS_DIR", str(write_jobs_dir(tmp_path / "jobs")))
    lake = target.lake()
    s3, glue = lake.client("s3"), lake.client("glue")
    processed = lake.require("processed_bucket")
    s3.put_object(Bucket=processed, Key="sales_fact/year=2026/month=6/part-0.parquet", Body=b"PAR1")
    # moto never runs the script: stand in for the Parquet file the job writes
    s3.put_object(Bucket=processed, Key="aggregates/customer_aggregates/part-0.parquet", Body=b"PAR1" * 10)
    s3.put_object(Bucket=processed, Key="aggregates/customer_aggregates/_SUCCESS", Body=b"")

    result = target.run_job("customer_aggregates")

    location = f"s3://{processed}/aggregates/customer_aggregates/"
    (table,) = result.tables
    assert (result.job, result.engine) == ("customer_aggregates", "glue")
    assert (table["table"], table["location"], table["files"], table["bytes"]) == (
        "customer_aggregates",
        location,
        1,
        40,
    )
    assert table["rows"] is None  # the job reports no count: none is claimed
    (run,) = glue.get_job_runs(JobName=lake.require("aggregates_job_name"))["JobRuns"]
    assert run["Id"] == table["glue_run_id"] and run["JobRunState"] == "SUCCEEDED"
    assert run["Arguments"]["--output_path"] == location
    assert run["Arguments"]["--processed_path"] == f"s3://{processed}/"
    assert s3.head_object(Bucket=lake.require("scripts_bucket"), Key="jobs/customer_aggregates.py")
    registered = glue.get_table(DatabaseName="dl_test", Name="customer_aggregates")["Table"]
    assert registered["StorageDescriptor"]["Location"] == location
    types = {c["Name"]: c["Type"] for c in registered["StorageDescriptor"]["Columns"]}
    assert types["customer_id"] == "bigint" and types["lifetime_value"] == "decimal(18,2)"
    assert types["rfm_segment"] == "string" and types["first_purchase"] == "date"
    assert target.run_job("customer_aggregates").tables[0]["catalog"] == "updated"


def test_run_job_on_aws_needs_processed_sales_and_a_known_job(target: AwsTarget) -> None:
    from datalake.errors import InputError

    with pytest.raises(InputError, match="the processed zone has no sales yet"):
        target.run_job("customer_aggregates")
    with pytest.raises(InputError, match=r"no Glue job runs jobs/nope\.py") as info:
        target.run_job("nope")
    assert info.value.hint == "choose sales_etl or customer_aggregates"


def test_run_etl_wait_is_refused_on_aws_before_anything_runs(target: AwsTarget) -> None:
    from datalake.errors import UsageError

    with pytest.raises(UsageError, match="run-etl --wait` is not available on the aws target"):
        target.run_etl(EtlOptions(engine="glue", wait=30))
    assert target.lake().client("glue").get_job_runs(JobName=target.lake().require("glue_job_name"))["JobRuns"] == []
