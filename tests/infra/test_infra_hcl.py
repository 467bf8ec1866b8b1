"""Static properties of infra/, read with python-hcl2 (no terraform, no network, no AWS)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
import pytest

INFRA = Path(__file__).resolve().parents[2] / "infra"
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _clean(node: Any) -> Any:
    """python-hcl2 >= 5 keeps quotes around strings and keys and adds markers: drop them."""
    if isinstance(node, dict):
        return {
            _clean(key): _clean(value)
            for key, value in node.items()
            if key not in ("__is_block__", "__comments__", "__start_line__", "__end_line__")
        }
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if isinstance(node, str) and len(node) >= 2 and node[0] == node[-1] == '"':
        return node[1:-1]
    return node


def _load_all() -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for path in sorted(INFRA.glob("*.tf")):
        with path.open() as stream:
            for key, value in _clean(hcl2.load(stream)).items():
                merged.setdefault(key, []).extend(value)
    return merged


TF = _load_all()


def _blocks(kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for item in TF.get(kind, []):
        for type_name, named in item.items():
            for name, body in named.items():
                yield type_name, name, body


def resource(type_name: str, name: str) -> dict[str, Any]:
    for found_type, found_name, body in _blocks("resource"):
        if (found_type, found_name) == (type_name, name):
            return body
    raise AssertionError(f"infra/ has no resource {type_name}.{name}")


def resources(type_name: str) -> dict[str, dict[str, Any]]:
    return {name: body for found_type, name, body in _blocks("resource") if found_type == type_name}


def block(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body[name]
    return value[0] if isinstance(value, list) else value


def locals_() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for item in TF["locals"]:
        merged.update(item)
    return merged


def variables() -> dict[str, dict[str, Any]]:
    return {name: body for item in TF["variable"] for name, body in item.items()}


def outputs() -> dict[str, dict[str, Any]]:
    return {name: body for item in TF["output"] for name, body in item.items()}


LAKE_KEYS = {"raw", "processed", "archive", "athena_results", "scripts"}


# ---------------------------------------------------------------------------
# Variables and provider
# ---------------------------------------------------------------------------
def test_required_variables_exist() -> None:
    names = set(variables())
    assert {"aws_region", "account_id", "environment", "project_name", "force_destroy"} <= names
    assert {
        "redshift_mode",
        "emr_mode",
        "s3_kms_encryption",
        "glue_worker_type",
        "glue_number_of_workers",
    } <= names
    assert variables()["emr_mode"]["default"] == "none"
    assert variables()["redshift_mode"]["default"] == "serverless"
    assert variables()["force_destroy"]["default"] is False
    assert variables()["enable_nat_gateway"]["default"] is False


def test_provider_has_default_tags_and_account_guard() -> None:
    provider = TF["provider"][0]["aws"]
    tags = block(provider, "default_tags")["tags"]
    for tag in ("Project", "Environment", "CostCenter", "ManagedBy"):
        assert tag in tags
    assert "var.account_id" in str(provider["allowed_account_ids"])


# ---------------------------------------------------------------------------
# S3
# ---------------------------------------------------------------------------
def test_lake_buckets_cover_every_zone() -> None:
    assert set(locals_()["lake_buckets"]) == LAKE_KEYS
    assert resource("aws_s3_bucket", "logs")["bucket"] == "${local.logs_bucket_name}"


def test_raw_lifecycle_is_the_original_demos_by_default_and_a_variable() -> None:
    """Standard -> IA at 30 days -> Glacier at 90 -> Deep Archive at 365 (ORIGINAL-DEMO.md), each a variable."""
    raw = locals_()["lake_buckets"]["raw"]
    days = [t["days"].removeprefix("${var.").removesuffix("}") for t in raw["transitions"]]
    assert [t["storage_class"] for t in raw["transitions"]] == ["STANDARD_IA", "GLACIER", "DEEP_ARCHIVE"]
    assert [variables()[name]["default"] for name in days] == [30, 90, 365]


def test_cost_report_reads_the_raw_lifecycle_through_its_variables() -> None:
    from datalake.measure.cost.infra_shape import read_infra_shape

    rule = read_infra_shape(INFRA).rule_for("raw")
    assert rule.transitions == ((30, "STANDARD_IA"), (90, "GLACIER"), (365, "DEEP_ARCHIVE"))


def test_every_bucket_lifecycle_aborts_multipart_and_expires_old_versions() -> None:
    for name in ("lake", "logs"):
        rule = block(resource("aws_s3_bucket_lifecycle_configuration", name), "rule")
        assert rule["status"] == "Enabled"
        assert block(rule, "abort_incomplete_multipart_upload")["days_after_initiation"] <= 7
        assert "noncurrent_days" in block(rule, "noncurrent_version_expiration")
    lake_rule = block(resource("aws_s3_bucket_lifecycle_configuration", "lake"), "rule")
    # transitions and expiration come from the per-bucket definition
    assert "transition" in str(lake_rule) and "expiration" in str(lake_rule)
    assert locals_()["lake_buckets"]["athena_results"]["expiration_days"] == "${var.athena_results_expiration_days}"


@pytest.mark.parametrize("name", ["lake", "logs"])
def test_buckets_are_encrypted_versioned_and_private(name: str) -> None:
    sse = block(resource("aws_s3_bucket_server_side_encryption_configuration", name), "rule")
    algorithm = block(sse, "apply_server_side_encryption_by_default")["sse_algorithm"]
    assert "AES256" in algorithm or "aws:kms" in algorithm

    versioning = block(resource("aws_s3_bucket_versioning", name), "versioning_configuration")
    assert versioning["status"] == "Enabled"

    pab = resource("aws_s3_bucket_public_access_block", name)
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert pab[flag] is True, flag

    ownership = block(resource("aws_s3_bucket_ownership_controls", name), "rule")
    assert ownership["object_ownership"] == "BucketOwnerEnforced"


def test_kms_is_optional_for_lake_buckets() -> None:
    sse = block(resource("aws_s3_bucket_server_side_encryption_configuration", "lake"), "rule")
    default = block(sse, "apply_server_side_encryption_by_default")
    assert "var.s3_kms_encryption" in default["sse_algorithm"]
    assert variables()["s3_kms_encryption"]["default"] is False


@pytest.mark.parametrize("name", ["lake", "logs"])
def test_bucket_policies_deny_plain_http(name: str) -> None:
    policy = resource("aws_s3_bucket_policy", name)["policy"]
    assert "aws:SecureTransport" in policy and "Deny" in policy


def test_force_destroy_is_behind_a_variable() -> None:
    for body in resources("aws_s3_bucket").values():
        assert body["force_destroy"] == "${var.force_destroy}"


def test_lake_buckets_log_to_the_logs_bucket() -> None:
    logging = resource("aws_s3_bucket_logging", "lake")
    assert logging["for_each"] == "${aws_s3_bucket.lake}"
    assert logging["target_bucket"] == "${aws_s3_bucket.logs.id}"


def test_job_files_uploaded_only_when_present() -> None:
    job_files = locals_()["job_files"]
    assert {job["file"] for job in job_files.values()} == {
        "sales_etl.py",
        "customer_aggregates.py",
        "transform_spec.json",
    }
    assert "fileexists(" in locals_()["present_job_files"]
    upload = resource("aws_s3_object", "job_files")
    assert upload["for_each"] == "${local.present_job_files}"
    assert upload["source"].startswith("${path.module}/../jobs/")
    assert "filemd5(" in upload["source_hash"]


# ---------------------------------------------------------------------------
# Glue
# ---------------------------------------------------------------------------
def test_etl_job_is_glue5_with_its_own_bookmark_and_security_configuration() -> None:
    job = resource("aws_glue_job", "sales_etl")
    assert job["glue_version"] == "5.0"
    assert job["worker_type"] == "${var.glue_worker_type}"
    assert job["number_of_workers"] == "${var.glue_number_of_workers}"
    assert job["security_configuration"] == "${aws_glue_security_configuration.lake.name}"
    assert "sales_etl" in block(job, "command")["script_location"]
    arguments = locals_()["glue_job_arguments"]
    # Glue's bookmarks follow DynamicFrames only; the job keeps its own, where the CLI reads it
    assert arguments["--job-bookmark-option"] == "job-bookmark-disable"
    from datalake.targets.aws.lake import BOOKMARK_KEY

    assert locals_()["bookmark_key"] == BOOKMARK_KEY
    assert arguments["--bookmark_path"].endswith("/${local.bookmark_key}")
    # the aggregates job reads the processed zone only: it gets every default but the bookmark
    assert 'key != "--bookmark_path"' in str(resource("aws_glue_job", "customer_aggregates")["default_arguments"])


def test_glue_security_configuration_encrypts_everything() -> None:
    config = block(resource("aws_glue_security_configuration", "lake"), "encryption_configuration")
    assert block(config, "s3_encryption")["s3_encryption_mode"] != "DISABLED"
    assert block(config, "cloudwatch_encryption")["cloudwatch_encryption_mode"] == "SSE-KMS"
    assert block(config, "job_bookmarks_encryption")["job_bookmarks_encryption_mode"] == "CSE-KMS"


def test_workflow_chains_crawler_then_job_on_crawl_state() -> None:
    start = resource("aws_glue_trigger", "start")
    assert block(start, "actions")["crawler_name"] == "${aws_glue_crawler.raw.name}"

    chained = resource("aws_glue_trigger", "raw_crawled")
    assert chained["type"] == "CONDITIONAL"
    assert chained["workflow_name"] == "${aws_glue_workflow.lake.name}"
    condition = block(block(chained, "predicate"), "conditions")
    assert condition["crawler_name"] == "${aws_glue_crawler.raw.name}"
    assert condition["crawl_state"] == "SUCCEEDED"
    assert "job_name" not in condition
    assert block(chained, "actions")["job_name"] == "${aws_glue_job.sales_etl.name}"

    after = resource("aws_glue_trigger", "etl_succeeded")
    after_condition = block(block(after, "predicate"), "conditions")
    assert after_condition["job_name"] == "${aws_glue_job.sales_etl.name}"
    assert after_condition["state"] == "SUCCEEDED"
    assert "${aws_glue_job.customer_aggregates.name}" in str(after["actions"])
    assert "crawler" not in str(after["actions"])  # the processed tables are Iceberg: nothing to crawl


def test_only_the_raw_zone_is_crawled() -> None:
    """The processed zone's tables are Iceberg tables that deploy creates and run-etl commits to."""
    crawlers = [name for kind, name, _ in _blocks("resource") if kind == "aws_glue_crawler"]
    assert crawlers == ["raw"]
    assert "raw" in block(resource("aws_glue_crawler", "raw"), "s3_target")["path"]


# ---------------------------------------------------------------------------
# Athena, Redshift, EMR
# ---------------------------------------------------------------------------
def test_athena_workgroup_enforced_encrypted_and_capped() -> None:
    config = block(resource("aws_athena_workgroup", "lake"), "configuration")
    assert config["enforce_workgroup_configuration"] is True
    assert config["bytes_scanned_cutoff_per_query"] == "${var.athena_bytes_scanned_cutoff}"
    result = block(config, "result_configuration")
    assert "athena_results" in result["output_location"]
    assert block(result, "encryption_configuration")["encryption_option"] in {"SSE_S3", "SSE_KMS"}


def test_redshift_serverless_private_encrypted_managed_password() -> None:
    namespace = resource("aws_redshiftserverless_namespace", "lake")
    assert namespace["manage_admin_password"] is True
    assert "kms_key_id" in namespace
    assert set(namespace["log_exports"]) >= {"userlog", "connectionlog", "useractivitylog"}
    workgroup = resource("aws_redshiftserverless_workgroup", "lake")
    assert workgroup["publicly_accessible"] is False
    assert workgroup["subnet_ids"] == "${aws_subnet.private[*].id}"


def test_redshift_provisioned_option() -> None:
    cluster = resource("aws_redshift_cluster", "lake")
    assert cluster["encrypted"] is True
    assert cluster["publicly_accessible"] is False
    assert cluster["manage_master_password"] is True
    assert cluster["node_type"] == "${var.redshift_node_type}"
    assert cluster["number_of_nodes"] == "${var.redshift_node_count}"
    assert resource("aws_redshift_logging", "lake")["cluster_identifier"] == "${aws_redshift_cluster.lake[0].id}"


def test_redshift_copy_role_reads_processed_only() -> None:
    wanted = ("aws_iam_policy_document", "redshift_copy")
    document = next(b for t, n, b in _blocks("data") if (t, n) == wanted)
    s3_resources = [
        resource_arn
        for statement in document["statement"]
        for resource_arn in statement["resources"]
        if "bucket_arns" in resource_arn
    ]
    assert s3_resources and all('bucket_arns["processed"]' in arn for arn in s3_resources)


def test_emr_is_off_by_default_with_spot_and_auto_termination() -> None:
    cluster = resource("aws_emr_cluster", "lake")
    assert cluster["count"] == "${local.emr_cluster ? 1 : 0}"
    assert block(cluster, "core_instance_fleet")["target_spot_capacity"] == "${var.emr_core_spot_units}"
    assert "idle_timeout" in block(cluster, "auto_termination_policy")
    assert "aws_subnet.private" in block(cluster, "ec2_attributes")["subnet_id"]
    assert cluster["security_configuration"]
    assert cluster["log_uri"].startswith("s3://")
    assert resource("aws_emr_instance_fleet", "task")["target_spot_capacity"] == "${var.emr_task_spot_units}"
    assert resource("aws_emrserverless_application", "lake")["count"] == "${local.emr_serverless ? 1 : 0}"


# ---------------------------------------------------------------------------
# Network, IAM, audit
# ---------------------------------------------------------------------------
def test_private_subnets_and_s3_gateway_without_nat_by_default() -> None:
    subnet = resource("aws_subnet", "private")
    assert subnet["map_public_ip_on_launch"] is False
    assert resource("aws_vpc_endpoint", "s3")["vpc_endpoint_type"] == "Gateway"
    assert resource("aws_nat_gateway", "lake")["count"] == "${var.enable_nat_gateway ? 1 : 0}"
    assert "ingress" not in resource("aws_default_security_group", "default")


def test_no_wildcard_actions_and_star_resources_only_where_unavoidable() -> None:
    text = "\n".join(path.read_text() for path in INFRA.glob("iam.tf"))
    assert not re.search(r'actions\s*=\s*\[[^\]]*"\*"', text)
    assert not re.search(r'"[a-z0-9-]+:\*"', text), "service-wide wildcard action"
    for _, name, document in _blocks("data"):
        for statement in document.get("statement", []):
            if statement.get("resources") == ["*"]:
                assert statement["actions"] == ["cloudwatch:PutMetricData"], name
                assert statement["condition"], name


def test_one_role_per_service() -> None:
    roles = set(resources("aws_iam_role"))
    assert {"glue_crawler", "glue_job", "redshift_copy", "emr_job", "flow_logs", "cloudtrail"} <= roles


def test_cloudtrail_records_s3_data_events_for_lake_buckets() -> None:
    trail = resource("aws_cloudtrail", "lake")
    assert trail["enable_log_file_validation"] is True
    assert trail["kms_key_id"]
    data_resource = block(block(trail, "event_selector"), "data_resource")
    assert data_resource["type"] == "AWS::S3::Object"
    assert set(locals_()["data_event_buckets"]) == {"raw", "processed", "archive", "scripts"}


def test_glue_failures_alert_through_eventbridge_to_sns() -> None:
    rule = resource("aws_cloudwatch_event_rule", "glue_job_failed")
    assert "Glue Job State Change" in rule["event_pattern"] and "FAILED" in rule["event_pattern"]
    target = resource("aws_cloudwatch_event_target", "glue_job_failed")
    assert target["arn"] == "${aws_sns_topic.alerts.arn}"
    assert resource("aws_sns_topic", "alerts")["kms_master_key_id"]


def test_log_groups_are_encrypted_and_kept_a_year() -> None:
    for name, group in resources("aws_cloudwatch_log_group").items():
        assert group["kms_key_id"] == "${aws_kms_key.lake.arn}", name
        assert group["retention_in_days"] == "${var.log_retention_days}", name
    assert variables()["log_retention_days"]["default"] >= 365


def test_outputs_the_cli_reads() -> None:
    expected = {
        "region",
        "raw_bucket",
        "processed_bucket",
        "archive_bucket",
        "athena_results_bucket",
        "scripts_bucket",
        "logs_bucket",
        "glue_database",
        "raw_crawler_name",
        "glue_job_name",
        "glue_workflow_name",
        "athena_workgroup",
        "redshift_workgroup",
        "redshift_cluster_id",
        "redshift_database",
        "emr_cluster_id",
    }
    assert expected <= set(outputs())
    for name, body in outputs().items():
        assert body.get("description"), f"output {name} has no description"


# ---------------------------------------------------------------------------
# checkov skips stay few, explained, and documented
# ---------------------------------------------------------------------------
SKIP = re.compile(r"#\s*checkov:skip=(CKV2?_[A-Z0-9_]+):(.*)")


def _skips() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(INFRA.glob("*.tf")):
        for line in path.read_text().splitlines():
            match = SKIP.search(line)
            if match:
                found.append((path.name, match.group(1), match.group(2).strip()))
    return found


def test_checkov_skips_are_few_and_have_reasons() -> None:
    skips = _skips()
    assert len(skips) <= 8
    for file, check, reason in skips:
        assert len(reason) >= 30, f"{file}: {check} needs a real reason"


def test_every_checkov_skip_is_listed_in_security_doc() -> None:
    doc = (DOCS / "security.md").read_text()
    for file, check, _ in _skips():
        assert check in doc, f"{check} ({file}) is not listed in docs/security.md"
