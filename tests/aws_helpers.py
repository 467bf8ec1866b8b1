"""A deployed AWS lake made in moto: the resources the Terraform would create, and its outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = "dl-test"

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


def lake_outputs(redshift_mode: str = "none") -> dict[str, str]:
    outputs = {
        "region": REGION,
        "raw_bucket": f"{PREFIX}-raw",
        "processed_bucket": f"{PREFIX}-processed",
        "archive_bucket": f"{PREFIX}-archive",
        "athena_results_bucket": f"{PREFIX}-athena-results",
        "scripts_bucket": f"{PREFIX}-scripts",
        "logs_bucket": f"{PREFIX}-logs",
        "glue_database": "dl_test",
        "raw_crawler_name": f"{PREFIX}-raw",
        "glue_job_name": f"{PREFIX}-sales-etl",
        "aggregates_job_name": f"{PREFIX}-customer-aggregates",
        "athena_workgroup": PREFIX,
        "redshift_mode": redshift_mode,
        "redshift_copy_role_arn": f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-redshift-copy",
    }
    if redshift_mode == "serverless":
        outputs |= {"redshift_workgroup": f"{PREFIX}-wg", "redshift_database": "lake"}
    if redshift_mode == "provisioned":
        outputs |= {
            "redshift_cluster_id": f"{PREFIX}-cluster",
            "redshift_database": "lake",
            "redshift_secret_arn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rs-admin",
        }
    return outputs


def create_lake_resources(session: Any, outputs: dict[str, str], endpoint_url: str | None = None) -> None:
    """Buckets, Glue database, the raw crawler and the jobs, Athena workgroup, as the Terraform would (the
    Iceberg tables `deploy` adds after the apply need pyarrow's S3, which reaches moto's server only)."""
    kwargs: dict[str, Any] = {"region_name": REGION}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    s3 = session.client("s3", **kwargs)
    for key, bucket in outputs.items():
        if key.endswith("_bucket"):
            s3.create_bucket(Bucket=bucket)
    glue = session.client("glue", **kwargs)
    glue.create_database(DatabaseInput={"Name": outputs["glue_database"]})
    role = f"arn:aws:iam::{ACCOUNT}:role/glue"
    for key, bucket, prefix in (("raw_crawler_name", outputs["raw_bucket"], "raw_"),):
        glue.create_crawler(
            Name=outputs[key],
            Role=role,
            DatabaseName=outputs["glue_database"],
            TablePrefix=prefix,
            Targets={"S3Targets": [{"Path": f"s3://{bucket}/"}]},
        )
    scripts, processed = outputs["scripts_bucket"], outputs["processed_bucket"]
    defaults = {  # what infra/glue.tf passes the job (glue_job_arguments)
        "--raw_path": f"s3://{outputs['raw_bucket']}/",
        "--processed_path": f"s3://{processed}/",
        "--quarantine_path": f"s3://{processed}/quarantine/",
        "--spec_path": f"s3://{scripts}/jobs/transform_spec.json",
        "--bookmark_path": f"s3://{scripts}/state/bookmarks/sales_etl.json",
    }
    for key, script in (("glue_job_name", "sales_etl.py"), ("aggregates_job_name", "customer_aggregates.py")):
        glue.create_job(
            Name=outputs[key],
            Role=role,
            Command={"Name": "glueetl", "ScriptLocation": f"s3://{scripts}/jobs/{script}"},
            GlueVersion="5.0",
            DefaultArguments=defaults if key == "glue_job_name" else {},
        )
    athena = session.client("athena", **kwargs)
    athena.create_work_group(
        Name=outputs["athena_workgroup"],
        Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{outputs['athena_results_bucket']}/results/"}},
    )


def write_jobs_dir(root: Path) -> Path:
    """A jobs/ folder with a stand-in Spark script (moto never runs it)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "sales_etl.py").write_text("print('sales etl')\n")
    (root / "customer_aggregates.py").write_text("print('aggregates')\n")
    return root
