"""The terraform wrapper, run for real against a throwaway configuration.

The configuration uses only Terraform's built-in `terraform_data` resource, so init, plan,
apply, output and destroy all work offline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from datalake.errors import DatalakeError, MissingDependencyError
from datalake.targets.aws.terraform import PlanSummary, ResourceChange, Terraform, TerraformError, error_line

needs_terraform = pytest.mark.usefixtures("terraform_on_path")  # fails, never skips, without it

CONFIG = """
variable "name" {
  type    = string
  default = "lake"
}

variable "count_items" {
  type    = number
  default = 1
}

resource "terraform_data" "bucket" {
  count = var.count_items
  input = "${var.name}-${count.index}"
}

output "raw_bucket" {
  value = "${var.name}-raw"
}

output "names" {
  value = terraform_data.bucket[*].output
}

output "disabled" {
  value = null
}
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    root = tmp_path / "tf"
    root.mkdir()
    (root / "main.tf").write_text(CONFIG)
    return root


@needs_terraform
def test_full_lifecycle(config_dir: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    tf = Terraform(config_dir, on_line=lines.append)
    assert tf.version().startswith("1.")
    tf.init()

    plan = tf.plan(out=tmp_path / "p.tfplan", variables={"name": "demo", "count_items": "2"})
    assert plan.has_changes
    assert plan.to_add == 2 and plan.to_change == 0 and plan.to_destroy == 0
    assert {c.address for c in plan.changes} == {"terraform_data.bucket[0]", "terraform_data.bucket[1]"}
    assert "raw_bucket" in plan.output_names
    assert plan.describe() == "Plan: 2 to add, 0 to change, 0 to destroy."
    assert any("Plan:" in line for line in lines), "plan output is streamed to on_line"

    tf.apply(plan.plan_file)
    outputs = tf.output()
    assert outputs["raw_bucket"] == "demo-raw"
    assert outputs["names"] == '["demo-0", "demo-1"]'
    assert "disabled" not in outputs

    again = tf.plan(out=tmp_path / "p2.tfplan", variables={"name": "demo", "count_items": "2"})
    assert not again.has_changes
    assert again.describe().startswith("No changes")

    destroy_plan = tf.plan(out=tmp_path / "d.tfplan", variables={"name": "demo", "count_items": "2"}, destroy=True)
    assert destroy_plan.to_destroy == 2 and destroy_plan.destroy

    tf.destroy(variables={"name": "demo", "count_items": "2"})
    assert tf.output() == {}


@needs_terraform
def test_var_file(config_dir: Path, tmp_path: Path) -> None:
    tfvars = tmp_path / "dev.tfvars"
    tfvars.write_text('name = "fromfile"\n')
    tf = Terraform(config_dir)
    tf.init()
    plan = tf.plan(out=tmp_path / "p.tfplan", var_file=tfvars)
    tf.apply(plan.plan_file)
    assert tf.output()["raw_bucket"] == "fromfile-raw"


@needs_terraform
def test_missing_var_file_is_a_clear_error(config_dir: Path, tmp_path: Path) -> None:
    tf = Terraform(config_dir)
    with pytest.raises(DatalakeError, match="does not exist") as info:
        tf.plan(out=tmp_path / "p.tfplan", var_file=tmp_path / "nope.tfvars")
    assert info.value.hint and "tfvars" in info.value.hint


@needs_terraform
def test_failing_plan_raises_with_terraforms_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "main.tf").write_text('output "x" {\n  value = terraform_data.missing.output\n}\n')
    tf = Terraform(bad)
    tf.init()
    with pytest.raises(TerraformError) as info:
        tf.plan(out=tmp_path / "p.tfplan")
    error = info.value
    assert isinstance(error, DatalakeError)
    assert "terraform plan failed: Reference to undeclared resource" in str(error)
    assert "main.tf line 2" in str(error)
    assert error.returncode == 1
    assert error.hint


@needs_terraform
def test_missing_working_dir(tmp_path: Path) -> None:
    with pytest.raises(DatalakeError, match="does not exist"):
        Terraform(tmp_path / "absent").init()


def test_missing_terraform_binary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingDependencyError, match="terraform is not installed") as info:
        Terraform(tmp_path)
    assert info.value.hint and "install Terraform" in info.value.hint


def test_error_line_parsing() -> None:
    boxed = (
        "╷\n│ Warning: Unable to open CLI configuration file\n╵\n"
        '╷\n│ Error: No valid credential sources found\n│\n│   with provider["aws"],\n╵\n'
    )
    assert error_line(boxed) == "No valid credential sources found"
    plain = '\nError: Reference to undeclared resource\n\n  on main.tf line 2, in output "x":\n'
    assert error_line(plain) == 'Reference to undeclared resource (on main.tf line 2, in output "x")'
    assert error_line("Error handling -chdir option: chdir x: no such file") is not None
    assert error_line("all good") is None


def test_plan_summary_counts_replacements() -> None:
    summary = PlanSummary(
        plan_file=Path("x"),
        has_changes=True,
        changes=(
            ResourceChange("a", ("create",)),
            ResourceChange("b", ("delete", "create")),
            ResourceChange("c", ("update",)),
            ResourceChange("d", ("delete",)),
        ),
    )
    assert (summary.to_add, summary.to_change, summary.to_destroy) == (2, 1, 2)
    assert summary.changes[1].action == "replace"
