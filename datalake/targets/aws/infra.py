"""`datalake deploy --target aws` and `datalake destroy --target aws`: Terraform in infra/.

The CLI calls `deploy()` and `destroy()` with a `confirm` callback that shows the plan summary
and asks the user; this module never prompts or prints. Outputs are saved as a flat JSON
object of strings that the AWS target reads with `load_outputs()`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from datalake.errors import AwsError, ConfigError
from datalake.layout import default_infra_dir
from datalake.targets.aws.terraform import PlanSummary, Terraform, TerraformError

Confirm = Callable[[PlanSummary], bool]


class ProgressLog(Protocol):
    """The part of `datalake.progress.Progress` used here: terraform's output, line by line."""

    def log(self, message: str) -> None: ...


class _Silent:
    def log(self, message: str) -> None:
        pass


SILENT = _Silent()

DEPLOY_HINT = "run `datalake deploy --target aws`"
OUTPUTS_FORMAT = 1


@dataclass(frozen=True)
class DeployResult:
    """What `deploy()` did: the plan it showed, whether it applied it, the outputs it saved."""

    plan: PlanSummary
    applied: bool
    outputs: dict[str, str] = field(default_factory=dict)
    outputs_file: Path | None = None


@dataclass(frozen=True)
class DestroyResult:
    """What `destroy()` did: the destroy plan, whether it ran, objects deleted per bucket."""

    plan: PlanSummary
    destroyed: bool
    emptied: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------
def save_outputs(path: Path, outputs: Mapping[str, str]) -> Path:
    """Write Terraform outputs as JSON (atomically: a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"format": OUTPUTS_FORMAT, "outputs": dict(sorted(outputs.items()))}
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2)
            stream.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_outputs(path: Path) -> dict[str, str]:
    """Outputs saved by `deploy()`; `ConfigError` telling to deploy when there are none."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no AWS deployment outputs at {path}", hint=DEPLOY_HINT)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        outputs = document["outputs"]
        if not isinstance(outputs, dict):
            raise TypeError("outputs is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"AWS deployment outputs at {path} are unreadable ({exc})", hint=DEPLOY_HINT) from exc
    return {str(key): str(value) for key, value in outputs.items()}


def bucket_names(outputs: Mapping[str, str]) -> list[str]:
    """Every bucket named in the outputs (outputs whose name ends in `_bucket`)."""
    return sorted({value for key, value in outputs.items() if key.endswith("_bucket") and value})


# ---------------------------------------------------------------------------
# Credentials and S3
# ---------------------------------------------------------------------------
def ensure_credentials(session: Any | None = None) -> None:
    """Fail early, offline, when boto3 finds no AWS credentials (terraform would fail later)."""
    if session is None:
        session = _session()
    if session.get_credentials() is None:
        raise AwsError(
            "no AWS credentials found",
            hint="configure them (aws configure, AWS_PROFILE, or aws sso login) and retry",
        )


def _session() -> Any:
    from datalake.targets.aws.clients import session

    return session()


def _aws_error(exc: Exception, doing: str) -> AwsError:
    """Turn a botocore exception into AwsError, keeping AWS's own code and message."""
    from datalake.targets.aws.clients import aws_error

    return aws_error(exc, doing)


def empty_bucket(bucket: str, s3_client: Any, progress: ProgressLog = SILENT) -> int:
    """Delete every object version and delete marker in `bucket`; return how many were deleted.

    A versioned bucket keeps old versions and delete markers after a plain delete, and
    terraform cannot delete a bucket that still holds any. A bucket that is already gone counts 0.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    deleted = 0
    try:
        # Always re-list from the start: paging with markers while deleting can skip versions.
        while True:
            page = s3_client.list_object_versions(Bucket=bucket, MaxKeys=1000)
            batch = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for kind in ("Versions", "DeleteMarkers")
                for item in page.get(kind, [])
            ]
            if not batch:
                break
            for start in range(0, len(batch), 1000):
                chunk = batch[start : start + 1000]
                response = s3_client.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
                errors = response.get("Errors", [])
                if errors:
                    first = errors[0]
                    raise AwsError(
                        f"emptying s3://{bucket}: {first.get('Code')}: {first.get('Message')} "
                        f"({len(errors)} objects not deleted, e.g. {first.get('Key')})",
                        hint="check object lock / legal holds and your s3:DeleteObjectVersion permission",
                    )
                deleted += len(chunk)
            progress.log(f"s3://{bucket}: {deleted} object versions deleted")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return deleted
        raise _aws_error(exc, f"emptying s3://{bucket}") from exc
    except BotoCoreError as exc:
        raise _aws_error(exc, f"emptying s3://{bucket}") from exc
    return deleted


def empty_buckets(
    buckets: list[str],
    *,
    session: Any | None = None,
    s3_client: Any | None = None,
    region: str | None = None,
    progress: ProgressLog = SILENT,
) -> dict[str, int]:
    """Empty each bucket (all versions); returns deleted counts by bucket."""
    if s3_client is None:
        from datalake.targets.aws.clients import client

        s3_client = client("s3", session_=session if session is not None else _session(), region=region)
    return {bucket: empty_bucket(bucket, s3_client, progress) for bucket in buckets}


# ---------------------------------------------------------------------------
# An endpoint instead of AWS (an emulator such as moto's server)
# ---------------------------------------------------------------------------
ENDPOINT_OVERRIDE = "datalake_endpoint_override.tf"
_OVERRIDE_TEXT = """\
# Generated by `datalake deploy` because an endpoint override is set ({endpoint}):
# the provider talks to that endpoint (AWS_ENDPOINT_URL) instead of AWS. Never commit this into infra/.
provider "aws" {{
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}}
"""


def endpoint_working_dir(infra_dir: Path, work_dir: Path, endpoint: str) -> Path:
    """A root module that is infra/ plus a provider override for `endpoint`, with its own state.

    Every `.tf` file of infra/ is linked (not copied: edits show at once), the override is written
    beside them, and `jobs/` is linked next to it because infra/ uploads `../jobs/*`. The state of an
    emulator run lives here, never in infra/, so it cannot be mistaken for a real account's.
    """
    infra_dir, work_dir = Path(infra_dir).resolve(), Path(work_dir)
    module = work_dir / "infra"
    module.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for p in infra_dir.glob("*.tf")}
    for stale in module.glob("*.tf"):
        if stale.name != ENDPOINT_OVERRIDE and stale.name not in wanted:
            stale.unlink()
    for name in sorted(wanted):
        link = module / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(infra_dir / name)
    (module / ENDPOINT_OVERRIDE).write_text(_OVERRIDE_TEXT.format(endpoint=endpoint), encoding="utf-8")
    jobs = work_dir / "jobs"
    if jobs.is_symlink() or jobs.exists():
        jobs.unlink()
    jobs.symlink_to(infra_dir.parent / "jobs", target_is_directory=True)
    return module


# ---------------------------------------------------------------------------
# deploy / destroy
# ---------------------------------------------------------------------------
def _terraform(
    infra_dir: Path, terraform: Terraform | None, progress: ProgressLog, env: Mapping[str, str] | None = None
) -> Terraform:
    if terraform is not None:
        return terraform
    return Terraform(Path(infra_dir), on_line=progress.log, env=dict(env or {}))


def _plan_hint(error: TerraformError) -> str:
    text = error.output.lower()
    if "credential" in text or "no valid credential sources" in text:
        return "configure AWS credentials (aws configure, AWS_PROFILE, or aws sso login) and retry"
    if "allowed_account_ids" in text or "forbidden account" in text:
        return "your credentials are for another account than account_id in the tfvars"
    if "no value for required variable" in text:
        return "pass a tfvars file (copy infra/terraform.tfvars.example) or --var NAME=VALUE"
    return error.hint or "fix the Terraform error above and retry"


def _plan(
    tf: Terraform,
    tfvars_file: Path | None,
    var_overrides: Mapping[str, str] | None,
    *,
    destroy: bool,
    out: Path,
) -> PlanSummary:
    try:
        tf.init()
        return tf.plan(out=out, var_file=tfvars_file, variables=var_overrides, destroy=destroy)
    except TerraformError as exc:
        exc.hint = _plan_hint(exc)
        raise


@contextmanager
def _plan_path(plan_file: Path | None, name: str) -> Iterator[Path]:
    """The given plan file, or one in a private temporary directory (plans can hold secrets)."""
    if plan_file is not None:
        yield Path(plan_file)
        return
    with tempfile.TemporaryDirectory(prefix="datalake-tf-") as tmp:
        yield Path(tmp) / name


def deploy(
    infra_dir: Path,
    *,
    tfvars_file: Path | None = None,
    var_overrides: Mapping[str, str] | None = None,
    plan_only: bool = False,
    confirm: Confirm,
    outputs_file: Path | None = None,
    plan_file: Path | None = None,
    terraform: Terraform | None = None,
    session: Any | None = None,
    check_credentials: bool = True,
    progress: ProgressLog = SILENT,
    env: Mapping[str, str] | None = None,
) -> DeployResult:
    """Provision the lake: init, plan, ask `confirm(plan)`, apply, then save the outputs.

    `plan_only` stops after the plan. When `confirm` returns False nothing is applied
    (`applied=False`). A plan without changes is not confirmed; its current outputs are saved.
    `terraform` and `session` are injectable for tests; `check_credentials=False` skips the
    offline boto3 credentials check (for configurations that do not talk to AWS).
    """
    tf = _terraform(infra_dir, terraform, progress, env)
    if check_credentials:
        ensure_credentials(session)
    with _plan_path(plan_file, "deploy.tfplan") as out:
        summary = _plan(tf, tfvars_file, var_overrides, destroy=False, out=out)
        progress.log(summary.describe())
        if plan_only:
            return DeployResult(plan=summary, applied=False)
        applied = False
        if summary.has_changes:
            if not confirm(summary):
                return DeployResult(plan=summary, applied=False)
            tf.apply(summary.plan_file)
            applied = True
        outputs = tf.output()
    saved = save_outputs(outputs_file, outputs) if outputs_file is not None else None
    return DeployResult(plan=summary, applied=applied, outputs=outputs, outputs_file=saved)


def destroy(
    infra_dir: Path,
    *,
    tfvars_file: Path | None = None,
    var_overrides: Mapping[str, str] | None = None,
    confirm: Confirm,
    outputs_file: Path | None = None,
    plan_file: Path | None = None,
    terraform: Terraform | None = None,
    session: Any | None = None,
    s3_client: Any | None = None,
    check_credentials: bool = True,
    progress: ProgressLog = SILENT,
    env: Mapping[str, str] | None = None,
) -> DestroyResult:
    """Tear the lake down: plan the destroy, ask `confirm(plan)`, empty every bucket, destroy.

    The buckets come from the state's outputs (falling back to `outputs_file`), and are emptied
    of all object versions and delete markers first, since terraform cannot delete versioned
    buckets that hold any (unless force_destroy). The saved outputs file is removed afterwards.
    """
    tf = _terraform(infra_dir, terraform, progress, env)
    if check_credentials:
        ensure_credentials(session)
    with _plan_path(plan_file, "destroy.tfplan") as out:
        summary = _plan(tf, tfvars_file, var_overrides, destroy=True, out=out)
        progress.log(summary.describe())
        if not summary.has_changes:
            _forget_outputs(outputs_file)
            return DestroyResult(plan=summary, destroyed=False)
        if not confirm(summary):
            return DestroyResult(plan=summary, destroyed=False)
        outputs = tf.output()
        if not outputs and outputs_file is not None and Path(outputs_file).is_file():
            outputs = load_outputs(outputs_file)
        buckets = bucket_names(outputs)
        emptied: dict[str, int] = {}
        if buckets:
            emptied = empty_buckets(
                buckets, session=session, s3_client=s3_client, region=outputs.get("region"), progress=progress
            )
        tf.apply(summary.plan_file)
    _forget_outputs(outputs_file)
    return DestroyResult(plan=summary, destroyed=True, emptied=emptied)


def _forget_outputs(outputs_file: Path | None) -> None:
    if outputs_file is not None:
        Path(outputs_file).unlink(missing_ok=True)


__all__ = [
    "DeployResult",
    "DestroyResult",
    "bucket_names",
    "default_infra_dir",
    "deploy",
    "destroy",
    "empty_bucket",
    "empty_buckets",
    "endpoint_working_dir",
    "ensure_credentials",
    "load_outputs",
    "save_outputs",
]
