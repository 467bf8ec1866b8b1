"""infra_shape: the cost-relevant shape read from Terraform files, with defaults and notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from datalake.measure.cost.infra_shape import DEFAULT_LIFECYCLE, LifecycleRule, read_infra_shape
from tests.paths import FIXTURES, INFRA

REAL_INFRA = INFRA


def test_storage_class_changes_on_the_day_the_age_reaches_a_transition() -> None:
    rule = LifecycleRule(((90, "GLACIER"), (30, "STANDARD_IA"), (365, "DEEP_ARCHIVE")))
    assert rule.transitions[0] == (30, "STANDARD_IA")  # sorted
    assert [rule.storage_class_at(a) for a in (0, 29, 30, 89, 90, 364, 365, 5000)] == [
        "STANDARD",
        "STANDARD",
        "STANDARD_IA",
        "STANDARD_IA",
        "GLACIER",
        "GLACIER",
        "DEEP_ARCHIVE",
        "DEEP_ARCHIVE",
    ]
    assert LifecycleRule(((0, "GLACIER"),)).storage_class_at(0) == "GLACIER"


def test_missing_infra_gives_the_default_shape_and_says_so(tmp_path: Path) -> None:
    shape = read_infra_shape(tmp_path / "nowhere")
    assert shape.source == "defaults"
    assert shape.lifecycle == DEFAULT_LIFECYCLE
    assert any("no Terraform found" in n for n in shape.notes)
    assert shape.rule_for("quarantine") == shape.rule_for("processed")


def test_literal_terraform_is_read_with_variables_and_tfvars() -> None:
    shape = read_infra_shape(FIXTURES / "infra_literal")
    assert shape.source.endswith("infra_literal")
    assert shape.lifecycle["raw"].transitions == ((30, "STANDARD_IA"), (90, "GLACIER"), (365, "DEEP_ARCHIVE"))
    assert shape.lifecycle["archive"] == LifecycleRule(((0, "GLACIER"),), expiration_days=730)
    assert "aws_s3_bucket_lifecycle_configuration.raw" in shape.read["lifecycle.raw"]
    # no redshift_mode variable: inferred from the aws_redshift_cluster resource; var references resolved
    assert (shape.redshift_mode, shape.redshift_node_type, shape.redshift_node_count) == (
        "provisioned",
        "ra3.4xlarge",
        3,
    )
    assert shape.emr_mode == "cluster"
    assert shape.emr_primary_instance_type == "m5.xlarge"
    assert shape.emr_worker_instance_types == ["r5.xlarge"]
    assert shape.emr_core_units == 4 and shape.emr_spot  # bid_price means spot
    # terraform.tfvars overrides the variable's default
    assert (shape.glue_worker_type, shape.glue_workers) == ("G.2X", 10)
    assert shape.read["glue.worker_type"] == "main.tf: aws_glue_job.sales_etl"
    assert shape.glue_crawlers == 1
    assert not shape.cloudtrail_data_events


def test_lifecycle_rules_kept_in_a_local_map_are_read() -> None:
    shape = read_infra_shape(FIXTURES / "infra_locals")
    assert shape.lifecycle["raw"].transitions == ((30, "STANDARD_IA"), (90, "GLACIER"))
    assert shape.lifecycle["processed"].transitions == ()
    assert shape.read["lifecycle.raw"] == "local.lake_buckets.raw.transitions"
    assert (shape.redshift_mode, shape.redshift_base_rpu) == ("serverless", 16)
    assert shape.emr_mode == "cluster"
    assert shape.emr_worker_instance_types == ["m5a.xlarge", "m5.xlarge"]
    assert (shape.emr_core_units, shape.emr_task_units, shape.emr_workers) == (3, 1, 4)
    assert any("archive" in n for n in shape.notes)  # no rule for it: the default is reported


def test_unparseable_file_is_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "broken.tf").write_text('resource "aws_s3_bucket" {{{ nope')
    (tmp_path / "ok.tf").write_text('variable "glue_number_of_workers" {\n  default = 7\n}\n')
    shape = read_infra_shape(tmp_path)
    assert any("broken.tf" in n for n in shape.notes)
    assert shape.glue_workers == 7


@pytest.mark.skipif(not REAL_INFRA.is_dir(), reason="infra/ not in this checkout")
def test_the_projects_own_infra_is_read() -> None:
    shape = read_infra_shape(REAL_INFRA)
    assert "lifecycle.raw" in shape.read
    assert shape.rule_for("raw").transitions[0][0] == 30
