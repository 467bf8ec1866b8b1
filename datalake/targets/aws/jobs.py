"""The Spark job scripts of jobs/ in the scripts bucket, uploaded only when their content changed."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from datalake.errors import ConfigError
from datalake.layout import JOBS_DIR
from datalake.targets.aws.clients import aws_errors, error_code
from datalake.targets.aws.lake import AwsLake
from datalake.targets.aws.s3 import CONTENT_TYPES

JOBS_PREFIX = "jobs/"
JOB_SCRIPT = "sales_etl.py"
HASH_METADATA = "sha256"


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
    if "transform_spec.json" not in files:  # the spec the job reads (jobs/transform_spec.json's generator)
        from datalake.domain.job_spec import build

        files["transform_spec.json"] = (json.dumps(build(), indent=2, sort_keys=True) + "\n").encode()
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
