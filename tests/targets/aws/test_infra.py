"""deploy/destroy on the AWS target: terraform for real on a throwaway config, S3 through moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from datalake.errors import AwsError, ConfigError, MissingDependencyError
from datalake.targets.aws import infra as aws_infra
from datalake.targets.aws.terraform import PlanSummary, Terraform, TerraformError

needs_terraform = pytest.mark.usefixtures("terraform_on_path")  # fails, never skips, without it

REGION = "us-east-1"

# Stands in for infra/: built-in resources only, outputs shaped like the real ones.
CONFIG = """
variable "prefix" {
  type    = string
  default = "lake"
}

resource "terraform_data" "lake" {
  input = var.prefix
}

output "region" {
  value = "us-east-1"
}

output "raw_bucket" {
  value = "${terraform_data.lake.output}-raw"
}

output "processed_bucket" {
  value = "${terraform_data.lake.output}-processed"
}

output "emr_cluster_id" {
  value = null
}
"""


@pytest.fixture
def infra_dir(tmp_path: Path) -> Path:
    root = tmp_path / "infra"
    root.mkdir()
    (root / "main.tf").write_text(CONFIG)
    return root


@pytest.fixture(autouse=True)
def fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


class Recorder:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.seen: list[PlanSummary] = []

    def __call__(self, summary: PlanSummary) -> bool:
        self.seen.append(summary)
        return self.answer


# ---------------------------------------------------------------------------
# outputs file
# ---------------------------------------------------------------------------
def test_save_and_load_outputs(tmp_path: Path) -> None:
    path = tmp_path / "state" / "aws-outputs.json"
    aws_infra.save_outputs(path, {"raw_bucket": "r", "region": REGION})
    assert aws_infra.load_outputs(path) == {"raw_bucket": "r", "region": REGION}
    assert json.loads(path.read_text())["format"] == 1


def test_load_outputs_missing_says_to_deploy(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        aws_infra.load_outputs(tmp_path / "nope.json")
    assert info.value.hint == "run `datalake deploy --target aws`"


def test_load_outputs_malformed(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="unreadable") as info:
        aws_infra.load_outputs(path)
    assert "datalake deploy --target aws" in (info.value.hint or "")


def test_bucket_names_from_outputs() -> None:
    outputs = {"raw_bucket": "a", "logs_bucket": "b", "glue_job_name": "j", "processed_bucket": "a"}
    assert aws_infra.bucket_names(outputs) == ["a", "b"]


def test_default_infra_dir_is_this_checkout() -> None:
    assert (aws_infra.default_infra_dir() / "versions.tf").is_file()


# ---------------------------------------------------------------------------
# deploy
# ---------------------------------------------------------------------------
@needs_terraform
def test_deploy_plan_only_changes_nothing(infra_dir: Path, tmp_path: Path) -> None:
    confirm = Recorder(True)
    result = aws_infra.deploy(
        infra_dir, plan_only=True, confirm=confirm, outputs_file=tmp_path / "o.json", check_credentials=False
    )
    assert result.plan.to_add == 1 and not result.applied
    assert confirm.seen == []
    assert not (tmp_path / "o.json").exists()
    assert not (infra_dir / "terraform.tfstate").exists()


@needs_terraform
def test_deploy_declined_applies_nothing(infra_dir: Path, tmp_path: Path) -> None:
    confirm = Recorder(False)
    result = aws_infra.deploy(infra_dir, confirm=confirm, outputs_file=tmp_path / "o.json", check_credentials=False)
    assert len(confirm.seen) == 1 and confirm.seen[0].to_add == 1
    assert not result.applied
    assert not (tmp_path / "o.json").exists()


@needs_terraform
def test_deploy_applies_and_saves_outputs(infra_dir: Path, tmp_path: Path) -> None:
    tfvars = tmp_path / "dev.tfvars"
    tfvars.write_text('prefix = "demo"\n')
    outputs_file = tmp_path / "o.json"
    logged: list[str] = []

    class Log:
        def log(self, message: str) -> None:
            logged.append(message)

    result = aws_infra.deploy(
        infra_dir,
        tfvars_file=tfvars,
        confirm=Recorder(True),
        outputs_file=outputs_file,
        check_credentials=False,
        progress=Log(),
    )
    assert result.applied
    assert result.outputs == {
        "processed_bucket": "demo-processed",
        "raw_bucket": "demo-raw",
        "region": REGION,
    }
    assert aws_infra.load_outputs(outputs_file) == result.outputs
    assert any("Plan: 1 to add" in line for line in logged)

    # Second run: nothing to change, no question asked, outputs refreshed.
    confirm = Recorder(True)
    again = aws_infra.deploy(
        infra_dir, tfvars_file=tfvars, confirm=confirm, outputs_file=outputs_file, check_credentials=False
    )
    assert not again.plan.has_changes and not again.applied and confirm.seen == []
    assert again.outputs == result.outputs


@needs_terraform
def test_deploy_var_overrides(infra_dir: Path) -> None:
    result = aws_infra.deploy(infra_dir, var_overrides={"prefix": "x"}, confirm=Recorder(True), check_credentials=False)
    assert result.outputs["raw_bucket"] == "x-raw"


@needs_terraform
def test_deploy_failing_plan_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "main.tf").write_text('output "x" {\n  value = terraform_data.missing.output\n}\n')
    with pytest.raises(TerraformError, match="Reference to undeclared resource") as info:
        aws_infra.deploy(bad, confirm=Recorder(True), check_credentials=False)
    assert info.value.hint


@needs_terraform
def test_deploy_missing_required_variable_hint(tmp_path: Path) -> None:
    root = tmp_path / "req"
    root.mkdir()
    (root / "main.tf").write_text('variable "account_id" {\n  type = string\n}\n')
    with pytest.raises(TerraformError) as info:
        aws_infra.deploy(root, confirm=Recorder(True), check_credentials=False)
    assert "tfvars" in (info.value.hint or "")


def test_deploy_without_terraform(monkeypatch: pytest.MonkeyPatch, infra_dir: Path) -> None:
    monkeypatch.setenv("PATH", str(infra_dir))
    with pytest.raises(MissingDependencyError, match="terraform"):
        aws_infra.deploy(infra_dir, confirm=Recorder(True))


@needs_terraform
def test_deploy_without_credentials(infra_dir: Path) -> None:
    class NoCredentials:
        def get_credentials(self) -> None:
            return None

    with pytest.raises(AwsError, match="no AWS credentials") as info:
        aws_infra.deploy(infra_dir, confirm=Recorder(True), session=NoCredentials())
    assert "aws configure" in (info.value.hint or "")


# ---------------------------------------------------------------------------
# emptying buckets and destroy (moto)
# ---------------------------------------------------------------------------
def _versioned_bucket(s3: Any, name: str, keys: int = 3, versions: int = 3) -> int:
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for index in range(keys):
        for version in range(versions):
            s3.put_object(Bucket=name, Key=f"year=2024/part-{index}.json", Body=f"v{version}".encode())
        s3.delete_object(Bucket=name, Key=f"year=2024/part-{index}.json")  # leaves a delete marker
    return keys * (versions + 1)


def _count_versions(s3: Any, name: str) -> int:
    page = s3.list_object_versions(Bucket=name)
    return len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))


@pytest.mark.aws
def test_empty_bucket_removes_versions_and_delete_markers() -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        expected = _versioned_bucket(s3, "lake-raw")
        assert _count_versions(s3, "lake-raw") == expected
        assert aws_infra.empty_bucket("lake-raw", s3) == expected
        assert _count_versions(s3, "lake-raw") == 0
        s3.delete_bucket(Bucket="lake-raw")  # only an empty versioned bucket can be deleted


@pytest.mark.aws
def test_empty_bucket_batches_over_1000_versions() -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="big")
        s3.put_bucket_versioning(Bucket="big", VersioningConfiguration={"Status": "Enabled"})
        for index in range(1100):
            s3.put_object(Bucket="big", Key=f"k{index % 700}", Body=b"x")
        assert aws_infra.empty_bucket("big", s3) == 1100
        assert _count_versions(s3, "big") == 0


@pytest.mark.aws
def test_empty_missing_bucket_counts_zero() -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        assert aws_infra.empty_bucket("never-created", s3) == 0


@pytest.mark.aws
def test_empty_bucket_wraps_aws_refusal() -> None:
    from botocore.exceptions import ClientError

    class Denied:
        def list_object_versions(self, **kwargs: Any) -> Any:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "User is not authorized"}}, "ListObjectVersions"
            )

    with pytest.raises(AwsError, match="AccessDenied: User is not authorized") as info:
        aws_infra.empty_bucket("b", Denied())
    assert info.value.hint


@pytest.mark.aws
def test_empty_bucket_without_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import boto3

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    session = boto3.session.Session(region_name=REGION)
    with pytest.raises(AwsError, match="no AWS credentials"):
        aws_infra.ensure_credentials(session)
    with pytest.raises(AwsError, match="no AWS credentials"):
        aws_infra.empty_bucket("b", session.client("s3"))


@pytest.mark.aws
@needs_terraform
def test_destroy_empties_buckets_then_destroys(infra_dir: Path, tmp_path: Path) -> None:
    import boto3
    from moto import mock_aws

    outputs_file = tmp_path / "o.json"
    deployed = aws_infra.deploy(infra_dir, confirm=Recorder(True), outputs_file=outputs_file, check_credentials=False)
    assert deployed.applied

    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        s3 = session.client("s3")
        raw = _versioned_bucket(s3, "lake-raw")
        processed = _versioned_bucket(s3, "lake-processed", keys=2, versions=1)

        declined = aws_infra.destroy(infra_dir, confirm=Recorder(False), outputs_file=outputs_file, session=session)
        assert not declined.destroyed and declined.plan.to_destroy == 1
        assert _count_versions(s3, "lake-raw") == raw, "nothing is emptied without confirmation"

        confirm = Recorder(True)
        result = aws_infra.destroy(infra_dir, confirm=confirm, outputs_file=outputs_file, session=session)
        assert result.destroyed
        assert confirm.seen[0].destroy and confirm.seen[0].to_destroy == 1
        assert result.emptied == {"lake-raw": raw, "lake-processed": processed}
        assert _count_versions(s3, "lake-raw") == 0 and _count_versions(s3, "lake-processed") == 0

    assert Terraform(infra_dir).output() == {}
    assert not outputs_file.exists()

    # Nothing left: destroy again plans no changes and asks nothing.
    confirm = Recorder(True)
    again = aws_infra.destroy(infra_dir, confirm=confirm, check_credentials=False)
    assert not again.destroyed and confirm.seen == []
