"""The first real AWS run: the real infra/ applied by the real Terraform into the emulator (moto's
server over TLS, tests/aws_emulator.py), then the CLI end to end on its outputs, as a user runs it.

Each command runs in its own process. The operator's S3 calls are allowed only by the operator
policy as Terraform applied it, the Glue job's only by the job role's, and every bucket policy is
evaluated with the request's real TLS context: a path the code uses that a role may not touch
fails here with AccessDenied, as on AWS. The permission test then checks the other way round:
every S3 grant is used by some call, or is a documented service requirement.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.aws_emulator import ACCOUNT, REGION, Emulator, S3Request, emulator, evaluate, simulate_jobs
from tests.conftest import END_DATE
from tests.paths import REPO

pytestmark = pytest.mark.aws

OPERATOR, DEPLOYER, GLUE_JOB = "operator-key", "deployer-key", "glue-job-key"
TFVARS = 'account_id = "123456789012"\nredshift_mode = "none"\nforce_destroy = true\n'
MIRROR = Path(os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins"))


def _policies(emu: Emulator, outputs: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Principal -> policy documents, as the emulator's IAM holds them after the apply."""
    iam = emu.client("iam", DEPLOYER)

    def role(arn: str) -> list[dict[str, Any]]:
        name = arn.rsplit("/", 1)[-1]
        docs = [
            iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
            for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
        ]
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            docs.append(managed(attached["PolicyArn"]))
        return [json.loads(d) if isinstance(d, str) else d for d in docs]

    def managed(arn: str) -> dict[str, Any]:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        return json.loads(document) if isinstance(document, str) else dict(document)

    return {
        "operator": [managed(outputs["operator_policy_arn"])],
        "glue_job": role(outputs["glue_job_role_arn"]),
        "emr_job": role(outputs["emr_job_role_arn"]),
        "glue_crawler": role(outputs["glue_crawler_role_arn"]),
        "redshift_copy": role(outputs["redshift_copy_role_arn"]),
    }


def _queue_athena_result(emu: Emulator) -> None:
    body = {
        "region": REGION,
        "results": [
            {
                "rows": [
                    {"Data": [{"VarCharValue": "region"}, {"VarCharValue": "sales"}]},
                    {"Data": [{"VarCharValue": "West"}, {"VarCharValue": "812"}]},
                ],
                "column_info": [
                    {"Name": "region", "Label": "region", "Type": "varchar", "Nullable": "UNKNOWN"},
                    {"Name": "sales", "Label": "sales", "Type": "bigint", "Nullable": "UNKNOWN"},
                ],
            }
        ],
    }
    request = urllib.request.Request(
        emu.endpoint + "/moto-api/static/athena/query-results",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    context = ssl.create_default_context(cafile=str(emu.ca_bundle))
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        assert response.status in (200, 201)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """deploy -> seed -> run-etl (twice) -> query -> status -> cost-report -> destroy, on the real infra/."""
    from moto.moto_api import state_manager

    if not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.fail(f"no AWS provider mirror at {MIRROR}: the machine image ships one (set TF_PLUGIN_DIR)")
    work = tmp_path_factory.mktemp("first-run")
    (work / "terraformrc").write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{MIRROR}"\n  }}\n}}\n'
    )
    (work / "emulator.tfvars").write_text(TFVARS)
    lake = work / "lake"
    ran: dict[str, Any] = {"work": work, "lake": lake}
    state_manager.set_transition(model_name="glue::crawl", transition={"progression": "immediate"})
    try:
        with emulator() as emu, simulate_jobs(lambda: emu.client("s3", GLUE_JOB)) as job_summaries:
            base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DATALAKE_", "TF_"))}
            base |= {
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ENDPOINT_URL": emu.endpoint,
                "AWS_CA_BUNDLE": str(emu.ca_bundle),
                "SSL_CERT_FILE": str(emu.ca_bundle),  # pyarrow's S3 (pyiceberg's FileIO) reads no AWS_CA_BUNDLE
                "AWS_SHARED_CREDENTIALS_FILE": str(work / "no-credentials"),
                "AWS_CONFIG_FILE": str(work / "no-config"),
                "TF_CLI_CONFIG_FILE": str(work / "terraformrc"),
                "PYTHONPATH": str(REPO),
            }

            def datalake(*args: str, key: str = OPERATOR) -> subprocess.CompletedProcess[str]:
                command = [sys.executable, "-m", "datalake.cli.app", *args, "--target", "aws", "--lake", str(lake)]
                return subprocess.run(
                    command,
                    env=base | {"AWS_ACCESS_KEY_ID": key},
                    cwd=work,
                    capture_output=True,
                    text=True,
                    timeout=900,
                )

            tfvars = str(work / "emulator.tfvars")
            ran["deploy"] = datalake("deploy", "--var-file", tfvars, "--yes", "--json", key=DEPLOYER)
            assert ran["deploy"].returncode == 0, ran["deploy"].stdout[-2000:] + ran["deploy"].stderr[-3000:]
            outputs = json.loads((lake / "aws-outputs.json").read_text())["outputs"]
            ran["outputs"] = outputs
            ran["policies"] = policies = _policies(emu, outputs)
            emu.enforce(OPERATOR, policies["operator"])
            emu.enforce(GLUE_JOB, policies["glue_job"])
            emu.requests.clear()  # what Terraform did is the deployer's; from here on, the run's calls

            ran["seed"] = datalake("seed", "--rows", "3000", "--days", "3", "--end-date", str(END_DATE), "--json")
            ran["run_etl"] = datalake("run-etl", "--json")
            ran["history1"] = datalake("history", "sales_fact", "--json")
            ran["rerun"] = datalake("run-etl", "--json")
            ran["history_rerun"] = datalake("history", "sales_fact", "--json")
            ran["seed2"] = datalake("seed", "--rows", "1000", "--days", "1", "--end-date", str(END_DATE), "--json")
            ran["run_etl2"] = datalake("run-etl", "--json")
            ran["history2"] = datalake("history", "sales_fact", "--json")
            # the Glue workflow's trigger starts the job with Terraform's default arguments only
            ran["seed3"] = datalake("seed", "--rows", "500", "--days", "1", "--end-date", str(END_DATE), "--json")
            glue = emu.client("glue", DEPLOYER)
            ran["scheduled"] = glue.start_job_run(JobName=outputs["glue_job_name"])["JobRunId"]
            ran["scheduled_arguments"] = glue.get_job_run(JobName=outputs["glue_job_name"], RunId=ran["scheduled"])[
                "JobRun"
            ]["Arguments"]
            ran["run_etl3"] = datalake("run-etl", "--json")
            ran["history3"] = datalake("history", "sales_fact", "--json")
            ran["history_dimension"] = datalake("history", "customers", "--json")
            ran["history_unknown"] = datalake("history", "no_such_table", "--json")
            _queue_athena_result(emu)
            ran["query"] = datalake(
                "query", "SELECT region, count(*) AS sales FROM sales_fact GROUP BY region", "--json"
            )
            first = json.loads(ran["history3"].stdout)["snapshots"][0]
            join = "SELECT count(*) AS n FROM sales_fact f JOIN customers c ON f.customer_id = c.customer_id"
            ran["as_of_id"] = datalake("query", join, "--as-of", str(first["snapshot_id"]), "--json")
            ran["as_of_time"] = datalake("query", join, "--as-of", first["committed_at"], "--json")
            ran["as_of_early"] = datalake("query", join, "--as-of", "2000-01-01T00:00:00Z", "--json")
            ran["pyiceberg"] = _read_with_pyiceberg(
                json.loads(ran["deploy"].stdout), base | {"AWS_ACCESS_KEY_ID": OPERATOR}
            )
            ran["status"] = datalake("status", "--json")
            ran["cost"] = datalake("cost-report", "--json")
            s3 = emu.client("s3", DEPLOYER)
            ran["objects"] = {
                role: [o["Key"] for o in s3.list_objects_v2(Bucket=outputs[f"{role}_bucket"]).get("Contents", [])]
                for role in ("raw", "processed", "scripts")
            }
            ran["requests"] = list(emu.requests)
            ran["job_summaries"] = list(job_summaries)
            ran["plain_http"] = _plain_http_status(outputs["raw_bucket"])
            ran["destroy"] = datalake("destroy", "--var-file", tfvars, "--yes", "--json", key=DEPLOYER)
            ran["buckets_after"] = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
            yield ran
    finally:
        state_manager.unset_transition("glue::crawl")


READ_FROM_DEPLOY_JSON = """
import json, sys
from pyiceberg.catalog import load_catalog
info = json.loads(sys.stdin.read())["iceberg_catalog"]
catalog = load_catalog(info["name"], **info["properties"])
table = catalog.load_table((info["namespace"], "sales_fact"))
print(json.dumps({"rows": table.scan().to_arrow().num_rows, "snapshot": table.current_snapshot().snapshot_id}))
"""


def _read_with_pyiceberg(deployed: dict[str, Any], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter given only `deploy --json` (and credentials, the emulator's CA) reads sales_fact."""
    return subprocess.run(
        [sys.executable, "-c", READ_FROM_DEPLOY_JSON],
        input=json.dumps(deployed),
        env={k: v for k, v in env.items() if k != "AWS_ENDPOINT_URL"},  # the endpoints come from deploy --json
        capture_output=True,
        text=True,
        timeout=300,
    )


def _plain_http_status(bucket: str) -> int:
    """What the bucket's policy decides for a GetObject that came over plain HTTP.

    The server only speaks TLS, so the request context of a plain-HTTP request is set by hand and
    the bucket's own permission check (the one every request goes through) asked directly.
    """
    from moto.s3.models import s3_backends

    from tests.aws_emulator import _CONTEXT

    fake = s3_backends[ACCOUNT]["aws"].get_bucket(bucket)
    _CONTEXT.values = {"aws:SecureTransport": "false"}
    try:
        verdict = fake.get_permission("s3:GetObject", f"arn:aws:s3:::{bucket}/sales/x.json")
    finally:
        _CONTEXT.values = {}
    return int(verdict.value)


def test_deploy_applies_the_real_infra_into_the_emulator(first_run: dict[str, Any]) -> None:
    deployed = json.loads(first_run["deploy"].stdout)
    assert deployed["applied"] is True and deployed["plan"].startswith("Plan: ")
    outputs = first_run["outputs"]
    # the original demo's outputs, beside ours
    assert outputs["raw_bucket_name"] == outputs["raw_bucket"]
    assert outputs["glue_crawler_name"] == outputs["raw_crawler_name"]
    assert outputs["glue_etl_job_name"] == outputs["glue_job_name"]
    # the override that points the provider at the emulator is generated under the lake, not in infra/
    override = first_run["lake"] / "aws-endpoint" / "infra" / "datalake_endpoint_override.tf"
    assert override.is_file() and not (REPO / "infra" / override.name).exists()
    assert (first_run["lake"] / "aws-endpoint" / "infra" / "terraform.tfstate").is_file()


def test_seed_run_etl_query_status_cost_report_on_the_applied_lake(first_run: dict[str, Any]) -> None:
    for step in ("seed", "run_etl", "rerun", "seed2", "run_etl2", "seed3", "run_etl3", "query", "status", "cost"):
        assert first_run[step].returncode == 0, f"{step}: {first_run[step].stderr[-3000:]} {first_run['job_summaries']}"
    seeded = json.loads(first_run["seed"].stdout)
    run = json.loads(first_run["run_etl"].stdout)
    assert run["status"] == "completed" and run["engine"] == "glue"
    assert run["files_in"] == seeded["files"]
    # the counts are the job's own (its bookmark record), and they add up: nothing is lost
    assert run["rows_in"] == seeded["rows"] > 0
    assert run["rows_in"] == run["rows_processed"] + run["rows_quarantined"]
    assert first_run["job_summaries"][0]["rows_in"] == run["rows_in"]
    assert json.loads(first_run["rerun"].stdout)["status"] == "nothing_to_do"
    # new data: the job consumes exactly the new files, deduplicating against the facts already written
    second = json.loads(first_run["run_etl2"].stdout)
    assert second["status"] == "completed" and second["files_in"] == json.loads(first_run["seed2"].stdout)["files"]
    assert second["rows_in"] == 1000 == second["rows_processed"] + second["rows_quarantined"]
    # a scheduled run (the workflow's trigger: no --input_list) consumes exactly the files not yet consumed
    third = json.loads(first_run["seed3"].stdout)
    scheduled = first_run["job_summaries"][2]
    assert "--input_list" not in first_run["scheduled_arguments"]
    assert (scheduled["files_in"], scheduled["rows_in"]) == (third["files"], 500)
    assert json.loads(first_run["run_etl3"].stdout)["status"] == "nothing_to_do"
    assert [s["files_in"] for s in first_run["job_summaries"]] == [run["files_in"], second["files_in"], third["files"]]
    processed = first_run["objects"]["processed"]
    assert any(k.startswith("sales_fact/year=") and k.endswith(".parquet") for k in processed)
    assert any(k.startswith(f"quarantine/sales/run_id={run['crawl']['run']}/") for k in processed)
    assert "state/bookmarks/sales_etl.json" in first_run["objects"]["scripts"]

    answer = json.loads(first_run["query"].stdout)
    assert answer["engine"] == "athena" and answer["rows"] == [{"region": "West", "sales": 812}]
    status = json.loads(first_run["status"].stdout)
    assert status["zones"]["raw"]["files"] == len(first_run["objects"]["raw"])
    assert status["pending_raw_files"] == 0  # every raw file is in the job's bookmark
    by_run = {r["lake_run"]: r for r in status["runs"] if r.get("lake_run")}
    assert by_run[run["crawl"]["run"]]["rows_in"] == run["rows_in"]
    assert by_run[second["crawl"]["run"]]["rows_processed"] == second["rows_processed"]
    cost = json.loads(first_run["cost"].stdout)
    assert cost["target"] == "aws" and cost["by_zone"]["processed"]["bytes"] > 0


def test_the_processed_tables_are_iceberg_tables_committed_once_per_run(first_run: dict[str, Any]) -> None:
    for step in ("history1", "history_rerun", "history2", "history3", "history_dimension", "pyiceberg"):
        assert first_run[step].returncode == 0, f"{step}: {first_run[step].stderr[-3000:]}"
    outputs = first_run["outputs"]
    deployed = json.loads(first_run["deploy"].stdout)
    catalog = deployed["iceberg_catalog"]
    assert catalog["namespace"] == outputs["glue_database"]
    assert catalog["properties"]["type"] == "glue" and catalog["properties"]["glue.region"] == REGION
    assert not any("key" in k for k in catalog["properties"])  # no credentials printed
    assert deployed["iceberg_tables"] == dict.fromkeys(
        ("sales_fact", "sales_quarantine", "customers", "products", "stores"), "created"
    )
    run1, run2 = json.loads(first_run["run_etl"].stdout), json.loads(first_run["run_etl2"].stdout)

    def snapshots(step: str) -> list[dict[str, Any]]:
        return list(json.loads(first_run[step].stdout)["snapshots"])

    # one snapshot per run, carrying the run id and the job's counts; a rerun with nothing new adds none
    assert [s["run_id"] for s in snapshots("history1")] == [run1["crawl"]["run"]]
    assert snapshots("history_rerun") == snapshots("history1")
    second = snapshots("history2")
    assert [s["run_id"] for s in second] == [run1["crawl"]["run"], run2["crawl"]["run"]]
    assert [s["rows_in"] for s in second] == [run1["rows_in"], run2["rows_in"]]
    assert [s["added_rows"] for s in second] == [run1["rows_processed"], run2["rows_processed"]]
    assert [s["operation"] for s in second] == ["append", "append"]
    # the run the Glue workflow started is committed by the next run-etl (which had nothing new to run)
    scheduled = first_run["scheduled"]
    third = snapshots("history3")
    assert [s["run_id"] for s in third] == [run1["crawl"]["run"], run2["crawl"]["run"], scheduled]
    assert third[-1]["current"] and third[-1]["added_rows"] == first_run["job_summaries"][2]["rows_processed"]
    run3 = json.loads(first_run["run_etl3"].stdout)
    assert run3["status"] == "nothing_to_do" and run3["recovered"] == [scheduled]
    # a dimension: each run's version replaces the last (one file current), never rewritten in place
    versions = snapshots("history_dimension")
    assert len(versions) == 3 and all(v["added_files"] == 1 for v in versions)
    assert [v["removed_files"] for v in versions] == [0, 1, 1]
    processed = first_run["objects"]["processed"]
    assert len([k for k in processed if k.startswith("customers/_iceberg_data/run_id=")]) == 3
    assert any(k.startswith("sales_fact/_iceberg/") and k.endswith(".metadata.json") for k in processed)
    # pyiceberg in a fresh process, opened from deploy --json alone, reads every row the jobs reported
    read = json.loads(first_run["pyiceberg"].stdout)
    assert read["rows"] == sum(s["rows_processed"] for s in first_run["job_summaries"]) == third[-1]["total_rows"]
    assert read["snapshot"] == third[-1]["snapshot_id"]
    # status reads the tables from their Iceberg metadata
    tables = {t["table"]: t for t in json.loads(first_run["status"].stdout)["tables"]}
    fact_files = [k for k in processed if k.startswith("sales_fact/year=") and k.endswith(".parquet")]
    assert tables["sales_fact"]["format"] == "iceberg"
    assert (tables["sales_fact"]["rows"], tables["sales_fact"]["files"]) == (read["rows"], len(fact_files))
    assert tables["customers"]["files"] == 1 and tables["customers"]["bytes"] > 0
    assert first_run["history_unknown"].returncode != 0
    assert "no table 'no_such_table'" in first_run["history_unknown"].stderr


def test_query_as_of_sends_athena_iceberg_time_travel(first_run: dict[str, Any]) -> None:
    """moto's Athena executes no SQL: what is proven here is the SQL sent, each table pinned to the run."""
    for step in ("as_of_id", "as_of_time"):
        assert first_run[step].returncode == 0, f"{step}: {first_run[step].stderr[-3000:]}"
    first_fact = json.loads(first_run["history3"].stdout)["snapshots"][0]
    first_customers = json.loads(first_run["history_dimension"].stdout)["snapshots"][0]
    by_id = json.loads(first_run["as_of_id"].stdout)["sql"]
    assert f"sales_fact FOR VERSION AS OF {first_fact['snapshot_id']}" in by_id
    assert f"customers FOR VERSION AS OF {first_customers['snapshot_id']}" in by_id
    by_time = json.loads(first_run["as_of_time"].stdout)["sql"]
    instant = first_fact["committed_at"].replace("T", " ").replace("+00:00", "")
    assert f"sales_fact FOR TIMESTAMP AS OF CAST('{instant} UTC' AS TIMESTAMP(3) WITH TIME ZONE)" in by_time
    assert f"customers FOR VERSION AS OF {first_customers['snapshot_id']}" in by_time
    assert first_run["as_of_early"].returncode != 0
    assert "sales_fact had no snapshot yet at that time" in first_run["as_of_early"].stderr


def test_destroy_removes_what_deploy_created(first_run: dict[str, Any]) -> None:
    assert first_run["destroy"].returncode == 0, first_run["destroy"].stderr[-3000:]
    assert json.loads(first_run["destroy"].stdout)["destroyed"] == "aws"
    lake_buckets = {v for k, v in first_run["outputs"].items() if k.endswith("_bucket")}
    assert lake_buckets and not lake_buckets & set(first_run["buckets_after"])


def test_bucket_policies_are_applied_as_written_and_refuse_plain_http(first_run: dict[str, Any]) -> None:
    from moto.iam.access_control import PermissionResult

    assert first_run["plain_http"] == PermissionResult.DENIED.value


# ------------------------------------------------------------------------------------ permissions
# Grants no recorded call uses, each with the service that needs it (docs/security.md lists them).
SERVICE_REQUIREMENTS = {
    ("glue_job", "s3:PutObject", "scripts/tmp/*"): "Glue's --TempDir",
    ("glue_job", "s3:GetObject", "scripts/tmp/*"): "Glue's --TempDir",
    ("glue_job", "s3:DeleteObject", "scripts/tmp/*"): "Glue's --TempDir",
    ("glue_job", "s3:PutObject", "scripts/spark-events/*"): "the Spark UI's event logs (--spark-event-logs-path)",
    ("glue_job", "s3:GetObject", "scripts/spark-events/*"): "the Spark UI's event logs (--spark-event-logs-path)",
    ("glue_job", "s3:DeleteObject", "scripts/spark-events/*"): "the Spark UI's event logs (--spark-event-logs-path)",
    ("glue_job", "s3:DeleteObject", "processed/*"): "Spark's output committer removes its _temporary files",
    ("glue_job", "s3:ListBucket", "scripts"): "Spark lists the paths it reads (the spec, the pending list)",
    ("glue_crawler", "s3:GetBucketLocation", "raw"): "a Glue crawler asks each target bucket's region",
    ("redshift_copy", "s3:GetBucketLocation", "processed"): "Redshift COPY checks the bucket's region",
    ("emr_job", "s3:PutObject", "logs/emr/*"): "EMR writes step and cluster logs to the cluster's log URI",
    ("emr_job", "s3:GetObject", "logs/emr/*"): "EMR reads back step logs for the console",
    ("emr_job", "s3:ListBucket", "logs"): "EMR lists the log URI",
    ("operator", "s3:PutObject", "athena_results/results/*"): "Athena writes query results as the caller",
    ("operator", "s3:GetObject", "athena_results/results/*"): "Athena reads the results back as the caller",
    ("operator", "s3:PutObject", "processed/_staging/*"): "Redshift COPY manifests (redshift_mode != none)",
}


# Glue grants of the operator that this run's commands do not use, each with the command or service
# that does. moto's IAM does not check Glue either: the emulator records and enforces Glue calls
# (`glue_actions`); the calls other services make as the caller (Athena reading the Glue tables) are
# derived below.
CATALOG = ("catalog", "database/<db>", "table/<db>/*")
OTHER_COMMANDS = {
    **{
        ("operator", "glue:CreateTable", where): "run-job customer_aggregates registers its output table"
        for where in CATALOG
    },
    **{
        (
            "operator",
            action,
            where,
        ): "Athena (athena-raw) and status reading the raw crawler's partitions (moto's crawler makes no tables)"
        for action in ("glue:GetPartition", "glue:GetPartitions")
        for where in CATALOG
    },
    ("operator", "glue:StartJobRun", "job/<aggregates>"): "run-job customer_aggregates",
    ("operator", "glue:GetJobRun", "job/<aggregates>"): "run-job customer_aggregates",
}


def _glue_where(outputs: dict[str, str], resource: str) -> str:
    """arn:aws:glue:<region>:<account>:<kind>/<name> -> '<kind>/<name>', the lake's names as placeholders."""
    where = resource.split(":", 5)[5]
    where = where.replace(f"/{outputs['glue_database']}", "/<db>")
    return where.replace(f"job/{outputs['aggregates_job_name']}", "job/<aggregates>")


def _role_of(outputs: dict[str, str], resource: str) -> str:
    """arn:aws:s3:::<bucket>/<rest> -> '<role>/<rest>' (role as in the outputs: raw, processed, ...)."""
    if resource.startswith("arn:aws:glue:"):
        return _glue_where(outputs, resource)
    bucket, _, rest = resource.removeprefix("arn:aws:s3:::").partition("/")
    roles = {v: k.removesuffix("_bucket") for k, v in outputs.items() if k.endswith("_bucket")}
    name = roles.get(bucket, bucket)
    return f"{name}/{rest}" if rest else name


def _derived_requests(first_run: dict[str, Any]) -> list[S3Request]:
    """Calls moto does not make: the crawlers read their targets, Athena reads the tables as the caller."""
    outputs, objects = first_run["outputs"], first_run["objects"]
    derived = []
    for zone in ("raw",):  # the processed zone has no crawler: its tables are Iceberg tables
        bucket = outputs[f"{zone}_bucket"]
        derived.append(S3Request("crawler", "s3:ListBucket", f"arn:aws:s3:::{bucket}", "GET", "/"))
        derived += [
            S3Request("crawler", "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", "GET", key)
            for key in objects[zone]
            if not key.startswith("_")
        ]
    processed = outputs["processed_bucket"]
    # Athena reads the Iceberg table as the caller: the Glue table, then its metadata and data files
    glue = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    database = outputs["glue_database"]
    for action, resource in (
        ("glue:GetDatabase", "catalog"),
        ("glue:GetDatabase", f"database/{database}"),
        ("glue:GetTable", "catalog"),
        ("glue:GetTable", f"database/{database}"),
        ("glue:GetTable", f"table/{database}/sales_fact"),
    ):
        derived.append(S3Request(OPERATOR, action, f"{glue}:{resource}", "POST", "athena"))
    facts = [key for key in objects["processed"] if key.startswith("sales_fact/")]
    derived += [S3Request(OPERATOR, "s3:GetObject", f"arn:aws:s3:::{processed}/{key}", "GET", key) for key in facts]
    # Redshift's COPY (redshift_mode != none, not applied here) reads the manifests and the files they list
    derived.append(S3Request("redshift", "s3:ListBucket", f"arn:aws:s3:::{processed}", "GET", "/"))
    derived += [
        S3Request("redshift", "s3:GetObject", f"arn:aws:s3:::{processed}/{key}", "GET", key)
        for key in [*facts, "_staging/copy-manifests/run/sales_fact_redshift.manifest"]
    ]
    return derived


def _principal(key: str) -> str | None:
    return {OPERATOR: "operator", GLUE_JOB: "glue_job", "crawler": "glue_crawler", "redshift": "redshift_copy"}.get(key)


def test_every_s3_call_of_the_run_is_allowed_for_the_principal_that_makes_it(first_run: dict[str, Any]) -> None:
    policies, outputs = first_run["policies"], first_run["outputs"]
    calls = [r for r in first_run["requests"] + _derived_requests(first_run) if _principal(r.access_key)]
    assert {_principal(r.access_key) for r in calls} == {"operator", "glue_job", "glue_crawler", "redshift_copy"}
    context = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}
    refused = sorted(
        {
            f"{_principal(r.access_key)}: {r.action} {_role_of(outputs, r.resource)}"
            for r in calls
            if evaluate(policies[str(_principal(r.access_key))], r.action, r.resource, context, resource_policy=False)
            != "allow"
        }
    )
    assert refused == []
    # the EMR step is the same job with the same arguments: its role must allow the same calls
    job_calls = [r for r in calls if r.access_key == GLUE_JOB]
    assert job_calls
    emr_refused = [
        r
        for r in job_calls
        if evaluate(policies["emr_job"], r.action, r.resource, context, resource_policy=False) != "allow"
    ]
    assert emr_refused == []


def test_the_operator_commits_the_iceberg_tables_and_the_job_roles_cannot(first_run: dict[str, Any]) -> None:
    """Who holds what: the job writes data files; the operator writes metadata and swaps the Glue pointer."""
    policies, outputs = first_run["policies"], first_run["outputs"]
    calls = first_run["requests"]
    table = f"arn:aws:glue:{REGION}:{ACCOUNT}:table/{outputs['glue_database']}/sales_fact"
    updates = [c for c in calls if c.action == "glue:UpdateTable" and c.resource == table]
    assert updates and {c.access_key for c in updates} == {OPERATOR}
    metadata = [c for c in calls if c.action == "s3:PutObject" and "/sales_fact/_iceberg/" in c.resource]
    assert metadata and {c.access_key for c in metadata} == {OPERATOR}
    data = [c for c in calls if c.action == "s3:PutObject" and "/sales_fact/year=" in c.resource]
    assert data and {c.access_key for c in data} == {GLUE_JOB}
    context = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}
    for role in ("glue_job", "emr_job"):
        assert evaluate(policies[role], "glue:UpdateTable", table, context, resource_policy=False) != "allow"
        for action in ("s3:PutObject", "s3:DeleteObject"):  # an explicit Deny beside its processed/* grant
            assert evaluate(policies[role], action, metadata[0].resource, context, resource_policy=False) == "deny"
    # the operator may write metadata, not data files
    fact_file = data[0].resource
    assert evaluate(policies["operator"], "s3:PutObject", fact_file, context, resource_policy=False) != "allow"


def test_every_s3_grant_is_used_or_a_documented_service_requirement(first_run: dict[str, Any]) -> None:
    policies, outputs = first_run["policies"], first_run["outputs"]
    calls = first_run["requests"] + _derived_requests(first_run)
    used: dict[str, list[S3Request]] = {}
    for call in calls:
        if principal := _principal(call.access_key):
            used.setdefault(principal, []).append(call)
    used["emr_job"] = used.get("glue_job", [])
    unused = []
    for principal, documents in policies.items():
        for document in documents:
            statements = document["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                if statement.get("Effect") != "Allow":
                    continue
                actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
                resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
                # S3 grants of every principal; Glue grants of those whose Glue calls are recorded
                recorded = ("s3:", "glue:") if principal in ("operator", "glue_job", "emr_job") else ("s3:",)
                for action in (a for a in actions if a.startswith(recorded)):
                    for resource in resources:
                        grant = {"Effect": "Allow", "Action": action, "Resource": resource}
                        hit = any(
                            c.action == action
                            and evaluate([{"Statement": [grant]}], c.action, c.resource, {}, resource_policy=False)
                            == "allow"
                            for c in used.get(principal, [])
                        )
                        where = _role_of(outputs, resource)
                        # the EMR step is the same Spark job: what Spark itself needs on Glue, it needs there
                        same_job = "glue_job" if principal == "emr_job" else principal
                        documented = {(principal, action, where), (same_job, action, where)} & (
                            set(SERVICE_REQUIREMENTS) | set(OTHER_COMMANDS)
                        )
                        if not hit and not documented:
                            unused.append(f"{principal}: {action} {where}")
    assert unused == [], "\n".join(unused)
