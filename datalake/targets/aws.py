"""The aws target: Terraform in infra/ provisions the lake; outputs name every resource.

deploy and destroy drive Terraform through `datalake.aws_infra`. The data commands on AWS (seed to
S3, Glue/EMR runs, Athena and Redshift queries) come with the AWS target issue; until then they
say so plainly instead of pretending.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

from datalake.engines import QueryEngine
from datalake.errors import DatalakeError
from datalake.etl import EtlOptions, RunSummary
from datalake.progress import NULL_PROGRESS, Progress
from datalake.seed import SeedOptions, SeedResult
from datalake.targets.base import Capabilities, Confirm, DeployOptions, Target, _always


class AwsTarget(Target):
    name = "aws"
    capabilities = Capabilities(
        query_engines=("athena", "athena-raw", "redshift"),
        etl_engines=("glue", "emr"),
        default_query_engine="athena",
        default_etl_engine="glue",
        embedded=False,
    )

    @property
    def outputs_file(self) -> Path:
        return self.settings.lake / "aws-outputs.json"

    @property
    def infra_dir(self) -> Path:
        from datalake.aws_infra import default_infra_dir

        configured = self.settings.infra_dir
        if (configured / "versions.tf").is_file():
            return configured
        return default_infra_dir()

    def deploy(self, options: DeployOptions | None = None, progress: Progress = NULL_PROGRESS) -> dict[str, Any]:
        from datalake import aws_infra

        options = options or DeployOptions()
        result = aws_infra.deploy(
            self.infra_dir,
            tfvars_file=options.var_file,
            var_overrides={"aws_region": self.settings.region},
            plan_only=options.plan_only,
            confirm=lambda plan: options.confirm(plan.describe()),
            outputs_file=self.outputs_file,
            progress=progress,
        )
        return {
            "created": result.applied,
            "target": self.name,
            "plan": result.plan.describe(),
            "applied": result.applied,
            "outputs_file": str(result.outputs_file) if result.outputs_file else None,
            **result.outputs,
        }

    def destroy(self, confirm: Confirm = _always, progress: Progress = NULL_PROGRESS) -> dict[str, Any]:
        from datalake import aws_infra

        result = aws_infra.destroy(
            self.infra_dir,
            var_overrides={"aws_region": self.settings.region},
            confirm=lambda plan: confirm(f"{plan.describe()} Empty every lake bucket (all versions) and destroy?"),
            outputs_file=self.outputs_file,
            progress=progress,
        )
        return {
            "destroyed": "aws" if result.destroyed else None,
            "files": sum(result.emptied.values()),
            "bytes": None,
            "plan": result.plan.describe(),
            "emptied": result.emptied,
        }

    def _not_yet(self, command: str) -> NoReturn:
        raise DatalakeError(
            f"`datalake {command}` is not available on the aws target in this version",
            hint="use the local target (the default) for this command; deploy/destroy work on aws",
        )

    def seed(self, opts: SeedOptions, progress: Progress = NULL_PROGRESS) -> SeedResult:
        self._not_yet("seed")

    def run_etl(self, opts: EtlOptions, progress: Progress = NULL_PROGRESS) -> RunSummary:
        self._not_yet("run-etl")

    def query_engine(self, name: str | None = None) -> QueryEngine:
        self._not_yet("query")

    def status(self) -> dict[str, Any]:
        self._not_yet("status")

    def validate(self, freshness_days: int | None = None) -> dict[str, Any]:
        self._not_yet("validate")

    def archive(self, older_than_days: int, dry_run: bool = False) -> dict[str, Any]:
        self._not_yet("archive")
